package report

import (
	"fmt"
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
		Detail: fmt.Sprintf("%d of %d windows met the SLO (%s)", traffic-missed, traffic, sloText(r.SLO))}
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
