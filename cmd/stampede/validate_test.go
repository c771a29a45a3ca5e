package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runCLI runs the CLI in-process with its output captured.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	err := runMain(context.Background(), e, args)
	return out.String(), errb.String(), exitCode(err)
}

func TestValidateExamples(t *testing.T) {
	out, _, code := runCLI(t, "validate", "smoke", "surge", "steps", "ci-gate")
	if code != exitOK {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	for _, want := range []string{
		"ok  embedded:smoke  (1 stage, 5s total, peak 20/s)\n",
		"ok  embedded:surge  (4 stages, 1m total, peak 150/s)\n",
		"ok  embedded:steps  (1 stage, 40s total, peak 200/s)\n",
		"ok  embedded:ci-gate  (2 stages, 15s total, peak 60/s)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestValidateInvalidFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte("stages:\n  - ramp: {from: 10, to: 90, for: 1m30s}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("stages:\n  - constant: {rate: 5, for: 10}\nslo: {sucess_ratio: 0.9}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code := runCLI(t, "validate", good, bad)
	if code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	for _, want := range []string{
		"ok  " + good + "  (1 stage, 1m30s total, peak 90/s)\n",
		bad + ":2:30: stages[0].constant.for: 10 is a bare number",
		bad + ":3:7: unknown key \"sucess_ratio\" in slo",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestValidateUsage(t *testing.T) {
	if _, _, code := runCLI(t, "validate"); code != exitUsage {
		t.Errorf("no argument: exit %d, want %d", code, exitUsage)
	}
	out, _, code := runCLI(t, "validate", "no-such-example")
	if code != exitUsage || !strings.Contains(out, "no embedded example") {
		t.Errorf("unknown name: exit %d, output %q", code, out)
	}
	if _, _, code := runCLI(t, "validate", "--help"); code != exitOK {
		t.Errorf("--help: exit %d, want 0", code)
	}
}

func TestCompactDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Second: "5s", time.Minute: "1m", 90 * time.Second: "1m30s",
		time.Hour: "1h", 90 * time.Minute: "1h30m", 1500 * time.Millisecond: "1.5s",
	} {
		if got := compactDuration(d); got != want {
			t.Errorf("compactDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
