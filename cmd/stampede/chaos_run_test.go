package main

// End-to-end tests of faults through `stampede run`: a real PostgreSQL
// (fixtures/pg), the bundled login service, real sockets and in-process
// Toxiproxy proxies. Each run is short (5–15 s at ≤ 100/s). With --dsn the
// database is the test's own, so that what a run leaves behind can be
// checked after it.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/fixtures"
	"github.com/stampede-load/stampede/fixtures/pg"
	"github.com/stampede-load/stampede/fixtures/pg/pgtest"
	"github.com/stampede-load/stampede/report/reporttest"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// chaosMaxConns is the test PostgreSQL's max_connections: room for the
// service's pool, the evidence sampler and chaos's own sessions, and few
// enough that db.hog fills it quickly.
const chaosMaxConns = 40

// startChaosPG starts a PostgreSQL of the test's own; runs get its admin
// DSN as --dsn, so that the fixture seeds it and it outlives each run.
func startChaosPG(t *testing.T) *pg.Server {
	t.Helper()
	return pgtest.Start(t, pg.Options{MaxConnections: chaosMaxConns})
}

// chaosRun is one finished `stampede run`.
type chaosRun struct {
	dir            string
	err            error
	stdout, stderr string
	start          time.Time // run_start
	results        []vegeta.Result
	timeline       []map[string]any
}

// runChaosScenario writes scenario to a file and runs it through runMain,
// recording to a fresh run directory. during, when set, runs beside the run
// (it may send on sig) and its error fails the test after the run.
func runChaosScenario(t *testing.T, scenario string, sig chan os.Signal, during func(dir string) error, args ...string) *chaosRun {
	t.Helper()
	tmp := t.TempDir()
	sc := filepath.Join(tmp, "scenario.yaml")
	if err := os.WriteFile(sc, []byte(scenario), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &chaosRun{dir: filepath.Join(tmp, "run")}
	var stdout, stderr syncBuffer
	e := &env{stdout: &stdout, stderr: &stderr, signals: sig, getenv: func(string) string { return "" }}
	done := make(chan error, 1)
	if during != nil {
		go func() { done <- during(r.dir) }()
	} else {
		done <- nil
	}
	r.err = runMain(context.Background(), e, append([]string{"run", sc, "--out", r.dir, "--seed", "7"}, args...))
	r.stdout, r.stderr = stdout.String(), stderr.String()
	if err := <-done; err != nil {
		t.Errorf("beside the run: %v", err)
	}
	r.timeline = reporttest.ReadTimeline(t, r.dir)
	if ev := r.first("run_start"); ev != nil {
		r.start = eventTime(t, ev)
	}
	if _, err := os.Stat(filepath.Join(r.dir, rundir.ResultsFile)); err == nil {
		r.results = decodeResults(t, r.dir)
	}
	t.Logf("run: exit %d (%v), %d results, %d timeline events", exitCode(r.err), r.err, len(r.results), len(r.timeline))
	return r
}

func eventTime(t *testing.T, ev map[string]any) time.Time {
	t.Helper()
	s, _ := ev["time"].(string)
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("event %v: time: %v", ev, err)
	}
	return at
}

func (r *chaosRun) of(typ string) []map[string]any {
	var out []map[string]any
	for _, ev := range r.timeline {
		if ev["type"] == typ {
			out = append(out, ev)
		}
	}
	return out
}

func (r *chaosRun) first(typ string) map[string]any {
	if evs := r.of(typ); len(evs) > 0 {
		return evs[0]
	}
	return nil
}

// at is when a result was sent, in seconds since the run's start.
func (r *chaosRun) at(res vegeta.Result) float64 { return res.Timestamp.Sub(r.start).Seconds() }

// between returns the results sent in [from, to) seconds.
func (r *chaosRun) between(from, to float64) []vegeta.Result {
	var out []vegeta.Result
	for _, res := range r.results {
		if s := r.at(res); s >= from && s < to {
			out = append(out, res)
		}
	}
	return out
}

// wantExit checks the run's exit code is one of codes.
func (r *chaosRun) wantExit(t *testing.T, codes ...int) {
	t.Helper()
	if !slices.Contains(codes, exitCode(r.err)) {
		t.Fatalf("exit %d (%v), want one of %v\nstderr:\n%s\nstdout:\n%s", exitCode(r.err), r.err, codes, r.stderr, r.stdout)
	}
}

// faultWindow is one fault's inject and revert events.
type faultWindow struct {
	kind             string
	injected, ended  float64 // seconds since the start
	injectOK, revOK  bool
	reverted         bool
	reason           string
	inject, revertEv map[string]any
}

// faultWindows pairs fault_inject and fault_revert events by index.
func (r *chaosRun) faultWindows() []faultWindow {
	byIndex := map[float64]*faultWindow{}
	var order []float64
	for _, ev := range r.timeline {
		idx, _ := ev["index"].(float64)
		switch ev["type"] {
		case chaos.EventInject:
			w := &faultWindow{inject: ev}
			w.kind, _ = ev["kind"].(string)
			w.injected, _ = ev["t"].(float64)
			w.injectOK, _ = ev["ok"].(bool)
			byIndex[idx] = w
			order = append(order, idx)
		case chaos.EventRevert:
			if w := byIndex[idx]; w != nil {
				w.revertEv, w.reverted = ev, true
				w.ended, _ = ev["t"].(float64)
				w.revOK, _ = ev["ok"].(bool)
				w.reason, _ = ev["reason"].(string)
			}
		}
	}
	var out []faultWindow
	for _, i := range order {
		out = append(out, *byIndex[i])
	}
	return out
}

