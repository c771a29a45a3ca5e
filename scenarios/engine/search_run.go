package engine

import (
	"fmt"
	"math"
	"time"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// searchCtl runs a search inside a run: it measures the trial in progress
// from the results of its hold, judges it once the hold's hits are due
// back, and appends the next trial to the adaptive pacer's plan. After a
// failed trial it first lets the target drain: a trickle of probes until
// the requests in flight are down to the probes' own and a probe comes
// back within the SLO latency (at most twice the client timeout). Every
// method is called from the runner's loop; now is elapsed time on the
// plan's clock.
type searchCtl struct {
	cfg        scenarios.Search
	slo        rundir.SLO
	grace      time.Duration
	maxRecover time.Duration
	pacer      *AdaptivePacer
	sink       Sink

	b       bracket
	trial   *trialRun // in progress (or next, while recovering); nil once done
	rec     *recovery // the pause after a failed trial; nil otherwise
	res     SearchResult
	written int // stage events written (closed stages)
	done    bool
}

// recovery is the pause after a failed trial.
type recovery struct {
	from      time.Duration // when the probes started
	rate      float64       // probes per second
	probeFast bool          // the latest probe back was good and within the SLO latency
}

// probeRate is the trickle during a pause before a trial at next: a tenth
// of it, between 1 and 10 per second (the pause ends on a probe's send
// time, so this is also its resolution).
func probeRate(next float64) float64 { return min(10, max(1, next/10)) }

// trialRun is the trial in progress.
type trialRun struct {
	Trial
	holdStart, holdEnd time.Duration
	tally              *sloTally
}

func newSearchCtl(cfg scenarios.Search, slo rundir.SLO, timeout time.Duration, sink Sink) (*searchCtl, error) {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	c := &searchCtl{cfg: cfg, slo: slo, grace: scenarios.JudgeGrace(slo.Latency, timeout), maxRecover: 2 * timeout, sink: sink,
		res: SearchResult{Target: cfg.Precision}}
	t := c.newTrial(cfg.From, 0, "raise")
	p, err := NewAdaptivePacer(trialStage(t), cfg.Budget)
	if err != nil {
		return nil, err
	}
	c.pacer, c.trial = p, t
	return c, nil
}

func trialStage(t *trialRun) scenarios.Stage {
	return scenarios.Stage{Name: fmt.Sprintf("trial %d (%s/s)", t.Index, fnum(t.Rate)), Kind: scenarios.StageConstant, Rate: t.Rate}
}

func (c *searchCtl) newTrial(rate float64, start time.Duration, phase string) *trialRun {
	hold := c.cfg.TrialHold(rate)
	t := &trialRun{Trial: Trial{Index: len(c.res.Trials) + 1, Rate: rate, Phase: phase, Start: start,
		Warmup: c.cfg.Warmup, Hold: hold}, tally: newSLOTally()}
	t.holdStart = start + c.cfg.Warmup
	t.holdEnd = t.holdStart + hold
	return t
}

// add counts a result by its planned send time: in the hold of the trial
// in progress, or as a probe of the pause.
func (c *searchCtl) add(due, intended time.Duration, good bool) {
	if r := c.rec; r != nil {
		if due >= r.from {
			r.probeFast = good && intended <= c.slo.Latency
		}
		return
	}
	if t := c.trial; t != nil && due >= t.holdStart && due < t.holdEnd {
		t.tally.add(c.slo, intended, good)
	}
}

// changeAt is when the plan may change: the first send time due at or
// after now. The attack sleeps until then, so the new plan's first hit
// goes out on time instead of in a burst, and nothing due before changes.
func (c *searchCtl) changeAt(now time.Duration) time.Duration {
	plan := c.pacer.Plan()
	if due, ok := plan.DueAt(plan.HitsBefore(now)); ok && due >= now {
		return due
	}
	return now
}

// tick judges the trial in progress once its hold's hits are due back,
// ends a pause once the target has drained, and starts the next trial or
// ends the search. inflight is the number of requests in flight.
func (c *searchCtl) tick(now time.Duration, inflight int64) {
	switch {
	case c.done:
	case c.rec != nil:
		r := c.rec
		idle := inflight <= 2+int64(math.Ceil(r.rate*c.slo.Latency.Seconds()))
		if (idle && r.probeFast) || now-r.from >= c.maxRecover {
			c.startTrial(c.changeAt(now), c.trial.Rate, c.trial.Phase)
		}
	case c.trial != nil && now >= c.trial.holdEnd+c.grace:
		c.judge(now)
	}
}

// judge records the trial in progress and decides what follows.
func (c *searchCtl) judge(now time.Duration) {
	t := c.trial
	plan := c.pacer.Plan()
	planned := int64(plan.HitsBefore(t.holdEnd)) - int64(plan.HitsBefore(t.holdStart))
	t.SLOVerdict = t.tally.verdict(c.slo, planned, now-t.holdEnd)
	var rate float64
	var reason string
	c.b, rate, reason = c.b.next(t.Rate, t.Met, c.cfg)
	c.record(t)
	if reason != "" {
		c.finish(now, reason)
		return
	}
	phase := "bisect"
	switch {
	case c.b.Hi == 0:
		phase = "raise"
	case c.b.Lo == 0:
		phase = "lower"
	case rate == c.b.Hi:
		phase = "confirm"
	}
	at := c.changeAt(now)
	if t.Met {
		c.startTrial(at, rate, phase)
		return
	}
	// A failed trial leaves a queue behind: probe until it has drained.
	if c.newTrial(rate, at, phase).holdEnd+c.grace > c.cfg.Budget {
		c.finish(now, SearchBudget)
		return
	}
	pr := probeRate(rate)
	if err := c.pacer.Next(at, scenarios.Stage{Name: fmt.Sprintf("recover %d", t.Index), Rate: pr}); err != nil {
		c.fail(now, err)
		return
	}
	c.rec = &recovery{from: at, rate: pr}
	c.trial = &trialRun{Trial: Trial{Rate: rate, Phase: phase}} // what comes next
	c.stageEvents()
}

// startTrial starts the next trial at at, if the budget has room for it.
func (c *searchCtl) startTrial(at time.Duration, rate float64, phase string) {
	if r := c.rec; r != nil && len(c.res.Trials) > 0 {
		c.res.Trials[len(c.res.Trials)-1].Recover = at - r.from
	}
	c.rec = nil
	next := c.newTrial(rate, at, phase)
	if next.holdEnd+c.grace > c.cfg.Budget {
		c.finish(at, SearchBudget)
		return
	}
	if err := c.pacer.Next(at, trialStage(next)); err != nil {
		c.fail(at, err)
		return
	}
	c.trial = next
	c.stageEvents()
}

// fail ends the search on an error changing the plan (a bug, not a verdict).
func (c *searchCtl) fail(now time.Duration, err error) {
	c.sink.Record(rundir.ErrorEvent{Error: err.Error()}, time.Now())
	c.finish(now, SearchBudget)
}

// record keeps a judged trial and writes its timeline event.
func (c *searchCtl) record(t *trialRun) {
	c.res.Trials = append(c.res.Trials, t.Trial)
	c.sink.Record(rundir.TrialEvent{
		Index: t.Index, Rate: t.Rate, Phase: t.Phase, StartS: t.Start.Seconds(),
		WarmupS: t.Warmup.Seconds(), HoldS: t.Hold.Seconds(),
		Planned: t.Planned, Received: t.Received, Missing: t.Missing,
		SuccessRatio: round6(t.SuccessRatio), P99MS: ms3(t.P99), SLOLatencyMS: ms3(t.Latency),
		MaxMS: ms3(t.MaxLatency), SLOMet: t.Met, Lo: nilIfZero(c.b.Lo), Hi: nilIfZero(c.b.Hi),
	}, time.Now())
}

// finish ends the search at now (idempotent): the plan ends, the last
// stages and the result are recorded.
func (c *searchCtl) finish(now time.Duration, reason string) {
	if c.done {
		return
	}
	c.done, c.trial, c.rec = true, nil, nil
	c.pacer.End(now)
	c.stageEvents()
	c.res.Lo, c.res.Hi, c.res.Reason, c.res.Elapsed = c.b.Lo, c.b.Hi, reason, now
	if c.res.Bracketed() {
		c.res.Precision = c.b.width()
	}
	out := c.outcome()
	c.sink.Record(rundir.SearchResultEvent{Lo: out.Lo, Hi: out.Hi, Precision: out.Precision,
		TargetPrecision: out.TargetPrecision, Trials: out.Trials, ElapsedS: out.ElapsedS, Reason: out.Reason}, time.Now())
}

// result is the search's outcome; finish must have run.
func (c *searchCtl) result() *SearchResult {
	r := c.res
	return &r
}

// stageEvents writes a stage event for each stage closed since the last
// call: the plan is known only as the search goes, so each stage is
// recorded once its length is.
func (c *searchCtl) stageEvents() {
	plan := c.pacer.Plan()
	closed := len(plan.Stages())
	if c.pacer.Open() {
		closed--
	}
	for ; c.written < closed; c.written++ {
		c.sink.Record(stageEvent(plan, c.written), time.Now())
	}
}

// status is a note for the live display.
func (c *searchCtl) status(now time.Duration) string {
	t := c.trial
	switch {
	case t == nil:
		return "search done"
	case c.rec != nil:
		return fmt.Sprintf("draining before %s/s", fnum(t.Rate))
	}
	part := "hold"
	switch {
	case now < t.holdStart:
		part = "warmup"
	case now >= t.holdEnd:
		part = "judging"
	}
	s := fmt.Sprintf("trial %d %s/s %s", t.Index, fnum(t.Rate), part)
	if c.b.Lo > 0 || c.b.Hi > 0 {
		s += fmt.Sprintf("  [%s, %s]", rateOrDash(c.b.Lo), rateOrDash(c.b.Hi))
	}
	return s
}

// searchConfig is the resolved search settings, for manifest.json.
func searchConfig(c scenarios.Search) *rundir.SearchConfig {
	return &rundir.SearchConfig{From: c.From, Factor: c.Factor, Precision: c.Precision, BudgetS: c.Budget.Seconds(),
		MaxRate: c.MaxRate, WarmupS: c.Warmup.Seconds(), HoldS: c.Hold.Seconds(), MinRequests: int64(c.MinRequests)}
}

// outcome is the search's result as the manifest and the timeline hold
// it; finish must have run. The precision is there once bracketed.
func (c *searchCtl) outcome() *rundir.SearchOutcome {
	r := c.res
	o := &rundir.SearchOutcome{Lo: nilIfZero(r.Lo), Hi: nilIfZero(r.Hi), TargetPrecision: r.Target,
		Trials: len(r.Trials), ElapsedS: r.Elapsed.Seconds(), Reason: r.Reason}
	if r.Bracketed() {
		p := round6(r.Precision)
		o.Precision = &p
	}
	return o
}

func rateOrDash(v float64) string {
	if v <= 0 {
		return "-"
	}
	return fnum(v)
}

func nilIfZero(v float64) *float64 {
	if v == 0 {
		return nil
	}
	return &v
}
