package engine

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// hitInfo is what the transport learns about one hit that vegeta's Result
// does not keep: the intent, the connection phases and the typed error.
type hitInfo struct {
	seq      uint64
	intent   rundir.Intent
	reused   bool
	connect  time.Duration // TCP connect time for a new connection
	errClass string
}

// tracingTransport wraps the load client's transport: it strips the intent
// header, times connection phases with httptrace, runs the optional CSRF
// preflight, and classifies transport errors with errors.Is/As while the
// typed error is still at hand.
type tracingTransport struct {
	base      http.RoundTripper
	preflight *preflight
	info      hitRing
	// timeout bounds a request from its send to the end of its body (the
	// client's timeout), enforced here rather than by http.Client: for a
	// RoundTripper it does not know, http.Client runs a goroutine and a
	// timer per request to enforce its Timeout.
	timeout   time.Duration
	deadlines *sharedDeadlines // the timeout of requests with no context of their own

	// inflight is written twice by every request, from every core: on a
	// cache line of its own, so that it does not take away the line of
	// the fields above, which every request reads.
	_        [64]byte
	inflight atomic.Int64
	_        [56]byte
}

func newTracingTransport(pf *preflight, maxWorkers uint64) *tracingTransport {
	return &tracingTransport{preflight: pf, info: newHitRing(maxWorkers)}
}

func (t *tracingTransport) take(seq uint64) *hitInfo {
	if hi := t.info.take(seq); hi != nil {
		return hi
	}
	return &hitInfo{seq: seq, intent: rundir.IntentValid}
}

// hitRing hands each hit's hitInfo from the transport to the run's loop by
// its sequence number, without a lock: slot seq mod len. A hit's slot is
// only reused 2^k hits later, and at most max_workers hits are in flight
// (plus the few whose results wait for the loop), so the ring is sized well
// above that.
type hitRing struct {
	slots []atomic.Pointer[hitInfo]
	mask  uint64
}

func newHitRing(maxWorkers uint64) hitRing {
	n := uint64(1 << 16)
	for n < 8*maxWorkers {
		n <<= 1
	}
	return hitRing{slots: make([]atomic.Pointer[hitInfo], n), mask: n - 1}
}

func (h *hitRing) put(hi *hitInfo) { h.slots[hi.seq&h.mask].Store(hi) }

func (h *hitRing) take(seq uint64) *hitInfo {
	slot := &h.slots[seq&h.mask]
	if hi := slot.Load(); hi != nil && hi.seq == seq && slot.CompareAndSwap(hi, nil) {
		return hi
	}
	return nil
}

// hitTrace is one request's connection phases, as httptrace reports them
// (from the transport's goroutines: hence the lock), with its hitInfo.
type hitTrace struct {
	mu                         sync.Mutex
	hi                         hitInfo
	connStart                  time.Time
	connecting, wrote, gotConn bool
	trace                      httptrace.ClientTrace // its hooks: in the same allocation
}

func (h *hitTrace) clientTrace() *httptrace.ClientTrace {
	h.trace = httptrace.ClientTrace{
		GotConn: func(ci httptrace.GotConnInfo) {
			h.mu.Lock()
			h.gotConn, h.hi.reused = true, ci.Reused
			h.mu.Unlock()
		},
		ConnectStart: func(_, _ string) {
			h.mu.Lock()
			h.connecting, h.connStart = true, time.Now()
			h.mu.Unlock()
		},
		ConnectDone: func(_, _ string, err error) {
			h.mu.Lock()
			h.connecting = false
			if err == nil {
				h.hi.connect = time.Since(h.connStart)
			}
			h.mu.Unlock()
		},
		WroteRequest: func(httptrace.WroteRequestInfo) {
			h.mu.Lock()
			h.wrote = true
			h.mu.Unlock()
		},
	}
	return &h.trace
}

// classify names the failure err of the request r in the phase it reached.
func (h *hitTrace) classify(err error, r *http.Request) {
	h.mu.Lock()
	h.hi.errClass = classifyTransportError(err, canceled(r), h.connecting, h.wrote, h.gotConn)
	h.mu.Unlock()
}

// RoundTrip sends req as it is, with a trace in its context: no copy of
// its headers. The request is the load's own (vegeta builds a fresh one for
// each hit), so removing the intent header from it is safe.
func (t *tracingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.inflight.Add(1)
	defer t.inflight.Add(-1)

	ht := &hitTrace{}
	hi := &ht.hi
	intent := req.Header[intentHeader]
	login := len(intent) > 0 && intent[0] != "" // the targeter's logins carry an intent; follow-ups do not
	if login {
		hi.intent = rundir.Intent(intent[0])
		delete(req.Header, intentHeader)
	} else {
		hi.intent = rundir.IntentValid
	}
	if s := req.Header[seqHeader]; len(s) > 0 {
		if seq, err := strconv.ParseUint(s[0], 10, 64); err == nil {
			hi.seq = seq
			t.info.put(hi)
		}
	}
	ctx, cancel := req.Context(), context.CancelFunc(nil)
	switch {
	case t.timeout <= 0:
	case ctx == context.Background() && t.deadlines != nil: // vegeta's logins: a shared deadline
		ctx = t.deadlines.context(time.Now())
	default: // a context of the caller's (follow-ups): a timeout of its own under it
		ctx, cancel = context.WithTimeout(ctx, t.timeout)
	}
	r := req.WithContext(httptrace.WithClientTrace(ctx, ht.clientTrace()))

	if t.preflight != nil && login {
		if err := t.preflight.apply(r, t.base); err != nil {
			ht.classify(err, r)
			if cancel != nil {
				cancel()
			}
			return nil, fmt.Errorf("preflight: %w", err)
		}
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		ht.classify(err, r)
	}
	if cancel != nil {
		if err != nil {
			cancel()
		} else {
			resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
		}
	}
	return resp, err
}

