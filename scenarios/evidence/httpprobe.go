package evidence

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"
	"time"

	"github.com/stampede-load/stampede/scenarios/engine"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// httpProbeTimeout bounds each HTTP probe, connect included: a probe
// slower than this is an answer too late to tell paths apart.
const httpProbeTimeout = 2 * time.Second

// httpTarget is one stream of HTTP probes: what is asked (health or
// null), which way (path or direct) and the URL.
type httpTarget struct{ kind, via, url string }

// httpTargets are the null and health probes, each the way the load goes
// and, when the service's own address is known, straight to it.
func (ev *Evidence) httpTargets() []httpTarget {
	var ts []httpTarget
	for _, k := range []struct{ kind, url string }{{"null", ev.cfg.NullURL}, {"health", ev.cfg.HealthURL}} {
		if k.url == "" {
			continue
		}
		ts = append(ts, httpTarget{k.kind, "path", k.url})
		if u, err := url.Parse(k.url); err == nil && ev.cfg.DirectAddr != "" {
			u.Host = ev.cfg.DirectAddr
			ts = append(ts, httpTarget{k.kind, "direct", u.String()})
		}
	}
	return ts
}

// runHTTPProbes sends each probe every ProbeEvery, each stream on its own
// so that a slow path does not delay the direct probe.
func (ev *Evidence) runHTTPProbes(ctx context.Context, sink engine.Sink) {
	// No client timeout: each probe's context has one, so that a timeout
	// is told apart by phase (connect or answer) like the load's.
	client := &http.Client{
		Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, t := range ev.httpTargets() {
		ev.wg.Add(1)
		go func() {
			defer ev.wg.Done()
			every(ctx, ev.cfg.ProbeEvery, sink, func() rundir.Event { return httpProbe(ctx, client, t) })
		}()
	}
}

// connTimes is what httptrace saw of the probe's connection; the hooks
// may run on the transport's own goroutine.
type connTimes struct {
	mu          sync.Mutex
	start, done time.Time
}

// httpProbe sends one GET on a new connection (the client keeps none
// alive) and times its connect and the whole request. Any status is an
// answer.
func httpProbe(ctx context.Context, client *http.Client, t httpTarget) rundir.Event {
	ctx, cancel := context.WithTimeout(ctx, httpProbeTimeout)
	defer cancel()
	p := rundir.HTTPProbe{Kind: t.kind, Via: t.via}
	var ct connTimes
	trace := &httptrace.ClientTrace{
		ConnectStart: func(string, string) { ct.mu.Lock(); ct.start = time.Now(); ct.mu.Unlock() },
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				ct.mu.Lock()
				ct.done = time.Now()
				ct.mu.Unlock()
			}
		},
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, t.url, nil)
	if err != nil {
		p.Error = rundir.ErrOther
		return p
	}
	begin := time.Now()
	resp, err := client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		p.Status = &resp.StatusCode
	}
	took := time.Since(begin)
	ct.mu.Lock()
	start, done := ct.start, ct.done
	ct.mu.Unlock()
	if !start.IsZero() && !done.IsZero() {
		p.ConnectMS = millis(done.Sub(start))
	}
	if err != nil {
		p.Error = engine.ClassifyProbeError(err, done.IsZero())
		return p
	}
	p.MS = millis(took)
	return p
}
