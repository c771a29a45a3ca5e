package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/report/format"
	"github.com/stampede-load/stampede/report/reporttest"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

func TestAnalyzeCleanRun(t *testing.T) {
	r := analyzeDir(t, reporttest.CleanRun(t).Write())

	if got := len(r.Windows); got != 20 {
		t.Fatalf("windows: %d, want 20", got)
	}
	if r.Totals.Sent != 500 || r.Totals.Failed != 0 || r.Totals.ExpectedRejects != 50 {
		t.Errorf("totals %+v: want 500 sent, 0 failed, 50 expected rejects", r.Totals)
	}
	for _, w := range r.Windows {
		want := float64(10 * (1 + w.Index/5))
		if w.OfferedRPS != want || w.AchievedRPS != want {
			t.Errorf("window %d: offered %g achieved %g, want %g", w.Index, w.OfferedRPS, w.AchievedRPS, want)
		}
		if !w.Steady || !w.SLOMet || w.Cause != CauseNone || w.SuccessRatio != 1 {
			t.Errorf("window %d: steady %v met %v cause %q success %g", w.Index, w.Steady, w.SLOMet, w.Cause, w.SuccessRatio)
		}
		if w.P99 < 19*time.Millisecond || w.P99 > 21*time.Millisecond {
			t.Errorf("window %d: p99 %s, want ~20ms", w.Index, w.P99)
		}
		if w.Errors.AuthExpected == 0 && w.Sent >= 10 || w.Errors.Total() != 0 {
			t.Errorf("window %d: errors %+v", w.Index, w.Errors)
		}
		if w.Timing == nil || w.Timing.DB != 3*time.Millisecond {
			t.Errorf("window %d: server timing %+v, want db 3ms", w.Index, w.Timing)
		}
		if w.DB == nil || w.DB.RoleBackends != 5 || w.Probes.ServiceN != 2 {
			t.Errorf("window %d: db %+v probes %+v", w.Index, w.DB, w.Probes)
		}
	}
	if len(r.Stages) != 1 || r.Stages[0].Sent != 500 || r.Stages[0].OfferedRPS != 25 || r.Stages[0].Name != "climb" {
		t.Errorf("stages %+v", r.Stages)
	}
	if r.Cause.Primary != CauseNone || r.Verdict != "pass" {
		t.Errorf("cause %q verdict %q, want none and pass", r.Cause.Primary, r.Verdict)
	}
}

