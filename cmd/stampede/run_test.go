package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func testEnv(sig chan os.Signal) (*env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &env{stdout: &out, stderr: &errb, signals: sig, getenv: func(string) string { return "" }}, &out, &errb
}

func decodeResults(t *testing.T, dir string) []vegeta.Result {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, rundir.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	var rs []vegeta.Result
	for {
		var r vegeta.Result
		if dec.Decode(&r) != nil {
			return rs
		}
		rs = append(rs, r)
	}
}

// TestRunCredentialMixAgainstFixture runs a scenario with wrong passwords
// and unknown users against the bundled fixture: their share of 401s is the
// configured one, and they count as expected, not as failures.
func TestRunCredentialMixAgainstFixture(t *testing.T) {
	dir := t.TempDir()
	sc := filepath.Join(dir, "mix.yaml")
	os.WriteFile(sc, []byte(`credentials:
  wrong_password: 0.2
  unknown_user: 0.1
fixture:
  users: 200
stages:
  - constant: {rate: 100, for: 3s}
`), 0o644)
	out := filepath.Join(dir, "run")
	e, stdout, stderr := testEnv(nil)
	if err := runMain(context.Background(), e, []string{"run", sc, "--out", out, "--quiet", "--seed", "3"}); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	rs := decodeResults(t, out)
	var n401, failed int
	for _, r := range rs {
		if r.Code == 401 {
			n401++
		}
		if r.Headers.Get(rundir.HeaderOutcome) == string(rundir.OutcomeFailed) {
			failed++
		}
	}
	share := float64(n401) / float64(len(rs))
	if len(rs) < 250 || math.Abs(share-0.3) > 0.06 {
		t.Errorf("%d results, 401 share %.3f: want ~300 and 0.30±0.06", len(rs), share)
	}
	if failed != 0 {
		t.Errorf("%d failed outcomes, want 0", failed)
	}
	if !strings.Contains(stdout.String(), "100.00%") {
		t.Errorf("summary should show 100%% success (expected 401s are not errors):\n%s", stdout)
	}
	// Nothing secret in the run directory: no DSN and no seeded password.
	filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		for _, secret := range []string{"postgres://", "pw-0"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s contains %q", p, secret)
			}
		}
		return nil
	})
}

func TestRunRefusesRemoteTarget(t *testing.T) {
	e, _, _ := testEnv(nil)
	err := runMain(context.Background(), e, []string{"run", "smoke", "--target", "http://192.0.2.1:8080", "--out", t.TempDir()})
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "allow-remote") {
		t.Fatalf("err = %v (exit %d), want exit 2 naming --allow-remote", err, exitCode(err))
	}
}

func TestRunInvalidScenarioExit2(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.yaml")
	os.WriteFile(p, []byte("stages:\n  - constant: {rate: -5, for: 10s}\n"), 0o644)
	out := filepath.Join(dir, "run")
	e, _, _ := testEnv(nil)
	err := runMain(context.Background(), e, []string{"run", p, "--out", out})
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "bad.yaml:2:") {
		t.Fatalf("err = %v (exit %d), want exit 2 with file:line", err, exitCode(err))
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a run directory was created for an invalid scenario")
	}
}

func TestRunUnreachableTargetExit3(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "creds.csv"), []byte("username,password\nu,p\n"), 0o644)
	p := filepath.Join(dir, "s.yaml")
	os.WriteFile(p, []byte("target: http://127.0.0.1:1\ncredentials: {file: creds.csv}\nstages:\n  - constant: {rate: 5, for: 1s}\n"), 0o644)
	e, _, _ := testEnv(nil)
	err := runMain(context.Background(), e, []string{"run", p, "--out", filepath.Join(dir, "run")})
	if exitCode(err) != exitInfra {
		t.Fatalf("err = %v (exit %d), want exit 3", err, exitCode(err))
	}
}

func TestRunInterruptedExit130(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "long.yaml")
	os.WriteFile(p, []byte("fixture: {users: 50}\nstages:\n  - constant: {rate: 20, for: 60s}\n"), 0o644)
	sig := make(chan os.Signal, 2)
	e, _, stderr := testEnv(sig)
	out := filepath.Join(dir, "run")
	go func() {
		// Signal once traffic is flowing.
		for i := 0; i < 600; i++ {
			if st, err := os.Stat(filepath.Join(out, rundir.ResultsFile)); err == nil && st.Size() > 0 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		sig <- syscall.SIGINT
	}()
	err := runMain(context.Background(), e, []string{"run", p, "--out", out, "--quiet"})
	if exitCode(err) != exitInterrupted {
		t.Fatalf("err = %v (exit %d), want 130\n%s", err, exitCode(err), stderr)
	}
	b, _ := os.ReadFile(filepath.Join(out, rundir.ManifestFile))
	if !bytes.Contains(b, []byte(`"status": "interrupted"`)) {
		t.Errorf("manifest does not say interrupted:\n%s", b)
	}
}

// A run directory holds one run: a second run into it is refused before
// anything starts.
func TestRunRefusesUsedRunDirectory(t *testing.T) {
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, rundir.ResultsFile), []byte{}, 0o644)
	e, _, _ := testEnv(nil)
	err := runMain(context.Background(), e, []string{"run", "smoke", "--out", out})
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "already holds a run") {
		t.Fatalf("err = %v (exit %d), want exit 2: the directory already holds a run", err, exitCode(err))
	}
}
