package report

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/report/format"
	"github.com/stampede-load/stampede/report/reporttest"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// degraded returns the windows that missed the SLO.
func degraded(r *Report) []Window {
	var out []Window
	for _, w := range r.Windows {
		if !w.SLOMet {
			out = append(out, w)
		}
	}
	return out
}

func joined(lines []string) string { return strings.Join(lines, "\n") }

// checkCause asserts the run's cause and every degraded window's.
func checkCause(t *testing.T, r *Report, want string) {
	t.Helper()
	bad := degraded(r)
	if len(bad) == 0 {
		t.Fatal("no degraded window")
	}
	for _, w := range bad {
		if w.Cause != want {
			t.Errorf("window %s: cause %s, want %s\nevidence:\n%s", format.Sec(w.Start), w.Cause, want, joined(w.Diagnosis.Evidence))
		}
	}
	if r.Cause.Primary != want {
		t.Errorf("run cause %s, want %s\nevidence:\n%s", r.Cause.Primary, want, joined(r.Cause.Evidence))
	}
	if len(r.Cause.Evidence) == 0 {
		t.Error("no evidence")
	}
}

func TestCauseNoneOnCleanRun(t *testing.T) {
	r := analyzeDir(t, reporttest.CleanRun(t).Write())
	if r.Cause.Primary != CauseNone || len(degraded(r)) != 0 {
		t.Errorf("cause %s with %d degraded windows", r.Cause.Primary, len(degraded(r)))
	}
}

// The incident: a role connection limit during a surge. 53300 bodies and
// the role at its limit decide it; the network is ruled out with figures.
func TestCauseDBConnections(t *testing.T) {
	r := analyzeDir(t, reporttest.DBCapRun(t).Write())
	checkCause(t, r, CauseDBConnections)
	ev := joined(r.Cause.Evidence)
	for _, want := range []string{"SQLSTATE 53300", "role's backends at its connection limit: 20 of 20", "waiting for a pooled connection"} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
	ruled := joined(r.Cause.RuledOut)
	for _, want := range []string{
		"network.client ruled out: connect p99 0.40 ms against a 0.30 ms baseline, 0 transport errors",
		"network.db ruled out: service db time 3.0 ms per login against a 3.0 ms baseline",
		"generator ruled out",
	} {
		if !strings.Contains(ruled, want) {
			t.Errorf("ruled out lacks %q:\n%s", want, ruled)
		}
	}
	if r.Cause.Confidence != "high" {
		t.Errorf("confidence %s, want high", r.Cause.Confidence)
	}
	if !strings.Contains(r.Cause.Scope, "breaking point") || r.Cause.From != 15*time.Second {
		t.Errorf("scope %q from %s", r.Cause.Scope, r.Cause.From)
	}
}

// The same failure seen only as client timeouts, with no Server-Timing and
// no database samples: undetermined, never the network.
func TestCauseClientTimeoutAloneIsUndetermined(t *testing.T) {
	b := reporttest.New(t, reporttest.SteppedScenario)
	p := reporttest.Plan(t, reporttest.SteppedScenario)
	b.Stages(p)
	i := 0
	b.Traffic(p, 0, 30, func(at float64) reporttest.Hit {
		i++
		h := reporttest.Hit{Lat: 10 * time.Millisecond}
		if i%25 == 1 {
			h.Conn = "new;connect=300000"
		}
		if at >= 15 && i%5 == 0 {
			h = reporttest.Hit{Lat: 5 * time.Second, Outcome: rundir.OutcomeFailed, Class: "client_timeout"}
		}
		return h
	})
	r := analyzeDir(t, b.Write())
	checkCause(t, r, CauseUndetermined)
	ev := joined(r.Cause.Evidence)
	if !strings.Contains(ev, "client timeouts") || !strings.Contains(ev, "not network evidence") {
		t.Errorf("evidence should say why it is undetermined:\n%s", ev)
	}
	if r.Limit.BreakingRPS == nil || *r.Limit.BreakingRPS != 40 {
		t.Errorf("breaking %s, want 40", ptrStr(r.Limit.BreakingRPS))
	}
}

