package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/report"
)

// The accuracy matrix: short runs of `stampede run` against the real
// bundled fixture (a throwaway PostgreSQL, real sockets, real faults through
// Toxiproxy and SQL), each checked for the cause the report names from its
// evidence, the fault scorecard, and ruled-out lines with figures. One case
// also checks the capacity figure against Little's law. The cases run one
// after another: the machine has two cores, and every run loads both.

// accuracyReport is the part of report.json the matrix reads, by the
// field names report.json emits (docs/report.md).
type accuracyReport struct {
	Limit struct {
		SustainableRPS *float64 `json:"sustainable_rps"`
		BreakingRPS    *float64 `json:"breaking_rps"`
		Method         string   `json:"method"`
	} `json:"limit"`
	Fixture *struct {
		DBPool   int     `json:"db_pool"`
		DBHoldMS float64 `json:"db_hold_ms"`
	} `json:"fixture"`
	Cause           accuracyCause `json:"cause"`
	Recommendations struct {
		HoldMS *float64 `json:"hold_ms"`
	} `json:"recommendations"`
	Scorecard []struct {
		Kind            string   `json:"kind"`
		Path            string   `json:"path"`
		Expected        []string `json:"expected"`
		Detected        string   `json:"detected"`
		Match           bool     `json:"match"`
		DegradedWindows int      `json:"degraded_windows"`
		Note            string   `json:"note"`
	} `json:"scorecard"`
	Windows []struct {
		StartS       float64         `json:"start_s"`
		SLOMet       bool            `json:"slo_met"`
		Cause        string          `json:"cause"`
		ServerTiming json.RawMessage `json:"server_timing"`
		Sent         int64           `json:"sent"`
	} `json:"windows"`
}

type accuracyCause struct {
	Primary    string   `json:"primary"`
	Confidence string   `json:"confidence"`
	Sources    []string `json:"sources"`
	Evidence   []string `json:"evidence"`
	RuledOut   []string `json:"ruled_out"`
	NotChecked []string `json:"not_checked"`
	Scope      string   `json:"scope"`
}

// accuracyCase is one row of the matrix.
type accuracyCase struct {
	name     string
	scenario string
	want     string   // the run's cause
	evidence []string // substrings the primary cause's evidence must hold
	// blackBox: the fixture hides Server-Timing; no window may carry it.
	blackBox bool
	// check runs extra assertions on the report.
	check func(t *testing.T, r *accuracyReport)
}

func accuracyCases() []accuracyCase {
	// Every run seeds 200 users (quick to hash) and keeps the default SLO
	// (99% success, p99 ≤ 500ms per 1s window).
	return []accuracyCase{{
		// Capacity: pool 5, each login holding its connection 50ms: Little's
		// law gives 5 / 0.05s = 100 logins/s. The steps cross it with no
		// fault at all, so the same run is case (b): above the limit the
		// pool is the wall.
		name: "capacity: steps 60→140/s, no fault (b: above the limit)",
		scenario: `fixture: {users: 200, db_pool: 5, db_hold: 50ms}
stages:
  - steps: {from: 60, to: 140, step: 10, hold: 3s}
`,
		want:     report.CauseDBConnections,
		evidence: []string{"pool"},
		check:    checkCapacity,
	}, {
		name: "a: no fault, below the limit",
		scenario: `fixture: {users: 200, db_pool: 5, db_hold: 50ms}
stages:
  - constant: {rate: 50, for: 8s}
`,
		want: report.CauseNone,
	}, {
		name: "c: db.conn_limit",
		scenario: `fixture: {users: 200, db_pool: 10, db_hold: 50ms}
stages:
  - constant: {rate: 100, for: 12s}
faults:
  - {kind: db.conn_limit, start: 4s, for: 5s, limit: 3}
`,
		want:     report.CauseDBConnections,
		evidence: []string{"SQLSTATE 53300", "the role's backends at its connection limit"},
	}, {
		// The hog takes every free server slot while the pool still holds
		// few connections (20/s needs one or two); the surge then needs
		// about eight.
		name: "d: db.hog",
		scenario: `fixture: {users: 200, db_pool: 10, db_hold: 50ms, max_connections: 20}
stages:
  - constant: {name: quiet, rate: 20, for: 4s}
  - constant: {name: surge, rate: 150, for: 8s}
faults:
  - {kind: db.hog, start: 3s, for: 7s, leave: 0}
`,
		want:     report.CauseDBConnections,
		evidence: []string{"SQLSTATE 53300", "server backends at max_connections"},
	}, {
		name: "e: db.lock",
		scenario: `fixture: {users: 200, db_pool: 10, db_hold: 50ms}
stages:
  - constant: {rate: 50, for: 12s}
faults:
  - {kind: db.lock, start: 4s, for: 5s, table: sessions}
`,
		want:     report.CauseDBQueries,
		evidence: []string{"sessions waiting on locks"},
	}, {
		name: "f: net.latency on the client path",
		scenario: `fixture: {users: 200, db_pool: 10, db_hold: 50ms}
stages:
  - constant: {rate: 50, for: 12s}
faults:
  - {kind: net.latency, path: client, start: 4s, for: 5s, latency: 600ms}
`,
		want:     report.CauseNetClient,
		evidence: []string{"health checks took", "through the client path and", "not explained by server time"},
	}, {
		name: "g: net.reset_peer on the client path",
		scenario: `fixture: {users: 200, db_pool: 10, db_hold: 50ms}
stages:
  - constant: {rate: 50, for: 12s}
faults:
  - {kind: net.reset_peer, path: client, start: 4s, for: 5s}
`,
		want:     report.CauseNetClient,
		evidence: []string{"transport errors before any response", "health checks through the client path failed"},
	}, {
		// 100ms on every database round trip makes each login hold its
		// connection about 10 times longer: the pool fills, but it is a
		// symptom of the path, not the wall.
		name: "h: net.latency on the db path",
		scenario: `fixture: {users: 200, db_pool: 10, db_hold: 50ms}
stages:
  - constant: {rate: 30, for: 12s}
faults:
  - {kind: net.latency, path: db, start: 4s, for: 5s, latency: 100ms}
`,
		want:     report.CauseNetDB,
		evidence: []string{"the time goes between the service and the database"},
	}, {
		name: "i: black box (no Server-Timing), db.conn_limit",
		scenario: `fixture: {users: 200, db_pool: 10, db_hold: 50ms, hide_server_timing: true}
stages:
  - constant: {rate: 100, for: 12s}
faults:
  - {kind: db.conn_limit, start: 4s, for: 5s, limit: 3}
`,
		want:     report.CauseDBConnections,
		evidence: []string{"SQLSTATE 53300", "the role's backends at its connection limit"},
		blackBox: true,
	}, {
		// DESIGN.md's trap: a black box whose pool is the wall, with a client
		// timeout (1s) shorter than the service's acquire timeout (2s): the
		// client sees timeouts only. The database and the pool counters must
		// decide it, and never as the network.
		name: "trap: black box, pool wall seen as client timeouts",
		scenario: `fixture: {users: 200, db_pool: 5, db_hold: 50ms, hide_server_timing: true}
client: {timeout: 1s}
stages:
  - constant: {name: quiet, rate: 50, for: 4s}
  - constant: {name: over, rate: 150, for: 6s}
`,
		want:     report.CauseDBConnections,
		evidence: []string{"the service's pool full", "client timeouts"},
		blackBox: true,
	}}
}

