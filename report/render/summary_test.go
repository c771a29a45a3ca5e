package render

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/reporttest"
)

// allGates is reporttest.SteppedScenario's run with every gate: two pass, two fail,
// the regression gate is skipped (no baseline).
const allGates = "{min_sustainable_rps: 45, max_p99: 50ms, max_p99_at_rps: 30, max_error_ratio: 0.01, max_regression_pct: 10, expect_cause: db.connections}"

func TestJUnitOneCasePerGate(t *testing.T) {
	r := withGates(t, allGates)
	doc := junitOf(t, r)
	s := doc.Suites[0]
	gates := map[string]junitCase{}
	for _, c := range s.Cases {
		if c.Classname == "stampede.gate" {
			if _, dup := gates[c.Name]; dup {
				t.Errorf("two testcases for %s", c.Name)
			}
			gates[c.Name] = c
		}
	}
	want := map[string]struct {
		result, message string
	}{
		"gate.min_sustainable_rps": {"fail", "sustainable 30/s (broke at 40/s, precision 10/s); gate ≥ 45/s"},
		"gate.max_p99":             {"pass", ""},
		"gate.max_error_ratio":     {"fail", "error ratio 14.29% (150 of 1050"},
		"gate.max_regression_pct":  {"skipped", "no baseline to compare with"},
		"gate.expect_cause":        {"pass", ""},
	}
	if len(gates) != len(want) {
		t.Errorf("%d gate testcases, want %d", len(gates), len(want))
	}
	for name, w := range want {
		c, ok := gates[name]
		switch {
		case !ok:
			t.Errorf("no testcase %s", name)
		case w.result == "fail" && (c.Failure == nil || !strings.Contains(c.Failure.Message, w.message) || c.Failure.Type != "gate"):
			t.Errorf("%s: failure %+v, want message with %q", name, c.Failure, w.message)
		case w.result == "skipped" && (c.Skipped == nil || c.Failure != nil || !strings.Contains(c.Skipped.Message, w.message)):
			t.Errorf("%s: skipped %+v failure %+v", name, c.Skipped, c.Failure)
		case w.result == "pass" && (c.Failure != nil || c.Skipped != nil || c.SystemOut == ""):
			t.Errorf("%s: should pass with its figures in system-out: %+v", name, c)
		}
	}
	// 3 SLO checks + 5 gates; failures: 2 SLO + 2 gates; 1 skipped.
	if s.Tests != 8 || s.Failures != 4 || s.Skipped != 1 || doc.Tests != 8 || doc.Failures != 4 || doc.Skipped != 1 {
		t.Errorf("tests %d failures %d skipped %d", s.Tests, s.Failures, s.Skipped)
	}
}

func TestStepSummaryAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "step_summary.md")
	if err := os.WriteFile(path, []byte("## earlier step\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := withGates(t, allGates)
	if err := AppendStepSummary(path, r, nil); err != nil {
		t.Fatal(err)
	}
	base := analyzeDir(t, reporttest.RegressRun(t, reporttest.RegressScenario, 1, 1, math.Inf(1)))
	cur, err := report.Analyze(reporttest.RegressRun(t, reporttest.RegressScenario, 2, 1.3, 73), report.Options{Baseline: base})
	if err != nil {
		t.Fatal(err)
	}
	if err := AppendStepSummary(path, cur, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	if !strings.HasPrefix(md, "## earlier step\n\n### stampede: test: FAIL\n") {
		t.Errorf("not appended after the earlier step:\n%s", md)
	}
	if n := strings.Count(md, "### stampede: test: FAIL"); n != 2 {
		t.Errorf("%d summaries, want 2", n)
	}
	for _, want := range []string{
		"**FAIL gate.min_sustainable_rps: sustainable 30/s",
		"; cause db.connections**",
		"| sustainable | 30/s |", "| breaking point | 40/s |", "| max goodput | 48/s |",
		"**Cause:** `db.connections` (confidence high)",
		"| gate.min_sustainable_rps | **FAIL** | sustainable 30/s",
		"| gate.max_p99 | pass | p99 10.0 ms",
		"| gate.max_regression_pct | skipped | no baseline",
		"#### Against the baseline",
		"| sustainable rate | 100/s | 70/s | −30/s (−30.0%) | ±3/s | **REGRESSION** |",
		"Regression beyond the noise: sustainable rate",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	// The first summary had no baseline: one comparison only.
	if n := strings.Count(md, "#### Against the baseline"); n != 1 {
		t.Errorf("%d comparisons, want 1", n)
	}
	// An explicit comparison is used when the report has none.
	var buf bytes.Buffer
	if err := WriteStepSummary(&buf, r, report.Compare(base, r)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "#### Against the baseline") {
		t.Error("explicit comparison not written")
	}
	if err := AppendStepSummary(filepath.Join(t.TempDir(), "no", "such", "dir"), r, nil); err == nil {
		t.Error("no error for an unwritable path")
	}
}