// Lock waiters and high db time: db.queries, even with the pool and the
// role's connections full (of lock waiters).
func TestCauseDBQueriesWinsOverFullPool(t *testing.T) {
	b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
		h := reporttest.Hit{Lat: 565 * time.Millisecond, Timing: reporttest.TimingHdr(150, 400, 2, 560)}
		if i%10 == 0 {
			h = reporttest.Hit{Lat: 1005 * time.Millisecond, Outcome: rundir.OutcomeFailed, Code: 503,
				Body:   `{"error":"db_unavailable","sqlstate":"55P03","detail":"canceling statement due to lock timeout"}`,
				Timing: reporttest.TimingHdr(0.2, 1000, 0, 1002)}
		}
		return h
	})
	empty := 0
	b.DBSamples(0, 20, func(s int) map[string]any {
		m := reporttest.NormalDB(s)
		if s >= 8 {
			empty += 40
			m["lock_waiters"], m["role_backends"], m["role_limit"], m["role_active"] = 8, 10, 10, 10
			m["pool"] = map[string]any{"acquired_conns": 10, "max_conns": 10, "empty_acquire_count": empty}
		}
		return m
	})
	r := analyzeDir(t, b.Write())
	checkCause(t, r, CauseDBQueries)
	ev := joined(r.Cause.Evidence)
	for _, want := range []string{"8 sessions waiting on locks", "55P03", "also (db.connections)"} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
}

// Transport resets and connect time up: network.client; the database is
// ruled out with figures.
func TestCauseNetworkClient(t *testing.T) {
	b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
		h := reporttest.Hit{Lat: 40 * time.Millisecond, Timing: reporttest.TimingHdr(0.1, 3, 2, 8)}
		if i%5 == 0 {
			h.Conn = "new;connect=30000000"
		}
		if i%10 == 0 {
			h = reporttest.Hit{Lat: 31 * time.Millisecond, Outcome: rundir.OutcomeFailed, Class: "reset"}
		}
		return h
	})
	b.DBSamples(0, 20, reporttest.NormalDB)
	b.Probes("service", 0, 20, func(s int) float64 {
		if s >= 8 {
			return 25
		}
		return 0.3
	})
	r := analyzeDir(t, b.Write())
	checkCause(t, r, CauseNetClient)
	ev, ruled := joined(r.Cause.Evidence), joined(r.Cause.RuledOut)
	for _, want := range []string{"transport errors before any response (reset", "TCP connect p99 30.0 ms against a 0.30 ms baseline"} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
	for _, want := range []string{"db.connections ruled out: no 53300 or pool timeouts", "role backends 8 of 50", "db.queries ruled out: 0 lock waiters"} {
		if !strings.Contains(ruled, want) {
			t.Errorf("ruled out lacks %q:\n%s", want, ruled)
		}
	}
}

// The service's db time up while the database's own probe is normal:
// the path between them, network.db.
func TestCauseNetworkDB(t *testing.T) {
	b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
		return reporttest.Hit{Lat: 612 * time.Millisecond, Timing: reporttest.TimingHdr(0.2, 600, 2, 608)}
	})
	b.DBSamples(0, 20, reporttest.NormalDB)
	r := analyzeDir(t, b.Write())
	checkCause(t, r, CauseNetDB)
	ev := joined(r.Cause.Evidence)
	if !strings.Contains(ev, "database's own probe answered in 0.30 ms") {
		t.Errorf("evidence lacks the database's own view:\n%s", ev)
	}
	if !strings.Contains(joined(r.Cause.RuledOut), "network.client ruled out") {
		t.Errorf("ruled out:\n%s", joined(r.Cause.RuledOut))
	}
}

// App time up, not in pool or db: app.
func TestCauseApp(t *testing.T) {
	b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
		return reporttest.Hit{Lat: 705 * time.Millisecond, Timing: reporttest.TimingHdr(0.1, 3, 650, 700)}
	})
	b.DBSamples(0, 20, reporttest.NormalDB)
	r := analyzeDir(t, b.Write())
	checkCause(t, r, CauseApp)
}

// The generator fell behind with workers free while latency stayed
// normal: generator; and those windows do not count against the limit.
func TestCauseGenerator(t *testing.T) {
	b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
		return reporttest.Hit{Lat: 10 * time.Millisecond, Lag: 800 * time.Millisecond, Timing: reporttest.TimingHdr(0.1, 3, 2, 8)}
	})
	for s := 8; s < 21; s++ {
		b.Event(rundir.EventGenerator, float64(s)+1, map[string]any{"second": reporttest.Start.Add(time.Duration(s) * time.Second).Format(time.RFC3339),
			"hits": 20, "late": 20, "max_lag_ms": 820.0, "inflight_max": 3, "max_workers": 1024,
			"workers_saturated": false, "behind_own_fault": true})
	}
	b.DBSamples(0, 20, reporttest.NormalDB)
	r := analyzeDir(t, b.Write())
	checkCause(t, r, CauseGenerator)
	if !strings.Contains(joined(r.Cause.Evidence), "with workers free (3 in flight of 1024)") {
		t.Errorf("evidence:\n%s", joined(r.Cause.Evidence))
	}
	if r.Limit.BreakingRPS != nil {
		t.Errorf("breaking %s: the generator's windows must not set a limit", ptrStr(r.Limit.BreakingRPS))
	}
}

