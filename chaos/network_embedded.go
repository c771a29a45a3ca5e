package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/rs/zerolog"
)

// embeddedNetwork is a Network of proxies run inside this process by
// Toxiproxy's own server code. Its calls do no network I/O and take ctx
// only to keep the interface's shape (RemoveToxic alone uses it).
type embeddedNetwork struct {
	inForce
	server *toxiproxy.ApiServer
}

// NewNetwork returns an empty set of in-process proxies.
func NewNetwork() Network {
	return &embeddedNetwork{server: toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())}
}

func (n *embeddedNetwork) URL() string { return "" }

func (n *embeddedNetwork) AddProxy(_ context.Context, name, listen, upstream string) (string, error) {
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	p := toxiproxy.NewProxy(n.server, name, listen, upstream)
	if err := n.server.Collection.Add(p, true); err != nil {
		return "", fmt.Errorf("chaos: start proxy %q on %s: %w", name, listen, apiError(err))
	}
	p.Lock()
	defer p.Unlock()
	return p.Listen, nil
}

func (n *embeddedNetwork) Proxy(_ context.Context, name string) (ProxyInfo, error) {
	var info ProxyInfo
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

func (n *embeddedNetwork) Close(context.Context) error {
	return apiError(n.server.Collection.Clear())
}

func (n *embeddedNetwork) addToxic(_ context.Context, proxy string, t toxic) error {
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

func (n *embeddedNetwork) removeToxic(ctx context.Context, proxy, name string) error {
	p, err := n.server.Collection.Get(proxy)
	if err == nil {
		err = p.Toxics.RemoveToxic(ctx, name)
	}
	if err = apiError(err); isNotFound(err) {
		return nil
	}
	return err
}

func (n *embeddedNetwork) setEnabled(_ context.Context, proxy string, enabled bool) error {
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

// apiError turns the in-process server's errors into *APIError.
func apiError(err error) error {
	var te *toxiproxy.ApiError
	if errors.As(err, &te) {
		return &APIError{Status: te.StatusCode, Message: te.Message}
	}
	return err
}
