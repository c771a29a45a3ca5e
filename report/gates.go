package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/stampede-load/stampede/report/format"
)

// gateChecks evaluate the scenario's gates on the report. Each is a pass,
// a fail, or skipped with the reason, and its detail carries the figures.
func gateChecks(r *Report) []Check {
	g := r.Gates
	var out []Check
	if v := g.MinSustainableRPS; v != nil {
		out = append(out, gateMinSustainable(r, *v))
	}
	if g.MaxP99 > 0 || g.MaxP99AtRPS > 0 {
		out = append(out, gateMaxP99(r))
	}
	if v := g.MaxErrorRatio; v != nil {
		out = append(out, gateMaxErrorRatio(r, *v))
	}
	if v := g.MaxRegressionPct; v != nil {
		out = append(out, gateMaxRegression(r, *v))
	}
	if g.ExpectCause != "" {
		out = append(out, gateExpectCause(r, g.ExpectCause))
	}
	return out
}

// gateMinSustainable: the sustainable rate is at least v. A run that
// never offered v steadily cannot show it, and fails saying so.
func gateMinSustainable(r *Report, v float64) Check {
	c := Check{Name: "gate.min_sustainable_rps", Kind: "gate"}
	l := r.Limit
	gate := "gate ≥ " + format.Num(v) + "/s"
	var ctx []string
	if l.BreakingRPS != nil {
		ctx = append(ctx, "broke at "+format.RPS(l.BreakingRPS))
	} else {
		ctx = append(ctx, "never broke")
	}
	if l.PrecisionRPS != nil {
		ctx = append(ctx, "precision "+format.RPS(l.PrecisionRPS))
	}
	s := l.SustainableRPS
	switch {
	case s == nil:
		c.Detail = fmt.Sprintf("no sustainable rate (no measured window met the SLO; %s); %s", strings.Join(ctx, ", "), gate)
	default:
		c.Passed = *s >= v
		c.Detail = fmt.Sprintf("sustainable %s (%s); %s", format.RPS(s), strings.Join(ctx, ", "), gate)
	}
	if !c.Passed && l.BreakingRPS == nil {
		if hi := highestMeasured(r.Windows); hi < v {
			c.Detail += fmt.Sprintf("; the run never offered %s/s in a measured window (highest %s/s): offer more load to show it",
				format.Num(v), format.Num(format.Round(hi, 1)))
		}
	}
	return c
}

// highestMeasured is the highest offered rate of the windows the limit is
// measured on (steady ones, else ramp ones).
func highestMeasured(wins []Window) float64 {
	var steady, ramp float64
	for _, w := range wins {
		if !w.Full || !w.Traffic {
			continue
		}
		if w.Steady {
			steady = max(steady, w.OfferedRPS)
		} else if w.Ramp {
			ramp = max(ramp, w.OfferedRPS)
		}
	}
	if steady > 0 {
		return steady
	}
	return ramp
}

// gateMaxP99: with max_p99_at_rps, the p99 of every login sent in the
// windows at that rate (selectRateWindows), merged; without it, the run's p99.
func gateMaxP99(r *Report) Check {
	g := r.Gates
	c := Check{Name: "gate.max_p99", Kind: "gate"}
	if g.MaxP99 <= 0 {
		c.Skipped = true
		c.Detail = fmt.Sprintf("max_p99_at_rps %s/s without max_p99: no latency to hold it to", format.Num(g.MaxP99AtRPS))
		return c
	}
	gate := "gate ≤ " + g.MaxP99.String()
	if g.MaxP99AtRPS <= 0 {
		c.Passed = r.Totals.Sent > 0 && r.Totals.P99 <= g.MaxP99
		c.Detail = fmt.Sprintf("run p99 %s over %d logins; %s", format.MS(r.Totals.P99), r.Totals.Sent, gate)
		return c
	}
	at := r.atRate
	switch {
	case at == nil:
		c.Skipped = true
		c.Detail = fmt.Sprintf("p99 at %s/s not measured (a report read back from JSON keeps no latencies); %s", format.Num(g.MaxP99AtRPS), gate)
		return c
	case at.sel.reason != "":
		c.Skipped = true
		c.Detail = fmt.Sprintf("no p99 at %s/s: %s; %s", format.Num(g.MaxP99AtRPS), at.sel.reason, gate)
		return c
	case at.hits == 0:
		c.Skipped = true
		c.Detail = fmt.Sprintf("no results in the %d %s windows at %s/s; %s", len(at.sel.windows), at.sel.kind, format.Num(format.Round(at.sel.rate, 1)), gate)
		return c
	}
	where := fmt.Sprintf("%d %s windows at %s/s", len(at.sel.windows), at.sel.kind, format.Num(format.Round(at.sel.rate, 1)))
	if math.Abs(at.sel.rate-at.sel.asked) > rateTolerance*at.sel.asked {
		where += fmt.Sprintf(" (none at %s/s: the nearest rate above)", format.Num(at.sel.asked))
	}
	c.Passed = at.p99 <= g.MaxP99
	c.Detail = fmt.Sprintf("p99 %s (p50 %s) over %d logins in %s; %s", format.MS(at.p99), format.MS(at.p50), at.hits, where, gate)
	return c
}