// Late sends while every worker waits on a slow target are the target's
// doing, not the generator's.
func TestCauseSaturatedWorkersAreNotGenerator(t *testing.T) {
	b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
		return reporttest.Hit{Lat: 900 * time.Millisecond, Lag: 300 * time.Millisecond, Timing: reporttest.TimingHdr(850, 3, 2, 890)}
	})
	for s := 8; s < 21; s++ {
		b.Event(rundir.EventGenerator, float64(s)+1, map[string]any{"second": reporttest.Start.Add(time.Duration(s) * time.Second).Format(time.RFC3339),
			"hits": 20, "late": 20, "max_lag_ms": 320.0, "inflight_max": 16, "max_workers": 16,
			"workers_saturated": true, "behind_own_fault": false})
	}
	r := analyzeDir(t, b.Write())
	checkCause(t, r, CauseDBConnections)
	if !strings.Contains(joined(r.Cause.RuledOut), "the target's doing") {
		t.Errorf("ruled out:\n%s", joined(r.Cause.RuledOut))
	}
}

// Latency on the client path: Server-Timing says the time is outside the
// service, and health checks sent through the same path say so too. Two
// independent sources agree: high confidence.
func TestCauseNetworkClientHealthChecksAgree(t *testing.T) {
	b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
		return reporttest.Hit{Lat: 610 * time.Millisecond, Timing: reporttest.TimingHdr(0.1, 3, 2, 8)}
	})
	b.DBSamples(0, 20, reporttest.NormalDB)
	b.HealthProbes(0, 20, func(s int) float64 {
		if s >= 8 {
			return 600.4
		}
		return 0.4
	})
	r := analyzeDir(t, b.Write())
	checkCause(t, r, CauseNetClient)
	ev := joined(r.Cause.Evidence)
	if !strings.Contains(ev, "health checks through the client path took 600 ms against a 0.40 ms baseline") {
		t.Errorf("evidence lacks the health checks:\n%s", ev)
	}
	if r.Cause.Confidence != "high" || joined(r.Cause.Sources) != "Server-Timing\nhealth checks" {
		t.Errorf("confidence %s from %q, want high from Server-Timing and health checks", r.Cause.Confidence, r.Cause.Sources)
	}
}

// A black box whose client path resets connections: transport errors, and
// the health checks fail the same way.
func TestCauseNetworkClientHealthCheckFailures(t *testing.T) {
	b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
		return reporttest.Hit{Lat: 50 * time.Millisecond, Outcome: rundir.OutcomeFailed, Class: "reset"}
	})
	b.HealthProbes(0, 20, func(s int) float64 {
		if s >= 8 {
			return -1
		}
		return 0.4
	})
	r := analyzeDir(t, b.Write())
	checkCause(t, r, CauseNetClient)
	if ev := joined(r.Cause.Evidence); !strings.Contains(ev, "health checks through the client path failed before any answer") {
		t.Errorf("evidence lacks the failed health checks:\n%s", ev)
	}
	if r.Cause.Confidence != "high" {
		t.Errorf("confidence %s, want high", r.Cause.Confidence)
	}
}

// Latency on the path to the database fills the service's pool: pool
// timeouts and a full pool, but each login holds its connection ten times
// longer while the database answers its own probe at once and its
// sessions sit idle in transaction. The pool is a symptom: network.db.
func TestCauseNetworkDBFillsThePool(t *testing.T) {
	r := analyzeDir(t, netDBRun(t, -1))
	checkCause(t, r, CauseNetDB)
	ev := joined(r.Cause.Evidence)
	for _, want := range []string{"the time goes between the service and the database", "9 of the service's 10 database sessions idle in transaction",
		"full pool is a symptom", "also (db.connections)"} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
}

