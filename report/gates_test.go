package report

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/report/reporttest"
)

// withGates analyses reporttest.WithGates.
func withGates(t testing.TB, gates string) *Report {
	t.Helper()
	return analyzeDir(t, reporttest.WithGates(t, gates).Write())
}

// gate finds a check by name.
func gate(t testing.TB, r *Report, name string) Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %s in %+v", name, r.Checks)
	return Check{}
}

// result is "pass", "fail" or "skipped".
func result(c Check) string {
	switch {
	case c.Skipped:
		return "skipped"
	case c.Passed:
		return "pass"
	}
	return "fail"
}

func checkGate(t *testing.T, c Check, want string, detail ...string) {
	t.Helper()
	if got := result(c); got != want {
		t.Errorf("%s: %s, want %s (%s)", c.Name, got, want, c.Detail)
	}
	for _, d := range detail {
		if !strings.Contains(c.Detail, d) {
			t.Errorf("%s detail lacks %q: %s", c.Name, d, c.Detail)
		}
	}
}

func TestGateMinSustainable(t *testing.T) {
	checkGate(t, gate(t, withGates(t, "{min_sustainable_rps: 25}"), "gate.min_sustainable_rps"), "pass",
		"sustainable 30/s", "broke at 40/s", "precision 10/s", "gate ≥ 25/s")
	checkGate(t, gate(t, withGates(t, "{min_sustainable_rps: 45}"), "gate.min_sustainable_rps"), "fail",
		"sustainable 30/s", "gate ≥ 45/s")
	// The clean run holds all it was offered (40/s): it cannot show 100/s.
	b := reporttest.CleanRun(t)
	b.Scenario += "gates: {min_sustainable_rps: 100}\n"
	r := analyzeDir(t, b.Write())
	checkGate(t, gate(t, r, "gate.min_sustainable_rps"), "fail", "sustainable 40/s", "never broke",
		"never offered 100/s in a measured window (highest 40/s)")
	if !r.Failed() || r.Verdict != "fail" {
		t.Errorf("a failed gate should fail the report: Failed %v verdict %s", r.Failed(), r.Verdict)
	}
}

func TestGateMaxP99AtRate(t *testing.T) {
	for _, tc := range []struct {
		gates  string
		want   string
		detail []string
	}{
		// 10 ms up to 30/s; from 40/s the pool wait makes it ~92 ms.
		{"{max_p99: 50ms, max_p99_at_rps: 30}", "pass", []string{"p99 10.0 ms", "150 logins in 5 steady windows at 30/s", "gate ≤ 50ms"}},
		{"{max_p99: 50ms, max_p99_at_rps: 40}", "fail", []string{"p99 92.0 ms", "in 5 steady windows at 40/s", "gate ≤ 50ms"}},
		{"{max_p99: 50ms, max_p99_at_rps: 31}", "pass", []string{"at 30/s"}}, // within 5%
		{"{max_p99: 50ms, max_p99_at_rps: 35}", "fail", []string{"at 40/s (none at 35/s: the nearest rate above)"}},
		{"{max_p99: 50ms, max_p99_at_rps: 100}", "skipped", []string{"never offered 100/s in a steady window (highest 60/s)"}},
		{"{max_p99: 50ms}", "fail", []string{"run p99 92.0 ms over"}},
		{"{max_p99: 100ms}", "pass", []string{"run p99 92.0 ms"}},
		{"{max_p99_at_rps: 30}", "skipped", []string{"without max_p99"}},
	} {
		t.Run(tc.gates, func(t *testing.T) {
			checkGate(t, gate(t, withGates(t, tc.gates), "gate.max_p99"), tc.want, tc.detail...)
		})
	}
}

// The p99 at a rate is of every login in those windows, merged: one slow
// window among five does not make the p99 (the worst window's would).
func TestGateMaxP99AtRateMerged(t *testing.T) {
	const sc = "name: merged\nstages:\n  - constant: {rate: 100, for: 5s}\ngates: {max_p99: 50ms, max_p99_at_rps: 100}\n"
	b := reporttest.New(t, sc)
	p := reporttest.Plan(t, sc)
	b.Stages(p)
	i := 0
	b.Traffic(p, 0, 5, func(at float64) reporttest.Hit {
		i++
		if at >= 2 && at < 3 && i%50 == 0 { // 2 slow logins in one window: its p99
			return reporttest.Hit{Lat: 300 * time.Millisecond}
		}
		return reporttest.Hit{Lat: 10 * time.Millisecond}
	})
	r := analyzeDir(t, b.Write())
	checkGate(t, gate(t, r, "gate.max_p99"), "pass", "p99 10.0 ms", "500 logins in 5 steady windows at 100/s")
	if w := r.Windows[2]; w.P99 < 250*time.Millisecond {
		t.Errorf("window 2 p99 %s: the slow logins should show in it", w.P99)
	}
}

func TestGateMaxErrorRatio(t *testing.T) {
	// From 15s, a fifth of the 40..60/s fail with 53300: 150 of 1050.
	checkGate(t, gate(t, withGates(t, "{max_error_ratio: 0.2}"), "gate.max_error_ratio"), "pass",
		"error ratio 14.29% (150 of 1050", "db 150", "gate ≤ 20.00%")
	checkGate(t, gate(t, withGates(t, "{max_error_ratio: 0.01}"), "gate.max_error_ratio"), "fail",
		"error ratio 14.29%", "gate ≤ 1.00%")
	b := reporttest.CleanRun(t)
	b.Scenario += "gates: {max_error_ratio: 0}\n"
	checkGate(t, gate(t, analyzeDir(t, b.Write()), "gate.max_error_ratio"), "pass", "error ratio 0.00% (0 of 500")
}