// cancelBody ends a request's timeout once its body is closed: the
// timeout covers reading the body, as http.Client's does.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// canceled reports whether the request was cancelled: its context ended, or
// (for a wrapping RoundTripper like this one) http.Client closed req.Cancel
// when its Timeout fired, which can happen just before the context's deadline.
func canceled(r *http.Request) bool {
	if r.Context().Err() != nil {
		return true
	}
	if r.Cancel != nil { //nolint:staticcheck // http.Client still uses it for wrapping transports
		select {
		case <-r.Cancel:
			return true
		default:
		}
	}
	return false
}

// classifyTransportError names a transport failure using the typed error and
// the phase the request had reached. A timeout after the request was written
// is a client timeout: ambiguous by itself (a database cap looks like this).
func classifyTransportError(err error, canceled, connecting, wrote, gotConn bool) string {
	var dnsErr *net.DNSError
	var tlsErr tls.RecordHeaderError
	var netErr net.Error
	switch {
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return rundir.ErrGenFiles
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EADDRINUSE):
		return rundir.ErrGenPorts
	case errors.Is(err, syscall.ECONNREFUSED):
		return rundir.ErrRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return rundir.ErrReset
	case errors.As(err, &dnsErr):
		return rundir.ErrDNS
	case errors.As(err, &tlsErr):
		return rundir.ErrTLS
	case canceled || errors.Is(err, context.DeadlineExceeded):
		switch {
		case connecting:
			return rundir.ErrConnectTimeout
		case !gotConn:
			return rundir.ErrGenPool
		case wrote:
			return rundir.ErrClientTimeout
		}
		return rundir.ErrClientTimeout
	case errors.As(err, &netErr) && netErr.Timeout():
		if connecting {
			return rundir.ErrConnectTimeout
		}
		return rundir.ErrIOTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return rundir.ErrEOF
	}
	return rundir.ErrOther
}

// preflight fetches a page before the login and carries a CSRF token over.
type preflight struct {
	cfg   scenarios.Preflight
	url   string
	regex *regexp.Regexp
}

func newPreflight(base *url.URL, p *scenarios.Preflight) (*preflight, error) {
	if p == nil {
		return nil, nil
	}
	u, err := scenarios.JoinURL(base, p.Path)
	if err != nil {
		return nil, fmt.Errorf("login.preflight.path: %w", err)
	}
	pf := &preflight{cfg: *p, url: u.String()}
	if p.Regex != "" {
		re, err := regexp.Compile(p.Regex)
		if err != nil {
			return nil, fmt.Errorf("preflight regex: %w", err)
		}
		pf.regex = re
	}
	return pf, nil
}

func (p *preflight) apply(login *http.Request, rt http.RoundTripper) error {
	req, err := http.NewRequestWithContext(login.Context(), p.cfg.Method, p.url, nil)
	if err != nil {
		return err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	var token string
	switch p.cfg.From {
	case "cookie":
		for _, c := range resp.Cookies() {
			if c.Name == p.cfg.Name {
				token = c.Value
				login.AddCookie(c)
			}
		}
	case "header":
		token = resp.Header.Get(p.cfg.Name)
	default: // body
		if p.regex != nil {
			if m := p.regex.FindSubmatch(body); len(m) > 1 {
				token = string(m[1])
			}
		}
	}
	if token == "" {
		return fmt.Errorf("no CSRF token found in the %s of %s %s (status %d)", p.cfg.From, p.cfg.Method, p.cfg.Path, resp.StatusCode)
	}
	if p.cfg.SendAs == "field" {
		return addBodyField(login, p.cfg.SendName, token)
	}
	login.Header.Set(p.cfg.SendName, token)
	return nil
}

// addBodyField adds a field to a JSON or form login body.
func addBodyField(req *http.Request, name, value string) error {
	if req.GetBody == nil {
		return errors.New("login request has no body to add the CSRF field to")
	}
	rc, err := req.GetBody()
	if err != nil {
		return err
	}
	b, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	if req.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
		v, err := url.ParseQuery(string(b))
		if err != nil {
			return err
		}
		v.Set(name, value)
		b = []byte(v.Encode())
	} else {
		m := map[string]any{}
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		if err := setJSONPath(m, name, value); err != nil {
			return err
		}
		if b, err = json.Marshal(m); err != nil {
			return err
		}
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.ContentLength = int64(len(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return nil
}

// newLoadClient builds the load generator's HTTP client: no proxy from the
// environment, capped connections, keep-alive as configured, no redirects.
func newLoadClient(c scenarios.Client, rt *tracingTransport) (*http.Client, *http.Transport) {
	keepAlive := c.KeepAlive == nil || *c.KeepAlive
	tr := &http.Transport{
		Proxy: nil, // a stray HTTP_PROXY must never redirect the load
		DialContext: (&net.Dialer{
			Timeout:   c.Timeout,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:        c.MaxConnections,
		MaxIdleConnsPerHost: c.MaxConnections,
		MaxConnsPerHost:     c.MaxConnections,
		IdleConnTimeout:     90 * time.Second,
		DisableKeepAlives:   !keepAlive,
		DisableCompression:  true,
	}
	rt.base = tr
	rt.timeout = c.Timeout // enforced by the transport: see tracingTransport
	if c.Timeout > 0 {
		rt.deadlines = newSharedDeadlines(c.Timeout)
	}
	return &http.Client{
		Transport:     rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, tr
}

// ClassifyDialError names a failure to connect (an Err* class), as the
// transport names a request's (for probes beside the traffic).
func ClassifyDialError(err error) string {
	return classifyTransportError(err, false, true, false, false)
}