// When the slow path recovers, the logins queued behind it run their
// statements together: for a moment 8 of the 10 sessions are active. The
// sessions' typical state (idle between round trips) still says the time
// goes between the service and the database; one peak sample must not
// hide it (a busy CI machine caught the peak and lost the inference).
func TestCauseNetworkDBRecoveryBurst(t *testing.T) {
	r := analyzeDir(t, netDBRun(t, 15))
	checkCause(t, r, CauseNetDB)
	if ev := joined(r.Cause.Evidence); !strings.Contains(ev, "the time goes between the service and the database") {
		t.Errorf("a burst of active sessions in one sample hid the path's time:\n%s", ev)
	}
}

// netDBRun writes a run with 100 ms on every round trip to the database
// from second 8; at second burst (when not negative) 8 of the service's
// 10 sessions are active at once.
func netDBRun(t *testing.T, burst int) string {
	b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
		if i%3 == 0 {
			return reporttest.Hit{Lat: 2001 * time.Millisecond, Outcome: rundir.OutcomeFailed, Code: 503,
				Body: `{"error":"pool_timeout"}`, Timing: reporttest.TimingHdr(2000, 0, 0, 2000.5)}
		}
		return reporttest.Hit{Lat: 1500 * time.Millisecond, Timing: reporttest.TimingHdr(1200, 290, 2, 1495)}
	})
	empty := 0.0
	b.DBSamples(0, 20, func(s int) map[string]any {
		m := reporttest.NormalDB(s)
		m["by_state"] = map[string]any{"active": 2, "idle in transaction": 1}
		if s >= 8 {
			empty += 15
			m["role_backends"], m["role_active"] = 10, 1
			m["by_state"] = map[string]any{"active": 2, "idle in transaction": 9}
			m["pool"] = map[string]any{"acquired_conns": 10, "max_conns": 10, "empty_acquire_count": empty}
		}
		if s == burst {
			m["role_active"] = 8
			m["by_state"] = map[string]any{"active": 9, "idle in transaction": 2}
		}
		return m
	})
	return b.Write()
}

// DESIGN.md's trap: a black box (no Server-Timing) whose pool is the wall
// answers nothing in time: the client sees timeouts only. The service's
// pool counters (nearly every acquire waited, for long) and the database
// (the whole pool busy doing normal work) name the connections; never the
// network.
func TestCauseBlackBoxPoolWallSeenAsTimeouts(t *testing.T) {
	b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
		return reporttest.Hit{Lat: time.Second, Outcome: rundir.OutcomeFailed, Class: "client_timeout"}
	})
	var acquires, waits, waitMS float64
	b.DBSamples(0, 20, func(s int) map[string]any {
		m := reporttest.NormalDB(s)
		pool := map[string]any{"acquired_conns": 2, "max_conns": 5}
		acquires += 20
		if s >= 8 {
			waits += 19
			waitMS += 19 * 900
			m["role_backends"], m["role_active"] = 5, 5
			pool["acquired_conns"] = 4 // a gauge caught between two logins
		}
		pool["acquire_count"], pool["empty_acquire_count"], pool["empty_acquire_wait_ms"] = acquires, waits, waitMS
		m["pool"] = pool
		return m
	})
	r := analyzeDir(t, b.Write())
	checkCause(t, r, CauseDBConnections)
	ev := joined(r.Cause.Evidence)
	for _, want := range []string{"228 acquires had to wait (of 240), 900 ms each on average", "the database sees the whole pool busy: 5 of the role's backends (5 active) for a pool of 5", "client timeouts"} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
	if r.Cause.Confidence == "low" {
		t.Errorf("confidence %s: two sources agree", r.Cause.Confidence)
	}
}

// A login sent just before a lock bites spends its life under it: the
// database samples that decide its window are those taken while it was in
// flight, not only those of the second it was sent in.
func TestCauseFollowsLoginsInFlight(t *testing.T) {
	b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
		return reporttest.Hit{Lat: 2500 * time.Millisecond, Timing: reporttest.TimingHdr(0.1, 2490, 2, 2495)}
	})
	b.DBSamples(0, 20, func(s int) map[string]any {
		m := reporttest.NormalDB(s)
		if s >= 9 { // the sample of second 8 was taken before the lock bit
			m["lock_waiters"], m["role_active"] = 10, 10
		}
		return m
	})
	r := analyzeDir(t, b.Write())
	checkCause(t, r, CauseDBQueries)
}

