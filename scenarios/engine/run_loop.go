package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// attackLoop takes the results as they come, judges the SLO live, shows
// the progress and obeys the Control and the context, until the attack is
// over; it reports true when the run must return at once.
func (r *run) attackLoop(ctx context.Context, results <-chan *vegeta.Result) (immediate bool) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	flush := time.NewTicker(flushInterval)
	defer flush.Stop()
	// The SLO is judged on a finer tick, when there is something to judge.
	var judgeC <-chan time.Time
	if r.search != nil || r.watch != nil {
		jt := time.NewTicker(100 * time.Millisecond)
		defer jt.Stop()
		judgeC = jt.C
	}
	done := ctx.Done()
	for {
		select {
		case res, ok := <-results:
			if !ok {
				return false
			}
			r.take(res)
			if !r.takeWaiting(results) {
				return false
			}
		case <-judgeC:
			r.judge(time.Since(r.attackStart))
		case <-flush.C:
			r.flushResults()
		case <-tick.C:
			r.showProgress()
		case req := <-r.o.Control.requests():
			if req.immediate {
				r.abortWhy = req.why
				return true
			}
			r.res.Interrupted = true
			r.stop(rundir.InterruptEvent{Signal: req.why})
		case <-done:
			r.stop(rundir.CancelEvent{Error: ctx.Err().Error()})
			done = nil // stopped: wait for the attack to end
		}
	}
}

// maxBatch bounds the results taken in a row before the loop looks at its
// tickers, the Control and the context again.
const maxBatch = 64

// takeWaiting takes the results that are already waiting, up to maxBatch,
// without a select over every channel of the loop for each (at high rates
// that select was the loop's largest cost); false once results is closed.
func (r *run) takeWaiting(results <-chan *vegeta.Result) bool {
	for range maxBatch {
		select {
		case res, ok := <-results:
			if !ok {
				return false
			}
			r.take(res)
		default:
			return true
		}
	}
	return true
}

// take records one result: its outcome and evidence, the tallies, the
// follow-up check and the live SLO judgement.
func (r *run) take(res *vegeta.Result) {
	hi := r.tt.take(res.Seq)
	due, planned := r.pacer.DueAt(res.Seq)
	// The plan's clock starts with the attack, after the hooks have started
	// (which may take a while: a reserved database connection, proxies):
	// a send is late only against that clock.
	lag := max(res.Timestamp.Sub(r.attackStart.Add(due)), 0)
	outcome := judge(r.sc.Login, hi.intent, res)
	if outcome == rundir.OutcomeOK {
		r.fu.maybe(res)
	}
	stage := r.pacer.StageAt(due)
	annotate(res, stage, hi, outcome, lag)
	if err := r.rec.write(res); err != nil {
		r.writeFailed(err)
	}
	r.st.add(r.start, res, outcome, hi.errClass)
	if obs := r.o.Observer; obs != nil {
		obs.Result(Observation{Stage: stage, Outcome: outcome, ErrorClass: hi.errClass, Code: res.Code,
			Latency: res.Latency, SendLag: lag})
	}
	r.gw.add(r.rec, res, lag, hi.errClass, r.tt.inflight.Load())
	if good := outcome != rundir.OutcomeFailed; planned && r.search != nil {
		r.search.add(due, lag+res.Latency, good)
	} else if planned && r.watch != nil {
		r.watch.add(due, lag+res.Latency, good)
	}
}

// flushResults writes the results recorded so far to the file.
func (r *run) flushResults() {
	if err := r.rec.flush(); err != nil {
		r.writeFailed(err)
	}
}

// writeFailed stops the run at the first failure to record a result.
func (r *run) writeFailed(err error) {
	if r.writeErr == nil {
		r.writeErr = fmt.Errorf("record result: %w", err)
		r.stop(rundir.ErrorEvent{Error: r.writeErr.Error()})
	}
}

// judge moves a search on, or applies the abort rule, at now on the plan's clock.
func (r *run) judge(now time.Duration) {
	if r.search != nil {
		r.search.tick(now, r.tt.inflight.Load())
	}
	if r.watch != nil && !r.stopping && r.watch.judge(now, r.pacer.HitsBefore) {
		r.res.Aborted = true
		r.stop(r.watch.event())
	}
}

