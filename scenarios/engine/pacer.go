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

const (
	// maxPacerRate is the highest rate, after scaling, a pacer accepts: one
	// hit per nanosecond, the resolution of its send times.
	maxPacerRate = 1e9
	// maxSteps bounds the number of steps in one steps stage.
	maxSteps = 10000
)

// Pacer turns stages into send times. It holds no clock: every method is a
// pure function of the elapsed time since the start of the run (and of the
// hits sent so far), so it can be checked from a table without sleeping.
//
// The plan is a cumulative hits function H(t), the integral of Rate. Hit n
// (0-based) is due at the last time t with H(t) <= n: hit 0 at the start,
// then one each time H crosses the next whole number. A run therefore sends
// ceil(H(Duration())) hits, and each stage gets its planned share within one.
//
// Pacer satisfies vegeta's Pacer interface (Pace and Rate).
type Pacer struct {
	stages []scenarios.Stage // scaled copies, Duration filled in
	starts []time.Duration
	segs   []segment
	total  time.Duration
	hits   float64 // H(total)
	scale  float64
}

// segment is a stretch of the plan whose rate goes linearly from r0 to r1
// (hits per second) over [start, start+dur).
type segment struct {
	start, dur time.Duration
	r0, r1     float64
	h0, h1     float64 // planned hits before start, and before start+dur
}

// hitsAt is the number of hits the segment plans in its first x.
func (s segment) hitsAt(x time.Duration) float64 {
	if x <= 0 {
		return 0
	}
	if x >= s.dur {
		x = s.dur
	}
	sec, d := x.Seconds(), s.dur.Seconds()
	return s.r0*sec + (s.r1-s.r0)*sec*sec/(2*d)
}

// offsetOf is the offset into the segment at which it has planned m hits
// (0 <= m <= h1-h0): the root of r0*s + a*s*s/2 = m, in its stable form.
func (s segment) offsetOf(m float64) time.Duration {
	if m <= 0 {
		return 0
	}
	a := (s.r1 - s.r0) / s.dur.Seconds()
	disc := math.Max(0, s.r0*s.r0+2*a*m)
	den := s.r0 + math.Sqrt(disc)
	if den <= 0 {
		return s.dur
	}
	ns := 2 * m / den * 1e9
	if !(ns < float64(s.dur)) { // also catches NaN
		return s.dur
	}
	return time.Duration(math.Round(ns))
}

// stepCount is the number of steps from, from+step, ... up to and
// including to (within rounding).
func stepCount(from, to, step float64) (int, error) {
	switch {
	case !(step > 0) || math.IsInf(step, 0):
		return 0, fmt.Errorf("step must be > 0, got %g", step)
	case !(to >= from):
		return 0, fmt.Errorf("to (%g) must be >= from (%g)", to, from)
	}
	n := math.Floor((to-from)/step+1e-9) + 1
	if !(n <= maxSteps) {
		return 0, fmt.Errorf("%g steps from %g to %g by %g; at most %d are allowed", n, from, to, step, maxSteps)
	}
	return int(n), nil
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
	p := &Pacer{scale: scale}
	for i, st := range stages {
		st, segs, err := stageSegments(st, scale)
		if err != nil {
			return nil, fmt.Errorf("scenarios: stage %d (%s): %w", i+1, st.Kind, err)
		}
		if st.Duration > math.MaxInt64-p.total {
			return nil, fmt.Errorf("scenarios: stage %d (%s): total duration overflows", i+1, st.Kind)
		}
		p.starts = append(p.starts, p.total)
		for _, sg := range segs {
			sg.start = p.total
			sg.h0 = p.hits
			sg.h1 = sg.h0 + sg.hitsAt(sg.dur)
			p.hits = sg.h1
			p.total += sg.dur
			p.segs = append(p.segs, sg)
		}
		p.stages = append(p.stages, st)
	}
	return p, nil
}

