package report

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/report/reporttest"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// row finds a comparison row by metric.
func row(t testing.TB, c *Comparison, metric string) Delta {
	t.Helper()
	for _, d := range c.Rows {
		if d.Metric == metric {
			return d
		}
	}
	var have []string
	for _, d := range c.Rows {
		have = append(have, d.Metric)
	}
	t.Fatalf("no row %q in %q", metric, have)
	return Delta{}
}

func analyzeOf(t testing.TB, dir string) *Report {
	t.Helper()
	return analyzeDir(t, dir)
}

// A regressed run against a healthy one: the limit fell from 100/s to
// 70/s, latency rose by 30%, a fifth of logins... every delta with its
// sign and its noise verdict.
func TestCompareRegression(t *testing.T) {
	old := analyzeOf(t, reporttest.RegressRun(t, reporttest.RegressScenario, 1, 1, math.Inf(1)))
	cur := analyzeOf(t, reporttest.RegressRun(t, reporttest.RegressScenario, 2, 1.3, 73))
	c := Compare(old, cur)
	if !c.Regressed {
		t.Error("not Regressed")
	}

	s := row(t, c, "sustainable rate")
	if *s.Old != 100 || *s.New != 70 || *s.Abs != -30 || *s.Pct != -30 || s.Noise != 3 || !s.Beyond ||
		s.Change != "worse" || !s.Regression || !s.Gating {
		t.Errorf("sustainable: %+v", s)
	}
	if got := s.DeltaText(); got != "−30/s (−30.0%)" {
		t.Errorf("sustainable delta text %q", got)
	}
	b := row(t, c, "breaking point")
	if b.Old != nil || *b.New != 73 || b.Change != "worse" || !b.Beyond || b.Gating || b.DeltaText() != "never → 73/s" {
		t.Errorf("breaking: %+v %q", b, b.DeltaText())
	}
	g := row(t, c, "max goodput")
	if *g.Old != 100 || *g.New != 70 || *g.Abs != -30 || !g.Beyond || g.Change != "worse" || g.Regression {
		t.Errorf("max goodput: %+v", g)
	}
	p99 := row(t, c, "run p99")
	if *p99.Abs < 4 || *p99.Pct < 20 || *p99.Pct > 40 || !p99.Beyond || !p99.Regression || !strings.HasPrefix(p99.DeltaText(), "+") {
		t.Errorf("p99: %+v %q", p99, p99.DeltaText())
	}
	if p99.Noise < 1.5 || p99.Noise > 6 || !strings.Contains(p99.NoiseBasis, "3× σ of window p99") {
		t.Errorf("p99 noise %g (%s): want 3σ of a ~0.9 ms jitter", p99.Noise, p99.NoiseBasis)
	}
	st := row(t, c, "stage 1 steps 1 p99")
	if !st.Beyond || st.Change != "worse" || st.Regression {
		t.Errorf("stage p99: %+v (stage rows do not gate)", st)
	}
	e := row(t, c, "db")
	if *e.Old != 0 || *e.New < 20 || !e.Beyond || e.Change != "worse" || !strings.Contains(e.NewText, "(") {
		t.Errorf("db errors: %+v", e)
	}
	if ca := row(t, c, "cause"); ca.OldText != CauseNone || ca.NewText != CauseDBConnections || ca.Change != "worse" {
		t.Errorf("cause: %+v", ca)
	}
	var regs []string
	for _, d := range c.Regressions() {
		regs = append(regs, d.Metric)
	}
	if strings.Join(regs, ",") != "sustainable rate,run p99" {
		t.Errorf("regressions %v", regs)
	}
}

// Two runs of the same service (other jitter): nothing beyond the noise.
func TestCompareWithinNoise(t *testing.T) {
	old := analyzeOf(t, reporttest.RegressRun(t, reporttest.RegressScenario, 1, 1, math.Inf(1)))
	cur := analyzeOf(t, reporttest.RegressRun(t, reporttest.RegressScenario, 3, 1.03, math.Inf(1)))
	c := Compare(old, cur)
	if c.Regressed {
		t.Errorf("Regressed on noise: %+v", c.Regressions())
	}
	for _, d := range c.Rows {
		if d.Beyond {
			t.Errorf("%s beyond the noise: %s (noise %s)", d.Metric, d.DeltaText(), d.NoiseText())
		}
	}
	if p := row(t, c, "run p99"); p.Change != "within noise" || *p.Abs <= 0 {
		t.Errorf("p99 +3%%: %+v", p)
	}
	if len(c.Notes) != 0 {
		t.Errorf("notes %q", c.Notes)
	}
}

