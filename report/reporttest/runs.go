package reporttest

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

const ConstScenario = `name: constant
stages:
  - constant: {rate: 20, for: 20s}
`

// ConstRun: 20/s for 20 s, healthy before 8 s; after, gen shapes each hit.
// Healthy hits take 10 ms with normal Server-Timing; database samples and
// probes are written by the caller.
func ConstRun(t testing.TB, gen func(at float64, i int) Hit) *RunDir {
	b := New(t, ConstScenario)
	p := Plan(t, ConstScenario)
	b.Stages(p)
	i := 0
	b.Traffic(p, 0, 20, func(at float64) Hit {
		i++
		if at < 8 {
			h := Hit{Lat: 10 * time.Millisecond, Timing: TimingHdr(0.1, 3, 2, 8)}
			if i%10 == 1 {
				h.Conn = "new;connect=300000"
			}
			return h
		}
		return gen(at, i)
	})
	b.Event(rundir.EventRunEnd, 20.3, map[string]any{"status": "completed"})
	return b
}

func NormalDB(int) map[string]any {
	return map[string]any{"backends_total": 12, "role_backends": 8, "role_active": 2, "role_limit": 50,
		"max_connections": 100, "superuser_reserved": 3, "lock_waiters": 0, "probe_rtt_ms": 0.3,
		"pool": map[string]any{"acquired_conns": 2, "max_conns": 10, "empty_acquire_count": 0}}
}

// HealthProbes writes service probes every 500ms over [from, to): connect
// times normal, health checks answered in healthMS (or failing when it is
// negative).
func (b *RunDir) HealthProbes(from, to int, healthMS func(sec int) float64) {
	for s := from; s < to; s++ {
		for _, off := range []float64{0.2, 0.7} {
			m := map[string]any{"path": "service", "connect_ms": 0.2}
			if h := healthMS(s); h >= 0 {
				m["health_ms"], m["health_status"] = h, 200
			} else {
				m["health_error"] = "read: connection reset by peer"
			}
			b.Event(rundir.EventTCPProbe, float64(s)+off, m)
		}
	}
}

const CleanScenario = `name: clean
description: four steps, all healthy
login: {path: /login}
stages:
  - steps: {name: climb, from: 10, to: 40, step: 10, hold: 5s}
slo: {success_ratio: 0.99, percentile: 99, latency: 500ms}
faults: []
`

// CleanRun: every hit a 20 ms success (a tenth expected rejects).
func CleanRun(t testing.TB) *RunDir {
	b := New(t, CleanScenario)
	p := Plan(t, CleanScenario)
	b.Stages(p)
	i := 0
	b.Traffic(p, 0, 20, func(at float64) Hit {
		i++
		h := Hit{Lat: 20 * time.Millisecond, Timing: TimingHdr(0.1, 3, 2, 8)}
		if i%10 == 0 {
			h.Outcome, h.Code, h.Body = rundir.OutcomeExpectedReject, 401, `{"error":"invalid_credentials"}`
		}
		if i%25 == 1 {
			h.Conn = "new;connect=300000"
		}
		return h
	})
	b.DBSamples(0, 20, func(int) map[string]any {
		return map[string]any{"backends_total": 12, "role_backends": 5, "role_limit": 50, "max_connections": 100,
			"superuser_reserved": 3, "lock_waiters": 0, "probe_rtt_ms": 0.3, "by_state": map[string]any{"active": 2, "idle": 10}}
	})
	b.Probes("service", 0, 20, func(int) float64 { return 0.3 })
	b.Event(rundir.EventRunEnd, 20.5, map[string]any{"status": "completed"})
	return b
}

const SteppedScenario = `name: stepped
stages:
  - steps: {from: 10, to: 60, step: 10, hold: 5s}
slo: {success_ratio: 0.99, percentile: 99, latency: 500ms}
gates: {min_sustainable_rps: 25, expect_cause: db.connections}
`

