package engine

import (
	"os"
	"runtime"
	"runtime/debug"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// newManifest is manifest.json as a run starts: the caller's fields, then
// the run's own.
func newManifest(o RunOptions, p schedule, search *searchCtl, watch *abortWatch) rundir.Manifest {
	var m rundir.Manifest
	if o.Manifest != nil {
		m = *o.Manifest
	}
	sc := o.Scenario
	m.Scenario, m.ScenarioPath, m.Seed, m.Scale = sc.Name, sc.Path, o.Seed, o.Scale
	m.Target, m.Host, m.Status = o.Target.Redacted(), hostname(), rundir.StatusRunning
	m.GoVersion, m.VegetaVersion = runtime.Version(), moduleVersion("github.com/tsenart/vegeta/v12")
	m.PlannedDurationS, m.Pacer = p.Duration().Seconds(), p.String()
	if search != nil {
		m.Mode, m.Search = scenarios.ModeSearch, searchConfig(search.cfg)
	}
	if watch != nil {
		m.Abort = &rundir.AbortRule{AfterS: sc.Abort.After.Seconds(), Ratio: watch.rule.Ratio}
	}
	return m
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "unknown"
}