// A few late sends do not make the generator the cause of a window whose
// latency rose for the target's reasons.
func TestCauseLateSendsWithSlowTargetAreNotGenerator(t *testing.T) {
	b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
		return reporttest.Hit{Lat: 610 * time.Millisecond, Timing: reporttest.TimingHdr(0.1, 3, 2, 8)}
	})
	for s := 8; s < 21; s++ {
		b.Event(rundir.EventGenerator, float64(s)+1, map[string]any{"second": reporttest.Start.Add(time.Duration(s) * time.Second).Format(time.RFC3339),
			"hits": 20, "late": 1, "max_lag_ms": 60.0, "inflight_max": 12, "max_workers": 1024,
			"workers_saturated": false, "behind_own_fault": true})
	}
	b.DBSamples(0, 20, reporttest.NormalDB)
	r := analyzeDir(t, b.Write())
	checkCause(t, r, CauseNetClient)
}

// A black box that passes the database's words through: a 500 page
// saying "too many clients already" is a connection cap, whatever its
// status; a terminated session's words are the database ending it.
func TestBodySignatures(t *testing.T) {
	for _, tc := range []struct {
		body string
		want detail
	}{
		{`<h1>Server Error</h1><pre>OperationalError: FATAL:  sorry, too many clients already</pre>`, dSQL53300},
		{`{"message":"pq: too many connections for role \"app\""}`, dSQL53300},
		{`ERROR: no more connections allowed (max_client_conn)`, dSQL53300},
		{`query_wait_timeout`, dPoolTimeout},
		{`FATAL: terminating connection due to administrator command (SQLSTATE 57P01)`, dSQL57P01},
	} {
		if d, ok := bodySignature([]byte(tc.body)); !ok || d != tc.want {
			t.Errorf("bodySignature(%q) = %v %v, want %v", tc.body, d, ok, tc.want)
		}
	}
	if _, ok := bodySignature([]byte("<h1>Internal Server Error</h1>")); ok {
		t.Error("a bare 500 page matched a signature")
	}
}

// A white box served in this process on a starved host (CPU-bound
// hashing): each login's db time rises, its sessions sit idle in
// transaction and the database answers its own probe at once, which on a
// healthy host would point at the path to the database. But the service
// waited for a core between its statements, and a cheap request straight
// to it is as late: app, and the database path not named.
func TestCauseStarvedHostIsNotTheDatabasePath(t *testing.T) {
	b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
		switch {
		case at >= 8 && i%3 == 0:
			return reporttest.Hit{Lat: 2001 * time.Millisecond, Outcome: rundir.OutcomeFailed, Code: 503,
				Body: `{"error":"pool_timeout"}`, Timing: reporttest.TimingHdr(2000, 0, 0, 2000.5)}
		case at >= 8:
			return reporttest.Hit{Lat: 1500 * time.Millisecond, Timing: reporttest.TimingHdr(1100, 120, 250, 1495)}
		}
		return reporttest.Hit{Lat: 80 * time.Millisecond, Timing: reporttest.TimingHdr(0.1, 2, 75, 79)}
	})
	empty := 0.0
	b.DBSamples(0, 20, func(s int) map[string]any {
		m := reporttest.NormalDB(s)
		m["role_backends"], m["role_active"] = 10, 1
		m["by_state"] = map[string]any{"active": 1, "idle in transaction": 1}
		if s >= 8 {
			empty += 15
			m["by_state"] = map[string]any{"active": 1, "idle in transaction": 9}
			m["pool"] = map[string]any{"acquired_conns": 10, "max_conns": 10, "empty_acquire_count": empty}
		}
		return m
	})
	for s := 0; s < 21; s++ {
		busy, null := 0.3, 1.2
		if s >= 8 {
			busy, null = 1.0, 230.0
		}
		b.Event(rundir.EventCPUSample, float64(s)+0.5, map[string]any{"cores": 2, "host_busy": busy,
			"generator_cores": 2 * busy, "target_in_process": true})
		b.Event(rundir.EventHTTPProbe, float64(s)+0.5, map[string]any{"kind": "null", "via": "direct", "connect_ms": 0.2, "ms": null, "status": 404})
	}
	r := analyzeDir(t, b.Write())
	checkCause(t, r, CauseApp)
	for _, w := range r.Windows {
		if w.Cause == CauseNetDB {
			t.Errorf("window %s named %s on a starved host\nevidence:\n%s", format.Sec(w.Start), w.Cause, joined(w.Diagnosis.Evidence))
		}
	}
}