// DBCapRun: steps 10..60/s; from step 4 (40/s, 15s) the role's connection
// limit bites: a fifth of logins get 503 with SQLSTATE 53300, the rest
// wait ~80 ms for the pool; database samples show the role at its limit.
func DBCapRun(t testing.TB) *RunDir {
	b := New(t, SteppedScenario)
	p := Plan(t, SteppedScenario)
	b.Stages(p)
	i := 0
	b.Traffic(p, 0, 30, func(at float64) Hit {
		i++
		h := Hit{Lat: 10 * time.Millisecond, Timing: TimingHdr(0.1, 3, 2, 8)}
		if i%25 == 1 {
			h.Conn = "new;connect=300000"
		}
		if at >= 15 {
			h.Lat, h.Timing = 92*time.Millisecond, TimingHdr(80, 3, 2, 90)
			if i%25 == 1 {
				h.Conn = "new;connect=400000"
			}
			if i%5 == 0 {
				h.Outcome, h.Code, h.Lat = rundir.OutcomeFailed, 503, 3*time.Millisecond
				h.Body = `{"error":"db_unavailable","sqlstate":"53300","detail":"too many connections for role \"app\""}`
				h.Timing = TimingHdr(1, 0, 0, 2)
			}
		}
		return h
	})
	b.DBSamples(0, 30, func(s int) map[string]any {
		role, total := 5, 8
		if s >= 15 {
			role, total = 20, 23
		}
		return map[string]any{"backends_total": total, "role_backends": role, "role_active": role, "role_limit": 20,
			"max_connections": 100, "superuser_reserved": 3, "lock_waiters": 0, "probe_rtt_ms": 0.3,
			"by_state": map[string]any{"active": role / 2, "idle": total - role/2}}
	})
	b.Probes("service", 0, 30, func(int) float64 { return 0.3 })
	b.Probes("db", 0, 30, func(int) float64 { return 0.2 })
	b.Event(rundir.EventRunEnd, 30.4, map[string]any{"status": "completed"})
	return b
}

const DrillScenario = `name: drill
stages:
  - constant: {rate: 20, for: 40s}
faults:
  - {kind: db.conn_limit, start: 10s, for: 10s, role: app, limit: 2}
  - {kind: net.reset_peer, start: 28s, for: 5s, path: client}
  - {kind: db.hog, start: 35s, for: 3s}
`

// DrillRun injects three faults: a connection limit (felt from 11 s to
// 21 s), client-side resets (28 s to 32 s) and a hog that does nothing.
func DrillRun(t testing.TB) *RunDir {
	b := New(t, DrillScenario)
	p := Plan(t, DrillScenario)
	b.Stages(p)
	i := 0
	b.Traffic(p, 0, 40, func(at float64) Hit {
		i++
		h := Hit{Lat: 10 * time.Millisecond, Timing: TimingHdr(0.1, 3, 2, 8)}
		if i%10 == 1 {
			h.Conn = "new;connect=300000"
		}
		switch {
		case at >= 11 && at < 22:
			h.Lat, h.Timing = 120*time.Millisecond, TimingHdr(100, 3, 2, 110)
			if i%4 == 0 {
				h = Hit{Lat: 4 * time.Millisecond, Outcome: rundir.OutcomeFailed, Code: 503, Timing: TimingHdr(1, 0, 0, 2),
					Body: `{"error":"db_unavailable","sqlstate":"53300","detail":"too many connections for role \"app\""}`}
			}
		case at >= 28 && at < 33:
			if i%5 == 0 {
				h = Hit{Lat: 20 * time.Millisecond, Outcome: rundir.OutcomeFailed, Class: "reset", Conn: "new;connect=25000000"}
			}
		}
		return h
	})
	b.DBSamples(0, 40, func(s int) map[string]any {
		m := NormalDB(s)
		if s >= 11 && s < 22 {
			m["role_backends"], m["role_limit"] = 2, 2
		}
		return m
	})
	for _, f := range []struct {
		idx        int
		kind       string
		params     map[string]any
		start, end float64
		inj, rev   float64
		ok         bool
	}{
		{0, "db.conn_limit", map[string]any{"role": "app", "limit": 2}, 10, 20, 10.02, 20.01, true},
		{1, "net.reset_peer", map[string]any{"path": "client", "after": "0s"}, 28, 33, 28.0, 33.0, true},
		{2, "db.hog", map[string]any{"conns": 5}, 35, 38, 35.0, 38.0, true},
		{3, "db.terminate", map[string]any{"role": "app"}, 39, 39.5, 39.0, 39.0, false},
	} {
		fields := map[string]any{"index": f.idx, "fault": f.kind + "{...}", "kind": f.kind, "params": f.params,
			"start_s": f.start, "end_s": f.end, "ok": f.ok, "elapsed_s": f.inj}
		if !f.ok {
			fields["error"] = "permission denied to terminate"
		}
		b.Event(rundir.EventFaultInject, f.inj, fields)
		rv := map[string]any{"index": f.idx, "kind": f.kind, "start_s": f.start, "end_s": f.end, "ok": true, "reason": "end"}
		if !f.ok {
			rv["reason"] = "inject_failed"
		}
		b.Event(rundir.EventFaultRevert, f.rev, rv)
	}
	b.Event(rundir.EventRunEnd, 40.3, map[string]any{"status": "completed"})
	return b
}

