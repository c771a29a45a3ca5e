package chaos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Conventional proxy names: the load generator's path to the service, and
// the service's path to PostgreSQL. The caller creates the ones it needs.
const (
	PathClient = "client"
	PathDB     = "db"
)

// Network is a set of Toxiproxy proxies that network faults act on:
// either proxies run inside this process (NewNetwork, network_embedded.go),
// or those of an external Toxiproxy server reached over its HTTP API
// (NewRemoteNetwork, network_external.go). Implementations are safe for
// concurrent use. Only this package implements it: faults reach the
// proxies' toxics through its unexported methods.
type Network interface {
	// AddProxy creates and starts a proxy from listen (default
	// 127.0.0.1:0) to upstream and returns the address it listens on.
	AddProxy(ctx context.Context, name, listen, upstream string) (string, error)
	// Proxy describes the named proxy; a missing one is an *APIError
	// with status 404.
	Proxy(ctx context.Context, name string) (ProxyInfo, error)
	// Close stops the in-process proxies, or deletes the external proxies
	// that AddProxy created. It runs to the end even when ctx is
	// cancelled, within a timeout of its own.
	Close(ctx context.Context) error
	// URL is the external API's address without credentials, for the
	// journal and for messages; "" in-process. It does no I/O.
	URL() string

	addToxic(ctx context.Context, proxy string, t toxic) error
	// removeToxic removes a toxic; one already gone is not an error.
	removeToxic(ctx context.Context, proxy, name string) error
	setEnabled(ctx context.Context, proxy string, enabled bool) error
	state() *inForce
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

// networkTimeout bounds each call to an external Toxiproxy, and Close.
const networkTimeout = 10 * time.Second

// toxic is one toxic as Toxiproxy's API spells it.
type toxic struct {
	Name       string           `json:"name"`
	Type       string           `json:"type"`
	Stream     string           `json:"stream"`
	Toxicity   float64          `json:"toxicity"`
	Attributes map[string]int64 `json:"attributes"`
}

// inForce is what both kinds of Network keep about the faults acting on
// them; each embeds one.
type inForce struct {
	mu   sync.Mutex
	seq  int            // toxic names: stampede-<kind>-<seq>
	down map[string]int // net.down faults in force, per proxy
}

func (s *inForce) state() *inForce { return s }

// toxicName returns a name unique within one Network.
func (s *inForce) toxicName(kind string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("stampede-%s-%d", kind, s.seq)
}

// setDown takes a proxy down (the first net.down in force) or up again
// (when the last one ends).
func setDown(ctx context.Context, n Network, proxy string, down bool) error {
	s := n.state()
	s.mu.Lock()
	if s.down == nil {
		s.down = map[string]int{}
	}
	before := s.down[proxy]
	after := before - 1
	if down {
		after = before + 1
	}
	if after < 0 {
		after = 0
	}
	s.down[proxy] = after
	s.mu.Unlock()
	if (before == 0) == (after == 0) {
		return nil // still down, or still up
	}
	err := n.setEnabled(ctx, proxy, !down)
	if err != nil {
		s.mu.Lock()
		s.down[proxy] = before
		s.mu.Unlock()
	}
	return err
}
