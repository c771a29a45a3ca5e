package render

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/reporttest"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

func TestWriteAll(t *testing.T) {
	dir := reporttest.DrillRun(t).Write()
	r := analyzeDir(t, dir)
	if err := WriteAll(dir, r); err != nil {
		t.Fatal(err)
	}
	for _, f := range Formats() {
		b, err := os.ReadFile(filepath.Join(dir, f.File))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v (%d bytes)", f.File, err, len(b))
		}
	}
	if len(Formats()) != 5 {
		t.Errorf("%d formats, want 5", len(Formats()))
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestJUnit(t *testing.T) {
	r := analyzeDir(t, reporttest.DBCapRun(t).Write())
	doc := junitOf(t, r)
	s := doc.Suites[0]
	// three SLO checks and the scenario's two gates
	if s.Tests != 5 || len(s.Cases) != 5 || s.Failures != 2 || doc.Failures != 2 {
		t.Errorf("tests %d cases %d failures %d", s.Tests, len(s.Cases), s.Failures)
	}
	names := map[string]bool{}
	for _, c := range s.Cases {
		names[c.Name] = true
		if c.Name == "slo.windows" && (c.Failure == nil || !strings.Contains(c.Failure.Text, "cause: db.connections")) {
			t.Errorf("slo.windows failure should carry the cause: %+v", c.Failure)
		}
	}
	for _, n := range []string{"slo.windows", "slo.success_ratio", "slo.latency_p99", "gate.min_sustainable_rps", "gate.expect_cause"} {
		if !names[n] {
			t.Errorf("no testcase %s", n)
		}
	}
}

func TestPostmortem(t *testing.T) {
	r := analyzeDir(t, reporttest.DrillRun(t).Write())
	var buf bytes.Buffer
	if err := WritePostmortem(&buf, r); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"# Post-mortem: test (2025-03-14 09:26 UTC)",
		"## Summary", "**Duration:** planned 40s, ran 40.3s", "**Impact:** the SLO",
		"## Timeline", "| 10s | fault `db.conn_limit` injected |", "| 28s | fault `net.reset_peer` injected on path client |",
		"SLO missed (db.connections 11) until 22s",
		"## Root cause", "**db.connections**", "SQLSTATE 53300",
		"## Resolution", "`db.conn_limit` injected at 10s, reverted at 20s: impact after 1s, SLO met again 2s after the revert; detected db.connections, expected db.connections (match)",
		"`db.terminate` failed to inject at 39s: permission denied to terminate",
		"## Corrective and preventive measures", "- [ ] ",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("postmortem lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}

// report.html is one file that needs no network: inline CSS and SVG, no
// script, no external reference.
func TestHTMLSelfContained(t *testing.T) {
	r := analyzeDir(t, reporttest.DrillRun(t).Write())
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	h := buf.String()
	for _, bad := range []string{"<script", "<link", " src=", "@import", "url("} {
		if strings.Contains(h, bad) {
			t.Errorf("report.html contains %q", bad)
		}
	}
	for _, u := range regexp.MustCompile(`https?://[^"' <]+`).FindAllString(h, -1) {
		if u != "http://www.w3.org/2000/svg" {
			t.Errorf("report.html references %s", u)
		}
	}
	if n := strings.Count(h, "<svg "); n != 4 {
		t.Errorf("%d charts, want 4 (load, latency, errors, database)", n)
	}
	for _, want := range []string{"Load: offered vs achieved vs goodput", "Latency percentiles", "Errors by class",
		"Database connections against their caps", "role limit", "fault in force", "<title>db.conn_limit</title>",
		"net.reset_peer on path client", "Faults scorecard", "Cause: db.connections"} {
		if !strings.Contains(h, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// without database samples, no database chart
	r = analyzeDir(t, reporttest.ConstRun(t, func(float64, int) reporttest.Hit { return reporttest.Hit{Lat: 900e6} }).Write())
	buf.Reset()
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "<svg "); n != 3 {
		t.Errorf("%d charts without database samples, want 3", n)
	}
}

// The text Windows table merges consecutive windows alike in stage, SLO
// verdict, cause and faults in force: the decoy-then-cap run's 22 windows
// take 4 rows, the cap's 10 windows one with their errors summed; the JSON
// keeps every window.
func TestTextWindowsMerged(t *testing.T) {
	r := analyzeDir(t, reporttest.DecoyCapRun(t).Write())
	var buf bytes.Buffer
	if err := WriteText(&buf, r); err != nil {
		t.Fatal(err)
	}
	txt := buf.String()
	var dbErrs int64
	for _, w := range r.Windows[12:] {
		dbErrs += w.Errors.DB
	}
	for _, want := range []string{
		"22 windows in 4 rows",
		"│ 0s–2s   │ 1     │ 30 ",
		"│ 3s–5s   │ 1     │ 30 ",
		"network.client │",
		"│ 6s–11s  │ 1     │ 30 ",
		fmt.Sprintf("│ 12s–21s │ 2     │ 120       │ 120        │ 60        │ 50.00%%  │ 56.0 ms │ 56.0 ms      │ -       │ db %d │ db.connections │", dbErrs),
	} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q:\n%s", want, txt)
		}
	}
	buf.Reset()
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	back, err := report.ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Windows) != 22 {
		t.Errorf("JSON has %d windows, want all 22", len(back.Windows))
	}
}

// windowRows keeps a window alone where anything changes, and over a
// merged run gives the offered range, the lowest success, the highest
// latencies and the summed errors.
func TestWindowRows(t *testing.T) {
	w := func(stage int, met bool, cause string, offered, success float64, p99 int, db int64, faults ...string) report.Window {
		return report.Window{Stage: stage, SLOMet: met, Cause: cause, OfferedRPS: offered, AchievedRPS: offered, GoodputRPS: offered * success,
			Figures: report.Figures{SuccessRatio: success, P99: time.Duration(p99) * time.Millisecond,
				LatencyAtSLO: time.Duration(p99) * time.Millisecond, Errors: report.ErrorCounts{DB: db}}, Faults: faults}
	}
	wins := []report.Window{
		w(0, true, report.CauseNone, 30, 1, 50, 0),
		w(0, true, report.CauseNone, 30, 1, 50, 0, "net.latency"), // a fault begins
		w(1, true, report.CauseNone, 40, 1, 55, 0, "net.latency"), // the stage changes
		w(1, false, report.CauseDBConnections, 50, 0.9, 60, 5, "net.latency"),
		w(1, false, report.CauseDBConnections, 60, 0.7, 58, 18, "net.latency"),
		w(1, false, report.CauseDBConnections, 70, 0.8, 70, 14, "net.latency"),
		w(1, false, report.CauseNetClient, 80, 0.8, 700, 0, "net.latency"), // the cause changes
	}
	for i := range wins {
		wins[i].Start = time.Duration(i) * time.Second
	}
	rows := windowRows(wins)
	if len(rows) != 5 {
		t.Fatalf("%d rows, want 5", len(rows))
	}
	m := rows[3]
	if m.first.Start != 3*time.Second || m.last.Start != 5*time.Second || m.offered.String() != "50–70" ||
		m.success != 0.7 || m.p99 != 70*time.Millisecond || m.errors.DB != 37 {
		t.Errorf("merged row: %s–%s offered %s success %g p99 %s db %d", m.first.Start, m.last.Start, m.offered, m.success, m.p99, m.errors.DB)
	}
	for _, i := range []int{0, 1, 2, 4} {
		if rows[i].first != rows[i].last {
			t.Errorf("row %d merged %s–%s, want a single window", i, rows[i].first.Start, rows[i].last.Start)
		}
	}
}

// A fault never reverted and never recovered from reads "did not recover"
// (report's TestScorecardDidNotRecover checks the scorecard itself).
func TestRecoveryTextDidNotRecover(t *testing.T) {
	b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
		return reporttest.Hit{Lat: 3 * time.Millisecond, Outcome: rundir.OutcomeFailed, Code: 503, Body: `{"error":"pool_timeout"}`}
	})
	b.Event(rundir.EventFaultInject, 8, map[string]any{"index": 0, "kind": "db.hog", "params": map[string]any{}, "start_s": 8.0, "ok": true})
	r := analyzeDir(t, b.Write())
	if got := recoveryText(r.Scorecard[0]); got != "did not recover" {
		t.Errorf("recovery text %q", got)
	}
}
