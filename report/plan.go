package report

import (
	"math"
	"sort"
	"time"
)

// plan is the offered load as a function of time since the run's start: a
// list of linear segments, the same shape as the runner's pacer. It is
// rebuilt from the scenario's stages (scaled as the manifest says), else
// from the timeline's stage events.
type plan struct {
	segs   []segment
	stages []StageSpan
	total  time.Duration
}

// segment is a stretch whose planned rate goes linearly from r0 to r1.
type segment struct {
	start, dur time.Duration
	r0, r1     float64
	stage      int
	// exact is false when the stage's shape inside is unknown (a steps or
	// spike stage known only from its events): offered load there is
	// counted from the hits' planned send times instead.
	exact bool
	h0    float64 // planned hits before start
}

// StageSpan is one planned stage.
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

func (s segment) hitsAt(x time.Duration) float64 {
	if x <= 0 {
		return 0
	}
	x = min(x, s.dur)
	sec, d := x.Seconds(), s.dur.Seconds()
	return s.r0*sec + (s.r1-s.r0)*sec*sec/(2*d)
}

// steady reports a constant-rate segment.
func (s segment) steady() bool { return s.exact && s.r0 == s.r1 }

// planFromStages cuts scenario stages into segments as the pacer does;
// ok is false when a stage cannot be planned (then the events are used).
func planFromStages(stages []PlanStage, scale float64) (*plan, bool) {
	if len(stages) == 0 {
		return nil, false
	}
	if !(scale > 0) {
		scale = 1
	}
	p := &plan{}
	for i, st := range stages {
		var segs []segment
		sp := StageSpan{Index: i, Name: st.Name, Kind: st.Kind, Start: p.total, Duration: st.Duration}
		switch st.Kind {
		case "constant":
			segs = []segment{{dur: st.Duration, r0: st.Rate * scale, r1: st.Rate * scale}}
		case "ramp":
			segs = []segment{{dur: st.Duration, r0: st.From * scale, r1: st.To * scale}}
		case "steps":
			if !(st.Step > 0) || st.Hold <= 0 || st.To < st.From {
				return nil, false
			}
			n := int(math.Floor((st.To-st.From)/st.Step+1e-9)) + 1
			if n > 10000 {
				return nil, false
			}
			sp.Duration = time.Duration(n) * st.Hold
			sp.Step, sp.Hold = st.Step*scale, st.Hold
			for k := 0; k < n; k++ {
				r := (st.From + float64(k)*st.Step) * scale
				segs = append(segs, segment{dur: st.Hold, r0: r, r1: r})
			}
		case "spike":
			if st.At < 0 || st.SpikeFor <= 0 || st.At > st.Duration-st.SpikeFor {
				return nil, false
			}
			if st.At > 0 {
				segs = append(segs, segment{dur: st.At, r0: st.Base * scale, r1: st.Base * scale})
			}
			segs = append(segs, segment{dur: st.SpikeFor, r0: st.Peak * scale, r1: st.Peak * scale})
			if rest := st.Duration - st.At - st.SpikeFor; rest > 0 {
				segs = append(segs, segment{dur: rest, r0: st.Base * scale, r1: st.Base * scale})
			}
		default:
			return nil, false
		}
		if sp.Duration <= 0 {
			return nil, false
		}
		if sp.Name == "" {
			sp.Name = st.Kind + " " + itoa(i+1)
		}
		sp.RateStart, sp.RateEnd = segs[0].r0, segs[len(segs)-1].r1
		p.stages = append(p.stages, sp)
		for _, sg := range segs {
			sg.stage, sg.exact = i, true
			p.add(sg)
		}
	}
	return p, true
}

// planFromEvents rebuilds the plan from stage events: exact for constant
// and ramp stages, shape unknown inside steps and spikes.
func planFromEvents(evs []StageEvent) *plan {
	if len(evs) == 0 {
		return nil
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Index < evs[j].Index })
	p := &plan{}
	for i, e := range evs {
		start := secs(e.PlannedStartS)
		if start > p.total { // a missing stage event: a gap we know nothing of
			p.add(segment{dur: start - p.total, stage: max(i-1, 0)})
		}
		d := secs(e.DurationS)
		if d <= 0 {
			continue
		}
		exact := e.Kind == "constant" || e.Kind == "ramp"
		p.stages = append(p.stages, StageSpan{Index: e.Index, Name: e.Name, Kind: e.Kind, Start: p.total,
			Duration: d, RateStart: e.RateStart, RateEnd: e.RateEnd})
		p.add(segment{dur: d, r0: e.RateStart, r1: e.RateEnd, stage: len(p.stages) - 1, exact: exact})
	}
	if len(p.stages) == 0 {
		return nil
	}
	return p
}

func (p *plan) add(sg segment) {
	sg.start = p.total
	if len(p.segs) > 0 {
		last := p.segs[len(p.segs)-1]
		sg.h0 = last.h0 + last.hitsAt(last.dur)
	}
	p.segs = append(p.segs, sg)
	p.total += sg.dur
}

// segAt is the index of the segment in force at t, or -1 outside the plan.
func (p *plan) segAt(t time.Duration) int {
	if p == nil || t < 0 || t >= p.total {
		return -1
	}
	return sort.Search(len(p.segs), func(i int) bool { return p.segs[i].start+p.segs[i].dur > t })
}

// hits is the planned number of hits sent by t.
func (p *plan) hits(t time.Duration) float64 {
	if p == nil || t <= 0 {
		return 0
	}
	if t >= p.total {
		last := p.segs[len(p.segs)-1]
		return last.h0 + last.hitsAt(last.dur)
	}
	s := p.segs[p.segAt(t)]
	return s.h0 + s.hitsAt(t-s.start)
}

// rate is the planned rate at t; 0 outside the plan.
func (p *plan) rate(t time.Duration) float64 {
	i := p.segAt(t)
	if i < 0 {
		return 0
	}
	s := p.segs[i]
	return s.r0 + (s.r1-s.r0)*float64(t-s.start)/float64(s.dur)
}

// exactOver reports whether every segment overlapping [a, b) has a known shape.
func (p *plan) exactOver(a, b time.Duration) bool {
	for _, s := range p.segs {
		if s.start < b && s.start+s.dur > a && !s.exact {
			return false
		}
	}
	return true
}

// peak is the highest planned rate.
func (p *plan) peak() float64 {
	var m float64
	if p != nil {
		for _, s := range p.segs {
			m = max(m, s.r0, s.r1)
		}
	}
	return m
}

func secs(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }
