package report

import (
	"fmt"

	"github.com/stampede-load/stampede/report/format"
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
	if r.Search != nil { // its trials break the SLO on purpose (search.go)
		return searchChecks(r)
	}
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
		Detail: fmt.Sprintf("%d of %d windows met the SLO (%s)", traffic-missed, traffic, format.SLO(r.SLO))}
	if first != nil {
		win.Detail += fmt.Sprintf("; first miss at %s (%s/s offered, %s, p%s %s)", format.Sec(first.Start),
			format.Num(format.Round(first.OfferedRPS, 1)), format.Pct(first.SuccessRatio), format.Num(r.SLO.Percentile), format.MS(first.LatencyAtSLO))
	}
	t := r.Totals
	succ := Check{Name: "slo.success_ratio", Kind: "slo", Passed: t.Sent > 0 && t.SuccessRatio >= r.SLO.SuccessRatio,
		Detail: fmt.Sprintf("run: %s of %d logins succeeded or were rejected as expected; SLO %s", format.Pct(t.SuccessRatio), t.Sent, format.Pct(r.SLO.SuccessRatio))}
	lat := Check{Name: "slo.latency_p" + format.Num(r.SLO.Percentile), Kind: "slo", Passed: t.Sent > 0 && t.LatencyAtSLO <= r.SLO.Latency,
		Detail: fmt.Sprintf("run: p%s %s from the planned send time; SLO %s", format.Num(r.SLO.Percentile), format.MS(t.LatencyAtSLO), r.SLO.Latency)}
	return []Check{win, succ, lat}
}

// judge is the analysis' last step: the run's noise, the comparison with
// a baseline, the SLO checks and the gates, and the verdict.
func judge(r *Report, opts Options) {
	r.Noise = computeNoise(r.Windows)
	if opts.Baseline != nil {
		r.Baseline = Compare(opts.Baseline, r)
	}
	r.Checks = append(sloChecks(r), gateChecks(r)...)
	if r.Shards != nil {
		r.Checks = append(r.Checks, shardCheck(r.Shards, opts.AllowPartial))
	}
	r.Verdict, r.Summary = verdict(r)
	searchSummary(r)
	if r.Baseline != nil {
		r.Baseline.New.Verdict = r.Verdict
	}
}

// verdict is "fail" when an SLO check or a gate failed, with a one-line summary.
func verdict(r *Report) (string, string) {
	v := "pass"
	var failed []string
	missed := false // an SLO check or a gate failed (not only the shards check)
	for _, c := range r.Checks {
		if !c.Passed && !c.Skipped {
			v = "fail"
			failed = append(failed, c.Name)
			missed = missed || c.Kind != shardCheckKind
		}
	}
	l := r.Limit
	var s string
	if sh := r.Shards; sh != nil && sh.Partial {
		s = "partial: " + sh.PartialReason + "; "
	}
	switch {
	case l.BreakingRPS != nil:
		s += fmt.Sprintf("SLO failed from %s/s (at %s) and stayed failed", format.Num(format.Round(*l.BreakingRPS, 1)), format.Sec(l.BreakingAt))
	case missed:
		s += "SLO missed in some windows"
	default:
		s += "SLO held"
	}
	if l.SustainableRPS != nil {
		s += fmt.Sprintf("; sustainable %s/s", format.Num(format.Round(*l.SustainableRPS, 1)))
	}
	if r.Cause.Primary != CauseNone {
		s += "; cause " + r.Cause.Primary
	}
	if len(failed) > 0 {
		s += fmt.Sprintf("; failed: %v", failed)
	}
	return v, v + ": " + s
}
