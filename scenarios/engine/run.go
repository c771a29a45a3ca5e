package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/rundir"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// RunOptions wire one run: everything outside the scenario itself.
type RunOptions struct {
	Scenario    *scenarios.Scenario
	Target      *url.URL
	Credentials []Credential
	// Dir is the run directory to create and fill.
	Dir string
	// Scale multiplies every stage's rate (1/N for shard i of N); default 1.
	Scale float64
	// Seed drives credential choice; recorded in the manifest.
	Seed int64
	// Signals: the first stops sending and drains; the second returns at once.
	Signals <-chan os.Signal
	// Progress receives the live display; nil for none.
	Progress io.Writer
	Terminal bool
	// Status, when set, adds a note to the live display (faults in force).
	Status func() string
	// Manifest holds extra fields for manifest.json (versions, target kind).
	Manifest map[string]any
	// Hooks start once the recorder exists and the clock has started, before
	// the first request (evidence sampling, the fault schedule), and stop
	// after the last result, before run_end, in reverse order. A Start error
	// aborts the run before any traffic.
	Hooks []Hook
}

// Interrupter is a Hook to be stopped as soon as a run stops sending (a
// signal, an abort, an error), before the requests in flight have drained;
// its Stop is still called at the end and must then be harmless.
type Interrupter interface {
	Interrupt(ctx context.Context) error
}

// Hook is something that runs beside the traffic on the run's clock.
type Hook interface {
	Start(ctx context.Context, sink EventSink, start time.Time) error
	// Stop must finish its work even if ctx is already cancelled.
	Stop(ctx context.Context) error
}

// EventSink appends events to the run's timeline.
type EventSink interface {
	Event(typ string, at time.Time, fields map[string]any)
}

// RunResult is what a run did.
type RunResult struct {
	Dir         string
	Start, End  time.Time
	Interrupted bool // first signal: stopped early, everything flushed
	// Aborted: the scenario's abort rule stopped the surge (the SLO failed
	// for its stated time); the run reached its breaking point, and is
	// recorded and reported like any other.
	Aborted   bool
	Stages    []rundir.StageSummary
	FollowUps rundir.FollowUpStats
	Seed      int64
	// Search is what mode: search found; nil for a run of stages.
	Search *SearchResult
}

// schedule is what the runner needs of a plan: the stages' Pacer, or the
// AdaptivePacer that a search extends as it goes.
type schedule interface {
	Pace(elapsed time.Duration, hits uint64) (time.Duration, bool)
	Rate(elapsed time.Duration) float64
	Hits(elapsed time.Duration) float64
	HitsBefore(t time.Duration) uint64
	DueAt(n uint64) (time.Duration, bool)
	StageAt(elapsed time.Duration) int
	Stages() []scenarios.Stage
	Duration() time.Duration
	String() string
}

// ErrAbortedImmediately is returned on the second signal: the run returned
// at once; the results file is readable up to its last record.
var ErrAbortedImmediately = errors.New("interrupted twice: stopped at once")