// A CPU-bound service starves the host, and the fault proxy on the
// client path is a process on the same host: each cheap request through
// it waits for a core at every hop, so it comes back later than the same
// request sent straight to the service at the same moment (230 ms against
// 154, measured so beside wb-cpu). That is the host, not the network: app,
// and no window names the client path. A path that adds far more than the
// request's own time (600 ms on 150) still proves itself, starved or not.
func TestCauseStarvedHostSlowsThePathsHops(t *testing.T) {
	for _, tc := range []struct {
		pathMS float64
		proves bool
	}{{230, false}, {750, true}} {
		b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
			if at >= 8 {
				return reporttest.Hit{Lat: 900 * time.Millisecond, Timing: reporttest.TimingHdr(0.1, 3, 700, 880)}
			}
			return reporttest.Hit{Lat: 80 * time.Millisecond, Timing: reporttest.TimingHdr(0.1, 3, 70, 78)}
		})
		for s := 0; s < 21; s++ {
			busy, path, direct := 0.4, 1.2, 1.0
			if s >= 8 {
				busy, path, direct = 1.0, tc.pathMS, 154
			}
			b.Event(rundir.EventCPUSample, float64(s)+0.5, map[string]any{"cores": 2, "host_busy": busy,
				"generator_cores": 2 * busy, "target_in_process": true})
			for _, kind := range []string{"null", "health"} {
				b.Event(rundir.EventHTTPProbe, float64(s)+0.5, map[string]any{"kind": kind, "via": "path", "connect_ms": 0.2, "ms": path, "status": 200})
				b.Event(rundir.EventHTTPProbe, float64(s)+0.5, map[string]any{"kind": kind, "via": "direct", "connect_ms": 0.2, "ms": direct, "status": 200})
			}
		}
		r := analyzeDir(t, b.Write())
		proved := false // some degraded window had the client path at its wall
		for _, w := range r.Windows {
			if _, ok := w.walls[resClientPath]; ok && w.Traffic && !w.SLOMet {
				proved = true
			}
		}
		if proved != tc.proves {
			t.Errorf("path %v ms against 154 on a starved host: client path at its wall %v, want %v; cause %s", tc.pathMS, proved, tc.proves, r.Cause.Primary)
		}
		if !tc.proves {
			checkCause(t, r, CauseApp)
			for _, w := range r.Windows {
				if w.Cause == CauseNetClient {
					t.Errorf("window %s named %s on a starved host\nevidence:\n%s", format.Sec(w.Start), w.Cause, joined(w.Diagnosis.Evidence))
				}
			}
		}
	}
}

// cpuAndNull adds a cpu_sample and a direct null probe a second until
// 'to', from 'from' on at busy host share, this process's cores and null ms.
func cpuAndNull(b *reporttest.RunDir, from, to int, busy, cores, nullMS float64) {
	for s := 0; s < to; s++ {
		hb, c, n := 0.3, 0.2, 1.2
		if s >= from {
			hb, c, n = busy, cores, nullMS
		}
		b.Event(rundir.EventCPUSample, float64(s)+0.5, map[string]any{"cores": 2, "host_busy": hb,
			"generator_cores": c, "target_in_process": true})
		b.Event(rundir.EventHTTPProbe, float64(s)+0.5, map[string]any{"kind": "null", "via": "direct", "connect_ms": 0.2, "ms": n, "status": 404})
	}
}

// The role's cap is the wall while other work on the machine starves the
// host: this process (generator and in-process service) uses 0.2 cores and
// answers a direct request late for want of a core. That is not the
// service's saturation: db.connections, and app is not named.
func TestCauseHostStarvedByOthersIsNotTheService(t *testing.T) {
	b := reporttest.DBCapRun(t)
	cpuAndNull(b, 10, 31, 1.0, 0.2, 36)
	r := analyzeDir(t, b.Write())
	checkCause(t, r, CauseDBConnections)
}

