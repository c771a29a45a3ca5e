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
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/rs/zerolog"
)

// Conventional proxy names: the load generator's path to the service, and
// the service's path to PostgreSQL. The caller creates the ones it needs.
const (
	PathClient = "client"
	PathDB     = "db"
)

// Network is a set of Toxiproxy proxies that network faults act on:
// either proxies run inside this process (NewNetwork), or those of an
// external Toxiproxy server reached over its HTTP API (NewRemoteNetwork).
// It is safe for concurrent use.
type Network struct {
	server  *toxiproxy.ApiServer // in-process; nil for a remote server
	baseURL string               // remote API, no credentials
	http    *http.Client

	mu      sync.Mutex
	created []string       // proxies AddProxy made on a remote server
	seq     int            // toxic names: stampede-<kind>-<seq>
	down    map[string]int // net.down faults in force, per proxy
}

// ProxyInfo describes one proxy.
type ProxyInfo struct {
	Name     string      `json:"name"`
	Listen   string      `json:"listen"`
	Upstream string      `json:"upstream"`
	Enabled  bool        `json:"enabled"`
	Toxics   []ToxicInfo `json:"toxics"`
}

// ToxicInfo names one toxic on a proxy.
type ToxicInfo struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Stream string `json:"stream"`
}

// APIError is a refusal from Toxiproxy, in-process or remote, with its
// HTTP status (404: no such proxy or toxic; 409: already exists).
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("toxiproxy: %s (HTTP %d)", e.Message, e.Status) }

func isNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// networkTimeout bounds calls that take no context (AddProxy, Proxy, Close).
const networkTimeout = 10 * time.Second

// NewNetwork returns an empty set of in-process proxies.
func NewNetwork() *Network {
	return &Network{server: toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())}
}

// NewRemoteNetwork returns the proxies of the Toxiproxy server whose API
// is at baseURL (e.g. http://127.0.0.1:8474). Credentials in the URL are
// used but never journaled.
func NewRemoteNetwork(baseURL string) *Network {
	if !strings.Contains(baseURL, "://") {
		baseURL = "http://" + baseURL
	}
	return &Network{baseURL: strings.TrimRight(baseURL, "/"), http: &http.Client{Timeout: networkTimeout}}
}

// URL is the remote API's address without credentials; "" in-process.
func (n *Network) URL() string {
	if n.server != nil {
		return ""
	}
	u, err := url.Parse(n.baseURL)
	if err != nil {
		return ""
	}
	u.User = nil
	return u.String()
}

// AddProxy creates and starts a proxy from listen (default 127.0.0.1:0) to
// upstream and returns the address it listens on.
func (n *Network) AddProxy(name, listen, upstream string) (string, error) {
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	if n.server == nil {
		ctx, cancel := context.WithTimeout(context.Background(), networkTimeout)
		defer cancel()
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
	p := toxiproxy.NewProxy(n.server, name, listen, upstream)
	if err := n.server.Collection.Add(p, true); err != nil {
		return "", fmt.Errorf("chaos: start proxy %q on %s: %w", name, listen, apiError(err))
	}
	p.Lock()
	defer p.Unlock()
	return p.Listen, nil
}

// Proxy describes the named proxy; a missing one is an *APIError with
// status 404.
func (n *Network) Proxy(name string) (ProxyInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), networkTimeout)
	defer cancel()
	return n.proxy(ctx, name)
}

func (n *Network) proxy(ctx context.Context, name string) (ProxyInfo, error) {
	var info ProxyInfo
	if n.server == nil {
		err := n.call(ctx, http.MethodGet, "/proxies/"+url.PathEscape(name), nil, &info)
		return info, err
	}
	p, err := n.server.Collection.Get(name)
	if err != nil {
		return info, apiError(err)
	}
	p.Lock()
	info = ProxyInfo{Name: p.Name, Listen: p.Listen, Upstream: p.Upstream, Enabled: p.Enabled}
	p.Unlock()
	for _, t := range p.Toxics.GetToxicArray() {
		if w, ok := t.(*toxics.ToxicWrapper); ok {
			info.Toxics = append(info.Toxics, ToxicInfo{Name: w.Name, Type: w.Type, Stream: w.Stream})
		}
	}
	return info, nil
}