// Run executes the scenario's traffic plan as one vegeta attack and records
// every result in the run directory. With mode: search the plan is a search
// for the sustainable rate (see Search); with abort: the surge stops once
// the SLO has failed for the stated time.
func Run(ctx context.Context, o RunOptions) (*RunResult, error) {
	sc := o.Scenario
	if o.Scale == 0 {
		o.Scale = 1
	}
	if len(o.Credentials) == 0 {
		return nil, errNoCredentials
	}
	slo := sc.SLO.Contract().WithDefaults()
	var pacer schedule
	var search *searchCtl
	var watch *abortWatch
	if sc.Mode == scenarios.ModeSearch {
		if o.Scale != 1 {
			return nil, fmt.Errorf("scenarios: a search cannot be scaled (got %g): each agent would search on its own", o.Scale)
		}
		cfg, err := sc.SearchSettings()
		if err != nil {
			return nil, fmt.Errorf("scenarios: %w", err)
		}
		if search, err = newSearchCtl(cfg, slo, sc.Client.Timeout, nil); err != nil {
			return nil, err
		}
		pacer = search.pacer
	} else {
		p, err := NewPacer(sc.Stages, o.Scale)
		if err != nil {
			return nil, err
		}
		pacer = p
		if sc.Abort != nil {
			watch = newAbortWatch(*sc.Abort, slo, sc.Client.Timeout)
		}
	}
	pf, err := newPreflight(o.Target, sc.Login.Preflight)
	if err != nil {
		return nil, err
	}
	rec, err := newRecorder(o.Dir, sc)
	if err != nil {
		return nil, err
	}
	defer rec.Close()

	tt := &tracingTransport{preflight: pf}
	client, transport := newLoadClient(sc.Client, tt)
	defer transport.CloseIdleConnections()
	targeter := newLoginTargeter(o.Target, sc, o.Credentials, o.Seed)
	maxWorkers := sc.Client.MaxWorkers
	attacker := vegeta.NewAttacker(
		vegeta.Workers(min(maxWorkers, 16)),
		vegeta.MaxWorkers(maxWorkers),
		vegeta.MaxBody(64<<10),
		vegeta.Client(client), // last: the options above must not touch our transport
	)

	res := &RunResult{Dir: o.Dir, Seed: o.Seed}
	manifest := map[string]any{
		"scenario": sc.Name, "scenario_path": sc.Path, "seed": o.Seed, "scale": o.Scale,
		"target": o.Target.Redacted(), "host": hostname(), "status": "running",
		"go_version": runtime.Version(), "vegeta_version": moduleVersion("github.com/tsenart/vegeta/v12"),
		"planned_duration_s": pacer.Duration().Seconds(), "pacer": pacer.String(),
	}
	if search != nil {
		search.sink = rec
		manifest["mode"] = scenarios.ModeSearch
		manifest["search"] = searchManifest(search.cfg)
	}
	if sc.Abort != nil && watch != nil {
		manifest["abort"] = map[string]any{"after_s": sc.Abort.After.Seconds(), "ratio": watch.rule.Ratio}
	}
	for k, v := range o.Manifest {
		manifest[k] = v
	}
	manifestPath := filepath.Join(o.Dir, rundir.ManifestFile)
	if err := writeJSON(manifestPath, manifest); err != nil {
		return nil, fmt.Errorf("run dir: manifest: %w", err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	rec.start = start
	res.Start = start
	rec.Event("run_start", start, map[string]any{"scenario": sc.Name, "seed": o.Seed,
		"planned_duration_s": pacer.Duration().Seconds(), "target": o.Target.Redacted()})
	started := 0
	stopHooks := func() error {
		var errs []error
		for i := started - 1; i >= 0; i-- {
			errs = append(errs, o.Hooks[i].Stop(context.WithoutCancel(ctx)))
		}
		started = 0
		return errors.Join(errs...)
	}
	defer stopHooks() // on any early return; a no-op once stopped
	for _, h := range o.Hooks {
		if err := h.Start(runCtx, rec, start); err != nil {
			return nil, err
		}
		started++
	}

	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	if p, ok := pacer.(*Pacer); ok { // a search records its stages as it goes
		wg.Add(1)
		go func() { defer wg.Done(); stageEvents(runCtx, rec, p, start) }()
	}

	fu := newFollowUps(runCtx, client, o.Target, sc, o.Seed)
	st := newStats(pacer)
	gw := &genWatch{maxWorkers: maxWorkers}
	prog := newProgress(o.Progress, o.Terminal, pacer.Duration(), pacer.Stages())
	defer prog.done()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	// The SLO is judged on a finer tick, when there is something to judge.
	var judgeC <-chan time.Time
	if search != nil || watch != nil {
		jt := time.NewTicker(100 * time.Millisecond)
		defer jt.Stop()
		judgeC = jt.C
	}

	// The plan's clock: vegeta starts its own in Attack, so elapsed time
	// measured from here is never behind the attack's (a search's changes
	// to the plan always land in the attack's future).
	attackStart := time.Now()
	results := attacker.Attack(targeter.Target, pacer, pacer.Duration()+time.Second, sc.Name)
	var writeErr error
	stopping := false
	stop := func(reason string, fields map[string]any) {
		if stopping {
			return
		}
		stopping = true
		attacker.Stop()
		rec.Event(reason, time.Now(), fields)
		// Revert faults now, not after the requests in flight: those a fault
		// holds up (a lock, a stalled proxy) could not finish while it lasts.
		for _, h := range o.Hooks[:started] {
			if in, ok := h.(Interrupter); ok {
				wg.Add(1)
				go func() { defer wg.Done(); _ = in.Interrupt(context.WithoutCancel(ctx)) }()
			}
		}
		if search != nil {
			search.finish(time.Since(attackStart), SearchInterrupted)
		}
	}
loop:
	for {
		select {
		case r, ok := <-results:
			if !ok {
				break loop
			}
			hi := tt.take(r.Seq)
			due, planned := pacer.DueAt(r.Seq)
			lag := r.Timestamp.Sub(start.Add(due))
			if lag < 0 {
				lag = 0
			}
			outcome := judge(sc.Login, hi.intent, r)
			if outcome == rundir.OutcomeOK {
				fu.maybe(r)
			}
			annotate(r, pacer.StageAt(due), hi, outcome, lag)
			if err := rec.write(r); err != nil && writeErr == nil {
				writeErr = fmt.Errorf("record result: %w", err)
				stop("error", map[string]any{"error": writeErr.Error()})
			}
			st.add(start, r, outcome, hi.errClass)
			gw.add(rec, r, lag, hi.errClass, tt.inflight.Load())
			if good := outcome != rundir.OutcomeFailed; planned && search != nil {
				search.add(due, lag+r.Latency, good)
			} else if planned && watch != nil {
				watch.add(due, lag+r.Latency, good)
			}
		case <-judgeC:
			now := time.Since(attackStart)
			if search != nil {
				search.tick(now, tt.inflight.Load())
			}
			if watch != nil && !stopping && watch.judge(now, pacer.HitsBefore) {
				res.Aborted = true
				stop("abort", watch.event())
			}
		case <-tick.C:
			extra := ""
			if o.Status != nil {
				extra = o.Status()
			}
			if search != nil {
				extra = strings.TrimSpace(search.status(time.Since(attackStart)) + "  " + extra)
			}
			prog.update(st.live(time.Since(start)), extra)
		case sig := <-o.Signals:
			if stopping && res.Interrupted {
				rec.Event("interrupt", time.Now(), map[string]any{"signal": sig.String(), "immediate": true})
				res.Interrupted = true
				if err := stopHooks(); err != nil {
					rec.Event("error", time.Now(), map[string]any{"error": err.Error()})
				}
				if search != nil {
					search.finish(time.Since(attackStart), SearchInterrupted)
				}
				finish(rec, manifestPath, manifest, res, st, fu, search, "interrupted")
				go func() { // let vegeta's workers finish without us
					for range results {
					}
				}()
				return res, ErrAbortedImmediately
			}
			res.Interrupted = true
			stop("interrupt", map[string]any{"signal": sig.String(), "immediate": false})
		case <-ctx.Done():
			stop("cancel", map[string]any{"error": ctx.Err().Error()})
		}
	}
	gw.flush(rec)
	fu.close()
	if err := stopHooks(); err != nil {
		rec.Event("error", time.Now(), map[string]any{"error": err.Error()})
		writeErr = errors.Join(writeErr, err)
	}
	status := "completed"
	switch {
	case res.Interrupted:
		status = "interrupted"
	case res.Aborted:
		status = "aborted"
	}
	if search != nil { // the plan ran to its horizon: the budget is spent
		search.finish(time.Since(attackStart), SearchBudget)
	}
	finish(rec, manifestPath, manifest, res, st, fu, search, status)
	return res, writeErr
}

func finish(rec *recorder, path string, manifest map[string]any, res *RunResult, st *stats, fu *followUps, search *searchCtl, status string) {
	res.End = time.Now()
	if search != nil { // finished by now: by its own decision, a stop, or the end of its plan
		res.Search = search.result()
		manifest["search_result"] = searchResultManifest(res.Search)
	}
	res.Stages = st.summaries()
	res.FollowUps = fu.stats()
	rec.Event("run_end", res.End, map[string]any{"status": status})
	manifest["status"] = status
	manifest["start"] = res.Start.UTC().Format(time.RFC3339Nano)
	manifest["end"] = res.End.UTC().Format(time.RFC3339Nano)
	manifest["stages"] = res.Stages
	manifest["follow_ups"] = res.FollowUps
	_ = writeJSON(path, manifest)
}

// stageEvents writes a stage event at each planned stage boundary.
func stageEvents(ctx context.Context, rec *recorder, p *Pacer, start time.Time) {
	var at time.Duration
	for i, s := range p.Stages() {
		if d := time.Until(start.Add(at)); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		}
		rec.Event("stage", time.Now(), map[string]any{"index": i, "name": s.Name, "kind": string(s.Kind),
			"planned_start_s": at.Seconds(), "duration_s": s.Duration.Seconds(),
			"rate_start": p.Rate(at), "rate_end": p.Rate(at + s.Duration - time.Nanosecond)})
		at += s.Duration
	}
}

// genWatch notices the load generator falling behind or failing locally,
// once per second. Falling behind while every worker waits on the target is
// the target's doing, and is recorded as such.
type genWatch struct {
	maxWorkers uint64
	sec        time.Time
	n, late    int64
	maxLag     time.Duration
	local      map[string]int64
	inflight   int64
}

const lateThreshold = 50 * time.Millisecond

func (g *genWatch) add(rec *recorder, r *vegeta.Result, lag time.Duration, errClass string, inflight int64) {
	sec := r.Timestamp.Truncate(time.Second)
	if !g.sec.IsZero() && sec.After(g.sec) {
		g.flush(rec)
	}
	g.sec = sec
	g.n++
	if lag > lateThreshold {
		g.late++
	}
	if lag > g.maxLag {
		g.maxLag = lag
	}
	if inflight > g.inflight {
		g.inflight = inflight
	}
	switch errClass {
	case rundir.ErrGenFiles, rundir.ErrGenPorts, rundir.ErrGenPool:
		if g.local == nil {
			g.local = map[string]int64{}
		}
		g.local[errClass]++
	}
}

func (g *genWatch) flush(rec *recorder) {
	if g.sec.IsZero() {
		return
	}
	if g.late > 0 || len(g.local) > 0 {
		saturated := g.maxWorkers > 0 && uint64(g.inflight) >= g.maxWorkers*95/100
		rec.Event("generator", g.sec.Add(time.Second), map[string]any{
			"second": g.sec.UTC().Format(time.RFC3339), "hits": g.n, "late": g.late,
			"max_lag_ms": float64(g.maxLag) / 1e6, "inflight_max": g.inflight,
			"max_workers": g.maxWorkers, "workers_saturated": saturated, "local_errors": g.local,
			// behind_own_fault: late sends while workers were free, or local failures
			"behind_own_fault": (g.late > 0 && !saturated) || len(g.local) > 0,
		})
	}
	g.n, g.late, g.maxLag, g.inflight, g.local = 0, 0, 0, 0, nil
}

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
	u := *base
	u.Path = f.cfg.Path
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
	var m map[string]any
	if json.Unmarshal(r.Body, &m) == nil {
		if tok, ok := m[f.tokenField].(string); ok {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
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

func hostname() string {
	h, _ := os.Hostname()
	return h
}

func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "unknown"
}
