package main

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/scenarios/engine"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

func TestFindLimitUsage(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.yaml")
	os.WriteFile(small, []byte("stages:\n  - constant: {rate: 5, for: 1s}\nsearch: {budget: 5s}\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no scenario", []string{"find-limit"}, "find-limit needs exactly one SCENARIO"},
		{"precision 1", []string{"find-limit", "smoke", "--precision", "1"}, "--precision must be within (0, 1)"},
		{"negative from", []string{"find-limit", "smoke", "--from", "-3"}, "--from must be above 0"},
		{"scaled", []string{"find-limit", "smoke", "--scale", "0.5"}, "a search cannot be scaled"},
		{"above the safety cap", []string{"find-limit", "smoke", "--max-rate", "9000"}, "above max_rate (5000/s), the safety cap"},
		{"no room in the budget", []string{"find-limit", small}, "no room for the first trial at 5/s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "run-"+strings.ReplaceAll(tc.name, " ", "-"))
			e, _, _ := testEnv(nil)
			err := runMain(context.Background(), e, append(tc.args, "--out", out))
			if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v (exit %d), want exit 2 saying %q", err, exitCode(err), tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Error("a run directory was created for a usage error")
			}
		})
	}
}

// TestFindLimitAgainstFixture searches the bundled fixture whose database
// pool caps it at pool/hold = 5/50ms = 100 logins/s (a little less in
// truth: each login holds its connection for the 50ms sleep plus its
// queries). Criterion: the bracket is within the precision asked (5%),
// the rate it calls sustainable is at most 5% above pool/hold
// (lo <= 105), and the rate it calls broken is at least 90% of it
// (hi >= 90: 10% allows for the per-login overhead and a busy 2-core
// machine). The bracket's upper end failed twice: the search's last trial
// confirms it. About a minute: fixture start, then ~8 trials of ~5s.
func TestFindLimitAgainstFixture(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute against the bundled fixture")
	}
	out := filepath.Join(t.TempDir(), "run")
	e, stdout, stderr := testEnv(nil)
	err := runMain(context.Background(), e, []string{"find-limit", "find-limit", "--out", out, "--quiet", "--seed", "1",
		"--fixture-db-pool", "5", "--fixture-db-hold", "50ms"})
	if err != nil {
		t.Fatalf("find-limit: %v (exit %d)\n%s\n%s", err, exitCode(err), stderr, stdout)
	}
	b, err := os.ReadFile(filepath.Join(out, rundir.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Fixture struct {
			DBPool   int     `json:"db_pool"`
			DBHoldMS float64 `json:"db_hold_ms"`
		} `json:"fixture"`
		Recommendations struct {
			HoldMS *float64 `json:"hold_ms"`
		} `json:"recommendations"`
		Search struct {
			Lo        *float64         `json:"lo_rps"`
			Hi        *float64         `json:"hi_rps"`
			Precision *float64         `json:"precision"`
			Reason    string           `json:"reason"`
			Trials    []map[string]any `json:"trials"`
		} `json:"search"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	s := j.Search
	if s.Lo == nil || s.Hi == nil || s.Precision == nil {
		t.Fatalf("no bracket in report.json:\n%s", stdout)
	}
	if j.Fixture.DBPool != 5 || j.Fixture.DBHoldMS != 50 {
		t.Fatalf("fixture pool %d, hold %gms: want 5 and 50", j.Fixture.DBPool, j.Fixture.DBHoldMS)
	}
	lo, hi := littleCapacity(j.Fixture.DBPool, j.Fixture.DBHoldMS, j.Recommendations.HoldMS)
	t.Logf("pool/hold %.1f–%.1f/s (hold measured %v ms): sustainable ≥ %.1f/s, broken at %.1f/s (%.1f%%, %d trials, %s)", lo, hi, deref(j.Recommendations.HoldMS), *s.Lo, *s.Hi,
		100**s.Precision, len(s.Trials), s.Reason)
	// sustainable at most 5% above the highest truth; broken at least at 90%
	// of the lowest (the per-login overhead beyond the hold).
	if *s.Lo > 1.05*hi || *s.Hi < 0.90*lo {
		t.Errorf("bracket [%.1f, %.1f] is not within 5%% of pool/hold %.1f–%.1f/s (lo <= %.1f, hi >= %.1f)", *s.Lo, *s.Hi, lo, hi, 1.05*hi, 0.9*lo)
	}
	if s.Reason == engine.SearchPrecision && *s.Precision > 0.05+1e-9 {
		t.Errorf("stopped for precision at %.3f, above 0.05", *s.Precision)
	}
	if last := s.Trials[len(s.Trials)-1]; s.Reason == engine.SearchPrecision && (last["phase"] != "confirm" || last["slo_met"] != false || math.Abs(last["rate_rps"].(float64)-*s.Hi) > 0.01) {
		t.Errorf("the search ended on a trial other than the confirmation of its upper end %g/s: %v", *s.Hi, last)
	}
	if !strings.Contains(stdout.String(), "limit: sustainable ≥ ") || !strings.Contains(stdout.String(), "\nSearch\n") {
		t.Errorf("stdout lacks the trial table or the bracket:\n%s", stdout)
	}
}

// TestRunAbortExit1: a run stopped by its abort rule reached its breaking
// point: exit 1 (the SLO failed), not 3 or 130, with the report written.
func TestRunAbortExit1(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"db_unavailable"}`, http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "creds.csv"), []byte("username,password\nu,p\n"), 0o644)
	p := filepath.Join(dir, "s.yaml")
	os.WriteFile(p, []byte("target: "+srv.URL+"\ncredentials: {file: creds.csv}\nabort: {after: 2s}\nstages:\n  - constant: {rate: 20, for: 60s}\n"), 0o644)
	out := filepath.Join(dir, "run")
	e, stdout, _ := testEnv(nil)
	// --skip-smoke: the target fails every login on purpose, and this test
	// is about the abort rule, not the smoke login.
	err := runMain(context.Background(), e, []string{"run", p, "--out", out, "--quiet", "--skip-smoke"})
	if exitCode(err) != exitGateFailed {
		t.Fatalf("err = %v (exit %d), want 1\n%s", err, exitCode(err), stdout)
	}
	b, err := os.ReadFile(filepath.Join(out, rundir.JSONFile))
	if err != nil || !strings.Contains(string(b), `"status": "aborted"`) {
		t.Errorf("report.json (%v) does not say aborted", err)
	}
	if !strings.Contains(stdout.String(), "aborted at ") {
		t.Errorf("the report does not say why the run stopped:\n%s", stdout)
	}
}

func deref(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}
