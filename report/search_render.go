package report

import (
	"fmt"
	"io"
)

// writeSearchText renders a search's bracket and its trials; nothing for
// a run of stages.
func writeSearchText(w io.Writer, r *Report) {
	s := r.Search
	if s == nil {
		return
	}
	section(w, "Search")
	switch {
	case s.Bracketed():
		fmt.Fprintf(w, "Result: sustainable ≥ %s/s, broken at %s/s (bracket %s, target %s; %d trials in %s; stopped: %s)\n",
			fnum(round(*s.Lo, 1)), fnum(round(*s.Hi, 1)), pct(*s.Precision), pct(s.Target), len(s.Trials), fsec(s.Elapsed), s.Reason)
	case s.Lo != nil:
		fmt.Fprintf(w, "Result: no bracket: sustainable ≥ %s/s, never broke (stopped: %s)\n", fnum(round(*s.Lo, 1)), s.Reason)
	case s.Hi != nil:
		fmt.Fprintf(w, "Result: no bracket: broken at %s/s, nothing held (stopped: %s)\n", fnum(round(*s.Hi, 1)), s.Reason)
	default:
		fmt.Fprintf(w, "Result: no trial judged (stopped: %s)\n", s.Reason)
	}
	// p99, and the SLO's own percentile when it is another
	other := r.SLO.Percentile != 99
	head := []any{"trial", "phase", "rate/s", "start", "held", "sent", "success", "p99"}
	if other {
		head = append(head, "p"+fnum(r.SLO.Percentile))
	}
	t := newTable(w)
	t.Header(append(head, "SLO", "cause")...)
	for _, tr := range s.Trials {
		row := []any{fmt.Sprint(tr.Index), tr.Phase, fnum(round(tr.Rate, 1)), fsec(tr.Start), fsec(tr.Hold),
			fmt.Sprintf("%d/%d", tr.Sent, tr.Planned), pct(tr.SuccessRatio), fmsShort(tr.P99)}
		if other {
			row = append(row, fmsShort(tr.LatencyAtSLO))
		}
		_ = t.Append(append(row, metText(tr.SLOMet), tr.Cause)...)
	}
	_ = t.Render()
	fmt.Fprintf(w, "Each trial: %s warmup, then held at its rate; judged on the hold's planned hits (sent/planned back within the SLO latency).\n",
		trialWarmup(s))
}

func metText(met bool) string {
	if met {
		return "met"
	}
	return "FAILED"
}

// jsonSearch is report.json's search block.
type jsonSearch struct {
	LoRPS           *float64    `json:"lo_rps"`
	HiRPS           *float64    `json:"hi_rps"`
	Precision       *float64    `json:"precision"`
	TargetPrecision float64     `json:"target_precision"`
	Reason          string      `json:"reason"`
	ElapsedS        float64     `json:"elapsed_s"`
	Trials          []jsonTrial `json:"trials"`
}

type jsonTrial struct {
	Index        int     `json:"index"`
	RateRPS      float64 `json:"rate_rps"`
	Phase        string  `json:"phase"`
	StartS       float64 `json:"start_s"`
	WarmupS      float64 `json:"warmup_s"`
	HoldS        float64 `json:"hold_s"`
	Planned      int64   `json:"planned"`
	Sent         int64   `json:"sent"`
	SuccessRatio float64 `json:"success_ratio"`
	P99MS        float64 `json:"p99_ms"`
	SLOLatencyMS float64 `json:"slo_latency_ms"`
	SLOMet       bool    `json:"slo_met"`
	Cause        string  `json:"cause"`
}

// searchJSON is the search block of report.json; nil for a run of stages.
func searchJSON(r *Report) *jsonSearch {
	s := r.Search
	if s == nil {
		return nil
	}
	j := &jsonSearch{LoRPS: roundp(s.Lo, 3), HiRPS: roundp(s.Hi, 3), Precision: roundp(s.Precision, 6),
		TargetPrecision: s.Target, Reason: s.Reason, ElapsedS: round(s.Elapsed.Seconds(), 3), Trials: []jsonTrial{}}
	for _, t := range s.Trials {
		j.Trials = append(j.Trials, jsonTrial{Index: t.Index, RateRPS: round(t.Rate, 3), Phase: t.Phase,
			StartS: round(t.Start.Seconds(), 3), WarmupS: round(t.Warmup.Seconds(), 3), HoldS: round(t.Hold.Seconds(), 3),
			Planned: t.Planned, Sent: t.Sent, SuccessRatio: round(t.SuccessRatio, 6), P99MS: msf(t.P99),
			SLOLatencyMS: msf(t.LatencyAtSLO), SLOMet: t.SLOMet, Cause: t.Cause})
	}
	return j
}