func TestParseServerTiming(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want serverTiming
		ok   bool
	}{
		{"pool;dur=812.4, db;dur=3.1, hash;dur=2.0, app;dur=820.0", serverTiming{812.4, 3.1, 820, 2}, true},
		{`pool;dur=5;desc="acquire", db;dur=1, db;dur=2`, serverTiming{pool: 5, db: 3}, true},
		{"cache;desc=hit, app;dur=7", serverTiming{app: 7}, true},
		{"miss, total;dur=3", serverTiming{}, false},
		{"db;dur=abc", serverTiming{}, false},
	} {
		got, ok := parseServerTiming(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseServerTiming(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestDBFailureDetail(t *testing.T) {
	for _, tc := range []struct {
		body string
		want detail
		ok   bool
	}{
		{`{"error":"db_unavailable","sqlstate":"53300","detail":"sorry, too many clients already"}`, dSQL53300, true},
		{`{"error":"pool_timeout"}`, dPoolTimeout, true},
		{`{"error":"db_timeout"}`, dDBTimeout, true},
		{`{"error":"db_timeout","sqlstate":"57014"}`, dSQL57014, true},
		{`{"error":"db_timeout","cause":"connect_timeout"}`, dDBConnTimeout, true},
		{`{"error":"db_unavailable","cause":"connection_reset"}`, dDBReset, true},
		{`{"error":"db_unavailable","sqlstate":"XX000"}`, dSQLOther, true},
		{`{"error":"invalid_credentials"}`, 0, false},
		{`<html>bad gateway</html>`, 0, false},
		{``, 0, false},
	} {
		got, ok := dbFailureDetail([]byte(tc.body))
		if got != tc.want || ok != tc.ok {
			t.Errorf("dbFailureDetail(%s) = %s, %v; want %s, %v", tc.body, detailNames[got], ok, detailNames[tc.want], tc.ok)
		}
	}
}

func TestPlanFromStages(t *testing.T) {
	p := reporttest.Plan(t, `stages:
  - constant: {rate: 10, for: 5s}
  - ramp: {from: 10, to: 30, for: 10s}
  - steps: {from: 30, to: 50, step: 10, hold: 2s}
  - spike: {base: 20, peak: 100, at: 2s, spike_for: 1s, for: 5s}
`)
	if p.Total != 26*time.Second || len(p.Stages) != 4 {
		t.Fatalf("total %s, %d stages", p.Total, len(p.Stages))
	}
	for _, tc := range []struct {
		at   time.Duration
		rate float64
	}{{0, 10}, {5 * time.Second, 10}, {10 * time.Second, 20}, {15 * time.Second, 30}, {17 * time.Second, 40},
		{20 * time.Second, 50}, {21 * time.Second, 20}, {23 * time.Second, 100}, {25 * time.Second, 20}, {26 * time.Second, 0}} {
		if got := p.Rate(tc.at); got != tc.rate {
			t.Errorf("rate(%s) = %g, want %g", tc.at, got, tc.rate)
		}
	}
	// 50 + 200 + 240 + (20*4 + 100)
	if got := p.Hits(p.Total); got != 670 {
		t.Errorf("planned hits %g, want 670", got)
	}
	// the same plan from stage events alone: exact for constant and ramp only
	var evs []rundir.StageEvent
	for _, s := range p.Stages {
		evs = append(evs, rundir.StageEvent{Index: s.Index, Kind: s.Kind, PlannedStartS: s.Start.Seconds(),
			DurationS: s.Duration.Seconds(), RateStart: s.RateStart, RateEnd: s.RateEnd})
	}
	pe := planFromEvents(evs)
	if pe.Total != p.Total || !knownOver(pe, 0, 15*time.Second) || knownOver(pe, 15*time.Second, 16*time.Second) {
		t.Errorf("plan from events: total %s, exactness wrong", pe.Total)
	}
}

// A results file cut mid-record (the runner killed) reads up to its last
// whole record, with a note.
func TestTruncatedResults(t *testing.T) {
	dir := reporttest.CleanRun(t).Write()
	path := filepath.Join(dir, rundir.ResultsFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:len(b)-40], 0o644); err != nil {
		t.Fatal(err)
	}
	r := analyzeDir(t, dir)
	if r.Totals.Sent != 499 {
		t.Errorf("sent %d, want 499 (the last record cut)", r.Totals.Sent)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "mid-record") {
		t.Errorf("notes %q: want the truncation noted", r.Notes)
	}
}

// Without scenario, manifest or timeline, a plain vegeta results file
// still gets windows (judged by status code).
func TestResultsOnly(t *testing.T) {
	dir := reporttest.CleanRun(t).Write()
	for _, f := range []string{rundir.ScenarioFile, rundir.ManifestFile, rundir.TimelineFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	r := analyzeDir(t, dir)
	if r.Totals.Sent != 500 || len(r.Windows) != 20 || r.SLO.Percentile != 99 {
		t.Errorf("sent %d, %d windows, SLO %s", r.Totals.Sent, len(r.Windows), format.SLO(r.SLO))
	}
}

func TestMissingResults(t *testing.T) {
	if _, err := Analyze(t.TempDir(), Options{}); err == nil {
		t.Error("no results.bin: want an error")
	}
}

// An interrupted run planned load it never sent: the windows after the
// interrupt are not judged, so they neither fail the SLO nor set a limit.
func TestInterruptedRun(t *testing.T) {
	const sc = "stages:\n  - steps: {from: 10, to: 60, step: 10, hold: 5s}\n"
	b := reporttest.New(t, sc)
	p := reporttest.Plan(t, sc)
	b.Stages(p)
	b.Traffic(p, 0, 12.5, func(float64) reporttest.Hit { return reporttest.Hit{Lat: 10 * time.Millisecond} })
	b.Event(rundir.EventInterrupt, 12.5, map[string]any{"signal": "interrupt", "immediate": false})
	b.Event(rundir.EventRunEnd, 12.6, map[string]any{"status": "interrupted"})
	r := analyzeDir(t, b.Write())
	if len(r.Windows) != 13 || r.Status != "interrupted" {
		t.Fatalf("%d windows, status %s; want 13 (up to the interrupt), interrupted", len(r.Windows), r.Status)
	}
	if r.Verdict != "pass" || r.Limit.BreakingRPS != nil || *r.Limit.SustainableRPS != 30 {
		t.Errorf("verdict %s breaking %s sustainable %s", r.Verdict, ptrStr(r.Limit.BreakingRPS), ptrStr(r.Limit.SustainableRPS))
	}
	if last := r.Windows[12]; last.Full || last.Length != 500*time.Millisecond {
		t.Errorf("last window: full %v length %s", last.Full, last.Length)
	}
}