func TestGateExpectCause(t *testing.T) {
	checkGate(t, gate(t, withGates(t, "{expect_cause: db.connections}"), "gate.expect_cause"), "pass",
		"detected db.connections (confidence high", "expected db.connections")
	checkGate(t, gate(t, withGates(t, "{expect_cause: network.client}"), "gate.expect_cause"), "fail",
		"detected db.connections", "expected network.client")
	checkGate(t, gate(t, withGates(t, "{expect_cause: db.conections}"), "gate.expect_cause"), "fail",
		`expected "db.conections" is not a cause stampede names`)
	b := reporttest.CleanRun(t)
	b.Scenario += "gates: {expect_cause: db.connections}\n"
	checkGate(t, gate(t, analyzeDir(t, b.Write()), "gate.expect_cause"), "fail", "detected none (nothing degraded)")
	// A drill: the scorecard is named beside the run's cause.
	d := reporttest.DrillRun(t)
	d.Scenario += "gates: {expect_cause: db.connections}\n"
	r := analyzeDir(t, d.Write())
	if c := gate(t, r, "gate.expect_cause"); !strings.Contains(c.Detail, "faults: db.conn_limit → db.connections") {
		t.Errorf("drill: %s", c.Detail)
	}
}

func TestGateMaxRegressionNoBaseline(t *testing.T) {
	checkGate(t, gate(t, withGates(t, "{max_regression_pct: 10}"), "gate.max_regression_pct"), "skipped",
		"no baseline to compare with")
}

func TestGateMaxRegression(t *testing.T) {
	base, err := LoadBaseline(reporttest.RegressRun(t, reporttest.RegressScenario, 1, 1, math.Inf(1)))
	if err != nil {
		t.Fatal(err)
	}
	if s := base.Limit.SustainableRPS; s == nil || *s != 100 || !base.Noise.Known || base.Noise.P99 == 0 {
		t.Fatalf("baseline: sustainable %v, noise %+v", ptrStr(s), base.Noise)
	}
	for _, tc := range []struct {
		name            string
		scenario        string
		scale, breakRPS float64
		want            string
		detail          []string
	}{
		{"p99 +3% inside the noise", reporttest.RegressScenario, 1.03, math.Inf(1), "pass",
			[]string{"run p99 ", "within the noise", "sustainable rate 100/s → 100/s: ±0, noise ±3/s, unchanged"}},
		{"p99 +30% beyond the noise", reporttest.RegressScenario, 1.3, math.Inf(1), "fail",
			[]string{"run p99 ", "REGRESSION beyond the noise", "gate ≤ 1% regression beyond the noise"}},
		{"sustainable −3% inside the stepping precision", reporttest.RegressScenario, 1, 100, "pass",
			[]string{"sustainable rate 100/s → 97/s: −3/s (−3.0%), noise ±3/s, within the noise"}},
		{"sustainable −30% beyond it", reporttest.RegressScenario, 1, 73, "fail",
			[]string{"sustainable rate 100/s → 70/s: −30/s (−30.0%), noise ±3/s, REGRESSION beyond the noise"}},
		{"sustainable −30% under a 50% gate", strings.Replace(reporttest.RegressScenario, "max_regression_pct: 1", "max_regression_pct: 50", 1), 1, 73, "pass",
			[]string{"worse, beyond the noise", "gate ≤ 50% regression"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Analyze(reporttest.RegressRun(t, tc.scenario, 2, tc.scale, tc.breakRPS), Options{Baseline: base})
			if err != nil {
				t.Fatal(err)
			}
			checkGate(t, gate(t, r, "gate.max_regression_pct"), tc.want, tc.detail...)
			if r.Baseline == nil {
				t.Fatal("no Baseline comparison on the report")
			}
		})
	}
}

func TestFailedChecksAndLine(t *testing.T) {
	r := withGates(t, "{min_sustainable_rps: 45, expect_cause: db.connections}")
	if !r.Failed() {
		t.Fatal("not Failed")
	}
	var names []string
	for _, c := range r.FailedChecks() {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "slo.windows slo.success_ratio gate.min_sustainable_rps" {
		t.Errorf("failed checks %s", got)
	}
	line := r.FailureLine()
	if !strings.HasPrefix(line, "gate.min_sustainable_rps: ") {
		t.Errorf("the failed gate should lead the line: %s", line)
	}
	for _, want := range []string{"gate.min_sustainable_rps: sustainable 30/s", "gate ≥ 45/s", "(and slo.windows, slo.success_ratio)", "; cause db.connections"} {
		if !strings.Contains(line, want) {
			t.Errorf("failure line lacks %q: %s", want, line)
		}
	}
	clean := analyzeDir(t, reporttest.CleanRun(t).Write())
	if clean.Failed() || clean.FailureLine() != "" || len(clean.FailedChecks()) != 0 {
		t.Errorf("clean run: Failed %v line %q", clean.Failed(), clean.FailureLine())
	}
}