// stageSegments checks one stage and cuts it into linear segments, with
// rates scaled; it returns the scaled stage with its Duration filled in.
func stageSegments(st scenarios.Stage, scale float64) (scenarios.Stage, []segment, error) {
	type namedRate struct {
		name string
		v    *float64
	}
	var rates []namedRate
	switch st.Kind {
	case scenarios.StageConstant:
		rates = []namedRate{{"rate", &st.Rate}}
	case scenarios.StageRamp:
		rates = []namedRate{{"from", &st.From}, {"to", &st.To}}
	case scenarios.StageSteps:
		n, err := stepCount(st.From, st.To, st.Step)
		if err != nil {
			return st, nil, err
		}
		if st.Hold <= 0 {
			return st, nil, fmt.Errorf("hold must be > 0, got %s", st.Hold)
		}
		if st.Hold > math.MaxInt64/time.Duration(n) {
			return st, nil, fmt.Errorf("%d steps of %s overflow", n, st.Hold)
		}
		st.Duration = time.Duration(n) * st.Hold
		rates = []namedRate{{"from", &st.From}, {"to", &st.To}, {"step", &st.Step}}
	case scenarios.StageSpike:
		rates = []namedRate{{"base", &st.Base}, {"peak", &st.Peak}}
	default:
		return st, nil, fmt.Errorf("unknown stage kind %q", st.Kind)
	}
	for _, r := range rates {
		*r.v *= scale
		if !(*r.v >= 0) || *r.v > maxPacerRate {
			return st, nil, fmt.Errorf("%s must be within 0..%g/s after scaling, got %g", r.name, float64(maxPacerRate), *r.v)
		}
	}
	if st.Duration <= 0 {
		return st, nil, fmt.Errorf("duration must be > 0, got %s", st.Duration)
	}
	switch st.Kind {
	case scenarios.StageConstant:
		return st, []segment{{dur: st.Duration, r0: st.Rate, r1: st.Rate}}, nil
	case scenarios.StageRamp:
		return st, []segment{{dur: st.Duration, r0: st.From, r1: st.To}}, nil
	case scenarios.StageSteps:
		var segs []segment
		for k := 0; k < int(st.Duration/st.Hold); k++ {
			r := st.From + float64(k)*st.Step
			segs = append(segs, segment{dur: st.Hold, r0: r, r1: r})
		}
		return st, segs, nil
	default: // spike
		if st.At < 0 || st.SpikeFor <= 0 || st.At > st.Duration-st.SpikeFor {
			return st, nil, fmt.Errorf("peak [%s, %s+%s) must lie within the stage's %s", st.At, st.At, st.SpikeFor, st.Duration)
		}
		var segs []segment
		if st.At > 0 {
			segs = append(segs, segment{dur: st.At, r0: st.Base, r1: st.Base})
		}
		segs = append(segs, segment{dur: st.SpikeFor, r0: st.Peak, r1: st.Peak})
		if rest := st.Duration - st.At - st.SpikeFor; rest > 0 {
			segs = append(segs, segment{dur: rest, r0: st.Base, r1: st.Base})
		}
		return st, segs, nil
	}
}

// segAt is the index of the segment in force at elapsed (0 <= elapsed < total).
func (p *Pacer) segAt(elapsed time.Duration) int {
	return sort.Search(len(p.segs), func(i int) bool { return p.segs[i].start+p.segs[i].dur > elapsed })
}

// Pace returns how long to wait before sending the next hit, given the time
// elapsed since the start and the hits sent so far; stop is true once the
// plan is over (elapsed >= Duration, or no planned hit is left). When the
// sender is behind the plan, wait is 0.
func (p *Pacer) Pace(elapsed time.Duration, hits uint64) (wait time.Duration, stop bool) {
	if elapsed >= p.total {
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
	if elapsed >= p.total {
		return 0
	}
	elapsed = max(elapsed, 0)
	s := p.segs[p.segAt(elapsed)]
	x := elapsed - s.start
	return s.r0 + (s.r1-s.r0)*float64(x)/float64(s.dur)
}

// Hits is the planned number of hits sent by elapsed, the integral of Rate
// from 0; it is not whole in general.
func (p *Pacer) Hits(elapsed time.Duration) float64 {
	switch {
	case elapsed <= 0:
		return 0
	case elapsed >= p.total:
		return p.hits
	}
	s := p.segs[p.segAt(elapsed)]
	return s.h0 + s.hitsAt(elapsed-s.start)
}

// DueAt is the planned send time of hit n (0-based), exact for ramps: the
// inverse of Hits. ok is false when the plan ends before hit n is due.
func (p *Pacer) DueAt(n uint64) (due time.Duration, ok bool) {
	m := float64(n)
	if !(m < p.hits) {
		return 0, false
	}
	i := sort.Search(len(p.segs), func(i int) bool { return p.segs[i].h1 > m })
	if i == len(p.segs) { // unreachable: the last h1 is p.hits > m
		return 0, false
	}
	s := p.segs[i]
	due = s.start + s.offsetOf(m-s.h0)
	if due >= p.total { // rounding at the very end: keep every planned hit
		due = p.total - 1
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
	i := sort.Search(len(p.stages), func(i int) bool { return p.starts[i]+p.stages[i].Duration > elapsed })
	return min(i, len(p.stages)-1)
}

// StageStart is when stage i starts, from the start of the run.
func (p *Pacer) StageStart(i int) time.Duration { return p.starts[i] }

// Duration is the length of the whole plan.
func (p *Pacer) Duration() time.Duration { return p.total }

// TotalHits is the number of hits the plan sends, ceil(Hits(Duration())).
func (p *Pacer) TotalHits() uint64 {
	return uint64(math.Ceil(p.hits))
}

// PeakRate is the highest planned rate, in hits per second.
func (p *Pacer) PeakRate() float64 {
	var peak float64
	for _, s := range p.segs {
		peak = max(peak, s.r0, s.r1)
	}
	return peak
}

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
