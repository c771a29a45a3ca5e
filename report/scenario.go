package report

import (
	"time"

	"github.com/stampede-load/stampede/report/scenariofile"
)

// gatesOf are the scenario's gates, as the report evaluates them.
func gatesOf(sf *scenariofile.File) Gates {
	g := sf.Gates
	return Gates{MinSustainableRPS: g.MinSustainableRPS, MaxP99: time.Duration(g.MaxP99),
		MaxP99AtRPS: g.MaxP99AtRPS, MaxErrorRatio: g.MaxErrorRatio,
		MaxRegressionPct: g.MaxRegressionPct, ExpectCause: g.ExpectCause}
}