// A client-path latency releases logins in bursts that fill the service's
// pool for a moment: a few acquires wait briefly. The pool is not the wall
// (no queue behind it); the path is.
func TestCauseMomentarilyFullPoolIsNotTheWall(t *testing.T) {
	b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
		if at >= 8 {
			return reporttest.Hit{Lat: 760 * time.Millisecond, Timing: reporttest.TimingHdr(5, 50, 2, 58)}
		}
		return reporttest.Hit{Lat: 55 * time.Millisecond, Timing: reporttest.TimingHdr(0.1, 50, 2, 53)}
	})
	acquires, waits := 0.0, 0.0
	b.DBSamples(0, 20, func(s int) map[string]any {
		m := reporttest.NormalDB(s)
		acquires += 30
		acquired := 3
		if s >= 8 {
			waits += 3
			acquired = 10
		}
		m["pool"] = map[string]any{"acquired_conns": acquired, "max_conns": 10, "acquire_count": acquires,
			"empty_acquire_count": waits, "empty_acquire_wait_time_ms": waits * 50}
		return m
	})
	for s := 0; s < 21; s++ {
		path := 1.0
		if s >= 8 {
			path = 701
		}
		b.Event(rundir.EventHTTPProbe, float64(s)+0.5, map[string]any{"kind": "null", "via": "path", "connect_ms": 0.2, "ms": path, "status": 404})
		b.Event(rundir.EventHTTPProbe, float64(s)+0.6, map[string]any{"kind": "null", "via": "direct", "connect_ms": 0.2, "ms": 1.1, "status": 404})
	}
	r := analyzeDir(t, b.Write())
	checkCause(t, r, CauseNetClient)
}

// Backends of the service's role vanish between samples and new ones
// appear while bare 500s come back. When the database counts those
// sessions as killed, they were ended under the service; when it counts
// none killed, fatal or abandoned (PostgreSQL 14+), the service closed
// them itself (a connection per request): not the sessions' end.
func TestCauseVanishedSessionsNeedTheDatabasesCount(t *testing.T) {
	for _, killed := range []bool{true, false} {
		b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
			if at >= 8 && i%4 == 0 {
				return reporttest.Hit{Lat: 5 * time.Millisecond, Outcome: rundir.OutcomeFailed, Code: 500}
			}
			return reporttest.Hit{Lat: 10 * time.Millisecond}
		})
		count := 0.0
		b.DBSamples(0, 20, func(s int) map[string]any {
			m := reporttest.NormalDB(s)
			m["role_by_state"] = map[string]any{"active": 2, "idle": 6}
			m["role_gone"], m["role_new"] = 0, 0
			if s >= 8 {
				m["role_gone"], m["role_new"] = 6, 6
				if killed {
					count += 6
				}
			}
			m["sessions_killed"], m["sessions_fatal"], m["sessions_abandoned"] = count, 0, 0
			return m
		})
		ev := joined(analyzeDir(t, b.Write()).Cause.Evidence)
		if got := strings.Contains(ev, "vanished between samples"); got != killed {
			t.Errorf("killed %v: evidence names vanished sessions %v, want %v:\n%s", killed, got, killed, ev)
		}
	}
}

// TCP connects to the database a few ms slower than at baseline (a busy
// machine) strain the path at most; tens of ms show it at its wall.
func TestDBConnectRiseIsAWallOnlyWhenLarge(t *testing.T) {
	b := &baseline{dbConnect: level{med: 0.3, spread: 0.05, n: 10}}
	for _, c := range []struct {
		ms   float64
		wall bool
	}{{8.6, false}, {120, true}} {
		e := &evidence{haveDBProbe: true, dbConnect: msDur(c.ms)}
		var fs findings
		ruleNetDB(e, b, &fs)
		_, wall := fs.walls()[resDBPath]
		if wall != c.wall {
			t.Errorf("database connect %v ms: wall %v, want %v", c.ms, wall, c.wall)
		}
	}
}

// A generator that starves the service it measures on a saturated host
// (more CPU than the service, which is not busy itself) is the machine's
// wall: generator, even while every worker waits on the starved service.
func TestGeneratorStarvingTheServiceIsTheWall(t *testing.T) {
	for _, c := range []struct {
		gen, target float64
		want        bool
	}{{1.0, 0.45, true}, {0.3, 0.2, false}, {0.6, 1.2, false}} {
		e := &evidence{haveCPU: true, cores: 2, hostBusy: 0.97, genCores: c.gen, haveTarget: true, targetCores: c.target}
		var fs findings
		genCPURule(e, &fs)
		if _, wall := fs.walls()[resGenerator]; wall != c.want {
			t.Errorf("generator %.2f cores, service %.2f: wall %v, want %v", c.gen, c.target, wall, c.want)
		}
	}
}

