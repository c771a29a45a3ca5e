package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// TestRunEvidenceBlackBox runs the bundled fixture as a black box (no
// pool endpoint, its shape from run's flags) with 50ms on the database
// path for most of the run: the timeline holds null and health probes
// both ways, CPU samples that know the target is this process, and
// database samples with the role's backends by state and a probe through
// the slowed path; the manifest names the shape.
func TestRunEvidenceBlackBox(t *testing.T) {
	const scenario = `fixture: {users: 100, db_pool: 4}
stages:
  - constant: {rate: 20, for: 4s}
faults:
  - {kind: net.latency, path: db, start: 500ms, for: 3500ms, latency: 50ms}
slo: {success_ratio: 0.5, latency: 5s}
`
	r := runChaosScenario(t, scenario, nil, nil, "--quiet", "--fixture-no-pool-endpoint", "--fixture-hot-row")
	r.wantExit(t, exitOK, exitGateFailed)

	probes := map[string]int{}
	for _, ev := range r.of(rundir.EventHTTPProbe) {
		kind, _ := ev["kind"].(string)
		via, _ := ev["via"].(string)
		if _, ok := ev["ms"].(float64); ok {
			probes[kind+"/"+via]++
		}
	}
	for _, k := range []string{"null/path", "null/direct", "health/path", "health/direct"} {
		if probes[k] < 2 {
			t.Errorf("answered http probes by kind/via = %v: want ≥2 %s", probes, k)
		}
	}

	cpu := r.of(rundir.EventCPUSample)
	if len(cpu) < 2 {
		t.Fatalf("%d cpu samples, want ≥2", len(cpu))
	}
	for _, ev := range cpu {
		busy, _ := ev["host_busy"].(float64)
		if ev["target_in_process"] != true || ev["target_pid"] != float64(os.Getpid()) || ev["target_cores"] != nil ||
			ev["db_cores"] == nil || busy < 0 || busy > 1 {
			t.Errorf("cpu sample %v: want the target in this process (pid %d), db_cores, host_busy in [0,1]", ev, os.Getpid())
			break
		}
	}

	var withRoles, slowPath int
	for _, ev := range r.of(rundir.EventDBSample) {
		if _, ok := ev["role_by_state"].(map[string]any); ok {
			withRoles++
		}
		if ms, _ := ev["path_probe_rtt_ms"].(float64); ms >= 40 {
			slowPath++
		}
		if ev["pool"] != nil {
			t.Errorf("db sample with pool stats from a fixture without a pool endpoint: %v", ev)
		}
	}
	if withRoles == 0 || slowPath == 0 {
		t.Errorf("db samples: %d with role_by_state, %d with path_probe_rtt_ms ≥ 40 under 50ms of db path latency; want both", withRoles, slowPath)
	}
	if n := len(r.of(rundir.EventPoolSample)); n != 0 {
		t.Errorf("%d pool samples from a fixture without a pool endpoint", n)
	}

	m, err := rundir.ReadManifest(filepath.Join(r.dir, rundir.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if m.Fixture == nil || m.Fixture.Shape != "hot-row no-pool-endpoint" {
		t.Errorf("manifest fixture %+v, want shape %q", m.Fixture, "hot-row no-pool-endpoint")
	}
	r.checkNoSecrets(t, nil)
}
