package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/report/reporttest"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// writeCompareRun writes a run by hand: steps 10..40/s by 10, 3 s each;
// every login takes lat plus a small per-second wobble; from failFrom/s on,
// half of them fail with a database error.
func writeCompareRun(t *testing.T, lat time.Duration, failFrom float64) string {
	t.Helper()
	const sc = "name: cmp\nstages:\n  - steps: {from: 10, to: 40, step: 10, hold: 3s}\n"
	b := reporttest.New(t, sc)
	b.Manifest["scenario"], b.Manifest["seed"] = "cmp", 1
	p := reporttest.Plan(t, sc)
	i := 0
	b.Traffic(p, 0, 12, func(at float64) reporttest.Hit {
		i++
		h := reporttest.Hit{Lat: lat + time.Duration(int(at)%3)*200*time.Microsecond}
		if p.Rate(rundir.Secs(at)) >= failFrom && i%2 == 0 {
			h.Outcome, h.Code, h.Body = rundir.OutcomeFailed, 503, `{"error":"db_unavailable","sqlstate":"53300"}`
		}
		return h
	})
	return b.Write()
}

func runCompareCLI(t *testing.T, getenv func(string) string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	e := &env{stdout: &out, stderr: &errb, getenv: getenv}
	err := runMain(context.Background(), e, append([]string{"compare"}, args...))
	if err != nil {
		fmt.Fprintln(&errb, err)
	}
	return out.String(), errb.String(), exitCode(err)
}

func TestCompareCommandExitCodes(t *testing.T) {
	never := 1e9
	healthy := writeCompareRun(t, 10*time.Millisecond, never)
	again := writeCompareRun(t, 10*time.Millisecond, never)
	slower := writeCompareRun(t, 30*time.Millisecond, never)
	broken := writeCompareRun(t, 10*time.Millisecond, 30)

	// report.json as either side: write it with 'stampede report'.
	if _, errOut, code := runReportCLI(t, healthy); code != exitOK {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	healthyJSON := filepath.Join(healthy, rundir.JSONFile)

	for _, tc := range []struct {
		name     string
		old, new string
		want     int
		out, err string
	}{
		{"same service", healthy, again, exitOK, "No regression beyond the noise", ""},
		{"report.json against its run", healthyJSON, healthy, exitOK, "No regression beyond the noise", ""},
		{"p99 tripled", healthy, slower, exitGateFailed, "REGRESSION", "regression beyond the noise: run p99 10.4 ms → 30.4 ms"},
		{"limit fell from 40/s to 20/s", healthyJSON, broken, exitGateFailed, "−20/s (−50.0%)", "regression beyond the noise: sustainable rate 40/s → 20/s: −20/s (−50.0%), noise ±10/s"},
		{"better is not a regression", broken, healthy, exitOK, "better", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCompareCLI(t, nil, tc.old, tc.new)
			if code != tc.want {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.want, out, errOut)
			}
			if !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
				t.Errorf("stdout lacks %q or stderr lacks %q:\n%s\n%s", tc.out, tc.err, out, errOut)
			}
			if !strings.Contains(out, "old: "+tc.old) {
				t.Errorf("the table should name OLD as given:\n%s", out)
			}
		})
	}
}

func TestCompareCommandBadInput(t *testing.T) {
	run := writeCompareRun(t, 10*time.Millisecond, 1e9)
	notReport := filepath.Join(t.TempDir(), "x.json")
	if err := os.WriteFile(notReport, []byte(`{"hello":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		nil,
		{run},
		{run, run, run},
		{run, filepath.Join(t.TempDir(), "missing")},
		{t.TempDir(), run}, // an empty directory
		{notReport, run},
		{run, run, "--format", "pdf"},
		{run, run, "--no-such-flag"},
	} {
		if out, errOut, code := runCompareCLI(t, nil, args...); code != exitUsage {
			t.Errorf("compare %q: exit %d, want %d\n%s%s", args, code, exitUsage, out, errOut)
		}
	}
	if _, _, code := runCompareCLI(t, nil, "--help"); code != exitOK {
		t.Errorf("--help: exit %d", code)
	}
}

func TestCompareCommandFormats(t *testing.T) {
	old := writeCompareRun(t, 10*time.Millisecond, 1e9)
	cur := writeCompareRun(t, 10*time.Millisecond, 30)

	out, errOut, code := runCompareCLI(t, nil, old, cur, "--format", "json")
	if code != exitGateFailed {
		t.Fatalf("json: exit %d: %s", code, errOut)
	}
	var j struct {
		Regressed bool `json:"regressed"`
		Rows      []struct {
			Metric string   `json:"metric"`
			Delta  *float64 `json:"delta"`
			Pct    *float64 `json:"delta_pct"`
			Beyond bool     `json:"beyond_noise"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("--format json is not JSON only: %v\n%s", err, out)
	}
	if !j.Regressed || j.Rows[0].Metric != "sustainable rate" || *j.Rows[0].Delta != -20 || *j.Rows[0].Pct != -50 || !j.Rows[0].Beyond {
		t.Errorf("json rows: %s", out)
	}

	out, _, _ = runCompareCLI(t, nil, old, cur, "--format", "markdown")
	if !strings.Contains(out, "| metric | old | new | change | noise | verdict |") || !strings.Contains(out, "**REGRESSION**") {
		t.Errorf("markdown:\n%s", out)
	}
}

func TestCompareCommandStepSummary(t *testing.T) {
	old := writeCompareRun(t, 10*time.Millisecond, 1e9)
	cur := writeCompareRun(t, 10*time.Millisecond, 30)
	summary := filepath.Join(t.TempDir(), "summary.md")
	if err := os.WriteFile(summary, []byte("before\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == "GITHUB_STEP_SUMMARY" {
			return summary
		}
		return ""
	}
	if _, errOut, code := runCompareCLI(t, getenv, old, cur); code != exitGateFailed {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	if !strings.HasPrefix(md, "before\n### stampede: cmp: FAIL") || !strings.Contains(md, "#### Against the baseline") ||
		!strings.Contains(md, "old: "+old) {
		t.Errorf("step summary:\n%s", md)
	}
}
