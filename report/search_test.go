package report

import (
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/report/reporttest"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

func TestSearchReport(t *testing.T) {
	r := analyzeDir(t, reporttest.SearchRun(t))
	s := r.Search
	if !s.Bracketed() || *s.Lo != 91.9 || *s.Hi != 101.7 || s.Reason != "precision" || len(s.Trials) != 5 {
		t.Fatalf("search %+v", s)
	}
	for _, tr := range s.Trials {
		if tr.SLOMet && tr.Cause != CauseNone {
			t.Errorf("trial %d held, cause %q", tr.Index, tr.Cause)
		}
		if !tr.SLOMet && tr.Cause != CauseDBConnections {
			t.Errorf("trial %d failed with the pool full, cause %q", tr.Index, tr.Cause)
		}
	}
	l := r.Limit
	if l.SustainableRPS == nil || *l.SustainableRPS != 91.9 || l.BreakingRPS == nil || *l.BreakingRPS != 101.7 ||
		l.BreakingAt != rundir.Secs(25.4) || !strings.Contains(l.Method, "adaptive search: 5 trials") {
		t.Errorf("limit %+v: want the bracket, breaking at trial 5's hold", l)
	}
	// The trials broke the SLO on purpose: the check is the bracket.
	if len(r.Checks) != 1 || r.Checks[0].Name != "search.bracket" || !r.Checks[0].Passed || r.Verdict != "pass" {
		t.Errorf("checks %+v, verdict %s", r.Checks, r.Verdict)
	}
	if !strings.HasPrefix(r.Summary, "pass: sustainable ≥ 91.9/s, broken at 101.7/s") || !strings.Contains(r.Summary, "cause db.connections") {
		t.Errorf("summary %q", r.Summary)
	}
	// The plan is the trials', from the stage events, not the scenario's one stage.
	if r.Planned != rundir.Secs(28.7) || len(r.Stages) != 6 || r.Stages[4].Name != "trial 4" {
		t.Errorf("planned %s, stages %d (%v)", r.Planned, len(r.Stages), r.Stages)
	}

}

func TestSearchReportWithoutBracket(t *testing.T) {
	b := reporttest.New(t, "mode: search\nstages:\n  - constant: {rate: 50, for: 1s}\n")
	b.Event(rundir.EventStage, 5, map[string]any{"index": 0, "name": "trial 1", "kind": "constant", "planned_start_s": 0.0,
		"duration_s": 5.0, "rate_start": 50.0, "rate_end": 50.0})
	p := planFromEvents([]rundir.StageEvent{{Index: 0, Name: "trial 1", Kind: "constant", DurationS: 5, RateStart: 50, RateEnd: 50}})
	b.Traffic(p, 0, 5, func(float64) reporttest.Hit { return reporttest.Hit{Lat: 20 * time.Millisecond} })
	b.Event(rundir.EventTrial, 5, map[string]any{"index": 1, "rate": 50.0, "start_s": 0.0, "warmup_s": 2.0, "hold_s": 3.0,
		"planned": 150, "received": 150, "success_ratio": 1.0, "p99_ms": 20.0, "slo_met": true})
	b.Event(rundir.EventSearchResult, 5, map[string]any{"lo": 50.0, "hi": nil, "target_precision": 0.05, "trials": 1,
		"elapsed_s": 5.0, "reason": "max_rate"})
	r := analyzeDir(t, b.Write())
	if r.Verdict != "fail" || r.Checks[0].Name != "search.bracket" || !strings.Contains(r.Checks[0].Detail, "never broke") {
		t.Errorf("verdict %s, checks %+v: no bracket fails the check, saying why", r.Verdict, r.Checks)
	}
	if r.Limit.SustainableRPS == nil || r.Limit.BreakingRPS != nil {
		t.Errorf("limit %+v", r.Limit)
	}
}

// TestAbortedRunReport: an abort stops the judging where the surge
// stopped, and the report says why it stopped.
func TestAbortedRunReport(t *testing.T) {
	b := reporttest.New(t, "abort: {after: 3s}\nstages:\n  - constant: {rate: 40, for: 30s}\n")
	b.Manifest["status"] = "aborted"
	p := reporttest.Plan(t, b.Scenario)
	b.Stages(p)
	b.Traffic(p, 0, 5.4, func(at float64) reporttest.Hit {
		if at < 2 {
			return reporttest.Hit{Lat: 20 * time.Millisecond}
		}
		return reporttest.Hit{Lat: 5 * time.Millisecond, Code: 503, Outcome: rundir.OutcomeFailed}
	})
	b.Event(rundir.EventAbort, 5.4, map[string]any{"after_s": 3.0, "ratio": 1.0, "window_seconds": 3, "failed_seconds": 3})
	b.Event(rundir.EventRunEnd, 5.5, map[string]any{"status": "aborted"})
	r := analyzeDir(t, b.Write())
	if r.Status != "aborted" || r.Verdict != "fail" || r.Search != nil {
		t.Errorf("status %s, verdict %s, search %v", r.Status, r.Verdict, r.Search)
	}
	if n := len(r.Windows); n > 6 {
		t.Errorf("%d windows judged: the 24s not sent after the abort must not be", n)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "aborted at 5.4s: the SLO failed in 3 of the last 3 seconds (abort after 3s, ratio 1)") {
		t.Errorf("notes %q", r.Notes)
	}
}
