package engine

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stampede-load/stampede/scenarios"
)

// AdaptivePacer is a pacer whose plan a controller extends while the
// attack runs: stages back to back, the last of them open (it lasts until
// the horizon) until the controller ends it and appends what comes next.
//
// The plan in force is an immutable *Pacer, swapped atomically on each
// change, so every method is still a pure function of elapsed time and
// hits given the plan it reads. A change ends the open stage at a time the
// attack has not reached yet, so the plan before that time, and every
// send time already due, stays as it was: the hits function only grows.
//
// AdaptivePacer satisfies vegeta's Pacer interface (Pace and Rate).
type AdaptivePacer struct {
	mu      sync.Mutex        // serialises changes; readers only load cur
	stages  []scenarios.Stage // closed stages, then the open one (its Duration runs to the horizon)
	starts  []time.Duration
	horizon time.Duration
	ended   bool
	cur     atomic.Pointer[Pacer]
}

// NewAdaptivePacer starts a plan with one open stage (its Duration is
// ignored) that lasts until horizon unless the controller ends it first.
func NewAdaptivePacer(first scenarios.Stage, horizon time.Duration) (*AdaptivePacer, error) {
	if horizon <= 0 {
		return nil, fmt.Errorf("scenarios: adaptive pacer horizon must be > 0, got %s", horizon)
	}
	a := &AdaptivePacer{horizon: horizon}
	if err := a.rebuild([]scenarios.Stage{first}, []time.Duration{0}); err != nil {
		return nil, err
	}
	return a, nil
}

// Next ends the open stage at at and appends stages; the last one appended
// is open, the others last their Duration. An open stage that has not
// started by at is replaced, not ended.
func (a *AdaptivePacer) Next(at time.Duration, stages ...scenarios.Stage) error {
	if len(stages) == 0 {
		return errors.New("scenarios: adaptive pacer: Next needs a stage")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended {
		return errors.New("scenarios: adaptive pacer: the plan has ended")
	}
	if at >= a.horizon {
		return fmt.Errorf("scenarios: adaptive pacer: %s is at or past the horizon %s", at, a.horizon)
	}
	closed, starts := a.closeAt(at)
	t := at
	for i, st := range stages {
		starts = append(starts, t)
		if i < len(stages)-1 {
			if st.Duration <= 0 {
				return fmt.Errorf("scenarios: adaptive pacer: stage %q needs a duration", st.Name)
			}
			t += st.Duration
		}
	}
	if t >= a.horizon {
		return fmt.Errorf("scenarios: adaptive pacer: the open stage would start at %s, at or past the horizon %s", t, a.horizon)
	}
	return a.rebuild(append(closed, stages...), starts)
}

// End ends the open stage at at: nothing follows, and Pace stops there.
func (a *AdaptivePacer) End(at time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended {
		return
	}
	a.ended = true
	if at >= a.horizon {
		return // the plan ran to its horizon: it is over already
	}
	closed, starts := a.closeAt(at)
	if len(closed) == 0 { // ended before anything started: keep one empty instant
		closed, starts = []scenarios.Stage{{Name: a.stages[0].Name, Kind: scenarios.StageConstant, Duration: 1}}, []time.Duration{0}
	}
	_ = a.rebuild(closed, starts) // only shortens stages that were valid
}

// closeAt is the plan's stages with the open one ended at at (dropped if
// it had not started), and their starts.
func (a *AdaptivePacer) closeAt(at time.Duration) ([]scenarios.Stage, []time.Duration) {
	n := len(a.stages)
	closed := append([]scenarios.Stage(nil), a.stages...)
	starts := append([]time.Duration(nil), a.starts...)
	if at <= starts[n-1] {
		return closed[:n-1], starts[:n-1]
	}
	closed[n-1].Duration = at - starts[n-1]
	return closed, starts
}

// rebuild makes stages the plan in force; the last stage is open unless
// the plan has ended.
func (a *AdaptivePacer) rebuild(stages []scenarios.Stage, starts []time.Duration) error {
	plan := append([]scenarios.Stage(nil), stages...)
	n := len(plan)
	if !a.ended {
		plan[n-1].Duration = a.horizon - starts[n-1]
	}
	for i := range plan {
		plan[i].Kind = scenarios.StageConstant
	}
	p, err := NewPacer(plan, 1)
	if err != nil {
		return fmt.Errorf("scenarios: adaptive pacer: %w", err)
	}
	a.stages, a.starts = plan, starts
	a.cur.Store(p)
	return nil
}

// Plan is the plan in force, for reading (it never changes once returned).
func (a *AdaptivePacer) Plan() *Pacer { return a.cur.Load() }

// Open reports whether the controller may still change the plan.
func (a *AdaptivePacer) Open() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return !a.ended
}

// Pace is the plan in force's Pace.
func (a *AdaptivePacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	return a.cur.Load().Pace(elapsed, hits)
}

// Rate is the plan in force's Rate.
func (a *AdaptivePacer) Rate(elapsed time.Duration) float64 { return a.cur.Load().Rate(elapsed) }

// Hits is the plan in force's Hits.
func (a *AdaptivePacer) Hits(elapsed time.Duration) float64 { return a.cur.Load().Hits(elapsed) }

// HitsBefore is the plan in force's HitsBefore.
func (a *AdaptivePacer) HitsBefore(t time.Duration) uint64 { return a.cur.Load().HitsBefore(t) }

// DueAt is the plan in force's DueAt.
func (a *AdaptivePacer) DueAt(n uint64) (time.Duration, bool) { return a.cur.Load().DueAt(n) }

// StageAt is the plan in force's StageAt.
func (a *AdaptivePacer) StageAt(elapsed time.Duration) int { return a.cur.Load().StageAt(elapsed) }

// Stages are the plan in force's stages; the last one runs to the horizon
// while the plan is open.
func (a *AdaptivePacer) Stages() []scenarios.Stage { return a.cur.Load().Stages() }

// Duration is the plan in force's length: the horizon while it is open.
func (a *AdaptivePacer) Duration() time.Duration { return a.cur.Load().Duration() }

// String describes the plan in force, e.g. Adaptive{constant 20/s 7s, constant 30/s 1m53s (open)}.
func (a *AdaptivePacer) String() string {
	p := a.cur.Load()
	s := p.String()
	if a.Open() {
		s = s[:len(s)-1] + " (open)}"
	}
	return "Adaptive" + s[len("Stages"):]
}