// gateMaxErrorRatio: errors (expected rejections excluded) over logins sent.
func gateMaxErrorRatio(r *Report, v float64) Check {
	c := Check{Name: "gate.max_error_ratio", Kind: "gate"}
	t := r.Totals
	if t.Sent == 0 {
		c.Skipped = true
		c.Detail = fmt.Sprintf("no logins sent: no error ratio; gate ≤ %s", format.Pct(v))
		return c
	}
	ratio := float64(t.Errors.Total()) / float64(t.Sent)
	c.Passed = ratio <= v
	c.Detail = fmt.Sprintf("error ratio %s (%d of %d; expected rejections excluded", format.Pct(ratio), t.Errors.Total(), t.Sent)
	if e := t.Errors.Short(); e != "-" {
		c.Detail += "; " + e
	}
	c.Detail += "); gate ≤ " + format.Pct(v)
	return c
}

// gateMaxRegression: against the baseline, neither the sustainable rate
// nor the run's p99 got worse by more than v per cent beyond the noise
// (Comparison says what the noise is). A change inside the noise passes,
// however large its percentage.
func gateMaxRegression(r *Report, v float64) Check {
	c := Check{Name: "gate.max_regression_pct", Kind: "gate"}
	gate := fmt.Sprintf("gate ≤ %s%% regression beyond the noise", format.Num(v))
	if r.Baseline == nil {
		c.Skipped = true
		c.Detail = "no baseline to compare with (stampede run --baseline report.json); " + gate
		return c
	}
	c.Passed = true
	var parts []string
	for _, d := range r.Baseline.Rows {
		if !d.Gating {
			continue
		}
		verdict := "within the noise"
		switch {
		case d.Change == "unchanged":
			verdict = "unchanged"
		case d.Beyond && d.Change == "better":
			verdict = "better, beyond the noise"
		case d.Beyond:
			verdict = "worse, beyond the noise"
			if d.Pct == nil || math.Abs(*d.Pct) > v {
				c.Passed = false
				verdict = "REGRESSION beyond the noise"
			}
		}
		parts = append(parts, fmt.Sprintf("%s %s → %s: %s, noise %s, %s", d.Metric, d.OldText, d.NewText,
			d.DeltaText(), d.NoiseText(), verdict))
	}
	base := r.Baseline.Old.Path
	if base == "" {
		base = "baseline"
	}
	c.Detail = fmt.Sprintf("vs %s: %s; %s", base, strings.Join(parts, "; "), gate)
	return c
}

// gateExpectCause: the run's primary cause is the expected one (a drill
// that injected a database connection cap expects db.connections).
func gateExpectCause(r *Report, want string) Check {
	c := Check{Name: "gate.expect_cause", Kind: "gate"}
	order := causeOrder()
	known := append(order[:], CauseNone, CauseUndetermined)
	if !slices.Contains(known, want) {
		c.Detail = fmt.Sprintf("expected %q is not a cause stampede names (%s); detected %s", want, strings.Join(known, ", "), r.Cause.Primary)
		return c
	}
	got := r.Cause
	c.Passed = got.Primary == want
	c.Detail = "detected " + got.Primary
	switch {
	case got.Primary == CauseNone:
		c.Detail += " (nothing degraded)"
	case got.Confidence != "":
		c.Detail += fmt.Sprintf(" (confidence %s, %d windows from %s)", got.Confidence, got.Windows, format.Sec(got.From))
	}
	c.Detail += "; expected " + want
	var faults []string
	for _, s := range r.Scorecard {
		faults = append(faults, fmt.Sprintf("%s → %s", s.Kind, s.Detected))
	}
	if len(faults) > 0 {
		c.Detail += "; faults: " + strings.Join(faults, ", ")
	}
	return c
}

// Failed reports whether any SLO check or gate failed (skipped ones do
// not fail): the CLI's exit code 1.
func (r *Report) Failed() bool { return len(r.FailedChecks()) > 0 }

// FailedChecks are the SLO checks and gates that failed, in order.
func (r *Report) FailedChecks() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.Passed && !c.Skipped {
			out = append(out, c)
		}
	}
	return out
}

// FailureLine is one terminal line naming what failed and the cause:
// "gate.min_sustainable_rps: sustainable 30/s (...); gate ≥ 45/s (and
// slo.windows); cause db.connections".
// Gates come first (they are what CI set); empty when nothing failed.
func (r *Report) FailureLine() string {
	failed := r.FailedChecks()
	if len(failed) == 0 {
		return ""
	}
	slices.SortStableFunc(failed, func(a, b Check) int {
		if a.Kind == b.Kind {
			return 0
		}
		if a.Kind == "gate" {
			return -1
		}
		return 1
	})
	first := failed[0]
	s := first.Name + ": " + first.Detail
	if n := len(failed) - 1; n > 0 {
		var names []string
		for _, c := range failed[1:] {
			names = append(names, c.Name)
		}
		s += fmt.Sprintf(" (and %s)", strings.Join(names, ", "))
	}
	if r.Cause.Primary != CauseNone && r.Cause.Primary != "" {
		s += "; cause " + r.Cause.Primary
	}
	return s
}
