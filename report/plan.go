package report

import (
	"sort"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// The offered load as a function of time since the run's start is the
// contract's rundir.Plan, the engine's own: rebuilt from the scenario's
// stages (scaled as the manifest says), else read from the timeline's stage
// events.

// planFromStages plans scenario stages as the engine does; ok is false when
// they cannot be planned (then the stage events are read instead).
func planFromStages(stages []rundir.StageSpec, scale float64) (*rundir.Plan, bool) {
	if len(stages) == 0 {
		return nil, false
	}
	if !(scale > 0) {
		scale = 1
	}
	p, err := rundir.FromStages(stages, scale)
	return p, err == nil
}

// planFromEvents rebuilds the plan from stage events: constant and ramp
// stages exactly, steps and spikes as Unknown segments (their ends only).
func planFromEvents(evs []rundir.StageEvent) *rundir.Plan {
	if len(evs) == 0 {
		return nil
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Index < evs[j].Index })
	p := &rundir.Plan{}
	for i, e := range evs {
		start := rundir.Secs(e.PlannedStartS)
		if start > p.Total { // a missing stage event: a gap we know nothing of
			p.Add(rundir.Segment{Dur: start - p.Total, Stage: max(i-1, 0), Unknown: true})
		}
		d := rundir.Secs(e.DurationS)
		if d <= 0 {
			continue
		}
		known := e.Kind == rundir.KindConstant || e.Kind == rundir.KindRamp
		p.Stages = append(p.Stages, rundir.StageSpan{Index: e.Index, Name: e.Name, Kind: e.Kind, Start: p.Total,
			Duration: d, RateStart: e.RateStart, RateEnd: e.RateEnd})
		p.Add(rundir.Segment{Dur: d, R0: e.RateStart, R1: e.RateEnd, Stage: len(p.Stages) - 1, Unknown: !known})
	}
	if len(p.Stages) == 0 {
		return nil
	}
	return p
}

// knownOver reports whether every segment overlapping [a, b) has a known
// shape, so the plan says the offered load there.
func knownOver(p *rundir.Plan, a, b time.Duration) bool {
	for _, s := range p.Segs {
		if s.Start < b && s.Start+s.Dur > a && s.Unknown {
			return false
		}
	}
	return true
}
