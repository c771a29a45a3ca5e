package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/rundir"
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
	// Control stops the run from outside (Stop, then Abort); nil: only the
	// context, the plan's end or the abort rule stop it.
	Control *Control
	// Progress receives the live figures; nil for none.
	Progress Progress
	// Manifest holds the caller's fields of manifest.json (versions, the
	// target's kind, the fixture); the engine fills in the rest.
	Manifest *rundir.Manifest
	// Hooks start once the recorder exists and the clock has started, before
	// the first request (evidence sampling, the fault schedule), and stop
	// after the last result, before run_end, in reverse order. A Start error
	// aborts the run before any traffic.
	Hooks []Hook
	// StartAt is the instant the run's clock starts at, on this machine's
	// clock: a sharded run's shared start. The run prepares its directory
	// and client, then waits for it; zero (or a past instant) starts at once.
	StartAt time.Time
	// Getenv reads login.basic_auth's variables; nil: os.Getenv.
	Getenv func(string) string
	// Observer watches the run as it is recorded (live metrics); nil for none.
	Observer Observer
}

// Interrupter is a Hook to be stopped as soon as a run stops sending (a
// Stop, an abort, an error), before the requests in flight have drained;
// its Stop is still called at the end and must then be harmless.
type Interrupter interface {
	Interrupt(ctx context.Context) error
}

// Hook is something that runs beside the traffic on the run's clock.
type Hook interface {
	Start(ctx context.Context, sink Sink, start time.Time) error
	// Stop must finish its work even if ctx is already cancelled.
	Stop(ctx context.Context) error
}

// RunResult is what a run did.
type RunResult struct {
	Dir         string
	Start, End  time.Time
	Interrupted bool // stopped early by Control.Stop, everything flushed
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

// ErrAbortedImmediately is returned after Control.Abort: the run returned
// at once; the results file is readable up to its last record.
var ErrAbortedImmediately = errors.New("interrupted twice: stopped at once")

// Run executes the scenario's traffic plan as one vegeta attack and records
// every result in the run directory. With mode: search the plan is a search
// for the sustainable rate (see Search); with abort: the surge stops once
// the SLO has failed for the stated time.
func Run(ctx context.Context, o RunOptions) (*RunResult, error) {
	r, err := plan(o)
	if err != nil {
		return nil, err
	}
	defer r.close()
	if err := r.prepare(); err != nil {
		return nil, err
	}
	if err := sleepUntil(ctx, o.StartAt); err != nil {
		return nil, fmt.Errorf("wait for the start at %s: %w", o.StartAt.Format(time.RFC3339Nano), err)
	}
	if err := r.startHooks(ctx); err != nil {
		return nil, err
	}
	results := r.startAttack()
	if r.attackLoop(ctx, results) {
		r.stopAtOnce(results)
		return r.res, ErrAbortedImmediately
	}
	return r.res, r.finishDrained()
}

// run is one run's state, from its plan to its last record.
type run struct {
	o      RunOptions
	sc     *scenarios.Scenario
	pacer  schedule
	search *searchCtl  // mode: search; nil otherwise
	watch  *abortWatch // the abort rule; nil without one

	rec       *recorder
	tt        *tracingTransport
	client    *http.Client
	transport *http.Transport
	attacker  *vegeta.Attacker
	targeter  *loginTargeter
	manifest  rundir.Manifest

	ctx         context.Context // the caller's: hooks stop on it, uncancelled
	runCtx      context.Context
	cancel      context.CancelFunc
	wg          sync.WaitGroup
	started     int // hooks started
	start       time.Time
	attackStart time.Time // the plan's clock
	fu          *followUps
	st          *stats
	gw          *genWatch
	live        liveView

	res      *RunResult
	stopping bool
	abortWhy string // why Control.Abort was called
	writeErr error
}

// plan checks the options and builds the plan: the stages' pacer (with the
// abort rule's watch), or a search's adaptive pacer.
func plan(o RunOptions) (*run, error) {
	sc := o.Scenario
	if o.Scale == 0 {
		o.Scale = 1
	}
	if len(o.Credentials) == 0 {
		return nil, errNoCredentials
	}
	r := &run{o: o, sc: sc, res: &RunResult{Dir: o.Dir, Seed: o.Seed}}
	slo := sc.SLO.Contract().WithDefaults()
	if sc.Mode == scenarios.ModeSearch {
		if o.Scale != 1 {
			return nil, fmt.Errorf("scenarios: a search cannot be scaled (got %g): each agent would search on its own", o.Scale)
		}
		cfg, err := sc.SearchSettings()
		if err != nil {
			return nil, fmt.Errorf("scenarios: %w", err)
		}
		if r.search, err = newSearchCtl(cfg, slo, sc.Client.Timeout, nil); err != nil {
			return nil, err
		}
		r.pacer = r.search.pacer
		return r, nil
	}
	p, err := NewPacer(sc.Stages, o.Scale)
	if err != nil {
		return nil, err
	}
	r.pacer = p
	if sc.Abort != nil {
		r.watch = newAbortWatch(*sc.Abort, slo, sc.Client.Timeout)
	}
	return r, nil
}

// prepare creates the run directory's files, the load client and the
// attacker, and writes the manifest as the run starts.
func (r *run) prepare() error {
	sc, o := r.sc, r.o
	pf, err := newPreflight(o.Target, sc.Login.Preflight)
	if err != nil {
		return err
	}
	if r.rec, err = newRecorder(o.Dir, sc); err != nil {
		return err
	}
	r.rec.obs = o.Observer
	r.tt = newTracingTransport(pf, sc.Client.MaxWorkers)
	r.client, r.transport = newLoadClient(sc.Client, r.tt)
	if r.targeter, err = newLoginTargeter(o.Target, sc, o.Credentials, o.Seed, o.Getenv); err != nil {
		return err
	}
	maxWorkers := sc.Client.MaxWorkers
	r.attacker = vegeta.NewAttacker(
		vegeta.Workers(min(maxWorkers, 16)),
		vegeta.MaxWorkers(maxWorkers),
		vegeta.MaxBody(64<<10),
		vegeta.Client(r.client), // last: the options above must not touch our transport
	)
	if r.search != nil {
		r.search.sink = r.rec
	}
	r.manifest = newManifest(o, r.pacer, r.search, r.watch)
	if err := rundir.WriteJSON(r.manifestPath(), r.manifest); err != nil {
		return fmt.Errorf("run dir: manifest: %w", err)
	}
	return nil
}

func (r *run) manifestPath() string { return filepath.Join(r.o.Dir, rundir.ManifestFile) }

// startHooks starts the run's clock, records run_start and starts the
// hooks; a run of stages also records each stage as it starts.
func (r *run) startHooks(ctx context.Context) error {
	r.ctx = ctx
	r.runCtx, r.cancel = context.WithCancel(ctx)
	r.start = time.Now()
	r.rec.start, r.res.Start = r.start, r.start
	r.rec.Record(rundir.RunStartEvent{Scenario: r.sc.Name, Seed: r.o.Seed,
		PlannedDurationS: r.pacer.Duration().Seconds(), Target: r.o.Target.Redacted()}, r.start)
	for _, h := range r.o.Hooks {
		if err := h.Start(r.runCtx, r.rec, r.start); err != nil {
			return err
		}
		r.started++
	}
	if p, ok := r.pacer.(*Pacer); ok { // a search records its stages as it goes
		r.wg.Add(1)
		go func() { defer r.wg.Done(); stageEvents(r.runCtx, r.rec, p, r.start) }()
	}
	return nil
}

// startAttack starts the follow-ups, the tallies and the attack itself.
func (r *run) startAttack() <-chan *vegeta.Result {
	r.fu = newFollowUps(r.runCtx, r.client, r.o.Target, r.sc, r.o.Seed)
	r.st = newStats(r.pacer)
	r.gw = &genWatch{maxWorkers: r.sc.Client.MaxWorkers}
	r.live = newLiveView(r.pacer)
	// The plan's clock: vegeta starts its own in Attack, so elapsed time
	// measured from here is never behind the attack's (a search's changes
	// to the plan always land in the attack's future).
	r.attackStart = time.Now()
	return r.attacker.Attack(r.targeter.Target, r.pacer, r.pacer.Duration()+time.Second, r.sc.Name)
}

// close releases what the run holds, whichever way it ended.
func (r *run) close() {
	if r.o.Progress != nil && r.st != nil {
		r.o.Progress.Done()
	}
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	_ = r.stopHooks() // a no-op once stopped
	if r.transport != nil {
		r.transport.CloseIdleConnections()
	}
	if r.rec != nil {
		r.rec.Close()
	}
}

// stopHooks stops the hooks started, in reverse order, on a context the
// run's cancellation cannot cancel.
func (r *run) stopHooks() error {
	var errs []error
	for i := r.started - 1; i >= 0; i-- {
		errs = append(errs, r.o.Hooks[i].Stop(context.WithoutCancel(r.ctx)))
	}
	r.started = 0
	return errors.Join(errs...)
}

// stageEvents writes a stage event at each planned stage boundary.
func stageEvents(ctx context.Context, rec Sink, p *Pacer, start time.Time) {
	for i := range p.Stages() {
		if d := time.Until(start.Add(p.StageStart(i))); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		}
		rec.Record(stageEvent(p, i), time.Now())
	}
}

// sleepUntil waits until t, or until ctx is done.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if t.IsZero() || d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-timer.C:
		return nil
	}
}