const RegressScenario = `name: regress
stages:
  - steps: {from: 70, to: 100, step: 3, hold: 3s}
slo: {success_ratio: 0.99, percentile: 99, latency: 500ms}
gates: {max_regression_pct: 1}
`

// RegressRun: steps 70..100/s by 3 (11 steps of 3s); every login of a
// second takes scale × 20 ms plus that second's jitter (uniform ±1.5 ms,
// seeded), so window p99s wander by about 0.9 ms; from breakRPS on, 30%
// fail with 53300 (at the same latency: p99 does not move).
func RegressRun(t testing.TB, scenario string, seed uint64, scale, breakRPS float64) string {
	t.Helper()
	b := New(t, scenario)
	p := Plan(t, scenario)
	b.Stages(p)
	rng := rand.New(rand.NewPCG(seed, 7))
	jitter := make([]time.Duration, 40)
	for i := range jitter {
		jitter[i] = time.Duration((rng.Float64()*3 - 1.5) * float64(time.Millisecond))
	}
	i := 0
	b.Traffic(p, 0, 33, func(at float64) Hit {
		i++
		lat := time.Duration(scale*float64(20*time.Millisecond)) + jitter[int(at)]
		h := Hit{Lat: lat}
		if p.Rate(rundir.Secs(at)) >= breakRPS-1e-9 && i%10 < 3 {
			h.Outcome, h.Code = rundir.OutcomeFailed, 503
			h.Body = `{"error":"db_unavailable","sqlstate":"53300"}`
		}
		return h
	})
	b.Event(rundir.EventRunEnd, 33.2, map[string]any{"status": "completed"})
	return b.Write()
}

// DecoyCapRun is the embedded gameday scenario in small: a client-path
// latency blip (a network decoy) at 3–6 s on a 30/s baseline, then the
// role's connection limit cut to 4 from 6 s and a surge to 120/s at 12 s
// that breaks on it. The service's pool of 10 stays as it was. Each login
// holds a connection 51 ms.
func DecoyCapRun(t testing.TB) *RunDir {
	const sc = "stages:\n  - constant: {rate: 30, for: 12s}\n  - constant: {rate: 120, for: 10s}\n"
	b := New(t, sc)
	p := Plan(t, sc)
	b.Stages(p)
	i := 0
	b.Traffic(p, 0, 22, func(at float64) Hit {
		i++
		h := Hit{Lat: 56 * time.Millisecond, Timing: TimingHdr(0.1, 51, 2, 54)}
		switch {
		case at >= 3 && at < 6: // the blip: time outside the service
			h.Lat = 756 * time.Millisecond
		case at >= 12 && i%2 == 0:
			h = Hit{Lat: 3 * time.Millisecond, Outcome: rundir.OutcomeFailed, Code: 503, Timing: TimingHdr(1, 0, 0, 2),
				Body: `{"error":"db_unavailable","sqlstate":"53300","detail":"too many connections for role \"app\""}`}
		}
		return h
	})
	b.DBSamples(0, 22, func(s int) map[string]any {
		m := NormalDB(s)
		m["role_backends"], m["role_active"] = 2, 2
		if s >= 6 {
			m["role_limit"] = 4
		}
		if s >= 12 {
			m["role_backends"], m["role_active"] = 4, 4
			m["pool"] = map[string]any{"acquired_conns": 4, "max_conns": 10, "empty_acquire_count": 0}
		}
		return m
	})
	b.HealthProbes(0, 22, func(s int) float64 {
		if s >= 3 && s < 6 {
			return 700.4
		}
		return 0.4
	})
	b.Probes("db", 0, 22, func(int) float64 { return 0.2 })
	b.Event(rundir.EventRunEnd, 22.3, map[string]any{"status": "completed"})
	return b
}

