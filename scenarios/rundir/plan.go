package rundir

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"
)

const (
	// MaxRate is the highest rate, after scaling, a plan accepts: one hit
	// per nanosecond, the resolution of send times.
	MaxRate = 1e9
	// MaxSteps bounds the number of steps in one steps stage.
	MaxSteps = 10000
)

// Stage kinds.
const (
	KindConstant = "constant"
	KindRamp     = "ramp"
	KindSteps    = "steps"
	KindSpike    = "spike"
)

// StageSpec is one stage of the traffic plan as a scenario writes it.
type StageSpec struct {
	Name     string
	Kind     string // constant, ramp, steps, spike
	Rate     float64
	From, To float64
	Step     float64
	Base     float64
	Peak     float64
	Duration time.Duration // constant, ramp, spike; a steps stage's is steps × Hold
	Hold     time.Duration
	At       time.Duration
	SpikeFor time.Duration
}

// StageSpan is one planned stage on the run's clock, rates scaled.
type StageSpan struct {
	Index     int
	Name      string
	Kind      string
	Start     time.Duration
	Duration  time.Duration
	RateStart float64
	RateEnd   float64
	// Step and Hold describe a steps stage.
	Step float64
	Hold time.Duration
}

// Segment is a stretch of the plan whose rate goes linearly from R0 to R1
// (hits per second) over [Start, Start+Dur).
type Segment struct {
	Start, Dur time.Duration
	R0, R1     float64
	Stage      int     // index into Plan.Stages
	H0         float64 // planned hits before Start
	// Unknown is true when the shape inside is not known (a steps or spike
	// stage read back from its events alone): R0 and R1 are its ends only.
	Unknown bool
}

// HitsAt is the number of hits the segment plans in its first x.
func (s Segment) HitsAt(x time.Duration) float64 {
	if x <= 0 {
		return 0
	}
	x = min(x, s.Dur)
	sec, d := x.Seconds(), s.Dur.Seconds()
	return s.R0*sec + (s.R1-s.R0)*sec*sec/(2*d)
}

// H1 is the planned hits before the segment's end.
func (s Segment) H1() float64 { return s.H0 + s.HitsAt(s.Dur) }

// OffsetOf is the offset into the segment at which it has planned m hits
// (0 <= m <= its hits): the root of R0*s + a*s*s/2 = m, in its stable form.
func (s Segment) OffsetOf(m float64) time.Duration {
	if m <= 0 {
		return 0
	}
	a := (s.R1 - s.R0) / s.Dur.Seconds()
	disc := math.Max(0, s.R0*s.R0+2*a*m)
	den := s.R0 + math.Sqrt(disc)
	if den <= 0 {
		return s.Dur
	}
	ns := 2 * m / den * 1e9
	if !(ns < float64(s.Dur)) { // also catches NaN
		return s.Dur
	}
	return time.Duration(math.Round(ns))
}

// Steady reports a constant-rate segment of known shape.
func (s Segment) Steady() bool { return !s.Unknown && s.R0 == s.R1 }

// Plan is the offered load as a function of time since the run's start:
// linear segments back to back. The engine paces by it; the report reads
// offered load from it.
type Plan struct {
	Segs   []Segment
	Stages []StageSpan
	Total  time.Duration
}

// StepCount is the number of steps from, from+step, ... up to and including
// to (within rounding).
func StepCount(from, to, step float64) (int, error) {
	switch {
	case !(step > 0) || math.IsInf(step, 0):
		return 0, fmt.Errorf("step must be > 0, got %g", step)
	case !(to >= from):
		return 0, fmt.Errorf("to (%g) must be >= from (%g)", to, from)
	}
	n := math.Floor((to-from)/step+1e-9) + 1
	if !(n <= MaxSteps) {
		return 0, fmt.Errorf("%g steps from %g to %g by %g; at most %d are allowed", n, from, to, step, MaxSteps)
	}
	return int(n), nil
}

// FromStages builds the plan of stages run back to back, every rate
// multiplied by scale (1/N for one of N agents sharing the load).
func FromStages(stages []StageSpec, scale float64) (*Plan, error) {
	if !(scale > 0) || math.IsInf(scale, 0) {
		return nil, fmt.Errorf("plan scale must be > 0, got %g", scale)
	}
	if len(stages) == 0 {
		return nil, errors.New("a plan needs at least one stage")
	}
	p := &Plan{}
	for i, st := range stages {
		span, segs, err := StageSegments(st, scale)
		if err != nil {
			return nil, fmt.Errorf("stage %d (%s): %w", i+1, st.Kind, err)
		}
		if span.Duration > math.MaxInt64-p.Total {
			return nil, fmt.Errorf("stage %d (%s): total duration overflows", i+1, st.Kind)
		}
		span.Index, span.Start = i, p.Total
		if span.Name == "" {
			span.Name = st.Kind + " " + strconv.Itoa(i+1)
		}
		p.Stages = append(p.Stages, span)
		for _, sg := range segs {
			sg.Stage = i
			p.Add(sg)
		}
	}
	return p, nil
}

