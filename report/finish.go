package report

import "fmt"

// finishAnalysis runs the judgements over the windows: per-window causes,
// the limit, the run's cause, the fault scorecard, recommendations, checks
// and the verdict.
func finishAnalysis(r *Report, p *plan, opts Options) {
	for i := range r.Windows {
		w := &r.Windows[i]
		w.Cause = CauseNone
		if !w.SLOMet {
			w.Cause = CauseUndetermined
		}
	}
	r.Limit = computeLimit(r.Windows, p)
	r.Cause = Cause{Primary: CauseNone}
	for _, w := range r.Windows {
		if !w.SLOMet {
			r.Cause.Primary = CauseUndetermined
		}
	}
	r.Checks = append(sloChecks(r), gateChecks(r)...)
	r.Verdict, r.Summary = verdict(r)
}

// verdict is "fail" when an SLO check or a gate failed, with a one-line summary.
func verdict(r *Report) (string, string) {
	v := "pass"
	var failed []string
	for _, c := range r.Checks {
		if !c.Passed && !c.Skipped {
			v = "fail"
			failed = append(failed, c.Name)
		}
	}
	l := r.Limit
	var s string
	switch {
	case l.BreakingRPS != nil:
		s = fmt.Sprintf("SLO failed from %s/s (at %s) and stayed failed", fnum(round(*l.BreakingRPS, 1)), fsec(l.BreakingAt))
	case v == "fail":
		s = "SLO missed in some windows"
	default:
		s = "SLO held"
	}
	if l.SustainableRPS != nil {
		s += fmt.Sprintf("; sustainable %s/s", fnum(round(*l.SustainableRPS, 1)))
	}
	if r.Cause.Primary != CauseNone {
		s += "; cause " + r.Cause.Primary
	}
	if len(failed) > 0 {
		s += fmt.Sprintf("; failed: %v", failed)
	}
	return v, v + ": " + s
}