// SearchRun crafts the run directory of a search the way the runner
// writes one: trial stages (and a pause after a failed trial) as stage
// events, a trial event per judged trial, and the search_result.
func SearchRun(t testing.TB) string {
	t.Helper()
	b := New(t, "mode: search\nslo: {latency: 200ms}\nstages:\n  - constant: {rate: 50, for: 1s}\n")
	b.Manifest["mode"] = "search"
	type trial struct {
		rate       float64
		start, dur float64 // the stage: warmup 2s, hold 3s, judged 0.3s later
		met        bool
	}
	trials := []trial{{50, 0, 5.3, true}, {75, 5.3, 5.3, true}, {112.5, 10.6, 5.3, false}, {91.9, 18.1, 5.3, true}, {101.7, 23.4, 5.3, false}}
	var evs []rundir.StageEvent
	for i, tr := range trials {
		if i == 3 { // the pause after trial 3, probing at 9.2/s
			evs = append(evs, rundir.StageEvent{Index: len(evs), Name: "recover 3", Kind: "constant", PlannedStartS: 15.9, DurationS: 2.2, RateStart: 9.2, RateEnd: 9.2})
		}
		evs = append(evs, rundir.StageEvent{Index: len(evs), Name: "trial " + strconv.Itoa(i+1), Kind: "constant", PlannedStartS: tr.start,
			DurationS: tr.dur, RateStart: tr.rate, RateEnd: tr.rate})
	}
	specs := make([]rundir.StageSpec, len(evs)) // back to back, all constant
	for i, e := range evs {
		specs[i] = rundir.StageSpec{Name: e.Name, Kind: e.Kind, Rate: e.RateStart, Duration: rundir.Secs(e.DurationS)}
	}
	p, err := rundir.FromStages(specs, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		b.Event(rundir.EventStage, e.PlannedStartS+e.DurationS, map[string]any{"index": e.Index, "name": e.Name, "kind": e.Kind,
			"planned_start_s": e.PlannedStartS, "duration_s": e.DurationS, "rate_start": e.RateStart, "rate_end": e.RateEnd})
	}
	failing := func(at float64) bool { return (at >= 10.6 && at < 15.9) || at >= 23.4 }
	b.Traffic(p, 0, p.Total.Seconds(), func(at float64) Hit {
		if failing(at) { // the pool is the wall: logins wait for a connection
			return Hit{Lat: 900 * time.Millisecond, Timing: TimingHdr(850, 45, 1, 897)}
		}
		return Hit{Lat: 50 * time.Millisecond, Timing: TimingHdr(0.1, 45, 1, 47)}
	})
	for i, tr := range trials {
		p99 := 50.0
		if !tr.met {
			p99 = 900
		}
		b.Event(rundir.EventTrial, tr.start+tr.dur, map[string]any{"index": i + 1, "rate": tr.rate, "phase": "raise",
			"start_s": tr.start, "warmup_s": 2.0, "hold_s": 3.0, "planned": int(3 * tr.rate), "received": int(3 * tr.rate),
			"success_ratio": 1.0, "p99_ms": p99, "slo_latency_ms": p99, "slo_met": tr.met})
	}
	b.Event(rundir.EventSearchResult, 28.7, map[string]any{"lo": 91.9, "hi": 101.7, "precision": (101.7 - 91.9) / 91.9,
		"target_precision": 0.15, "trials": 5, "elapsed_s": 28.7, "reason": "precision"})
	b.Event(rundir.EventRunEnd, 29.7, map[string]any{"status": "completed"})
	return b.Write()
}

// WithGates is DBCapRun (steps 10..60/s, the role's connection cap biting
// from 40/s: sustainable 30/s, breaking 40/s, cause db.connections) with
// other gates.
func WithGates(t testing.TB, gates string) *RunDir {
	t.Helper()
	b := DBCapRun(t)
	b.Scenario = strings.Replace(SteppedScenario, "gates: {min_sustainable_rps: 25, expect_cause: db.connections}", "gates: "+gates, 1)
	if b.Scenario == SteppedScenario {
		t.Fatal("SteppedScenario's gates line changed: update WithGates")
	}
	return b
}
