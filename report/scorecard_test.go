package report

import (
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

const drillScenario = `name: drill
stages:
  - constant: {rate: 20, for: 40s}
faults:
  - {kind: db.conn_limit, start: 10s, for: 10s, role: app, limit: 2}
  - {kind: net.reset_peer, start: 28s, for: 5s, path: client}
  - {kind: db.hog, start: 35s, for: 3s}
`

// drillRun injects three faults: a connection limit (felt from 11 s to
// 21 s), client-side resets (28 s to 32 s) and a hog that does nothing.
func drillRun(t testing.TB) *runDir {
	b := newRunDir(t, drillScenario)
	p := mustPlan(t, drillScenario)
	b.stages(p)
	i := 0
	b.traffic(p, 0, 40, func(at float64) hitSpec {
		i++
		h := hitSpec{lat: 10 * time.Millisecond, timing: timingHdr(0.1, 3, 2, 8)}
		if i%10 == 1 {
			h.conn = "new;connect=300000"
		}
		switch {
		case at >= 11 && at < 22:
			h.lat, h.timing = 120*time.Millisecond, timingHdr(100, 3, 2, 110)
			if i%4 == 0 {
				h = hitSpec{lat: 4 * time.Millisecond, outcome: rundir.OutcomeFailed, code: 503, timing: timingHdr(1, 0, 0, 2),
					body: `{"error":"db_unavailable","sqlstate":"53300","detail":"too many connections for role \"app\""}`}
			}
		case at >= 28 && at < 33:
			if i%5 == 0 {
				h = hitSpec{lat: 20 * time.Millisecond, outcome: rundir.OutcomeFailed, class: "reset", conn: "new;connect=25000000"}
			}
		}
		return h
	})
	b.dbSamples(0, 40, func(s int) map[string]any {
		m := normalDB(s)
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
		b.event(rundir.EventFaultInject, f.inj, fields)
		rv := map[string]any{"index": f.idx, "kind": f.kind, "start_s": f.start, "end_s": f.end, "ok": true, "reason": "end"}
		if !f.ok {
			rv["reason"] = "inject_failed"
		}
		b.event(rundir.EventFaultRevert, f.rev, rv)
	}
	b.event(rundir.EventRunEnd, 40.3, map[string]any{"status": "completed"})
	return b
}

func TestScorecard(t *testing.T) {
	r := analyzeDir(t, drillRun(t).write())
	if len(r.Faults) != 4 || len(r.Scorecard) != 4 {
		t.Fatalf("%d faults, %d scorecard entries; want 4 and 4", len(r.Faults), len(r.Scorecard))
	}
	f0 := r.Faults[0]
	if f0.Start != 10020*time.Millisecond || f0.End != 20010*time.Millisecond || !f0.Reverted || f0.Path != "" {
		t.Errorf("fault 0: %+v", f0)
	}
	if r.Faults[1].Path != "client" {
		t.Errorf("fault 1 path %q, want client", r.Faults[1].Path)
	}
	dur := func(d *time.Duration) string {
		if d == nil {
			return "nil"
		}
		return d.String()
	}
	for _, tc := range []struct {
		i                int
		detected         string
		match, recovered bool
		impact, recovery string
		note             string
	}{
		{0, CauseDBConnections, true, true, "980ms", "1.99s", ""},
		{1, CauseNetClient, true, true, "0s", "0s", ""},
		{2, CauseNone, false, true, "nil", "nil", "no window missed the SLO"},
		{3, CauseNone, false, true, "nil", "nil", "the injection failed: permission denied"},
	} {
		s := r.Scorecard[tc.i]
		if s.Detected != tc.detected || s.Match != tc.match || s.Recovered != tc.recovered {
			t.Errorf("fault %d (%s): detected %s match %v recovered %v; want %s %v %v", tc.i, s.Kind, s.Detected, s.Match, s.Recovered, tc.detected, tc.match, tc.recovered)
		}
		if dur(s.TimeToImpact) != tc.impact || dur(s.Recovery) != tc.recovery {
			t.Errorf("fault %d (%s): impact %s recovery %s; want %s %s", tc.i, s.Kind, dur(s.TimeToImpact), dur(s.Recovery), tc.impact, tc.recovery)
		}
		if !strings.Contains(s.Note, tc.note) {
			t.Errorf("fault %d note %q, want %q", tc.i, s.Note, tc.note)
		}
	}
	// the analysis decided causes without the faults: a run with the fault
	// events removed gets the same window causes
	b := drillRun(t)
	var kept []map[string]any
	for _, e := range b.events {
		if typ := e["type"]; typ != rundir.EventFaultInject && typ != rundir.EventFaultRevert {
			kept = append(kept, e)
		}
	}
	b.events = kept
	blind := analyzeDir(t, b.write())
	for i, w := range r.Windows {
		if blind.Windows[i].Cause != w.Cause {
			t.Errorf("window %d: cause %s with fault events, %s without", i, w.Cause, blind.Windows[i].Cause)
		}
	}
}

// A fault never reverted and never recovered from: "did not recover".
func TestScorecardDidNotRecover(t *testing.T) {
	b := constRun(t, func(at float64, i int) hitSpec {
		return hitSpec{lat: 3 * time.Millisecond, outcome: rundir.OutcomeFailed, code: 503, body: `{"error":"pool_timeout"}`}
	})
	b.event(rundir.EventFaultInject, 8, map[string]any{"index": 0, "kind": "db.hog", "params": map[string]any{}, "start_s": 8.0, "ok": true})
	r := analyzeDir(t, b.write())
	s := r.Scorecard[0]
	if s.Recovered || s.Recovery != nil || !s.Match || r.Faults[0].Reverted {
		t.Errorf("scorecard %+v, fault %+v: want matched, not reverted, not recovered", s, r.Faults[0])
	}
	if got := recoveryText(s); got != "did not recover" {
		t.Errorf("recovery text %q", got)
	}
}
