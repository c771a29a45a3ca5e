package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// searchRun crafts the run directory of a search the way the runner
// writes one: trial stages (and a pause after a failed trial) as stage
// events, a trial event per judged trial, and the search_result.
func searchRun(t *testing.T) string {
	t.Helper()
	b := newRunDir(t, "mode: search\nslo: {latency: 200ms}\nstages:\n  - constant: {rate: 50, for: 1s}\n")
	b.manifest["mode"] = "search"
	type trial struct {
		rate       float64
		start, dur float64 // the stage: warmup 2s, hold 3s, judged 0.3s later
		met        bool
	}
	trials := []trial{{50, 0, 5.3, true}, {75, 5.3, 5.3, true}, {112.5, 10.6, 5.3, false}, {91.9, 18.1, 5.3, true}, {101.7, 23.4, 5.3, false}}
	var evs []rundir.StageEvent
	for i, tr := range trials {
		if i == 3 { // the pause after trial 3, probing at 9.2/s
			evs = append(evs, rundir.StageEvent{Index: len(evs), Name: "recover 3", Kind: "constant", PlannedStartS: 15.9, DurationS: 2.2, RateStart: 9.2, RateEnd: 9.2})
		}
		evs = append(evs, rundir.StageEvent{Index: len(evs), Name: "trial " + itoa(i+1), Kind: "constant", PlannedStartS: tr.start,
			DurationS: tr.dur, RateStart: tr.rate, RateEnd: tr.rate})
	}
	p := planFromEvents(append([]rundir.StageEvent(nil), evs...))
	for _, e := range evs {
		b.event(rundir.EventStage, e.PlannedStartS+e.DurationS, map[string]any{"index": e.Index, "name": e.Name, "kind": e.Kind,
			"planned_start_s": e.PlannedStartS, "duration_s": e.DurationS, "rate_start": e.RateStart, "rate_end": e.RateEnd})
	}
	failing := func(at float64) bool { return (at >= 10.6 && at < 15.9) || at >= 23.4 }
	b.traffic(p, 0, p.Total.Seconds(), func(at float64) hitSpec {
		if failing(at) { // the pool is the wall: logins wait for a connection
			return hitSpec{lat: 900 * time.Millisecond, timing: timingHdr(850, 45, 1, 897)}
		}
		return hitSpec{lat: 50 * time.Millisecond, timing: timingHdr(0.1, 45, 1, 47)}
	})
	for i, tr := range trials {
		p99 := 50.0
		if !tr.met {
			p99 = 900
		}
		b.event(rundir.EventTrial, tr.start+tr.dur, map[string]any{"index": i + 1, "rate": tr.rate, "phase": "raise",
			"start_s": tr.start, "warmup_s": 2.0, "hold_s": 3.0, "planned": int(3 * tr.rate), "received": int(3 * tr.rate),
			"success_ratio": 1.0, "p99_ms": p99, "slo_latency_ms": p99, "slo_met": tr.met})
	}
	b.event(rundir.EventSearchResult, 28.7, map[string]any{"lo": 91.9, "hi": 101.7, "precision": (101.7 - 91.9) / 91.9,
		"target_precision": 0.15, "trials": 5, "elapsed_s": 28.7, "reason": "precision"})
	b.event(rundir.EventRunEnd, 29.7, map[string]any{"status": "completed"})
	return b.write()
}

func TestSearchReport(t *testing.T) {
	r := analyzeDir(t, searchRun(t))
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

	var text bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nSearch\n", "Result: sustainable ≥ 91.9/s, broken at 101.7/s (bracket 10.66%, target 15.00%; 5 trials in 28.7s; stopped: precision)",
		"│ 3     │ raise │ 112.5  │ 10.6s │ 3s   │ 337/337 │ 100.00% │ 900 ms  │ FAILED │ db.connections │"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}

	var js bytes.Buffer
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	var j struct {
		Search struct {
			LoRPS     *float64         `json:"lo_rps"`
			HiRPS     *float64         `json:"hi_rps"`
			Precision *float64         `json:"precision"`
			Trials    []map[string]any `json:"trials"`
		} `json:"search"`
	}
	if err := json.Unmarshal(js.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	if j.Search.LoRPS == nil || *j.Search.LoRPS != 91.9 || *j.Search.HiRPS != 101.7 || len(j.Search.Trials) != 5 {
		t.Fatalf("report.json search: %s", js.String())
	}
	for _, k := range []string{"rate_rps", "hold_s", "success_ratio", "p99_ms", "slo_met", "cause"} {
		if _, ok := j.Search.Trials[2][k]; !ok {
			t.Errorf("report.json trial lacks %s: %v", k, j.Search.Trials[2])
		}
	}
}

func TestSearchReportWithoutBracket(t *testing.T) {
	b := newRunDir(t, "mode: search\nstages:\n  - constant: {rate: 50, for: 1s}\n")
	b.event(rundir.EventStage, 5, map[string]any{"index": 0, "name": "trial 1", "kind": "constant", "planned_start_s": 0.0,
		"duration_s": 5.0, "rate_start": 50.0, "rate_end": 50.0})
	p := planFromEvents([]rundir.StageEvent{{Index: 0, Name: "trial 1", Kind: "constant", DurationS: 5, RateStart: 50, RateEnd: 50}})
	b.traffic(p, 0, 5, func(float64) hitSpec { return hitSpec{lat: 20 * time.Millisecond} })
	b.event(rundir.EventTrial, 5, map[string]any{"index": 1, "rate": 50.0, "start_s": 0.0, "warmup_s": 2.0, "hold_s": 3.0,
		"planned": 150, "received": 150, "success_ratio": 1.0, "p99_ms": 20.0, "slo_met": true})
	b.event(rundir.EventSearchResult, 5, map[string]any{"lo": 50.0, "hi": nil, "target_precision": 0.05, "trials": 1,
		"elapsed_s": 5.0, "reason": "max_rate"})
	r := analyzeDir(t, b.write())
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
	b := newRunDir(t, "abort: {after: 3s}\nstages:\n  - constant: {rate: 40, for: 30s}\n")
	b.manifest["status"] = "aborted"
	p := mustPlan(t, b.scenario)
	b.stages(p)
	b.traffic(p, 0, 5.4, func(at float64) hitSpec {
		if at < 2 {
			return hitSpec{lat: 20 * time.Millisecond}
		}
		return hitSpec{lat: 5 * time.Millisecond, code: 503, outcome: rundir.OutcomeFailed}
	})
	b.event(rundir.EventAbort, 5.4, map[string]any{"after_s": 3.0, "ratio": 1.0, "window_seconds": 3, "failed_seconds": 3})
	b.event(rundir.EventRunEnd, 5.5, map[string]any{"status": "aborted"})
	r := analyzeDir(t, b.write())
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