// TestAccuracyMatrix runs every case against the real fixture and checks
// the verdict. It takes about three minutes; the runs are short (8-27s)
// and light (at most 150 logins/s).
func TestAccuracyMatrix(t *testing.T) {
	type row struct {
		name, cause, confidence, sources, evidence string
		took                                       time.Duration
	}
	var rows []row
	begin := time.Now()
	for _, tc := range accuracyCases() {
		rw := row{name: tc.name, cause: "(no report)"}
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			defer func() { rw.took = time.Since(start) }()
			r := runAccuracyCase(t, tc)
			c := r.Cause
			rw.cause, rw.confidence, rw.sources = c.Primary, c.Confidence, strings.Join(c.Sources, "+")
			if len(c.Evidence) > 0 {
				rw.evidence = c.Evidence[0]
			}
			checkAccuracy(t, tc, r)
		})
		rows = append(rows, rw)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "accuracy matrix (%s in all):\n", time.Since(begin).Round(time.Second))
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-55s → %-15s %-6s [%s] %s (%s)\n", r.name, r.cause, r.confidence, r.sources, r.evidence, r.took.Round(time.Second))
	}
	t.Log(b.String())
}

// runAccuracyCase writes the scenario, runs it through the CLI's entry
// point and reads back the report.json the run wrote.
func runAccuracyCase(t *testing.T, tc accuracyCase) *accuracyReport {
	t.Helper()
	dir := t.TempDir()
	sc := filepath.Join(dir, "scenario.yaml")
	if err := os.WriteFile(sc, []byte(tc.scenario), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	e, stdout, stderr := testEnv(nil)
	err := runMain(context.Background(), e, []string{"run", sc, "--out", out, "--quiet", "--seed", "11"})
	// 0: every check passed; 1: the SLO failed, as most cases mean it to.
	if code := exitCode(err); code != exitOK && code != exitGateFailed {
		t.Fatalf("run: %v (exit %d)\nstderr:\n%s\nstdout:\n%s", err, code, stderr, stdout)
	}
	r, err := readAccuracyReport(out)
	if err != nil {
		t.Fatalf("report.json: %v\n%s", err, stderr)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("terminal report:\n%s", stdout)
		}
	})
	return r
}

