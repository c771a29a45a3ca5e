package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// BenchmarkFindLimitVsSteps measures how long an adaptive search takes to
// bracket the bundled fixture's limit (pool 5, hold 50ms: about 100/s)
// within 5%, against a stepped ramp from the same rate that reaches the
// same precision: steps of 5/s (5% of the limit), each held as long as a
// trial (2s warmup + 3s hold), stopped by abort: {after: 2s} once it broke.
// Both use the same SLO (p99 <= 150ms). It reports each run's time (from
// its report, fixture start excluded), their ratio, and what each found;
// it asserts nothing.
func BenchmarkFindLimitVsSteps(b *testing.B) {
	for _, from := range []int{50, 20} {
		b.Run(fmt.Sprintf("from=%d", from), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				dir := b.TempDir()
				search := benchRun(b, dir, "search", fmt.Sprintf(`mode: search
fixture: {db_pool: 5, db_hold: 50ms}
stages:
  - constant: {rate: %d, for: 5s}
search: {from: %d, precision: 0.05, budget: 3m}
slo: {success_ratio: 0.99, percentile: 99, latency: 150ms}
`, from, from))
				steps := benchRun(b, dir, "steps", fmt.Sprintf(`fixture: {db_pool: 5, db_hold: 50ms}
stages:
  - steps: {from: %d, to: 200, step: 5, hold: 5s}
abort: {after: 2s}
slo: {success_ratio: 0.99, percentile: 99, latency: 150ms}
`, from))
				b.ReportMetric(search.elapsed, "search_s")
				b.ReportMetric(steps.elapsed, "steps_s")
				b.ReportMetric(search.elapsed/steps.elapsed, "search/steps")
				b.Logf("from %d/s, pool/hold 100/s: search %.1fs, bracket [%s, %s] (%d trials); stepped ramp %.1fs, sustainable %s, broken at %s (%s)",
					from, search.elapsed, rps(search.lo), rps(search.hi), search.trials, steps.elapsed, rps(steps.lo), rps(steps.hi), steps.status)
			}
		})
	}
}

type benchFigures struct {
	elapsed float64
	lo, hi  *float64
	trials  int
	status  string
}

// benchRun runs one scenario against the bundled fixture and reads its
// report.json.
func benchRun(b *testing.B, dir, name, yaml string) benchFigures {
	b.Helper()
	p := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(dir, name)
	e, stdout, stderr := testEnv(nil)
	err := runMain(context.Background(), e, []string{"run", p, "--out", out, "--quiet", "--seed", "1"})
	if c := exitCode(err); c != exitOK && c != exitGateFailed {
		b.Fatalf("%s: %v (exit %d)\n%s\n%s", name, err, c, stderr, stdout)
	}
	raw, err := os.ReadFile(filepath.Join(out, rundir.JSONFile))
	if err != nil {
		b.Fatal(err)
	}
	var j struct {
		Status   string  `json:"status"`
		ElapsedS float64 `json:"elapsed_s"`
		Limit    struct {
			Sustainable *float64 `json:"sustainable_rps"`
			Breaking    *float64 `json:"breaking_rps"`
		} `json:"limit"`
		Search *struct {
			Trials []json.RawMessage `json:"trials"`
		} `json:"search"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		b.Fatal(err)
	}
	f := benchFigures{elapsed: j.ElapsedS, lo: j.Limit.Sustainable, hi: j.Limit.Breaking, status: j.Status}
	if j.Search != nil {
		f.trials = len(j.Search.Trials)
	}
	return f
}

func rps(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f/s", *v)
}
