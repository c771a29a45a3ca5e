package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// TestAccuracyDemoBusy runs the demo (`stampede run gameday`) once beside a
// process that keeps one core busy: a verdict must not flip with an
// unrelated load on the machine. The scorecard must match both faults: the
// client-path blip as network.client, the connection cap as db.connections,
// and the breaking point db.connections. The full matrix, quiet and busy,
// is `make accuracy` (accuracy_full_test.go).
func TestAccuracyDemoBusy(t *testing.T) {
	stop := startBusyCore(t)
	defer stop()
	dir := filepath.Join(t.TempDir(), "run")
	e, stdout, stderr := testEnv(nil)
	err := runMain(context.Background(), e, []string{"run", "gameday", "--out", dir, "--quiet", "--seed", "11"})
	if code := exitCode(err); code != exitOK && code != exitGateFailed {
		t.Fatalf("run gameday: %v (exit %d)\nstderr:\n%s", err, code, stderr)
	}
	r, err := readAccuracyReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Cause.Primary != report.CauseDBConnections {
		t.Errorf("breaking point %s (confidence %s), want %s\nevidence:\n  %v\nterminal report:\n%s",
			r.Cause.Primary, r.Cause.Confidence, report.CauseDBConnections, r.Cause.Evidence, stdout)
	}
	want := map[string]string{"net.latency": report.CauseNetClient, "db.conn_limit": report.CauseDBConnections}
	for _, s := range r.Scorecard {
		w, ok := want[s.Kind]
		if !ok {
			t.Errorf("unexpected fault %s in the scorecard", s.Kind)
			continue
		}
		delete(want, s.Kind)
		if !s.Match || s.Detected != w {
			t.Errorf("scorecard %s (%s): detected %s, want %s (match %v; %s)", s.Kind, s.Path, s.Detected, w, s.Match, s.Note)
		}
	}
	for k := range want {
		t.Errorf("the scorecard lacks %s", k)
	}
}

// startBusyCore starts a shell loop that keeps one core busy; the returned
// func kills it, by its PID, and reaps it.
func startBusyCore(t *testing.T) func() {
	t.Helper()
	cmd := exec.Command("sh", "-c", "while :; do :; done")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
}

// readAccuracyReport reads the part of a run's report.json the accuracy
// tests look at.
func readAccuracyReport(dir string) (*accuracyReport, error) {
	b, err := os.ReadFile(filepath.Join(dir, rundir.JSONFile))
	if err != nil {
		return nil, err
	}
	var r accuracyReport
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("report.json: %w", err)
	}
	return &r, nil
}
