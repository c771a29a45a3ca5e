package report

import (
	"fmt"
	"sort"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// finishAnalysis runs the judgements over the windows, in this order:
// per-window causes (from evidence only), the limit, the run's cause, the
// fault scorecard (faults laid beside the causes afterwards), the
// recommendations, the checks and the verdict.
func finishAnalysis(r *Report, p *rundir.Plan, opts Options) {
	baseWins := baselineWindows(r.Windows)
	var base *evidence
	if len(baseWins) > 0 {
		b := gather(baseWins, baseWins)
		base = &b
	}
	for i := range r.Windows {
		w := &r.Windows[i]
		w.Cause = CauseNone
		if w.SLOMet {
			continue
		}
		one := []*Window{w}
		d := diagnose(gather(one, spans(one, r.Windows)), base)
		d.Windows, d.From = 1, w.Start
		w.Cause, w.Diagnosis = d.Primary, &d
	}
	r.Limit = computeLimit(r.Windows, p)
	applySearch(r) // a search's limit is its bracket (search.go)
	r.Cause = runCause(r, base)
	r.Scorecard = scorecard(r.Windows, r.Faults)
	target := opts.TargetRPS
	if target <= 0 {
		target = p.Peak()
	}
	r.Recommend = recommend(r, baseWins, target)
	r.Noise = computeNoise(r.Windows)
	if opts.Baseline != nil {
		r.Baseline = Compare(opts.Baseline, r)
	}
	r.Checks = append(sloChecks(r), gateChecks(r)...)
	r.Verdict, r.Summary = verdict(r)
	searchSummary(r)
	if r.Baseline != nil {
		r.Baseline.New.Verdict = r.Verdict
	}
}

// runCause diagnoses the run: at its breaking point when it broke, else
// over every degraded window; the most frequent window cause picks the
// windows whose merged evidence makes the diagnosis.
func runCause(r *Report, base *evidence) Cause {
	var degraded []*Window
	from := time.Duration(-1)
	if r.Limit.BreakingRPS != nil {
		from = r.Limit.BreakingAt
	}
	for i := range r.Windows {
		if w := &r.Windows[i]; !w.SLOMet && w.Start >= from {
			degraded = append(degraded, w)
		}
	}
	if len(degraded) == 0 {
		n := 0
		for _, w := range r.Windows {
			if w.Traffic {
				n++
			}
		}
		return Cause{Primary: CauseNone, Evidence: []string{fmt.Sprintf("the SLO (%s) held in all %d windows with traffic", sloText(r.SLO), n)}}
	}
	counts := map[string]int{}
	for _, w := range degraded {
		counts[w.Cause]++
	}
	label := majority(counts)
	var group []*Window
	for _, w := range degraded {
		if w.Cause == label {
			group = append(group, w)
		}
	}
	c := diagnose(gather(group, spans(group, r.Windows)), base)
	c.Windows, c.From = len(group), group[0].Start
	if r.Limit.BreakingRPS != nil {
		c.Scope = fmt.Sprintf("at the breaking point: %d degraded windows from %s (%s/s) on", len(degraded), fsec(from), fnum(round(*r.Limit.BreakingRPS, 1)))
	} else {
		c.Scope = fmt.Sprintf("%d degraded windows (the run did not stay broken)", len(degraded))
	}
	c.Scope += "; by cause: " + causeCounts(counts)
	return c
}

// majority is the most frequent cause; ties go by the taxonomy's order,
// undetermined last.
func majority(counts map[string]int) string {
	best, n := CauseUndetermined, -1
	order := causeOrder()
	for _, k := range append(order[:], CauseUndetermined) {
		if counts[k] > n {
			best, n = k, counts[k]
		}
	}
	return best
}

func causeCounts(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", k, counts[k])
	}
	return s
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
