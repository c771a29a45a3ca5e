package report

import (
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

const steppedScenario = `name: stepped
stages:
  - steps: {from: 10, to: 60, step: 10, hold: 5s}
slo: {success_ratio: 0.99, percentile: 99, latency: 500ms}
gates: {min_sustainable_rps: 25, expect_cause: db.connections}
`

// dbCapRun: steps 10..60/s; from step 4 (40/s, 15s) the role's connection
// limit bites: a fifth of logins get 503 with SQLSTATE 53300, the rest
// wait ~80 ms for the pool; database samples show the role at its limit.
func dbCapRun(t testing.TB) *runDir {
	b := newRunDir(t, steppedScenario)
	p := mustPlan(t, steppedScenario)
	b.stages(p)
	i := 0
	b.traffic(p, 0, 30, func(at float64) hitSpec {
		i++
		h := hitSpec{lat: 10 * time.Millisecond, timing: timingHdr(0.1, 3, 2, 8)}
		if i%25 == 1 {
			h.conn = "new;connect=300000"
		}
		if at >= 15 {
			h.lat, h.timing = 92*time.Millisecond, timingHdr(80, 3, 2, 90)
			if i%25 == 1 {
				h.conn = "new;connect=400000"
			}
			if i%5 == 0 {
				h.outcome, h.code, h.lat = rundir.OutcomeFailed, 503, 3*time.Millisecond
				h.body = `{"error":"db_unavailable","sqlstate":"53300","detail":"too many connections for role \"app\""}`
				h.timing = timingHdr(1, 0, 0, 2)
			}
		}
		return h
	})
	b.dbSamples(0, 30, func(s int) map[string]any {
		role, total := 5, 8
		if s >= 15 {
			role, total = 20, 23
		}
		return map[string]any{"backends_total": total, "role_backends": role, "role_active": role, "role_limit": 20,
			"max_connections": 100, "superuser_reserved": 3, "lock_waiters": 0, "probe_rtt_ms": 0.3,
			"by_state": map[string]any{"active": role / 2, "idle": total - role/2}}
	})
	b.probes("service", 0, 30, func(int) float64 { return 0.3 })
	b.probes("db", 0, 30, func(int) float64 { return 0.2 })
	b.event(rundir.EventRunEnd, 30.4, map[string]any{"status": "completed"})
	return b
}

func TestLimitClean(t *testing.T) {
	r := analyzeDir(t, cleanRun(t).write())
	l := r.Limit
	if l.SustainableRPS == nil || *l.SustainableRPS != 40 || l.BreakingRPS != nil {
		t.Errorf("sustainable %v breaking %v: want 40 and nil", ptrStr(l.SustainableRPS), ptrStr(l.BreakingRPS))
	}
	if l.MaxGoodputRPS != 36 { // 40/s with a tenth expected rejects
		t.Errorf("max goodput %g, want 36", l.MaxGoodputRPS)
	}
	if l.KneeRPS != nil {
		t.Errorf("knee %g on flat latency: want none", *l.KneeRPS)
	}
	if l.PrecisionRPS == nil || *l.PrecisionRPS != 10 {
		t.Errorf("precision %v (%s): want the 10/s step", ptrStr(l.PrecisionRPS), l.Precision)
	}
}

func TestLimitStepped(t *testing.T) {
	r := analyzeDir(t, dbCapRun(t).write())
	l := r.Limit
	if l.SustainableRPS == nil || *l.SustainableRPS != 30 {
		t.Errorf("sustainable %v, want 30", ptrStr(l.SustainableRPS))
	}
	if l.BreakingRPS == nil || *l.BreakingRPS != 40 || l.BreakingAt != 15*time.Second {
		t.Errorf("breaking %v at %s, want 40 at 15s", ptrStr(l.BreakingRPS), l.BreakingAt)
	}
	if l.MaxGoodputRPS != 48 {
		t.Errorf("max goodput %g, want 48 (60/s with a fifth failing)", l.MaxGoodputRPS)
	}
	if l.KneeRPS == nil || *l.KneeRPS != 40 {
		t.Errorf("knee %v, want 40", ptrStr(l.KneeRPS))
	}
	if l.PrecisionRPS == nil || *l.PrecisionRPS != 10 {
		t.Errorf("precision %v, want 10", ptrStr(l.PrecisionRPS))
	}
	if r.Verdict != "fail" {
		t.Errorf("verdict %q, want fail", r.Verdict)
	}
}

// On a ramp, latency flat at 10 ms up to 70/s then climbing: the knee is
// near 70/s, and ramp windows measure the limit.
func TestLimitRampKnee(t *testing.T) {
	const sc = "stages:\n  - ramp: {from: 10, to: 100, for: 30s}\nslo: {latency: 200ms}\n"
	b := newRunDir(t, sc)
	p := mustPlan(t, sc)
	b.stages(p)
	b.traffic(p, 0, 30, func(at float64) hitSpec {
		rate := 10 + 3*at
		lat := 10 * time.Millisecond
		if rate > 70 {
			lat += time.Duration((rate - 70) * float64(10*time.Millisecond))
		}
		return hitSpec{lat: lat}
	})
	r := analyzeDir(t, b.write())
	l := r.Limit
	if l.KneeRPS == nil || *l.KneeRPS < 68 || *l.KneeRPS > 76 {
		t.Errorf("knee %v, want about 70", ptrStr(l.KneeRPS))
	}
	if l.BreakingRPS == nil || *l.BreakingRPS < 85 || *l.BreakingRPS > 92 {
		t.Errorf("breaking %v, want where latency crosses 200 ms (about 89)", ptrStr(l.BreakingRPS))
	}
	if l.Method == "" || l.PrecisionRPS == nil {
		t.Errorf("method %q precision %v", l.Method, ptrStr(l.PrecisionRPS))
	}
}

// A constant rate degraded for a while, then healthy again: no breaking
// point (it did not stay failed).
func TestLimitTransientFailure(t *testing.T) {
	const sc = "stages:\n  - constant: {rate: 20, for: 20s}\n"
	b := newRunDir(t, sc)
	p := mustPlan(t, sc)
	b.stages(p)
	b.traffic(p, 0, 20, func(at float64) hitSpec {
		if at >= 5 && at < 10 {
			return hitSpec{lat: 2 * time.Second, outcome: rundir.OutcomeFailed, class: "client_timeout"}
		}
		return hitSpec{lat: 10 * time.Millisecond}
	})
	r := analyzeDir(t, b.write())
	if r.Limit.BreakingRPS != nil || r.Limit.SustainableRPS == nil || *r.Limit.SustainableRPS != 20 {
		t.Errorf("breaking %v sustainable %v: want nil and 20", ptrStr(r.Limit.BreakingRPS), ptrStr(r.Limit.SustainableRPS))
	}
}

func ptrStr(v *float64) string {
	if v == nil {
		return "nil"
	}
	return fnum(*v)
}
