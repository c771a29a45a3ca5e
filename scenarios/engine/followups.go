package engine

import (
	"context"
	"io"
	"math/rand"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/rundir"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// followUps checks a sampled share of sessions (GET /me) off the hot path,
// with a few workers and a bounded queue; overflow is counted, not queued.
type followUps struct {
	cfg                       *scenarios.FollowUp
	url                       string
	client                    *http.Client
	jobs                      chan *vegeta.Result
	wg                        sync.WaitGroup
	rng                       *rand.Rand
	sent, ok, failed, dropped atomic.Int64
	tokenField                string
}

func newFollowUps(ctx context.Context, c *http.Client, base *url.URL, sc *scenarios.Scenario, seed int64) *followUps {
	f := &followUps{cfg: sc.Login.FollowUp}
	if f.cfg == nil {
		return f
	}
	u, err := scenarios.JoinURL(base, f.cfg.Path)
	if err != nil { // checked by newLoginTargeter before the run
		u = base.JoinPath(f.cfg.Path)
	}
	f.url, f.client = u.String(), c
	f.rng = rand.New(rand.NewSource(seed ^ 0x5eed))
	f.tokenField = sc.Login.Success.JSONField
	if f.tokenField == "" {
		f.tokenField = "token"
	}
	f.jobs = make(chan *vegeta.Result, 256)
	for i := 0; i < 4; i++ {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			for r := range f.jobs {
				f.check(ctx, r)
			}
		}()
	}
	return f
}

func (f *followUps) maybe(r *vegeta.Result) {
	if f.cfg == nil || f.rng.Float64() >= f.cfg.Share {
		return
	}
	cp := &vegeta.Result{Body: append([]byte(nil), r.Body...), Headers: r.Headers.Clone()}
	select {
	case f.jobs <- cp:
	default:
		f.dropped.Add(1)
	}
}

func (f *followUps) check(ctx context.Context, r *vegeta.Result) {
	req, err := http.NewRequestWithContext(ctx, f.cfg.Method, f.url, nil)
	if err != nil {
		f.failed.Add(1)
		return
	}
	if tok := jsonString(r.Body, f.tokenField); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for _, c := range (&http.Response{Header: r.Headers}).Cookies() {
		req.AddCookie(c)
	}
	f.sent.Add(1)
	resp, err := f.client.Do(req)
	if err != nil {
		f.failed.Add(1)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for _, s := range f.cfg.Status {
		if resp.StatusCode == s {
			f.ok.Add(1)
			return
		}
	}
	f.failed.Add(1)
}

func (f *followUps) close() {
	if f.jobs != nil {
		close(f.jobs)
		f.wg.Wait()
		f.jobs = nil
	}
}

func (f *followUps) stats() rundir.FollowUpStats {
	return rundir.FollowUpStats{Sent: f.sent.Load(), OK: f.ok.Load(), Failed: f.failed.Load(), Dropped: f.dropped.Load()}
}
