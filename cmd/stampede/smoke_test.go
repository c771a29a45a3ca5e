package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// wrongPathScenario writes a scenario whose login.path the target does not
// serve, with a credentials file, and returns its path.
func wrongPathScenario(t *testing.T, target string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte("username,password\nalice,s3cret-pw\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "wrong.yaml")
	if err := os.WriteFile(p, []byte("target: "+target+`
login:
  path: /tokn?grant_type=password
  success: {status: [200], json_field: access_token}
credentials: {file: users.csv, wrong_password: 0.05}
stages:
  - ramp: {from: 5, to: 50, for: 50s}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// countingNotFound answers 404 to everything and counts the requests.
func countingNotFound(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// TestRunWrongPathStopsAfterOneRequest: the smoke login meets a 404, the
// run stops with exit 3 after that one request, naming it and the fix;
// nothing is recorded.
func TestRunWrongPathStopsAfterOneRequest(t *testing.T) {
	srv, hits := countingNotFound(t)
	sc := wrongPathScenario(t, srv.URL)
	out := filepath.Join(t.TempDir(), "run")
	e, _, stderr := testEnv(nil)
	err := runMain(context.Background(), e, []string{"run", sc, "--out", out, "--quiet"})
	if code := exitCode(err); code != exitInfra {
		t.Fatalf("exit %d (%v), want %d\n%s", code, err, exitInfra, stderr)
	}
	msg := err.Error()
	t.Logf("message:\n%s", msg)
	for _, want := range []string{"smoke login failed", "POST " + srv.URL + "/tokn?grant_type=password",
		"answered 404 Not Found", `body: "404 page not found\n"`, "likely fix:", "login.path", "no fault was injected"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q", want)
		}
	}
	if strings.Contains(msg, "s3cret-pw") {
		t.Error("message shows the password")
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d requests reached the target, want 1", n)
	}
	if _, err := os.Stat(filepath.Join(out, "results.bin")); err == nil {
		t.Error("a results file was written: the run started")
	}
}

// TestValidateTargetSmoke: validate --target sends the smoke login and exits
// 3 on a wrong path; without --target nothing is sent.
func TestValidateTargetSmoke(t *testing.T) {
	srv, hits := countingNotFound(t)
	sc := wrongPathScenario(t, srv.URL)
	if _, _, code := runCLI(t, "validate", sc); code != exitOK || hits.Load() != 0 {
		t.Fatalf("validate without --target: exit %d, %d requests", code, hits.Load())
	}
	_, out, code := runCLIErr(t, "validate", sc, "--target", srv.URL)
	if code != exitInfra || !strings.Contains(out, "answered 404 Not Found") {
		t.Errorf("validate --target: exit %d, want %d with the smoke message:\n%s", code, exitInfra, out)
	}
	if hits.Load() != 1 {
		t.Errorf("%d requests, want 1", hits.Load())
	}
}

// TestRunWrongPathSkipSmokeReportsRequestProblem: with --skip-smoke the
// run goes ahead; the report then says the request is wrong, not the
// capacity, and the exit code is 3.
func TestRunWrongPathSkipSmokeReportsRequestProblem(t *testing.T) {
	srv, _ := countingNotFound(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "users.csv"), []byte("alice,pw-alice\n"), 0o644)
	sc := filepath.Join(dir, "s.yaml")
	os.WriteFile(sc, []byte("target: "+srv.URL+"\nlogin: {path: /tokn}\ncredentials: {file: users.csv}\nstages:\n  - ramp: {from: 5, to: 20, for: 3s}\n"), 0o644)
	e, stdout, stderr := testEnv(nil)
	err := runMain(context.Background(), e, []string{"run", sc, "--out", filepath.Join(dir, "run"), "--quiet", "--skip-smoke"})
	if code := exitCode(err); code != exitInfra {
		t.Fatalf("exit %d (%v), want %d\n%s", code, err, exitInfra, stderr)
	}
	const msg = "every login was rejected with 404 from the start: the request is wrong, not the capacity"
	if !strings.Contains(err.Error(), msg) || !strings.Contains(stdout.String(), "REQUEST PROBLEM: "+msg) {
		t.Errorf("error %v, stdout:\n%s\nwant %q", err, stdout, msg)
	}
}
