package report

import (
	"fmt"
	"math"
	"time"
)

// Check is one SLO check or gate, for JUnit and the verdict.
type Check struct {
	Name    string
	Kind    string // "slo" or "gate"
	Passed  bool
	Skipped bool
	Detail  string
}

// sloChecks judge the run against its SLO: every window, and the run as a whole.
func sloChecks(r *Report) []Check {
	var missed, traffic int
	var first *Window
	for i := range r.Windows {
		w := &r.Windows[i]
		if !w.Traffic {
			continue
		}
		traffic++
		if !w.SLOMet {
			missed++
			if first == nil {
				first = w
			}
		}
	}
	win := Check{Name: "slo.windows", Kind: "slo", Passed: missed == 0,
		Detail: fmt.Sprintf("%d of %d windows met the SLO (%s)", traffic-missed, traffic, r.SLO)}
	if first != nil {
		win.Detail += fmt.Sprintf("; first miss at %s (%s/s offered, %s, p%s %s)", fsec(first.Start),
			fnum(round(first.OfferedRPS, 1)), pct(first.SuccessRatio), fnum(r.SLO.Percentile), fms(first.LatencyAtSLO))
	}
	t := r.Totals
	succ := Check{Name: "slo.success_ratio", Kind: "slo", Passed: t.Sent > 0 && t.SuccessRatio >= r.SLO.SuccessRatio,
		Detail: fmt.Sprintf("run: %s of %d logins succeeded or were rejected as expected; SLO %s", pct(t.SuccessRatio), t.Sent, pct(r.SLO.SuccessRatio))}
	lat := Check{Name: "slo.latency_p" + fnum(r.SLO.Percentile), Kind: "slo", Passed: t.Sent > 0 && t.LatencyAtSLO <= r.SLO.Latency,
		Detail: fmt.Sprintf("run: p%s %s from the planned send time; SLO %s", fnum(r.SLO.Percentile), fms(t.LatencyAtSLO), r.SLO.Latency)}
	return []Check{win, succ, lat}
}

// gateChecks evaluate the scenario's gates on the report.
func gateChecks(r *Report) []Check {
	g := r.Gates
	var out []Check
	if v := g.MinSustainableRPS; v != nil {
		c := Check{Name: "gate.min_sustainable_rps", Kind: "gate"}
		if s := r.Limit.SustainableRPS; s != nil {
			c.Passed = *s >= *v
			c.Detail = fmt.Sprintf("sustainable %s/s; gate ≥ %s/s", fnum(round(*s, 1)), fnum(*v))
		} else {
			c.Detail = fmt.Sprintf("no sustainable rate (no steady window met the SLO); gate ≥ %s/s", fnum(*v))
		}
		out = append(out, c)
	}
	if g.MaxP99 > 0 {
		c := Check{Name: "gate.max_p99", Kind: "gate"}
		if g.MaxP99AtRPS > 0 {
			worst := time.Duration(-1)
			for _, w := range r.Windows {
				if w.Steady && w.Traffic && math.Abs(w.OfferedRPS-g.MaxP99AtRPS) <= 0.05*g.MaxP99AtRPS {
					worst = max(worst, w.P99)
				}
			}
			if worst < 0 {
				c.Skipped = true
				c.Detail = fmt.Sprintf("no steady window offered %s/s", fnum(g.MaxP99AtRPS))
			} else {
				c.Passed = worst <= g.MaxP99
				c.Detail = fmt.Sprintf("worst window p99 at %s/s: %s; gate ≤ %s", fnum(g.MaxP99AtRPS), fms(worst), g.MaxP99)
			}
		} else {
			c.Passed = r.Totals.P99 <= g.MaxP99
			c.Detail = fmt.Sprintf("run p99 %s; gate ≤ %s", fms(r.Totals.P99), g.MaxP99)
		}
		out = append(out, c)
	}
	if v := g.MaxErrorRatio; v != nil {
		ratio := 0.0
		if r.Totals.Sent > 0 {
			ratio = float64(r.Totals.Errors.Total()) / float64(r.Totals.Sent)
		}
		out = append(out, Check{Name: "gate.max_error_ratio", Kind: "gate", Passed: ratio <= *v,
			Detail: fmt.Sprintf("error ratio %s (%d of %d; expected rejections excluded); gate ≤ %s",
				pct(ratio), r.Totals.Errors.Total(), r.Totals.Sent, pct(*v))})
	}
	if v := g.MaxRegressionPct; v != nil {
		out = append(out, Check{Name: "gate.max_regression_pct", Kind: "gate", Skipped: true,
			Detail: fmt.Sprintf("needs a baseline report to compare against (gate ≤ %s%%)", fnum(*v))})
	}
	if g.ExpectCause != "" {
		out = append(out, Check{Name: "gate.expect_cause", Kind: "gate", Passed: r.Cause.Primary == g.ExpectCause,
			Detail: fmt.Sprintf("detected %s; expected %s", r.Cause.Primary, g.ExpectCause)})
	}
	return out
}