// stop stops sending (once), records why, and reverts the faults now, not
// after the requests in flight: those a fault holds up (a lock, a stalled
// proxy) could not finish while it lasts.
func (r *run) stop(why rundir.Event) {
	if r.stopping {
		return
	}
	r.stopping = true
	r.attacker.Stop()
	r.rec.Record(why, time.Now())
	for _, h := range r.o.Hooks[:r.started] {
		if in, ok := h.(Interrupter); ok {
			r.wg.Add(1)
			go func() { defer r.wg.Done(); _ = in.Interrupt(context.WithoutCancel(r.ctx)) }()
		}
	}
	if r.search != nil {
		r.search.finish(time.Since(r.attackStart), SearchInterrupted)
	}
}

// stopAtOnce ends the run without waiting for the requests in flight: the
// hooks still stop (faults revert) and the manifest is still written.
func (r *run) stopAtOnce(results <-chan *vegeta.Result) {
	r.attacker.Stop()
	r.flushResults()
	r.rec.Record(rundir.InterruptEvent{Signal: r.abortWhy, Immediate: true}, time.Now())
	r.res.Interrupted = true
	if err := r.stopHooks(); err != nil {
		r.rec.Record(rundir.ErrorEvent{Error: err.Error()}, time.Now())
	}
	if r.search != nil {
		r.search.finish(time.Since(r.attackStart), SearchInterrupted)
	}
	r.finish(rundir.StatusInterrupted)
	go func() { // let vegeta's workers finish without us
		for range results {
		}
	}()
}

// finishDrained ends a run whose attack is over: the last generator
// second, the follow-ups and the hooks, then the summaries.
func (r *run) finishDrained() error {
	r.flushResults()
	r.gw.flush(r.rec)
	r.fu.close()
	if err := r.stopHooks(); err != nil {
		r.rec.Record(rundir.ErrorEvent{Error: err.Error()}, time.Now())
		r.writeErr = errors.Join(r.writeErr, err)
	}
	status := rundir.StatusCompleted
	switch {
	case r.res.Interrupted:
		status = rundir.StatusInterrupted
	case r.res.Aborted:
		status = rundir.StatusAborted
	}
	if r.search != nil { // the plan ran to its horizon: the budget is spent
		r.search.finish(time.Since(r.attackStart), SearchBudget)
	}
	r.finish(status)
	return r.writeErr
}

// finish closes the summaries, records run_end and rewrites the manifest.
func (r *run) finish(status string) {
	res := r.res
	res.End = time.Now()
	if r.search != nil { // finished by now: by its own decision, a stop, or the end of its plan
		res.Search = r.search.result()
		r.manifest.SearchResult = r.search.outcome()
	}
	res.Stages = r.st.summaries()
	res.FollowUps = r.fu.stats()
	r.rec.Record(rundir.RunEndEvent{Status: status}, res.End)
	m := &r.manifest
	m.Status, m.Start, m.End = status, res.Start.UTC(), res.End.UTC()
	m.Stages = res.Stages
	fu := res.FollowUps
	m.FollowUps = &fu
	_ = rundir.WriteJSON(r.manifestPath(), m)
}

// showProgress hands the live figures to the caller's Progress and Observer.
func (r *run) showProgress() {
	if r.o.Progress == nil && r.o.Observer == nil {
		return
	}
	l := r.st.live(time.Since(r.start))
	l.InFlight = r.tt.inflight.Load()
	l.Planned = r.live.total
	if l.Stage < len(r.live.names) {
		l.StageName = r.live.names[l.Stage]
	}
	if r.search != nil {
		l.Note = r.search.status(time.Since(r.attackStart))
	}
	if r.o.Progress != nil {
		r.o.Progress.Update(l)
	}
	if r.o.Observer != nil {
		r.o.Observer.Live(l)
	}
}

// liveView is the plan as it stood when the attack started, for the
// progress display.
type liveView struct {
	total time.Duration
	names []string
}

func newLiveView(p schedule) liveView {
	v := liveView{total: p.Duration()}
	for _, s := range p.Stages() {
		v.names = append(v.names, s.Name)
	}
	return v
}