// StageSegments checks one stage and cuts it into linear segments, with
// rates scaled. The span it returns has the stage's kind, name, scaled
// rates and duration; Index and Start are the caller's to set.
func StageSegments(st StageSpec, scale float64) (StageSpan, []Segment, error) {
	type namedRate struct {
		name string
		v    *float64
	}
	var rates []namedRate
	n := 0
	switch st.Kind {
	case KindConstant:
		rates = []namedRate{{"rate", &st.Rate}}
	case KindRamp:
		rates = []namedRate{{"from", &st.From}, {"to", &st.To}}
	case KindSteps:
		var err error
		if n, err = StepCount(st.From, st.To, st.Step); err != nil {
			return StageSpan{}, nil, err
		}
		if st.Hold <= 0 {
			return StageSpan{}, nil, fmt.Errorf("hold must be > 0, got %s", st.Hold)
		}
		if st.Hold > math.MaxInt64/time.Duration(n) {
			return StageSpan{}, nil, fmt.Errorf("%d steps of %s overflow", n, st.Hold)
		}
		st.Duration = time.Duration(n) * st.Hold
		rates = []namedRate{{"from", &st.From}, {"to", &st.To}, {"step", &st.Step}}
	case KindSpike:
		rates = []namedRate{{"base", &st.Base}, {"peak", &st.Peak}}
	default:
		return StageSpan{}, nil, fmt.Errorf("unknown stage kind %q", st.Kind)
	}
	for _, r := range rates {
		*r.v *= scale
		if !(*r.v >= 0) || *r.v > MaxRate {
			return StageSpan{}, nil, fmt.Errorf("%s must be within 0..%g/s after scaling, got %g", r.name, float64(MaxRate), *r.v)
		}
	}
	if st.Duration <= 0 {
		return StageSpan{}, nil, fmt.Errorf("duration must be > 0, got %s", st.Duration)
	}
	var segs []Segment
	switch st.Kind {
	case KindConstant:
		segs = []Segment{{Dur: st.Duration, R0: st.Rate, R1: st.Rate}}
	case KindRamp:
		segs = []Segment{{Dur: st.Duration, R0: st.From, R1: st.To}}
	case KindSteps:
		for k := 0; k < n; k++ {
			r := st.From + float64(k)*st.Step
			segs = append(segs, Segment{Dur: st.Hold, R0: r, R1: r})
		}
	default: // spike
		if st.At < 0 || st.SpikeFor <= 0 || st.At > st.Duration-st.SpikeFor {
			return StageSpan{}, nil, fmt.Errorf("peak [%s, %s+%s) must lie within the stage's %s", st.At, st.At, st.SpikeFor, st.Duration)
		}
		if st.At > 0 {
			segs = append(segs, Segment{Dur: st.At, R0: st.Base, R1: st.Base})
		}
		segs = append(segs, Segment{Dur: st.SpikeFor, R0: st.Peak, R1: st.Peak})
		if rest := st.Duration - st.At - st.SpikeFor; rest > 0 {
			segs = append(segs, Segment{Dur: rest, R0: st.Base, R1: st.Base})
		}
	}
	span := StageSpan{Name: st.Name, Kind: st.Kind, Duration: st.Duration,
		RateStart: segs[0].R0, RateEnd: segs[len(segs)-1].R1}
	if st.Kind == KindSteps {
		span.Step, span.Hold = st.Step, st.Hold
	}
	return span, segs, nil
}

// Add appends a segment at the plan's end (its Start and H0 are set here).
func (p *Plan) Add(sg Segment) {
	sg.Start, sg.H0 = p.Total, 0
	if len(p.Segs) > 0 {
		sg.H0 = p.Segs[len(p.Segs)-1].H1()
	}
	p.Segs = append(p.Segs, sg)
	p.Total += sg.Dur
}

// SegAt is the index of the segment in force at t, or -1 outside the plan.
func (p *Plan) SegAt(t time.Duration) int {
	if p == nil || t < 0 || t >= p.Total {
		return -1
	}
	return sort.Search(len(p.Segs), func(i int) bool { return p.Segs[i].Start+p.Segs[i].Dur > t })
}

// Hits is the planned number of hits sent by t.
func (p *Plan) Hits(t time.Duration) float64 {
	if p == nil || t <= 0 || len(p.Segs) == 0 {
		return 0
	}
	if t >= p.Total {
		return p.Segs[len(p.Segs)-1].H1()
	}
	s := p.Segs[p.SegAt(t)]
	return s.H0 + s.HitsAt(t-s.Start)
}

// TimeOf is the planned send time of hit k (0-based): the instant the plan
// has planned k hits, as a pacer sends hit k; ok is false past the plan's
// last hit. It inverts Hits.
func (p *Plan) TimeOf(k float64) (at time.Duration, ok bool) {
	if p == nil || len(p.Segs) == 0 || k < 0 || !(k < p.Segs[len(p.Segs)-1].H1()) {
		return 0, false
	}
	i := sort.Search(len(p.Segs), func(i int) bool { return p.Segs[i].H1() > k })
	s := p.Segs[i]
	return s.Start + s.OffsetOf(k-s.H0), true
}

// Rate is the planned rate at t; 0 outside the plan.
func (p *Plan) Rate(t time.Duration) float64 {
	i := p.SegAt(t)
	if i < 0 {
		return 0
	}
	s := p.Segs[i]
	return s.R0 + (s.R1-s.R0)*float64(t-s.Start)/float64(s.Dur)
}

// StageAt is the index of the stage in force at t: the first before the
// plan, the last after it.
func (p *Plan) StageAt(t time.Duration) int {
	if p == nil || len(p.Segs) == 0 || t < 0 {
		return 0
	}
	if t >= p.Total {
		return p.Segs[len(p.Segs)-1].Stage
	}
	return p.Segs[p.SegAt(t)].Stage
}

// Peak is the highest planned rate.
func (p *Plan) Peak() float64 {
	var m float64
	if p != nil {
		for _, s := range p.Segs {
			m = max(m, s.R0, s.R1)
		}
	}
	return m
}