// checkFaultsRevertedOK checks the timeline shows each of kinds injected
// and reverted, both with ok true, and returns their windows in order.
func (r *chaosRun) checkFaultsRevertedOK(t *testing.T, kinds ...string) []faultWindow {
	t.Helper()
	ws := r.faultWindows()
	var got []string
	for _, w := range ws {
		got = append(got, w.kind)
		if !w.injectOK {
			t.Errorf("fault_inject of %s: ok false: %v", w.kind, w.inject)
		}
		if !w.reverted {
			t.Errorf("%s injected at %.2fs and never reverted", w.kind, w.injected)
		} else if !w.revOK {
			t.Errorf("fault_revert of %s: ok false: %v", w.kind, w.revertEv)
		}
	}
	if !slices.Equal(got, kinds) {
		t.Fatalf("faults injected: %v, want %v\ntimeline faults: %v", got, kinds, r.of(chaos.EventInject))
	}
	return ws
}

// checkJournalDone checks every journal entry of the run is marked done.
func checkJournalDone(t *testing.T, dir string, wantEntries int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, chaos.JournalFile))
	if err != nil {
		t.Fatalf("journal: %v", err)
	}
	var j struct {
		Entries []chaos.JournalEntry `json:"entries"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	if len(j.Entries) != wantEntries {
		t.Errorf("journal has %d entries, want %d:\n%s", len(j.Entries), wantEntries, b)
	}
	for _, e := range j.Entries {
		if !e.Done {
			t.Errorf("journal entry %s (%s) not done", e.ID, e.Fault)
		}
	}
}

// checkStatusNamed checks the live display named the fault while in force.
func (r *chaosRun) checkStatusNamed(t *testing.T, faultPrefix string) {
	t.Helper()
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.Contains(line, "faults: "+faultPrefix) {
			return
		}
	}
	t.Errorf("no progress line names %q as in force:\n%s", "faults: "+faultPrefix, r.stderr)
}

// dbFailure is the fixture's 503 body.
type dbFailure struct {
	Error    string `json:"error"`
	SQLState string `json:"sqlstate"`
	Cause    string `json:"cause"`
}

func failureOf(res vegeta.Result) (dbFailure, bool) {
	var f dbFailure
	if res.Code != 503 || json.Unmarshal(res.Body, &f) != nil {
		return f, false
	}
	return f, true
}

// sqlStates counts the SQLSTATEs of 503 bodies.
func sqlStates(rs []vegeta.Result) map[string]int {
	m := map[string]int{}
	for _, res := range rs {
		if f, ok := failureOf(res); ok {
			m[f.SQLState]++
		}
	}
	return m
}

// codes counts status codes, and transport errors by class as "err:class".
func codes(rs []vegeta.Result) map[string]int {
	m := map[string]int{}
	for _, res := range rs {
		if res.Code == 0 {
			m["err:"+res.Headers.Get(rundir.HeaderErrorClass)]++
			continue
		}
		m[strconv.Itoa(int(res.Code))]++
	}
	return m
}

func successRatio(rs []vegeta.Result) float64 {
	if len(rs) == 0 {
		return 0
	}
	n := 0
	for _, res := range rs {
		if res.Code == 200 {
			n++
		}
	}
	return float64(n) / float64(len(rs))
}

// serverTiming returns one metric of a result's Server-Timing header.
func serverTiming(res vegeta.Result, name string) (time.Duration, bool) {
	for _, part := range strings.Split(res.Headers.Get("Server-Timing"), ",") {
		fields := strings.Split(strings.TrimSpace(part), ";")
		if fields[0] != name {
			continue
		}
		for _, f := range fields[1:] {
			if v, ok := strings.CutPrefix(strings.TrimSpace(f), "dur="); ok {
				ms, err := strconv.ParseFloat(v, 64)
				return time.Duration(ms * float64(time.Millisecond)), err == nil
			}
		}
	}
	return 0, false
}

// medianDB is the median Server-Timing db of the successful results.
func medianDB(rs []vegeta.Result) time.Duration {
	var ds []time.Duration
	for _, res := range rs {
		if d, ok := serverTiming(res, "db"); ok && res.Code == 200 {
			ds = append(ds, d)
		}
	}
	return median(ds)
}

func medianLatency(rs []vegeta.Result) time.Duration {
	var ds []time.Duration
	for _, res := range rs {
		if res.Code == 200 {
			ds = append(ds, res.Latency)
		}
	}
	return median(ds)
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// waitForEvent polls the run's timeline until an event of typ appears.
func waitForEvent(dir, typ string, timeout time.Duration) (map[string]any, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(filepath.Join(dir, rundir.TimelineFile))
		for _, line := range bytes.Split(b, []byte("\n")) {
			var m map[string]any
			if json.Unmarshal(line, &m) == nil && m["type"] == typ {
				return m, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, fmt.Errorf("no %s event in %s within %s", typ, dir, timeout)
}

// pgAdmin is a superuser session on the test's PostgreSQL.
type pgAdmin struct {
	t *testing.T
	*pgtest.Session
}

func adminOf(t *testing.T, s *pg.Server) *pgAdmin {
	t.Helper()
	return &pgAdmin{t: t, Session: pgtest.Open(t, s.AdminDSN())}
}

// with returns the same session reporting to t (a subtest).
func (a *pgAdmin) with(t *testing.T) *pgAdmin { return &pgAdmin{t: t, Session: a.Session.With(t)} }

// connLimitSQL is the app role's limit, or -2 when there is no such role.
const connLimitSQL = `SELECT coalesce((SELECT rolconnlimit FROM pg_roles WHERE rolname = '` + fixtures.AppRole + `'), -2)`

func (a *pgAdmin) connLimit() int {
	a.t.Helper()
	return a.Int(connLimitSQL)
}

// checkNothingLeft checks that no fault of stampede is in force on the
// test's database: no hog role, no hog or lock session, the app role's
// limit as want.
func (a *pgAdmin) checkNothingLeft(wantLimit int) {
	a.t.Helper()
	if got := a.connLimit(); got != wantLimit {
		a.t.Errorf("role %s connection limit = %d after the run, want %d", fixtures.AppRole, got, wantLimit)
	}
	if n := a.Int(`SELECT count(*) FROM pg_roles WHERE rolname LIKE 'stampede\_hog\_%'`); n != 0 {
		a.t.Errorf("%d hog roles left after the run", n)
	}
	// Sessions may take a moment to end after their sockets close.
	var n int
	for i := 0; i < 100; i++ {
		n = a.Int(`SELECT count(*) FROM pg_stat_activity
			WHERE application_name IN ('stampede-hog', 'stampede-lock') OR usename LIKE 'stampede\_hog\_%'`)
		if n == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n != 0 {
		a.t.Errorf("%d stampede-hog/stampede-lock sessions left after the run", n)
	}
}

func passwordOf(t *testing.T, dsn string) string {
	t.Helper()
	return pgtest.Password(t, dsn)
}

// hex32 matches fixtures' and chaos's random passwords (16 random bytes in hex).
var hex32 = regexp.MustCompile(`[0-9a-f]{32}`)

// checkNoSecrets checks that no password is in the run directory or the
// command's output: the given ones, any seeded user's, any connection
// string's, and any string shaped like the passwords stampede generates
// (the throwaway server's admin, the app role's, the hog role's: 16 random
// bytes in hex), which covers the bundled fixture's too, whose passwords
// the test never sees. With srv, each such string is also tried as the
// app role's current password, so that a failure says which it was.
func (r *chaosRun) checkNoSecrets(t *testing.T, srv *pg.Server, secrets ...string) {
	t.Helper()
	texts := map[string][]byte{"stdout": []byte(r.stdout), "stderr": []byte(r.stderr)}
	filepath.Walk(r.dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
		}
		texts[p] = b
		return nil
	})
	candidates := map[string]bool{}
	for name, b := range texts {
		for _, s := range secrets {
			if s != "" && bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a password", name)
			}
		}
		for _, s := range []string{"postgres://", "postgresql://", "password=", "PASSWORD '", "pw-0"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q", name, s)
			}
		}
		for _, m := range hex32.FindAll(b, -1) {
			t.Errorf("%s holds %q…, shaped like a generated password", name, m[:6])
			candidates[string(m)] = true
		}
	}
	if srv == nil {
		return
	}
	for c := range candidates {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, srv.DSN(fixtures.AppRole, c, fixtures.Database))
		cancel()
		if err == nil {
			conn.Close(context.Background())
			t.Errorf("the app role's password is in the run directory or the output")
			return
		}
	}
}

// windowsLine renders fault windows for the log.
func windowsLine(ws []faultWindow) string {
	var parts []string
	for _, w := range ws {
		parts = append(parts, fmt.Sprintf("%s %.2f–%.2fs (%s)", w.kind, w.injected, w.ended, w.reason))
	}
	return strings.Join(parts, "; ")
}

// TestChaosRunConnLimitSurge: db.conn_limit during a surge against the
// bundled fixture, seeded into the test's own PostgreSQL: the service
// answers 503 carrying SQLSTATE 53300, and the role's limit afterwards is
// exactly what it was before the fault.
func TestChaosRunConnLimitSurge(t *testing.T) {
	srv := startChaosPG(t)
	admin := adminOf(t, srv)
	const scenario = `fixture: {users: 200, db_pool: 10, db_hold: 50ms}
stages:
  - constant: {name: baseline, rate: 30, for: 3s}
  - constant: {name: surge, rate: 100, for: 5s}
  - constant: {name: recovery, rate: 30, for: 3s}
faults:
  - {kind: db.conn_limit, start: 2s, for: 5s, limit: 2}
slo: {success_ratio: 0.5, latency: 2s}
`
	// The fixture resets the role's limit when it seeds the database; set
	// one of our own after that and before the fault, so that "what it
	// was" is not merely the default.
	const before = 50
	r := runChaosScenario(t, scenario, nil, func(dir string) error {
		if _, err := waitForEvent(dir, "run_start", time.Minute); err != nil {
			return err
		}
		_, err := admin.Conn().Exec(context.Background(), fmt.Sprintf("ALTER ROLE %s CONNECTION LIMIT %d", fixtures.AppRole, before))
		return err
	}, "--dsn", srv.AdminDSN())
	r.wantExit(t, exitOK, exitGateFailed)
	ws := r.checkFaultsRevertedOK(t, "db.conn_limit")
	t.Logf("faults: %s", windowsLine(ws))
	during := r.between(ws[0].injected, ws[0].ended)
	states := sqlStates(during)
	t.Logf("during the cap: %d results, codes %v, SQLSTATEs %v", len(during), codes(during), states)
	if states["53300"] == 0 {
		t.Errorf("no 503 carrying SQLSTATE 53300 while the role was capped at 2: %v", states)
	}
	for _, ev := range r.of("db_sample") {
		if at, _ := ev["t"].(float64); at > ws[0].injected+0.2 && at < ws[0].ended-0.2 {
			if lim, _ := ev["role_limit"].(float64); lim != 2 {
				t.Errorf("db_sample at %.2fs: role_limit %v, want 2 while capped", at, ev["role_limit"])
			}
		}
	}
	if got := admin.connLimit(); got != before {
		t.Errorf("role limit after the run = %d, want %d (what it was before the fault)", got, before)
	}
	admin.checkNothingLeft(before)
	checkJournalDone(t, r.dir, 1)
	r.checkStatusNamed(t, "db.conn_limit{role=stampede_app limit=2")
	r.checkNoSecrets(t, srv, passwordOf(t, srv.AdminDSN()))
}

// probeRole creates a plain login role on the test's PostgreSQL, to try
// new connections as a non-superuser would (superusers have reserved slots).
func probeRole(t *testing.T, srv *pg.Server, admin *pgAdmin) string {
	t.Helper()
	admin.Exec(`DROP ROLE IF EXISTS stampede_probe`)
	admin.Exec(`CREATE ROLE stampede_probe LOGIN PASSWORD 'probe-pw-1'`)
	return srv.DSN("stampede_probe", "probe-pw-1", "postgres")
}

// tryConnect opens and closes one connection, returning its error.
func tryConnect(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	return c.Close(ctx)
}

// TestChaosRunHog: db.hog takes every free slot while it holds, so new
// connections (the service's pool growing into a surge, and a probe of the
// test's) fail with 53300; afterwards every slot is free again.
func TestChaosRunHog(t *testing.T) {
	srv := startChaosPG(t)
	admin := adminOf(t, srv)
	probe := probeRole(t, srv, admin)
	const scenario = `fixture: {users: 200, db_pool: 10, db_hold: 50ms}
stages:
  - constant: {name: calm, rate: 10, for: 3s}
  - constant: {name: surge, rate: 100, for: 4s}
  - constant: {name: after, rate: 10, for: 3s}
faults:
  - {kind: db.hog, start: 1500ms, for: 5500ms}
slo: {success_ratio: 0.5, latency: 2s}
`
	var probeErr error
	var held int
	r := runChaosScenario(t, scenario, nil, func(dir string) error {
		if _, err := waitForEvent(dir, chaos.EventInject, time.Minute); err != nil {
			return err
		}
		probeErr = tryConnect(probe)
		var err error
		held, err = admin.QueryInt(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'stampede-hog'`)
		return err
	}, "--dsn", srv.AdminDSN())
	r.wantExit(t, exitOK, exitGateFailed)
	ws := r.checkFaultsRevertedOK(t, "db.hog")
	t.Logf("faults: %s; hog sessions while in force: %d; probe connection: %v", windowsLine(ws), held, probeErr)
	if sqlStateOf(probeErr) != "53300" {
		t.Errorf("a new connection while the hog held: %v, want SQLSTATE 53300", probeErr)
	}
	if held < chaosMaxConns/2 {
		t.Errorf("the hog held %d sessions of max_connections %d", held, chaosMaxConns)
	}
	during := r.between(ws[0].injected, ws[0].ended)
	states := sqlStates(during)
	t.Logf("during the hog: %d results, codes %v, SQLSTATEs %v", len(during), codes(during), states)
	if states["53300"] == 0 {
		t.Errorf("no 503 carrying SQLSTATE 53300 while the hog held every slot: %v", states)
	}
	admin.checkNothingLeft(-1)
	// Every slot is free again: only the test's own session is left, and
	// a non-superuser connects.
	if n := admin.Int(`SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`); n != 0 {
		t.Errorf("%d client backends left after the run besides the test's", n)
	}
	if err := tryConnect(probe); err != nil {
		t.Errorf("a new connection after the run: %v", err)
	}
	after := r.between(ws[0].ended+1, 1e9)
	if sr := successRatio(after); sr < 0.9 {
		t.Errorf("after the hog: success %.2f of %d (codes %v), want ≥ 0.9", sr, len(after), codes(after))
	}
	checkJournalDone(t, r.dir, 1)
	r.checkStatusNamed(t, "db.hog{")
	r.checkNoSecrets(t, srv, passwordOf(t, srv.AdminDSN()), "probe-pw-1")
}

