package engine

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// Pacer turns stages into send times. It holds no clock: every method is a
// pure function of the elapsed time since the start of the run (and of the
// hits sent so far), so it can be checked from a table without sleeping.
//
// The plan is a cumulative hits function H(t), the integral of Rate, as
// rundir.Plan computes it (the report rebuilds the same plan). Hit n
// (0-based) is due at the last time t with H(t) <= n: hit 0 at the start,
// then one each time H crosses the next whole number. A run therefore sends
// ceil(H(Duration())) hits, and each stage gets its planned share within one.
//
// Pacer satisfies vegeta's Pacer interface (Pace and Rate).
type Pacer struct {
	plan   *rundir.Plan
	stages []scenarios.Stage // scaled copies, Duration filled in
	hits   float64           // H(total)
	scale  float64
}

// NewPacer builds a pacer that runs stages back to back, with every rate
// multiplied by scale (1/N for one of N agents sharing the load).
func NewPacer(stages []scenarios.Stage, scale float64) (*Pacer, error) {
	if !(scale > 0) || math.IsInf(scale, 0) {
		return nil, fmt.Errorf("scenarios: pacer scale must be > 0, got %g", scale)
	}
	if len(stages) == 0 {
		return nil, errors.New("scenarios: pacer needs at least one stage")
	}
	plan, err := rundir.FromStages(scenarios.StageSpecs(stages), scale)
	if err != nil {
		return nil, fmt.Errorf("scenarios: %w", err)
	}
	p := &Pacer{plan: plan, scale: scale, hits: plan.Hits(plan.Total)}
	for i, st := range stages {
		st.Rate, st.From, st.To, st.Step = st.Rate*scale, st.From*scale, st.To*scale, st.Step*scale
		st.Base, st.Peak = st.Base*scale, st.Peak*scale
		st.Duration = plan.Stages[i].Duration
		p.stages = append(p.stages, st)
	}
	return p, nil
}

// Pace returns how long to wait before sending the next hit, given the time
// elapsed since the start and the hits sent so far; stop is true once the
// plan is over (elapsed >= Duration, or no planned hit is left). When the
// sender is behind the plan, wait is 0.
func (p *Pacer) Pace(elapsed time.Duration, hits uint64) (wait time.Duration, stop bool) {
	if elapsed >= p.plan.Total {
		return 0, true
	}
	due, ok := p.DueAt(hits)
	if !ok {
		return 0, true
	}
	if due <= elapsed {
		return 0, false
	}
	if elapsed < 0 && due > math.MaxInt64+elapsed { // a clock far before the start
		return math.MaxInt64, false
	}
	return due - elapsed, false
}

// Rate is the planned rate, in hits per second, at elapsed; 0 after the end.
func (p *Pacer) Rate(elapsed time.Duration) float64 {
	return p.plan.Rate(max(elapsed, 0))
}

// Hits is the planned number of hits sent by elapsed, the integral of Rate
// from 0; it is not whole in general.
func (p *Pacer) Hits(elapsed time.Duration) float64 {
	return p.plan.Hits(elapsed)
}

// DueAt is the planned send time of hit n (0-based), exact for ramps: the
// inverse of Hits. ok is false when the plan ends before hit n is due.
func (p *Pacer) DueAt(n uint64) (due time.Duration, ok bool) {
	m := float64(n)
	if !(m < p.hits) {
		return 0, false
	}
	segs := p.plan.Segs
	i := sort.Search(len(segs), func(i int) bool { return segs[i].H1() > m })
	if i == len(segs) { // unreachable: the last H1 is p.hits > m
		return 0, false
	}
	s := segs[i]
	due = s.Start + s.OffsetOf(m-s.H0)
	if due >= p.plan.Total { // rounding at the very end: keep every planned hit
		due = p.plan.Total - 1
	}
	return due, true
}

// HitsBefore is the number of hits due before t: the n with DueAt(n) < t.
// It agrees with DueAt hit for hit (both round the same floats), so the
// hits bucketed by due time into [a, b) number HitsBefore(b)-HitsBefore(a).
func (p *Pacer) HitsBefore(t time.Duration) uint64 {
	if t <= 0 {
		return 0
	}
	n := uint64(math.Max(0, math.Ceil(p.Hits(t)-1e-6)))
	for n > 0 {
		if due, ok := p.DueAt(n - 1); ok && due < t {
			break
		}
		n--
	}
	for {
		due, ok := p.DueAt(n)
		if !ok || due >= t {
			return n
		}
		n++
	}
}

// StageAt is the index of the stage in force at elapsed, clamped to the
// first stage before the start and to the last one from the end on.
func (p *Pacer) StageAt(elapsed time.Duration) int {
	return p.plan.StageAt(elapsed)
}

// StageStart is when stage i starts, from the start of the run.
func (p *Pacer) StageStart(i int) time.Duration { return p.plan.Stages[i].Start }

// Duration is the length of the whole plan.
func (p *Pacer) Duration() time.Duration { return p.plan.Total }

// TotalHits is the number of hits the plan sends, ceil(Hits(Duration())).
func (p *Pacer) TotalHits() uint64 {
	return uint64(math.Ceil(p.hits))
}

// PeakRate is the highest planned rate, in hits per second.
func (p *Pacer) PeakRate() float64 { return p.plan.Peak() }

// Scale is the factor every rate was multiplied by.
func (p *Pacer) Scale() float64 { return p.scale }

// Stages returns the stages as this pacer runs them: rates multiplied by
// the scale, and Duration filled in for steps.
func (p *Pacer) Stages() []scenarios.Stage {
	return append([]scenarios.Stage(nil), p.stages...)
}

// String describes the plan, e.g. Stages{constant 50/s 10s, ramp 50→400/s 60s}.
func (p *Pacer) String() string {
	parts := make([]string, len(p.stages))
	for i, st := range p.stages {
		parts[i] = st.String()
	}
	return "Stages{" + strings.Join(parts, ", ") + "}"
}

// stageEvent is stage i of p as its timeline event: the one place a stage
// event is built (a run of stages writes each as it starts, a search each
// once its length is known).
func stageEvent(p *Pacer, i int) rundir.StageEvent {
	s, at := p.stages[i], p.StageStart(i)
	return rundir.StageEvent{Index: i, Name: s.Name, Kind: string(s.Kind), PlannedStartS: at.Seconds(),
		DurationS: s.Duration.Seconds(), RateStart: p.Rate(at), RateEnd: p.Rate(at + s.Duration - time.Nanosecond)}
}
