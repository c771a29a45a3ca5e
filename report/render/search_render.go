package render

import (
	"fmt"
	"io"

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/format"
)

// writeSearchText renders a search's bracket and its trials; nothing for
// a run of stages.
func writeSearchText(w io.Writer, r *report.Report) {
	s := r.Search
	if s == nil {
		return
	}
	section(w, "Search")
	switch {
	case s.Bracketed():
		fmt.Fprintf(w, "Result: sustainable ≥ %s/s, broken at %s/s (bracket %s, target %s; %d trials in %s; stopped: %s)\n",
			format.Num(format.Round(*s.Lo, 1)), format.Num(format.Round(*s.Hi, 1)), format.Pct(*s.Precision), format.Pct(s.Target), len(s.Trials), format.Sec(s.Elapsed), s.Reason)
	case s.Lo != nil:
		fmt.Fprintf(w, "Result: no bracket: sustainable ≥ %s/s, never broke (stopped: %s)\n", format.Num(format.Round(*s.Lo, 1)), s.Reason)
	case s.Hi != nil:
		fmt.Fprintf(w, "Result: no bracket: broken at %s/s, nothing held (stopped: %s)\n", format.Num(format.Round(*s.Hi, 1)), s.Reason)
	default:
		fmt.Fprintf(w, "Result: no trial judged (stopped: %s)\n", s.Reason)
	}
	// p99, and the SLO's own percentile when it is another
	other := r.SLO.Percentile != 99
	head := []any{"trial", "phase", "rate/s", "start", "held", "sent", "success", "p99"}
	if other {
		head = append(head, "p"+format.Num(r.SLO.Percentile))
	}
	t := newTable(w)
	t.Header(append(head, "SLO", "cause")...)
	for _, tr := range s.Trials {
		row := []any{fmt.Sprint(tr.Index), tr.Phase, format.Num(format.Round(tr.Rate, 1)), format.Sec(tr.Start), format.Sec(tr.Hold),
			fmt.Sprintf("%d/%d", tr.Sent, tr.Planned), format.Pct(tr.SuccessRatio), fmsShort(tr.P99)}
		if other {
			row = append(row, fmsShort(tr.LatencyAtSLO))
		}
		_ = t.Append(append(row, metText(tr.SLOMet), tr.Cause)...)
	}
	_ = t.Render()
	fmt.Fprintf(w, "Each trial: %s warmup, then held at its rate; judged on the hold's planned hits (sent/planned back within the SLO latency). The upper end counts once it failed twice (confirm): one failure may be the machine's noise.\n",
		s.WarmupText())
}

func metText(met bool) string {
	if met {
		return "met"
	}
	return "FAILED"
}