func sqlStateOf(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestChaosRunTerminate: db.terminate every 1s ends the service's sessions
// under it (503s carrying 57P01, admin_shutdown), and the service recovers
// once it stops.
func TestChaosRunTerminate(t *testing.T) {
	srv := startChaosPG(t)
	admin := adminOf(t, srv)
	const scenario = `fixture: {users: 200, db_pool: 10, db_hold: 50ms}
stages:
  - constant: {name: before, rate: 40, for: 3s}
  - constant: {name: terminating, rate: 40, for: 3s}
  - constant: {name: after, rate: 40, for: 4s}
faults:
  - {kind: db.terminate, start: 2s, for: 4s, every: 1s}
slo: {success_ratio: 0.5, latency: 2s}
`
	r := runChaosScenario(t, scenario, nil, nil, "--dsn", srv.AdminDSN())
	r.wantExit(t, exitOK, exitGateFailed)
	ws := r.checkFaultsRevertedOK(t, "db.terminate")
	repeats := r.of(chaos.EventRepeat)
	t.Logf("faults: %s; %d repeats", windowsLine(ws), len(repeats))
	if len(repeats) < 2 {
		t.Errorf("%d fault_repeat events in a 4s window every 1s, want ≥ 2", len(repeats))
	}
	for _, ev := range repeats {
		if ok, _ := ev["ok"].(bool); !ok {
			t.Errorf("fault_repeat not ok: %v", ev)
		}
		if at, _ := ev["t"].(float64); at > ws[0].ended {
			t.Errorf("a repeat at %.2fs, after the revert at %.2fs", at, ws[0].ended)
		}
	}
	during := r.between(ws[0].injected-0.1, ws[0].ended+0.1)
	states := sqlStates(during)
	t.Logf("while terminating: %d results, codes %v, SQLSTATEs %v", len(during), codes(during), states)
	if states["57P01"] == 0 {
		t.Errorf("no 503 carrying SQLSTATE 57P01 while the role's sessions were terminated: %v", states)
	}
	// Recovery: each later second succeeds.
	for s := ws[0].ended + 1; s+1 <= ws[0].ended+4; s++ {
		w := r.between(s, s+1)
		if sr := successRatio(w); len(w) == 0 || sr < 0.95 {
			t.Errorf("window %.0f–%.0fs after the fault: success %.2f of %d (codes %v), want ≥ 0.95", s, s+1, sr, len(w), codes(w))
		}
	}
	admin.checkNothingLeft(-1)
	checkJournalDone(t, r.dir, 0)
	r.checkStatusNamed(t, "db.terminate{")
	r.checkNoSecrets(t, srv, passwordOf(t, srv.AdminDSN()))
}

// TestChaosRunLock: db.lock holds an ACCESS EXCLUSIVE lock on the sessions
// table: logins wait on it, the service's db time rises, and its
// connections stay below the cap (no 53300, fewer backends than the pool).
func TestChaosRunLock(t *testing.T) {
	srv := startChaosPG(t)
	admin := adminOf(t, srv)
	const scenario = `fixture: {users: 200, db_pool: 20, db_hold: 10ms}
stages:
  - constant: {name: before, rate: 8, for: 3s}
  - constant: {name: locked, rate: 8, for: 3s}
  - constant: {name: after, rate: 8, for: 3s}
faults:
  - {kind: db.lock, start: 2500ms, for: 1500ms}
slo: {success_ratio: 0.5, latency: 5s}
`
	r := runChaosScenario(t, scenario, nil, nil, "--dsn", srv.AdminDSN())
	r.wantExit(t, exitOK, exitGateFailed)
	ws := r.checkFaultsRevertedOK(t, "db.lock")
	before := medianDB(r.between(0.5, ws[0].injected-0.2))
	during := medianDB(r.between(ws[0].injected+0.1, ws[0].ended-0.3))
	after := medianDB(r.between(ws[0].ended+1, 1e9))
	t.Logf("faults: %s; median db time before %v, while locked %v, after %v", windowsLine(ws), before, during, after)
	if during < before+200*time.Millisecond {
		t.Errorf("median db time while locked %v, before %v: want at least 200ms more", during, before)
	}
	if after > before+100*time.Millisecond {
		t.Errorf("median db time after the lock %v, before %v: it should have gone back", after, before)
	}
	if states := sqlStates(r.results); states["53300"] > 0 {
		t.Errorf("%d results with 53300: the lock should not exhaust connections", states["53300"])
	}
	maxRole, maxWaiters := 0.0, 0.0
	for _, ev := range r.of("db_sample") {
		n, _ := ev["role_backends"].(float64)
		w, _ := ev["lock_waiters"].(float64)
		maxRole, maxWaiters = max(maxRole, n), max(maxWaiters, w)
	}
	t.Logf("db samples: at most %.0f backends of the role, %.0f lock waiters", maxRole, maxWaiters)
	if maxWaiters == 0 {
		t.Errorf("no db_sample saw a session waiting on a lock")
	}
	if maxRole >= 20 {
		t.Errorf("the role had %.0f backends, at the pool's cap of 20", maxRole)
	}
	if sr := successRatio(r.results); sr < 0.95 {
		t.Errorf("success %.2f (codes %v): a short lock should delay logins, not fail them", sr, codes(r.results))
	}
	admin.checkNothingLeft(-1)
	checkJournalDone(t, r.dir, 1)
	r.checkStatusNamed(t, "db.lock{")
	r.checkNoSecrets(t, srv, passwordOf(t, srv.AdminDSN()))
}

// TestChaosRunClientLatency: 100 ms of latency on the client path raises
// the median login latency by at least 100 ms, and goes away after.
func TestChaosRunClientLatency(t *testing.T) {
	const scenario = `fixture: {users: 200, db_pool: 10, db_hold: 10ms}
stages:
  - constant: {name: before, rate: 20, for: 4s}
  - constant: {name: slowed, rate: 20, for: 4s}
  - constant: {name: after, rate: 20, for: 4s}
faults:
  - {kind: net.latency, path: client, start: 3500ms, for: 4s, latency: 100ms}
`
	r := runChaosScenario(t, scenario, nil, nil)
	r.wantExit(t, exitOK, exitGateFailed)
	ws := r.checkFaultsRevertedOK(t, "net.latency")
	slowed := r.between(ws[0].injected+0.2, ws[0].ended-0.2)
	before := medianLatency(r.between(0.5, ws[0].injected-0.2))
	during := medianLatency(slowed)
	after := medianLatency(r.between(ws[0].ended+0.5, 1e9))
	fastest := time.Duration(1 << 62)
	for _, res := range slowed {
		fastest = min(fastest, res.Latency)
	}
	t.Logf("faults: %s; median latency before %v, during %v (fastest %v), after %v", windowsLine(ws),
		before.Round(10*time.Microsecond), during.Round(10*time.Microsecond), fastest.Round(10*time.Microsecond), after.Round(10*time.Microsecond))
	// Every response crossed the toxic: none is faster than its latency.
	// The medians come from different requests, so their difference gets
	// a little room for the noise of a shared machine.
	if len(slowed) == 0 || fastest < 100*time.Millisecond {
		t.Errorf("fastest of %d requests with 100ms on the client path took %v: want ≥ 100ms", len(slowed), fastest)
	}
	if during < before+90*time.Millisecond {
		t.Errorf("median latency with 100ms on the client path %v, before %v: want about 100ms more", during, before)
	}
	if after > before+50*time.Millisecond {
		t.Errorf("median latency after the fault %v, before %v: it should have gone away", after, before)
	}
	if sr := successRatio(r.results); sr < 0.99 {
		t.Errorf("success %.3f (codes %v): latency alone should fail nothing", sr, codes(r.results))
	}
	r.checkStatusNamed(t, "net.latency{path=client")
	r.checkNoSecrets(t, nil)
}

// TestChaosRunClientResetAndDown: reset_peer and then down on the client
// path reach the load generator as transport errors, classed reset and
// refused (or eof for a connection cut mid-request); traffic recovers
// after each.
func TestChaosRunClientResetAndDown(t *testing.T) {
	const scenario = `fixture: {users: 200, db_pool: 10, db_hold: 10ms}
stages:
  - constant: {name: a, rate: 20, for: 2500ms}
  - constant: {name: b, rate: 20, for: 4s}
  - constant: {name: c, rate: 20, for: 4500ms}
faults:
  - {kind: net.reset_peer, path: client, start: 2s, for: 2s}
  - {kind: net.down, path: client, start: 6s, for: 2s}
slo: {success_ratio: 0.5, latency: 2s}
`
	r := runChaosScenario(t, scenario, nil, nil)
	r.wantExit(t, exitOK, exitGateFailed)
	ws := r.checkFaultsRevertedOK(t, "net.reset_peer", "net.down")
	t.Logf("faults: %s", windowsLine(ws))
	reset := codes(r.between(ws[0].injected+0.1, ws[0].ended))
	down := codes(r.between(ws[1].injected+0.1, ws[1].ended))
	t.Logf("under reset_peer: %v; under down: %v", reset, down)
	if reset["err:reset"] == 0 {
		t.Errorf("no transport error classed reset under reset_peer: %v", reset)
	}
	if down["err:refused"] == 0 {
		t.Errorf("no transport error classed refused while the client path was down: %v", down)
	}
	for k := range down {
		if k != "err:refused" && k != "err:eof" && k != "err:reset" && k != "200" {
			t.Errorf("unexpected outcome %q while the client path was down: %v", k, down)
		}
	}
	for i, w := range ws {
		// Not just after the revert: requests sent just before it may
		// still be retrying their connection.
		rec := r.between(w.ended+0.5, w.ended+1.5)
		if sr := successRatio(rec); len(rec) == 0 || sr < 0.95 {
			t.Errorf("after %s (%d): success %.2f of %d (codes %v), want ≥ 0.95", w.kind, i, sr, len(rec), codes(rec))
		}
	}
	r.checkStatusNamed(t, "net.reset_peer{path=client")
	r.checkStatusNamed(t, "net.down{path=client")
	r.checkNoSecrets(t, nil)
}

// TestChaosRunDBPathLatency: latency on the service's path to PostgreSQL
// raises the service's db time, while the run's own probe straight to
// PostgreSQL (db_sample probe_rtt_ms) stays fast: the evidence that tells
// network.db from db.queries.
func TestChaosRunDBPathLatency(t *testing.T) {
	const scenario = `fixture: {users: 200, db_pool: 10, db_hold: 10ms}
stages:
  - constant: {name: before, rate: 20, for: 3s}
  - constant: {name: slowed, rate: 20, for: 3s}
  - constant: {name: after, rate: 20, for: 3s}
faults:
  - {kind: net.latency, path: db, start: 2500ms, for: 3500ms, latency: 100ms}
slo: {success_ratio: 0.5, latency: 5s}
`
	r := runChaosScenario(t, scenario, nil, nil)
	r.wantExit(t, exitOK, exitGateFailed)
	ws := r.checkFaultsRevertedOK(t, "net.latency")
	before := medianDB(r.between(0.5, ws[0].injected-0.2))
	during := medianDB(r.between(ws[0].injected+0.3, ws[0].ended-0.5))
	after := medianDB(r.between(ws[0].ended+1, 1e9))
	var probes []time.Duration
	for _, ev := range r.of("db_sample") {
		if at, _ := ev["t"].(float64); at > ws[0].injected && at < ws[0].ended {
			if ms, ok := ev["probe_rtt_ms"].(float64); ok {
				probes = append(probes, time.Duration(ms*float64(time.Millisecond)))
			}
		}
	}
	probe := median(probes)
	t.Logf("faults: %s; median db time before %v, during %v, after %v; probe rtt during %v (%d samples)",
		windowsLine(ws), before, during, after, probe, len(probes))
	if during < before+100*time.Millisecond {
		t.Errorf("median db time with 100ms on the db path %v, before %v: want ≥ 100ms more", during, before)
	}
	if after > before+50*time.Millisecond {
		t.Errorf("median db time after the fault %v, before %v: it should have gone away", after, before)
	}
	if len(probes) == 0 {
		t.Fatalf("no db_sample with probe_rtt_ms while the fault was in force")
	}
	if probe > 50*time.Millisecond {
		t.Errorf("the probe straight to PostgreSQL took %v (median) while the db path was slowed: it should not go through the proxy", probe)
	}
	r.checkStatusNamed(t, "net.latency{path=db")
	r.checkNoSecrets(t, nil)
}

// TestChaosRunInterruptedMidFault: SIGINT while each database fault is in
// force ends the run (exit 130) with nothing left in force: the role's
// limit as before, no hog role, no stampede-hog or stampede-lock session,
// every journal entry done, and no repetition after the revert.
func TestChaosRunInterruptedMidFault(t *testing.T) {
	srv := startChaosPG(t)
	admin := adminOf(t, srv)
	for _, tc := range []struct {
		name, fault string
		journal     int
		// inForce checks, just before the signal, that the fault bites.
		// it runs beside the run: it returns errors, never fails the test.
		inForce func() error
	}{
		{"conn_limit", "{kind: db.conn_limit, start: 1s, for: 20s, limit: 3}", 1, func() error {
			return wantInt(admin, connLimitSQL, 3)
		}},
		{"hog", "{kind: db.hog, start: 1s, for: 20s}", 1, func() error {
			n, err := admin.QueryInt(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'stampede-hog'`)
			if err == nil && n == 0 {
				err = errors.New("no stampede-hog session while in force")
			}
			return err
		}},
		{"terminate", "{kind: db.terminate, start: 1s, for: 20s, every: 1s}", 0, nil},
		{"lock", "{kind: db.lock, start: 1s, for: 20s}", 1, func() error {
			return wantInt(admin, `SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
				WHERE a.application_name = 'stampede-lock' AND l.granted AND l.mode = 'AccessExclusiveLock'`, 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			admin := admin.with(t)
			scenario := `fixture: {users: 200, db_pool: 10, db_hold: 20ms}
stages:
  - constant: {rate: 20, for: 30s}
faults:
  - ` + tc.fault + `
`
			sig := make(chan os.Signal, 2)
			var injectedAt float64
			var sentAt time.Time
			r := runChaosScenario(t, scenario, sig, func(dir string) error {
				ev, err := waitForEvent(dir, chaos.EventInject, time.Minute)
				if err != nil {
					sig <- syscall.SIGINT // end the run anyway
					return err
				}
				if tc.inForce == nil { // terminate: once repeated
					_, err = waitForEvent(dir, chaos.EventRepeat, 10*time.Second)
				} else {
					time.Sleep(500 * time.Millisecond)
					err = tc.inForce()
				}
				injectedAt, _ = ev["t"].(float64)
				sentAt = time.Now()
				sig <- syscall.SIGINT
				return err
			}, "--dsn", srv.AdminDSN())
			r.wantExit(t, exitInterrupted)
			ws := r.checkFaultsRevertedOK(t, "db."+tc.name)
			signalled := sentAt.Sub(r.start).Seconds()
			t.Logf("faults: %s; SIGINT at %.2fs, reverted %.2fs after it", windowsLine(ws), signalled, ws[0].ended-signalled)
			if ws[0].reason != chaos.ReasonStop && ws[0].reason != chaos.ReasonCancel {
				t.Errorf("revert reason %q, want stop or cancel", ws[0].reason)
			}
			if ws[0].injected != injectedAt || ws[0].ended < signalled {
				t.Errorf("fault in force %.2f–%.2fs, signal at %.2fs: want the revert after the signal", ws[0].injected, ws[0].ended, signalled)
			}
			// The revert does not wait for the requests in flight, which a
			// lock holds until the service's 5 s query timeout: it comes at
			// once (measured 0.02–0.2 s; 2.5 s is a generous bound).
			if d := ws[0].ended - signalled; d > 2.5 {
				t.Errorf("fault reverted %.2fs after the signal: it waited for the requests it holds up", d)
			}
			for _, ev := range r.of(chaos.EventRepeat) {
				if at, _ := ev["t"].(float64); at > ws[0].ended {
					t.Errorf("a repetition at %.2fs, after the revert at %.2fs", at, ws[0].ended)
				}
			}
			admin.checkNothingLeft(-1)
			checkJournalDone(t, r.dir, tc.journal)
			r.checkNoSecrets(t, srv, passwordOf(t, srv.AdminDSN()))
		})
	}
}

// wantInt checks one integer beside the run, without failing the test.
func wantInt(a *pgAdmin, q string, want int) error {
	n, err := a.QueryInt(q)
	if err == nil && n != want {
		err = fmt.Errorf("%s = %d, want %d while in force", strings.Fields(q)[1], n, want)
	}
	return err
}

// buildStampede builds the binary once for tests that need a separate
// process.
func buildStampede(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "stampede")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestChaosRunKilledThenRestore: kill -9 of `stampede run` in the middle
// of db.conn_limit leaves the cap in force; `stampede chaos restore`
// brings back the original limit, and running it again is harmless.
func TestChaosRunKilledThenRestore(t *testing.T) {
	srv := startChaosPG(t)
	admin := adminOf(t, srv)
	bin := buildStampede(t)
	tmp := t.TempDir()
	sc := filepath.Join(tmp, "killed.yaml")
	os.WriteFile(sc, []byte(`fixture: {users: 200, db_pool: 10, db_hold: 20ms}
stages:
  - constant: {rate: 20, for: 60s}
faults:
  - {kind: db.conn_limit, start: 2s, for: 50s, limit: 3}
`), 0o644)
	dir := filepath.Join(tmp, "run")
	var stdout, stderr syncBuffer
	cmd := exec.Command(bin, "run", sc, "--dsn", srv.AdminDSN(), "--out", dir, "--quiet", "--seed", "7")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Its own TMPDIR: a killed run cannot remove its credentials folder.
	cmd.Env = append(os.Environ(), "STAMPEDE_DSN=", "TMPDIR="+t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()

	// As in the conn_limit run: a limit of our own after the fixture has
	// seeded the database and before the fault.
	const original = 42
	if _, err := waitForEvent(dir, "run_start", time.Minute); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, stderr.String())
	}
	admin.Exec(fmt.Sprintf("ALTER ROLE %s CONNECTION LIMIT %d", fixtures.AppRole, original))
	if _, err := waitForEvent(dir, chaos.EventInject, 30*time.Second); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := <-exited
	exited <- err // for the deferred wait
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want killed by SIGKILL\nstderr:\n%s", err, stderr.String())
	}
	if got := admin.connLimit(); got != 3 {
		t.Fatalf("role limit after kill -9 = %d, want the fault's 3 still in force", got)
	}

	var outs []string
	for i := 1; i <= 2; i++ {
		e, out, errb := testEnv(nil)
		err := runMain(context.Background(), e, []string{"chaos", "restore", dir, "--dsn", srv.AdminDSN()})
		t.Logf("restore #%d: exit %d (%v)\n%s%s", i, exitCode(err), err, out, errb)
		if err != nil {
			t.Fatalf("restore #%d: %v", i, err)
		}
		if got := admin.connLimit(); got != original {
			t.Errorf("role limit after restore #%d = %d, want the original %d", i, got, original)
		}
		outs = append(outs, out.String()+errb.String())
	}
	if !strings.Contains(outs[0], "restored") || !strings.Contains(outs[0], strconv.Itoa(original)) {
		t.Errorf("first restore should say it restored the limit %d:\n%s", original, outs[0])
	}
	if !strings.Contains(outs[1], "nothing to restore") {
		t.Errorf("second restore should find nothing to restore:\n%s", outs[1])
	}
	checkJournalDone(t, dir, 1)
	admin.checkNothingLeft(original)
	r := &chaosRun{dir: dir, stdout: stdout.String() + strings.Join(outs, ""), stderr: stderr.String()}
	r.checkNoSecrets(t, srv, passwordOf(t, srv.AdminDSN()))
}

// TestChaosRunPreflightWeakDSN: a DSN whose role lacks the privilege the
// faults need fails before anything is sent or injected, with exit 3 —
// against the bundled fixture (which cannot even be seeded with it) and
// against a service of the user's own, where chaos's preflight decides.
func TestChaosRunPreflightWeakDSN(t *testing.T) {
	srv := startChaosPG(t)
	admin := adminOf(t, srv)
	admin.Exec(`CREATE ROLE stampede_weak LOGIN PASSWORD 'weak-pw-7'`)
	weak := srv.DSN("stampede_weak", "weak-pw-7", "postgres")
	secrets := []string{passwordOf(t, srv.AdminDSN()), "weak-pw-7"}

	checkNothingSent := func(t *testing.T, r *chaosRun, wantLimit int) {
		t.Helper()
		admin := admin.with(t)
		r.wantExit(t, exitInfra)
		if st, err := os.Stat(filepath.Join(r.dir, rundir.ResultsFile)); err == nil && st.Size() > 0 {
			t.Errorf("results.bin has %d bytes: something was sent", st.Size())
		}
		if evs := r.of(chaos.EventInject); len(evs) > 0 {
			t.Errorf("fault_inject events after a failed preflight: %v", evs)
		}
		if got := admin.connLimit(); got != wantLimit {
			t.Errorf("role limit %d after a run that failed its preflight, want %d", got, wantLimit)
		}
		r.checkNoSecrets(t, nil, secrets...)
	}

	t.Run("bundled fixture", func(t *testing.T) {
		r := runChaosScenario(t, `fixture: {users: 50}
stages:
  - constant: {rate: 10, for: 3s}
faults:
  - {kind: db.conn_limit, start: 1s, for: 1s, limit: 2}
`, nil, nil, "--dsn", weak)
		t.Logf("error: %v", r.err)
		checkNothingSent(t, r, -2) // the fixture could not even create its role
	})

	t.Run("own service", func(t *testing.T) {
		dir := t.TempDir()
		stack, err := fixtures.StartStack(context.Background(), fixtures.StackOptions{DSN: srv.AdminDSN(), Users: 50, Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer stack.Close()
		r := runChaosScenario(t, `target: `+stack.URL+`
credentials: {file: `+stack.CredentialsPath+`}
evidence: {role: `+fixtures.AppRole+`}
stages:
  - constant: {rate: 10, for: 3s}
faults:
  - {kind: db.conn_limit, start: 1s, for: 1s, limit: 2}
`, nil, nil, "--dsn", weak)
		t.Logf("error: %v", r.err)
		if r.err == nil || !strings.Contains(r.err.Error(), "preflight") || !strings.Contains(r.err.Error(), "ALTER ROLE") {
			t.Errorf("error %v: want the preflight naming the ALTER ROLE privilege", r.err)
		}
		checkNothingSent(t, r, -1)
		var audited int
		c, err := pgx.Connect(context.Background(), srv.DSN("postgres", passwordOf(t, srv.AdminDSN()), fixtures.Database))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(context.Background())
		if err := c.QueryRow(context.Background(), `SELECT count(*) FROM login_audit`).Scan(&audited); err != nil {
			t.Fatal(err)
		}
		if audited != 0 {
			t.Errorf("the service saw %d logins from a run that failed its preflight", audited)
		}
	})
}

// TestChaosRunInterruptedWhileInjecting: SIGINT while db.lock is still
// waiting for its lock (another session holds a conflicting one) cancels
// the injection at once, rather than letting it wait out its 10s
// lock_timeout first, and leaves nothing behind.
func TestChaosRunInterruptedWhileInjecting(t *testing.T) {
	srv := startChaosPG(t)
	admin := adminOf(t, srv)
	// A table the service never touches, so that the waiting lock holds up
	// no login and the run drains at once: what remains is the injection.
	if _, err := fixtures.Prepare(context.Background(), srv.AdminDSN(), fixtures.SeedOptions{Users: 200}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	blocker, err := pgx.Connect(ctx, srv.DSN("postgres", passwordOf(t, srv.AdminDSN()), fixtures.Database))
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close(ctx)
	if _, err := blocker.Exec(ctx, "CREATE TABLE IF NOT EXISTS drill (id int)"); err != nil {
		t.Fatal(err)
	}
	if _, err := blocker.Exec(ctx, "BEGIN; LOCK TABLE drill IN ACCESS SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	sig := make(chan os.Signal, 2)
	var sentAt time.Time
	r := runChaosScenario(t, `fixture: {users: 200, db_pool: 10, db_hold: 20ms}
stages:
  - constant: {rate: 10, for: 30s}
faults:
  - {kind: db.lock, table: drill, start: 1s, for: 20s}
`, sig, func(dir string) error {
		defer func() { sig <- syscall.SIGINT }()
		if _, err := waitForEvent(dir, "run_start", time.Minute); err != nil {
			return err
		}
		// Until the lock holder's session waits on our lock.
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			n, err := admin.QueryInt(`SELECT count(*) FROM pg_stat_activity
				WHERE application_name = 'stampede-lock' AND wait_event_type = 'Lock'`)
			if err != nil {
				return err
			}
			if n > 0 {
				time.Sleep(300 * time.Millisecond)
				sentAt = time.Now()
				return nil
			}
			time.Sleep(20 * time.Millisecond)
		}
		return errors.New("db.lock never waited on the test's lock")
	}, "--dsn", srv.AdminDSN())
	if _, err := blocker.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	r.wantExit(t, exitInterrupted)
	ws := r.faultWindows()
	if len(ws) != 1 {
		t.Fatalf("fault windows %v, want the one db.lock", windowsLine(ws))
	}
	w := ws[0]
	signalled := sentAt.Sub(r.start).Seconds()
	t.Logf("SIGINT at %.2fs; fault_inject at %.2fs: ok %v, %v; reverted (%s) %.2fs after the signal",
		signalled, w.injected, w.injectOK, w.inject["error"], w.reason, w.ended-signalled)
	if w.injectOK || !strings.Contains(fmt.Sprint(w.inject["error"]), context.Canceled.Error()) {
		t.Errorf("fault_inject %v: want the injection cancelled by the signal", w.inject)
	}
	if !w.reverted || !w.revOK || w.reason != chaos.ReasonInjectFailed {
		t.Errorf("fault_revert %v: want ok, reason %s", w.revertEv, chaos.ReasonInjectFailed)
	}
	admin.checkNothingLeft(-1)
	checkJournalDone(t, r.dir, 1)
}
