package report

import (
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/report/reporttest"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

func TestScorecard(t *testing.T) {
	r := analyzeDir(t, reporttest.DrillRun(t).Write())
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
	b := reporttest.DrillRun(t)
	var kept []map[string]any
	for _, e := range b.Events {
		if typ := e["type"]; typ != rundir.EventFaultInject && typ != rundir.EventFaultRevert {
			kept = append(kept, e)
		}
	}
	b.Events = kept
	blind := analyzeDir(t, b.Write())
	for i, w := range r.Windows {
		if blind.Windows[i].Cause != w.Cause {
			t.Errorf("window %d: cause %s with fault events, %s without", i, w.Cause, blind.Windows[i].Cause)
		}
	}
}

// A fault never reverted and never recovered from: "did not recover".
func TestScorecardDidNotRecover(t *testing.T) {
	b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
		return reporttest.Hit{Lat: 3 * time.Millisecond, Outcome: rundir.OutcomeFailed, Code: 503, Body: `{"error":"pool_timeout"}`}
	})
	b.Event(rundir.EventFaultInject, 8, map[string]any{"index": 0, "kind": "db.hog", "params": map[string]any{}, "start_s": 8.0, "ok": true})
	r := analyzeDir(t, b.Write())
	s := r.Scorecard[0]
	if s.Recovered || s.Recovery != nil || !s.Match || r.Faults[0].Reverted {
		t.Errorf("scorecard %+v, fault %+v: want matched, not reverted, not recovered", s, r.Faults[0])
	}
}

// Latency on the database path fills the pool; logins sent in its last
// seconds wait for a connection and run their statements after it ends,
// so those windows read db.connections (pool wait, db time normal) and
// outnumber the path's own. The fault's cause is reached as the run's:
// the path saturated first and stayed (its probe slow throughout), the
// pool is its symptom. A count of window causes called it db.connections.
func TestScorecardQueueLeftByAPathFault(t *testing.T) {
	b := reporttest.ConstRun(t, func(at float64, i int) reporttest.Hit {
		switch {
		case at >= 15:
			return reporttest.Hit{Lat: 10 * time.Millisecond, Timing: reporttest.TimingHdr(0.1, 3, 2, 8)}
		case at >= 11: // sent while the path was slow, served after the queue
			return reporttest.Hit{Lat: 1500 * time.Millisecond, Timing: reporttest.TimingHdr(1400, 4, 2, 1410)}
		}
		return reporttest.Hit{Lat: 1500 * time.Millisecond, Timing: reporttest.TimingHdr(1000, 490, 2, 1495)}
	})
	empty := 0.0
	b.DBSamples(0, 20, func(s int) map[string]any {
		m := reporttest.NormalDB(s)
		m["path_probe_rtt_ms"] = 0.5
		if s >= 8 && s < 16 {
			empty += 15
			m["role_backends"], m["role_active"] = 10, 1
			m["role_by_state"] = map[string]any{"active": 1, "idle in transaction": 9}
			m["pool"] = map[string]any{"acquired_conns": 10, "max_conns": 10, "empty_acquire_count": empty}
		}
		if s >= 8 && s < 14 {
			m["path_probe_rtt_ms"] = 101.0
		}
		return m
	})
	b.Event(rundir.EventFaultInject, 8, map[string]any{"index": 0, "fault": "net.latency{...}", "kind": "net.latency",
		"params": map[string]any{"path": "db", "latency": "100ms"}, "start_s": 8.0, "end_s": 14.0, "ok": true, "elapsed_s": 8.0})
	b.Event(rundir.EventFaultRevert, 14, map[string]any{"index": 0, "kind": "net.latency", "start_s": 8.0, "end_s": 14.0, "ok": true, "reason": "end"})
	r := analyzeDir(t, b.Write())
	counts := map[string]int{}
	for _, w := range r.Windows {
		if w.Traffic && !w.SLOMet {
			counts[w.Cause]++
		}
	}
	if counts[CauseDBConnections] <= counts[CauseNetDB] {
		t.Fatalf("windows by cause %v: the run no longer has more queue windows than path windows, so it tests nothing", counts)
	}
	if s := r.Scorecard[0]; s.Detected != CauseNetDB || !s.Match {
		t.Errorf("scorecard: detected %s (match %v), want %s; windows by cause %v", s.Detected, s.Match, CauseNetDB, counts)
	}
	if r.Cause.Primary != CauseNetDB {
		t.Errorf("run's cause %s, want %s: the scorecard and the verdict must agree", r.Cause.Primary, CauseNetDB)
	}
}
