// Package report analyses a recorded run directory: per-second windows from
// one streaming pass over the results, the capacity limit, the cause of every
// degraded window (from evidence only), a scorecard of injected faults against
// detected causes, recommendations and the gates. Its renderers are in
// report/render.
//
// It imports neither scenarios nor chaos: it reads the run directory through
// the run contract, scenarios/rundir, which the engine writes it with.
package report

import (
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// FixtureInfo is the bundled fixture's tuning, when the run used it: the
// part of the manifest's fixture block the report shows.
type FixtureInfo struct {
	DBPool         int
	DBHold         time.Duration
	MaxConnections int
}

// fixtureOf reads the manifest's fixture block.
func fixtureOf(m *rundir.Manifest) *FixtureInfo {
	if m.Fixture == nil {
		return nil
	}
	return &FixtureInfo{DBPool: m.Fixture.DBPool, DBHold: time.Duration(m.Fixture.DBHold), MaxConnections: m.Fixture.MaxConnections}
}

// Gates are the scenario's CI rules, evaluated on the report.
type Gates struct {
	MinSustainableRPS *float64
	MaxP99            time.Duration
	MaxP99AtRPS       float64
	MaxErrorRatio     *float64
	MaxRegressionPct  *float64
	ExpectCause       string
}
