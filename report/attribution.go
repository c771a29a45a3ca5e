package report

import (
	"fmt"
	"sort"
	"time"

	"github.com/stampede-load/stampede/report/format"
)

// attribute is the analysis' attribution step: it diagnoses the run: at its breaking point when it broke, else
// over every degraded window; the most frequent window cause picks the
// windows whose merged evidence makes the diagnosis.
func attribute(r *Report, base *evidence) Cause {
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
		return Cause{Primary: CauseNone, Evidence: []string{fmt.Sprintf("the SLO (%s) held in all %d windows with traffic", format.SLO(r.SLO), n)}}
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
		c.Scope = fmt.Sprintf("at the breaking point: %d degraded windows from %s (%s/s) on", len(degraded), format.Sec(from), format.Num(format.Round(*r.Limit.BreakingRPS, 1)))
	} else {
		c.Scope = fmt.Sprintf("%d degraded windows (the run did not stay broken)", len(degraded))
	}
	c.Scope += "; by cause: " + CauseCounts(counts)
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

// CauseCounts lists causes by count, most frequent first: "db.connections 12, app 2".
func CauseCounts(counts map[string]int) string {
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