func checkAccuracy(t *testing.T, tc accuracyCase, r *accuracyReport) {
	t.Helper()
	c := r.Cause
	if c.Primary != tc.want {
		t.Fatalf("cause %s (confidence %s), want %s\nscope: %s\nevidence:\n  %s", c.Primary, c.Confidence, tc.want, c.Scope, strings.Join(c.Evidence, "\n  "))
	}
	degraded := 0
	for _, w := range r.Windows {
		if !w.SLOMet {
			degraded++
		}
		if tc.blackBox && len(w.ServerTiming) > 0 && string(w.ServerTiming) != "null" {
			t.Errorf("window %gs carries Server-Timing in a black-box run", w.StartS)
		}
	}
	if tc.want == report.CauseNone {
		if degraded != 0 {
			t.Errorf("%d windows missed the SLO below the limit", degraded)
		}
		return
	}
	if degraded < 2 {
		t.Errorf("%d windows missed the SLO: the case did not bite", degraded)
	}
	// High is what these runs give; medium leaves room for a loaded
	// machine. Low would mean the sources did not agree.
	if c.Confidence == "low" {
		t.Errorf("confidence low from %v:\n  %s", c.Sources, strings.Join(c.Evidence, "\n  "))
	}
	ev := strings.Join(c.Evidence, "\n")
	primaryEv := ev // the lines before the first "also (...)"
	if i := strings.Index(ev, "also ("); i >= 0 {
		primaryEv = ev[:i]
	}
	for _, want := range tc.evidence {
		if !strings.Contains(primaryEv, want) {
			t.Errorf("evidence for %s lacks %q:\n%s", c.Primary, want, ev)
		}
	}
	// Ruled out, with figures, including the other side of the question
	// the tool exists for: database or network.
	if len(c.RuledOut) == 0 {
		t.Errorf("no ruled-out lines")
	}
	other := "network."
	if strings.HasPrefix(c.Primary, "network.") {
		other = "db."
	}
	sawOther := false
	for _, line := range c.RuledOut {
		if !strings.ContainsAny(line, "0123456789") {
			t.Errorf("ruled-out line without figures: %s", line)
		}
		sawOther = sawOther || strings.HasPrefix(line, other)
	}
	if !sawOther {
		t.Errorf("nothing on the %s side ruled out:\n  %s", strings.TrimSuffix(other, "."), strings.Join(c.RuledOut, "\n  "))
	}
	if tc.blackBox && !strings.Contains(strings.Join(c.NotChecked, "\n"), "no Server-Timing") {
		t.Errorf("a black box should say what it could not check without Server-Timing: %v", c.NotChecked)
	}
	// The scorecard lays each injected fault beside the detected cause.
	injected := strings.Contains(tc.scenario, "faults:")
	if injected && len(r.Scorecard) == 0 {
		t.Errorf("a fault was injected but the scorecard is empty")
	}
	for _, s := range r.Scorecard {
		if !s.Match || s.Detected != tc.want || s.DegradedWindows < 2 {
			t.Errorf("scorecard %s (%s): detected %s over %d degraded windows, expected %v (match %v; %s)",
				s.Kind, s.Path, s.Detected, s.DegradedWindows, s.Expected, s.Match, s.Note)
		}
	}
	if tc.check != nil {
		tc.check(t, r)
	}
}

// checkCapacity: the sustainable rate within 10% of pool/hold. The steps
// are 10/s apart, so the measure can land one step either side of 100/s
// and still be within it; the tolerance is the issue's, and generous
// enough for a two-core machine where the load generator, the service and
// PostgreSQL share the CPUs.
func checkCapacity(t *testing.T, r *accuracyReport) {
	t.Helper()
	if r.Fixture == nil || r.Fixture.DBPool != 5 || r.Fixture.DBHoldMS != 50 {
		t.Fatalf("fixture %+v, want pool 5 and hold 50ms", r.Fixture)
	}
	lo, hi := littleCapacity(r.Fixture.DBPool, r.Fixture.DBHoldMS, r.Recommendations.HoldMS)
	if r.Limit.SustainableRPS == nil {
		t.Fatalf("no sustainable rate; want about %.1f–%.1f/s", lo, hi)
	}
	got := *r.Limit.SustainableRPS
	t.Logf("sustainable %g/s against pool/hold = %.1f–%.1f/s; breaking %s", got, lo, hi, fmtRate(r.Limit.BreakingRPS))
	if got < 0.9*lo || got > 1.1*hi {
		t.Errorf("sustainable %g/s, want within 10%% of pool/hold = %.1f–%.1f/s", got, lo, hi)
	}
	if r.Limit.BreakingRPS == nil || *r.Limit.BreakingRPS <= got {
		t.Errorf("breaking point %s: the steps cross the limit, so it should break above %g/s", fmtRate(r.Limit.BreakingRPS), got)
	}
}

// littleCapacity is the truth a capacity figure is checked against, by
// Little's law: pool / hold. The fixture's own hold is the least a login
// holds its connection (its sleep); what the logins measurably held in
// this very run (Server-Timing db in its healthy windows: the sleep, the
// queries, and hashing inside the transaction that a busy machine slows)
// is the most. The truth lies between the two capacities they give, so a
// busy machine moves it instead of failing the check.
func littleCapacity(pool int, holdMS float64, measuredMS *float64) (lo, hi float64) {
	hi = float64(pool) / (holdMS / 1000)
	lo = hi
	if measuredMS != nil && *measuredMS > holdMS {
		lo = float64(pool) / (*measuredMS / 1000)
	}
	return lo, hi
}

func fmtRate(v *float64) string {
	if v == nil {
		return "none"
	}
	return fmt.Sprintf("%g/s", *v)
}
