package evidence

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/fixtures/pg"
	"github.com/stampede-load/stampede/fixtures/pg/pgtest"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// TestDBSamplerRoleBackends holds sessions of the service's role in known
// states (idle in transaction, waiting on a lock), then terminates one:
// the sample counts them by state and wait, sees the terminated backend
// vanish and pg_stat_database count it killed.
func TestDBSamplerRoleBackends(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Start(t, pg.Options{})
	admin := pgtest.Open(t, srv.AdminDSN())
	admin.Exec(`CREATE ROLE svc LOGIN PASSWORD 'svcpw'`)
	admin.Exec(`CREATE TABLE hot (id int PRIMARY KEY)`)
	admin.Exec(`GRANT ALL ON hot TO svc`)
	dsn := srv.DSN("svc", "svcpw", "postgres")

	idle := pgtest.Open(t, dsn)
	idle.Exec("BEGIN")
	idle.Exec("SELECT 1")
	locker := pgtest.Open(t, dsn)
	locker.Exec("BEGIN")
	locker.Exec("LOCK TABLE hot IN ACCESS EXCLUSIVE MODE")
	waiter := pgtest.Connect(t, dsn)
	waited := make(chan error, 1)
	go func() {
		_, err := waiter.Exec(ctx, "SELECT count(*) FROM hot")
		waited <- err
	}()
	defer func() {
		locker.Exec("ROLLBACK")
		if err := <-waited; err != nil {
			t.Errorf("the waiting session: %v", err)
		}
	}()
	victim, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close(ctx)

	s := &dbSampler{conn: pgtest.Connect(t, srv.AdminDSN()), role: "svc"}
	var m rundir.DBSample
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if m = s.sample(ctx); m.RoleWaits["Lock"] >= 1 || time.Now().After(deadline) {
			break
		}
	}
	m = s.sample(ctx) // one more: the first has no previous sample to compare pids with
	if m.Error != "" || m.RoleWaits["Lock"] != 1 || m.RoleByState["idle in transaction"] != 2 || m.RoleByState["idle"] != 1 {
		t.Fatalf("role_by_state %v, role_waits %v (error %q): want 2 idle in transaction, 1 idle, 1 active waiting on Lock",
			m.RoleByState, m.RoleWaits, m.Error)
	}
	if m.SessionsKilled == nil || m.SessionsFatal == nil || m.SessionsAbandoned == nil || m.Deadlocks == nil {
		t.Fatalf("pg_stat_database counters missing on PostgreSQL %d: %+v", s.versionNum, m)
	}
	if m.RoleGone == nil || *m.RoleGone != 0 || *m.RoleNew != 0 {
		t.Errorf("role_gone %v role_new %v with no session ended or begun, want 0 and 0", m.RoleGone, m.RoleNew)
	}
	killedBefore := *m.SessionsKilled

	admin.Exec("SELECT pg_terminate_backend($1)", int(victim.PgConn().PID()))
	var gone float64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		m = s.sample(ctx)
		if m.RoleGone != nil {
			gone += *m.RoleGone
		}
		if gone >= 1 && m.SessionsKilled != nil && *m.SessionsKilled > killedBefore {
			break
		}
	}
	if gone != 1 || m.SessionsKilled == nil || *m.SessionsKilled <= killedBefore {
		t.Errorf("after terminating a backend: role_gone summed %v, sessions_killed %v (was %v); want 1 and a rise",
			gone, m.SessionsKilled, killedBefore)
	}

	// The database is on this machine: its CPU is measured, from the
	// server found by the port it listens on.
	c := newCPUSampler(cpuReader{root: "/proc"}, "", net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Port)))
	if c == nil {
		t.Fatal("no CPU sampler on this machine")
	}
	if pids := c.dbPIDs(); len(pids) < 2 {
		t.Errorf("the database's processes = %v, want its server and its backends", pids)
	}
	time.Sleep(300 * time.Millisecond)
	if cs, ok := c.sample(time.Now()); !ok || cs.DBCores == nil {
		t.Errorf("cpu sample %+v (ok %v), want db_cores", cs, ok)
	}
}

// TestDBPathProbe sends the probe query through a proxy with 50ms of
// latency beside the direct one: the path's figure shows the latency, the
// direct one does not; a path that cannot be reached is an error that
// holds no password.
func TestDBPathProbe(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Start(t, pg.Options{})
	network := chaos.NewNetwork()
	defer network.Close(ctx)
	dbAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Port))
	proxy, err := network.AddProxy(ctx, chaos.PathDB, "127.0.0.1:0", dbAddr)
	if err != nil {
		t.Fatal(err)
	}
	latency, err := chaos.NewRegistry().Build(&chaos.Env{Network: network}, "net.latency",
		map[string]any{"path": chaos.PathDB, "latency": "50ms"})
	if err != nil {
		t.Fatal(err)
	}
	if err := latency.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	defer latency.Revert(ctx)

	ev, err := StartEvidence(ctx, EvidenceConfig{AdminDSN: srv.AdminDSN(), DBPathAddr: proxy, SampleEvery: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sink := &sinkRec{}
	ev.Run(ctx, sink)
	time.Sleep(2 * time.Second)
	ev.Stop(ctx)
	samples, _ := sink.samples()
	var direct, path []float64
	for _, s := range samples {
		if s.PathProbeError != "" {
			t.Errorf("path probe error: %s", s.PathProbeError)
		}
		if s.ProbeRTTMS != nil && s.PathProbeRTTMS != nil {
			direct, path = append(direct, *s.ProbeRTTMS), append(path, *s.PathProbeRTTMS)
		}
	}
	if len(path) < 3 {
		t.Fatalf("%d samples with both probes, want ≥3: %+v", len(path), samples)
	}
	t.Logf("direct %v ms, through the path %v ms", direct, path)
	if minOf(path) < 40 {
		t.Errorf("through the 50ms path: min %v ms, want ≥ 40", minOf(path))
	}
	if median(direct) > median(path)/2 {
		t.Errorf("direct median %v ms against the path's %v ms: want the direct probe well below", median(direct), median(path))
	}

	// A path nothing listens on: each sample says why, without the password.
	dead := freeAddr(t)
	p := newPathProbe(srv.AdminDSN(), dead)
	defer p.close()
	rtt, msg := p.probe(ctx)
	if rtt != nil || msg == "" || strings.Contains(msg, pgtest.Password(t, srv.AdminDSN())) {
		t.Errorf("probe of a dead path = %v, %q: want an error without the password", rtt, msg)
	}
	if bad := newPathProbe(srv.AdminDSN(), "no-port"); bad.cfg != nil {
		t.Error("an address without a port was taken")
	} else if _, msg := bad.probe(ctx); msg == "" {
		t.Error("no error from a probe whose address did not parse")
	}
}

// freeAddr is a loopback address nothing listens on (a port just freed).
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func minOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
