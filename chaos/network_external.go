package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// externalNetwork is a Network of the proxies of an external Toxiproxy
// server, reached over its HTTP API.
type externalNetwork struct {
	inForce
	baseURL string // may hold credentials: never journaled or printed
	http    *http.Client
	created []string // proxies AddProxy made, for Close; under inForce.mu
}

// NewRemoteNetwork returns the proxies of the Toxiproxy server whose API
// is at baseURL (e.g. http://127.0.0.1:8474). Credentials in the URL are
// used but never journaled.
func NewRemoteNetwork(baseURL string) Network {
	if !strings.Contains(baseURL, "://") {
		baseURL = "http://" + baseURL
	}
	return &externalNetwork{baseURL: strings.TrimRight(baseURL, "/"), http: &http.Client{Timeout: networkTimeout}}
}

func (n *externalNetwork) URL() string {
	u, err := url.Parse(n.baseURL)
	if err != nil {
		return ""
	}
	u.User = nil
	return u.String()
}

func (n *externalNetwork) AddProxy(ctx context.Context, name, listen, upstream string) (string, error) {
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	var p ProxyInfo
	body := map[string]any{"name": name, "listen": listen, "upstream": upstream, "enabled": true}
	if err := n.call(ctx, http.MethodPost, "/proxies", body, &p); err != nil {
		return "", fmt.Errorf("chaos: create proxy %q on %s: %w", name, n.URL(), err)
	}
	n.mu.Lock()
	n.created = append(n.created, name)
	n.mu.Unlock()
	return p.Listen, nil
}

func (n *externalNetwork) Proxy(ctx context.Context, name string) (ProxyInfo, error) {
	var info ProxyInfo
	err := n.call(ctx, http.MethodGet, "/proxies/"+url.PathEscape(name), nil, &info)
	return info, err
}

func (n *externalNetwork) Close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), networkTimeout)
	defer cancel()
	n.mu.Lock()
	names := n.created
	n.created = nil
	n.mu.Unlock()
	var errs []error
	for _, name := range names {
		if err := n.call(ctx, http.MethodDelete, "/proxies/"+url.PathEscape(name), nil, nil); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("chaos: delete proxy %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func (n *externalNetwork) addToxic(ctx context.Context, proxy string, t toxic) error {
	return n.call(ctx, http.MethodPost, "/proxies/"+url.PathEscape(proxy)+"/toxics", t, nil)
}

func (n *externalNetwork) removeToxic(ctx context.Context, proxy, name string) error {
	err := n.call(ctx, http.MethodDelete, "/proxies/"+url.PathEscape(proxy)+"/toxics/"+url.PathEscape(name), nil, nil)
	if isNotFound(err) {
		return nil
	}
	return err
}

func (n *externalNetwork) setEnabled(ctx context.Context, proxy string, enabled bool) error {
	// POST rather than PATCH: servers before 2.6 take only POST.
	return n.call(ctx, http.MethodPost, "/proxies/"+url.PathEscape(proxy), map[string]bool{"enabled": enabled}, nil)
}

// call does one request to the API, decoding a JSON reply into out.
func (n *externalNetwork) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, n.baseURL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "stampede")
	resp, err := n.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return &APIError{Status: resp.StatusCode, Message: msg}
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decode %s %s reply: %w", method, path, err)
		}
	}
	return nil
}