// Better is not a regression.
func TestCompareImprovement(t *testing.T) {
	old := analyzeOf(t, reporttest.RegressRun(t, reporttest.RegressScenario, 1, 1.3, 73))
	cur := analyzeOf(t, reporttest.RegressRun(t, reporttest.RegressScenario, 2, 1, math.Inf(1)))
	c := Compare(old, cur)
	if c.Regressed {
		t.Errorf("Regressed: %+v", c.Regressions())
	}
	for _, m := range []string{"sustainable rate", "run p99", "breaking point", "cause"} {
		if d := row(t, c, m); d.Change != "better" || !d.Beyond {
			t.Errorf("%s: %s, want better beyond the noise", m, d.Change)
		}
	}
}

// The floors: constant latencies have no noise; then 1% of the value is
// the yardstick, and the notes say nothing of unknown noise (16 pairs).
func TestCompareFloorsAndPlanNotes(t *testing.T) {
	old := analyzeDir(t, reporttest.CleanRun(t).Write())
	cur := analyzeDir(t, reporttest.DBCapRun(t).Write())
	c := Compare(old, cur)
	if p := row(t, c, "run p99"); !strings.HasPrefix(p.NoiseBasis, "floor") {
		t.Errorf("p99 noise basis %q", p.NoiseBasis)
	}
	joined := strings.Join(c.Notes, "\n")
	for _, want := range []string{"the plans differ", "stage 1: steps 10/s→40/s for 20s vs steps 10/s→60/s for 30s"} {
		if !strings.Contains(joined, want) {
			t.Errorf("notes lack %q:\n%s", want, joined)
		}
	}
	if !strings.Contains(row(t, c, "stage 1 climb/steps 1 p99").Metric, "climb/steps 1") {
		t.Error("renamed stage not labelled with both names")
	}
	// A single constant rate: no stepping precision, so any change of the limit counts.
	const sc = "stages:\n  - constant: {rate: 20, for: 5s}\n"
	one := func(fail bool) *Report {
		b := reporttest.New(t, sc)
		p := reporttest.Plan(t, sc)
		b.Stages(p)
		b.Traffic(p, 0, 5, func(float64) reporttest.Hit {
			if fail {
				return reporttest.Hit{Lat: time.Second, Outcome: rundir.OutcomeFailed, Class: "client_timeout"}
			}
			return reporttest.Hit{Lat: 5 * time.Millisecond}
		})
		return analyzeDir(t, b.Write())
	}
	c = Compare(one(false), one(true))
	s := row(t, c, "sustainable rate")
	if s.NewText != "none" || s.New != nil || *s.Abs != -20 || *s.Pct != -100 || !s.Regression ||
		!strings.Contains(s.NoiseBasis, "any change counts") {
		t.Errorf("sustainable lost: %+v", s)
	}
	if !strings.Contains(strings.Join(c.Notes, " "), "noise is unknown") {
		t.Errorf("notes %q: a 5-window run with no quiet window has unknown noise", c.Notes)
	}
}

func TestLoadBaselineErrors(t *testing.T) {
	tmp := t.TempDir()
	notReport := filepath.Join(tmp, "other.json")
	_ = os.WriteFile(notReport, []byte(`{"name":"x"}`), 0o644)
	broken := filepath.Join(tmp, "broken.json")
	_ = os.WriteFile(broken, []byte(`{"limit":`), 0o644)
	for _, p := range []string{filepath.Join(tmp, "missing"), t.TempDir(), notReport, broken} {
		if _, err := LoadBaseline(p); err == nil {
			t.Errorf("LoadBaseline(%s): no error", p)
		}
	}
}