// A run's plateau (a pool of 4 at its wall once the load rose) names the
// pool only in windows whose own sessions are at it and at work: before
// the rise the pool keeps its 4 connections open, mostly idle.
func TestPlateauNamesOnlyWindowsAtIt(t *testing.T) {
	pl := &plateau{n: 4, active: 3, busy: true}
	for _, c := range []struct {
		active float64
		want   bool
	}{{1, false}, {3, true}} {
		e := &evidence{haveDB: true, roleBackends: 4, roleActive: c.active, plateau: pl}
		var fs findings
		ruleDBConnections(e, &baseline{}, &fs)
		if _, wall := fs.walls()[resPool]; wall != c.want {
			t.Errorf("%v of 4 sessions active: pool wall %v, want %v", c.active, wall, c.want)
		}
	}
}

// A service's process flat at one core while the host had another and the
// offered rate kept rising: a single thread or event loop at its wall
// (bb-event-loop: its CPU reached the core within the SLO, so no rise over
// the healthy windows showed it). Not at a whole number of cores, or on a
// saturated host, a flat CPU only follows a throughput held elsewhere.
func TestCPUPlateau(t *testing.T) {
	run := func(top, host float64) []Window {
		var wins []Window
		for i := range 14 {
			offered := 3 + 2.7*float64(i)
			cores := min(top, 0.075*offered) // 75 ms of CPU per login until the wall
			w := Window{Index: i, Traffic: true, OfferedRPS: offered, ServedRPS: min(offered, top/0.075),
				SLOMet: i < 7, Figures: Figures{P99: time.Duration(100+max(0, i-5)*400) * time.Millisecond},
				CPU: &CPUWindow{Samples: 1, Cores: 2, HostBusy: host, TargetCores: cores, HaveTarget: true}}
			wins = append(wins, w)
		}
		return wins
	}
	p := findCPUPlateau(run(1.0, 0.52))
	if p == nil || p.cores != 1 || p.start != 4 || math.Abs(p.fromRPS-13.8) > 1e-9 || math.Abs(p.host-0.52) > 1e-9 {
		t.Fatalf("one core flat, host 52%%: %+v, want a plateau of 1 core from window 4 (13.8/s)", p)
	}
	e := &evidence{haveCPU: true, haveTarget: true, targetCores: 1, hostBusy: 0.52, cores: 2, cpuPlateau: p}
	var fs findings
	ruleApp(e, &baseline{}, &fs)
	if _, wall := fs.walls()[resService]; !wall {
		t.Errorf("a CPU plateau at one core is not the service's wall: %+v", fs)
	}
	fs = findings{}
	e.targetCores = 0.3 // a window after the plateau's start, off it
	ruleApp(e, &baseline{}, &fs)
	if _, wall := fs.walls()[resService]; wall {
		t.Errorf("a window at 0.3 cores after a one-core plateau is the service's wall: %+v", fs)
	}
	if !strings.Contains(p.text(), "one core: a single thread or event loop flat out") {
		t.Errorf("text: %s", p.text())
	}
	for _, c := range []struct {
		name      string
		top, host float64
	}{
		{"flat at 0.6 cores (held elsewhere)", 0.6, 0.4},
		{"flat at 1.4 cores", 1.4, 0.8},
		{"the host saturated", 1.0, 0.95},
	} {
		if p := findCPUPlateau(run(c.top, c.host)); p != nil {
			t.Errorf("%s: %+v, want no plateau", c.name, p)
		}
	}
}

// The failures no cause claims (client timeouts) qualify the verdict: they
// come with the primary's evidence, before another cause's finding. A CI
// run had them after an "also (network.client)" line, where they read as
// the network's.
func TestUnclaimedFailuresComeWithThePrimary(t *testing.T) {
	fs := findings{
		{res: resPool, src: srcDB, weight: wShow, wall: true, text: "the service's pool full"},
		{res: resClientPath, src: srcConnect, weight: wSuggest, text: "TCP connect p99 6.4 ms against a 0.31 ms baseline"},
	}
	e := &evidence{}
	e.c.cls[clsClientTimeout] = 666
	lines := evidenceLines(fs, ruling{primary: CauseDBConnections}, e)
	timeouts, also := -1, -1
	for i, l := range lines {
		switch {
		case strings.Contains(l, "666 client timeouts"):
			timeouts = i
		case strings.HasPrefix(l, "also (network.client)"):
			also = i
		}
	}
	if timeouts < 0 || also < 0 || timeouts > also {
		t.Errorf("want the client timeouts before the other cause's finding:\n%s", strings.Join(lines, "\n"))
	}
}
