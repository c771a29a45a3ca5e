package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stampede-load/stampede/scenarios/engine"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

func TestResultsFaultsAndSamples(t *testing.T) {
	m := New("s", "r", "app")
	m.Result(engine.Observation{Stage: 1, Outcome: rundir.OutcomeOK, Code: 200, Latency: time.Millisecond, SendLag: time.Millisecond})
	m.Result(engine.Observation{Stage: 1, Outcome: rundir.OutcomeFailed, Code: 503, Latency: time.Millisecond})
	m.Result(engine.Observation{Stage: 0, Outcome: rundir.OutcomeFailed, ErrorClass: rundir.ErrRefused})
	m.Result(engine.Observation{Stage: 0, Outcome: rundir.OutcomeFailed, ErrorClass: rundir.ErrRefused})
	for _, c := range []struct {
		labels []string
		want   float64
	}{{[]string{"1", "ok"}, 1}, {[]string{"1", "failed"}, 1}, {[]string{"0", "failed"}, 2}, {[]string{"0", "ok"}, 0}} {
		if got := testutil.ToFloat64(m.requests.WithLabelValues(c.labels...)); got != c.want {
			t.Errorf("requests%v = %g, want %g", c.labels, got, c.want)
		}
	}
	if got := testutil.ToFloat64(m.errors.WithLabelValues("http_503")); got != 1 {
		t.Errorf("errors{http_503} = %g", got)
	}
	if got := testutil.ToFloat64(m.errors.WithLabelValues(rundir.ErrRefused)); got != 2 {
		t.Errorf("errors{refused} = %g", got)
	}

	i, ok := 0, true
	params := map[string]any{"path": "client"}
	m.Event(rundir.FaultEvent{Type: rundir.EventFaultInject, Index: &i, Kind: "net.latency", Params: params, OK: &ok}, time.Time{})
	if got := testutil.ToFloat64(m.faultActive.WithLabelValues("net.latency", "client")); got != 1 {
		t.Errorf("fault_active in force = %g", got)
	}
	m.Event(rundir.FaultEvent{Type: rundir.EventFaultRevert, Index: &i, Kind: "net.latency", Params: params, OK: &ok}, time.Time{})
	if got := testutil.ToFloat64(m.faultActive.WithLabelValues("net.latency", "client")); got != 0 {
		t.Errorf("fault_active reverted = %g", got)
	}

	lim := 5.0
	m.Event(rundir.DBSample{Type: rundir.EventDBSample, RoleByState: map[string]float64{"active": 5, "idle": 1}, RoleLimit: &lim}, time.Time{})
	m.Event(rundir.DBSample{Type: rundir.EventDBSample, RoleByState: map[string]float64{"active": 3}}, time.Time{})
	if got := testutil.ToFloat64(m.dbBackends.WithLabelValues("app", "idle")); got != 0 {
		t.Errorf("db_backends{app,idle} after it emptied = %g", got)
	}
	if got := testutil.ToFloat64(m.dbBackends.WithLabelValues("app", "active")); got != 3 {
		t.Errorf("db_backends{app,active} = %g", got)
	}
	if got := testutil.ToFloat64(m.dbLimit.WithLabelValues("role")); got != 5 {
		t.Errorf("db_connection_limit{role} = %g", got)
	}
}

// BenchmarkResult is the per-result cost on the run's hot path.
func BenchmarkResult(b *testing.B) {
	m := New("s", "r", "app")
	o := engine.Observation{Stage: 2, Outcome: rundir.OutcomeOK, Code: 200, Latency: time.Millisecond, SendLag: time.Microsecond}
	b.ReportAllocs()
	for b.Loop() {
		m.Result(o)
	}
}

func TestRoleBackendsWithoutStates(t *testing.T) {
	m := New("s", "r", "app")
	backends, active := 7.0, 5.0
	m.Event(rundir.DBSample{Type: rundir.EventDBSample, RoleBackends: &backends, RoleActive: &active}, time.Time{})
	if got := testutil.ToFloat64(m.dbBackends.WithLabelValues("app", "other")); got != 2 {
		t.Errorf("db_backends{app,other} = %g, want 2", got)
	}
}
