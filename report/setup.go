package report

import (
	"time"

	"github.com/stampede-load/stampede/report/scenariofile"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// frame is what the plan and the records fix before any result is read.
type frame struct {
	plan  *rundir.Plan // nil without stages
	start time.Time    // the run's start; zero until the first result says
	// stop is where a run stopped early (interrupted, aborted): windows
	// from there on are not judged; -1 when it ran its plan.
	stop    time.Duration
	end     *time.Duration // run_end's time
	horizon time.Duration  // how long after a window's end its results may still come
	maxWin  int
	atRate  *rateSel // the max_p99 gate's windows at its stated rate; nil without it
}

// setup is the analysis' first step: the report's header from the
// manifest, scenario and timeline (scenario, seed, status, fixture, SLO,
// gates, a search's trials), and the frame the results are read in.
func setup(dir string, in *inputs, opts Options) (*Report, *frame) {
	r := &Report{Dir: dir, Window: opts.Window, Notes: in.notes}
	r.Search = searchOf(in.tl)
	r.Shards = shardsOf(in.manifest)
	r.Notes = append(r.Notes, abortNotes(in.tl)...)
	if r.Window <= 0 {
		r.Window = time.Second
	}
	r.SLO = sloOf(in.scenario, opts.SLO)
	if in.scenario != nil {
		r.Gates = gatesOf(in.scenario)
		r.Scenario = in.scenario.Name
	}
	scale := describe(r, in)
	fr := &frame{plan: planOf(r, in, scale), start: in.tl.start, stop: -1, end: in.tl.end}
	if fr.start.IsZero() && in.manifest != nil {
		fr.start = in.manifest.Start
	}
	p := fr.plan
	if p != nil {
		r.Planned = p.Total
	}
	fr.horizon = 5 * time.Second
	if in.scenario != nil && in.scenario.Client.Timeout > 0 {
		fr.horizon = time.Duration(in.scenario.Client.Timeout)
	}
	fr.horizon += 5*time.Second + r.Window
	fr.maxWin = int((24 * time.Hour) / r.Window)
	if p != nil {
		fr.maxWin = int((p.Total+time.Hour)/r.Window) + 1
		if tl := in.tl; len(tl.interrupts) > 0 && tl.interrupts[0] < p.Total {
			fr.stop = tl.interrupts[0]
		} else if tl.end != nil && *tl.end < p.Total {
			fr.stop = *tl.end
		}
	}
	// The max_p99 gate at a stated rate needs the p99 of every hit sent in
	// the windows at that rate: they are known from the plan before the
	// pass, so the pass records them into one more histogram.
	if r.Gates.MaxP99 > 0 && r.Gates.MaxP99AtRPS > 0 {
		fr.atRate = selectRateWindows(p, r.Window, fr.stop, r.Gates.MaxP99AtRPS)
	}
	return r, fr
}

// sloOf is the scenario's SLO, overridden field by field by the options',
// with the contract's defaults for what neither says.
func sloOf(sf *scenariofile.File, over rundir.SLO) rundir.SLO {
	slo := rundir.SLO{}
	if sf != nil {
		slo = sf.RunSLO()
	}
	if over.SuccessRatio > 0 {
		slo.SuccessRatio = over.SuccessRatio
	}
	if over.Percentile > 0 {
		slo.Percentile = over.Percentile
	}
	if over.Latency > 0 {
		slo.Latency = over.Latency
	}
	return slo.WithDefaults()
}

// describe fills what the run says of itself (manifest, then timeline)
// and returns the manifest's scale.
func describe(r *Report, in *inputs) (scale float64) {
	scale = 1.0
	if m := in.manifest; m != nil {
		r.Scenario, r.Seed, r.Status, r.TargetKind = m.Scenario, m.Seed, m.Status, m.TargetKind
		if m.Scale > 0 {
			scale = m.Scale
		}
		r.Fixture = fixtureOf(m)
	}
	if r.Fixture == nil && in.scenario != nil && in.scenario.Fixture.DBPool > 0 {
		f := in.scenario.Fixture
		r.Fixture = &FixtureInfo{DBPool: f.DBPool, DBHold: time.Duration(f.DBHold), MaxConnections: f.MaxConnections}
	}
	tl := in.tl
	if tl.runStart != nil {
		r.Scenario, r.Seed = firstNonEmpty(tl.runStart.Scenario, r.Scenario), tl.runStart.Seed
	}
	if tl.endStatus != "" {
		r.Status = tl.endStatus
	}
	if r.Status == "" {
		r.Status = "unknown"
	}
	return scale
}

// planOf is the plan from the scenario's stages, else from the stage
// events (a search's plan is in its stage events).
func planOf(r *Report, in *inputs, scale float64) *rundir.Plan {
	if in.scenario != nil && r.Search == nil {
		if p, ok := planFromStages(in.scenario.PlanStages(), scale); ok {
			return p
		}
	}
	p := planFromEvents(in.tl.stages)
	if p != nil && !knownOver(p, 0, p.Total) {
		r.Notes = append(r.Notes, "stage shapes unknown (no scenario stages): offered load counted from planned send times")
	}
	return p
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