// Close stops the in-process proxies, or deletes the remote proxies that
// AddProxy created.
func (n *Network) Close() error {
	if n.server != nil {
		return apiError(n.server.Collection.Clear())
	}
	ctx, cancel := context.WithTimeout(context.Background(), networkTimeout)
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

// toxic is one toxic as Toxiproxy's API spells it.
type toxic struct {
	Name       string           `json:"name"`
	Type       string           `json:"type"`
	Stream     string           `json:"stream"`
	Toxicity   float64          `json:"toxicity"`
	Attributes map[string]int64 `json:"attributes"`
}

// toxicName returns a name unique within this Network.
func (n *Network) toxicName(kind string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seq++
	return fmt.Sprintf("stampede-%s-%d", kind, n.seq)
}

func (n *Network) addToxic(ctx context.Context, proxy string, t toxic) error {
	if n.server == nil {
		return n.call(ctx, http.MethodPost, "/proxies/"+url.PathEscape(proxy)+"/toxics", t, nil)
	}
	p, err := n.server.Collection.Get(proxy)
	if err != nil {
		return apiError(err)
	}
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	_, err = p.Toxics.AddToxicJson(bytes.NewReader(b))
	return apiError(err)
}

// removeToxic removes a toxic; one already gone is not an error.
func (n *Network) removeToxic(ctx context.Context, proxy, name string) error {
	var err error
	if n.server == nil {
		err = n.call(ctx, http.MethodDelete, "/proxies/"+url.PathEscape(proxy)+"/toxics/"+url.PathEscape(name), nil, nil)
	} else {
		var p *toxiproxy.Proxy
		if p, err = n.server.Collection.Get(proxy); err == nil {
			err = p.Toxics.RemoveToxic(ctx, name)
		}
		err = apiError(err)
	}
	if isNotFound(err) {
		return nil
	}
	return err
}

// setDown takes a proxy down (the first net.down in force) or up again
// (when the last one ends).
func (n *Network) setDown(ctx context.Context, proxy string, down bool) error {
	n.mu.Lock()
	if n.down == nil {
		n.down = map[string]int{}
	}
	before := n.down[proxy]
	after := before - 1
	if down {
		after = before + 1
	}
	if after < 0 {
		after = 0
	}
	n.down[proxy] = after
	n.mu.Unlock()
	if (before == 0) == (after == 0) {
		return nil // still down, or still up
	}
	err := n.setEnabled(ctx, proxy, !down)
	if err != nil {
		n.mu.Lock()
		n.down[proxy] = before
		n.mu.Unlock()
	}
	return err
}

func (n *Network) setEnabled(ctx context.Context, proxy string, enabled bool) error {
	if n.server == nil {
		// POST rather than PATCH: servers before 2.6 take only POST.
		return n.call(ctx, http.MethodPost, "/proxies/"+url.PathEscape(proxy), map[string]bool{"enabled": enabled}, nil)
	}
	p, err := n.server.Collection.Get(proxy)
	if err != nil {
		return apiError(err)
	}
	if !enabled {
		p.Stop()
		return nil
	}
	if err := p.Start(); err != nil && !errors.Is(err, toxiproxy.ErrProxyAlreadyStarted) {
		return fmt.Errorf("listen again on %s: %w", p.Listen, err)
	}
	return nil
}

// call does one request to the remote API, decoding a JSON reply into out.
func (n *Network) call(ctx context.Context, method, path string, in, out any) error {
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

// apiError turns the in-process server's errors into *APIError.
func apiError(err error) error {
	var te *toxiproxy.ApiError
	if errors.As(err, &te) {
		return &APIError{Status: te.StatusCode, Message: te.Message}
	}
	return err
}
