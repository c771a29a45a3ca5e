//go:build accuracy

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/fixtures"
	"github.com/stampede-load/stampede/fixtures/django"
	"github.com/stampede-load/stampede/fixtures/pg"
	"github.com/stampede-load/stampede/fixtures/pg/pgtest"
	"github.com/stampede-load/stampede/report"
)

// The full accuracy matrix (make accuracy): every case run 3 times on a
// quiet machine and 2 times beside a process that keeps one core busy, each
// run's cause counted against the one expected. Three kinds of target:
//
//   - white box: the bundled fixture in-process (`stampede run` without a
//     target), Server-Timing and /debug/pool on, its proxies placed by the run;
//   - black box: `stampede fixture` as a separate process with
//     --hide-server-timing --no-pool-endpoint --opaque-errors, so its CPU is
//     measured apart from the generator's; --dsn and evidence.role given, a
//     network: block for a network fault (for the database path the
//     service dials its database through --db-addr, where each run's
//     network.db proxy listens, while evidence goes straight through --dsn);
//   - Django: the real Django stack under gunicorn (fixtures/django), CSRF
//     form login, a black box by nature (Options.DBAddr for the database
//     path).
//
// The limit is checked against Little's law three ways, each marked in the
// summary: steady windows (constant and steps stages), a pure ramp
// (corrected for the queue a ramp gives no time to build; goal 10%), and
// find-limit's adaptive search (goal 5%).
//
// Every run directory stays under runs/accuracy/ so a wrong verdict can be
// read; the summary goes to stdout and runs/accuracy/summary.txt. The
// figures are measured, not asserted into shape: the test fails when a run
// names the wrong cause, or names the network while no path was touched, so
// `make accuracy` exits non-zero when the attribution is not yet right.

const (
	quietRuns = 3
	busyRuns  = 2
)

// fullTarget is what a case's scenario is written against.
type fullTarget struct {
	kind string // "fixture" (in-process, white box), "fixture-bb", "django"
	url  string
	dsn  string // admin DSN for --dsn; "" for the in-process fixture
	// head holds the scenario lines the target needs (target, login,
	// credentials, evidence).
	head string
	// upstream is the service's host:port, for a network: block.
	upstream string
	// dbListen is where the service dials its database when the case
	// routes it through a network.db proxy (fullCase.dbPath), and
	// dbUpstream the database's own host:port the proxy forwards to.
	dbListen, dbUpstream string
}

// fullCase is one row of the full matrix.
type fullCase struct {
	name   string
	target string // fixture, fixture-bb, django
	shape  string // the target's knobs, for the summary
	fault  string // "-" when none
	want   string
	box    string // white or black
	// truth is the limit by Little's law (pool/hold), 0 when unknown.
	truth float64
	// fixtureFlags: for fixture-bb, the `stampede fixture` flags; for
	// django, unused (djangoOpts instead).
	fixtureFlags []string
	djangoOpts   django.Options
	// body is the rest of the scenario (stages, faults, fixture block),
	// given the target (a free port for a network: block).
	body func(tg *fullTarget) string
	// netFault: a network path is touched by a fault in this case.
	netFault bool
	// fresh: a new target for every run, because what a run leaves in
	// the service would shape the next (persistent connections carried by
	// a db proxy that closed with the run, or owned by the threads a
	// surge started).
	fresh bool
	// dbPath: the black-box service reaches its database through a port
	// picked before it starts, where each run's network.db proxy listens
	// (stampede fixture --db-addr, django.Options.DBAddr); evidence still
	// samples the database straight through --dsn.
	dbPath bool
}

// bbFlags: the black box: no Server-Timing, no pool endpoint, bare 500s.
var bbFlags = []string{"--hide-server-timing", "--no-pool-endpoint", "--opaque-errors", "--users", "200"}

func constBody(s string) func(*fullTarget) string { return func(*fullTarget) string { return s } }

// dbPathBody puts a network.db proxy in front of the scenario: it listens
// where the case's service dials its database (fullCase.dbPath).
func dbPathBody(s string) func(*fullTarget) string {
	return func(tg *fullTarget) string {
		return fmt.Sprintf("network:\n  db: {listen: %s, upstream: %s}\n%s", tg.dbListen, tg.dbUpstream, s)
	}
}

// clientPathBody puts a network.client proxy in front of the service:
// the run aims at it, and it forwards to the service's own address.
func clientPathBody(s string) func(*fullTarget) string {
	return func(tg *fullTarget) string {
		return fmt.Sprintf("network:\n  client: {listen: 127.0.0.1:%d, upstream: %s}\n%s", freePort(), tg.upstream, s)
	}
}

// rampStages: a calm start below the limit, then a pure ramp across it
// (no constant step near the truth), so the limit rests on ramp windows.
const rampStages = `stages:
  - constant: {name: calm, rate: 40, for: 3s}
  - ramp: {name: climb, from: 40, to: 180, for: 12s}
`

func fullCases() []fullCase {
	return []fullCase{
		// White box: the bundled fixture in-process.
		{
			name: "wb-below", target: "fixture", shape: "pool 5, hold 50ms", fault: "-", want: report.CauseNone, box: "white", truth: 100,
			body: constBody(`fixture: {users: 200, db_pool: 5, db_hold: 50ms}
stages:
  - constant: {rate: 50, for: 10s}
`),
		}, {
			name: "wb-above", target: "fixture", shape: "pool 5, hold 50ms", fault: "-", want: report.CauseDBConnections, box: "white", truth: 100,
			body: constBody(`fixture: {users: 200, db_pool: 5, db_hold: 50ms}
stages:
  - steps: {from: 60, to: 140, step: 20, hold: 3s}
`),
		}, {
			name: "wb-conn-limit", target: "fixture", shape: "pool 10, hold 50ms", fault: "db.conn_limit 3 in a surge", want: report.CauseDBConnections, box: "white", truth: 200,
			body: constBody(`fixture: {users: 200, db_pool: 10, db_hold: 50ms}
stages:
  - constant: {name: quiet, rate: 30, for: 4s}
  - constant: {name: surge, rate: 100, for: 8s}
faults:
  - {kind: db.conn_limit, start: 3s, for: 7s, limit: 3}
`),
		}, {
			name: "wb-hog", target: "fixture", shape: "pool 10, hold 50ms, max_connections 20", fault: "db.hog", want: report.CauseDBConnections, box: "white", truth: 200,
			body: constBody(`fixture: {users: 200, db_pool: 10, db_hold: 50ms, max_connections: 20}
stages:
  - constant: {name: quiet, rate: 20, for: 4s}
  - constant: {name: surge, rate: 150, for: 8s}
faults:
  - {kind: db.hog, start: 3s, for: 7s, leave: 0}
`),
		}, {
			name: "wb-lock", target: "fixture", shape: "pool 10, hold 50ms", fault: "db.lock sessions", want: report.CauseDBQueries, box: "white", truth: 200,
			body: constBody(`fixture: {users: 200, db_pool: 10, db_hold: 50ms}
stages:
  - constant: {rate: 50, for: 12s}
faults:
  - {kind: db.lock, start: 4s, for: 5s, table: sessions}
`),
		}, {
			name: "wb-client-latency", target: "fixture", shape: "pool 10, hold 50ms", fault: "net.latency client 600ms", want: report.CauseNetClient, box: "white", truth: 200, netFault: true,
			body: constBody(`fixture: {users: 200, db_pool: 10, db_hold: 50ms}
stages:
  - constant: {rate: 50, for: 12s}
faults:
  - {kind: net.latency, path: client, start: 4s, for: 5s, latency: 600ms}
`),
		}, {
			name: "wb-client-reset", target: "fixture", shape: "pool 10, hold 50ms", fault: "net.reset_peer client", want: report.CauseNetClient, box: "white", truth: 200, netFault: true,
			body: constBody(`fixture: {users: 200, db_pool: 10, db_hold: 50ms}
stages:
  - constant: {rate: 50, for: 12s}
faults:
  - {kind: net.reset_peer, path: client, start: 4s, for: 5s}
`),
		}, {
			name: "wb-db-latency", target: "fixture", shape: "pool 10, hold 50ms", fault: "net.latency db 100ms", want: report.CauseNetDB, box: "white", truth: 200, netFault: true,
			body: constBody(`fixture: {users: 200, db_pool: 10, db_hold: 50ms}
stages:
  - constant: {rate: 30, for: 12s}
faults:
  - {kind: net.latency, path: db, start: 4s, for: 5s, latency: 100ms}
`),
		}, {
			name: "wb-cpu", target: "fixture", shape: "pool 10, hash-cost 10", fault: "-", want: report.CauseApp, box: "white",
			body: constBody(`fixture: {users: 200, db_pool: 10, hash_cost: 10}
stages:
  - constant: {name: calm, rate: 5, for: 3s}
  - ramp: {name: climb, from: 5, to: 60, for: 10s}
`),
		}, {
			// The limit from a pure ramp (no steps): a calm start, then
			// 40→180/s in 12 s across the truth of 100/s.
			name: "wb-ramp", target: "fixture", shape: "pool 5, hold 50ms", fault: "-", want: report.CauseDBConnections, box: "white", truth: 100,
			body: constBody(`fixture: {users: 200, db_pool: 5, db_hold: 50ms}
` + rampStages),
		},
		// Black box: `stampede fixture` as its own process.
		{
			name: "bb-above", target: "fixture-bb", shape: "pool 5, hold 50ms", fault: "-", want: report.CauseDBConnections, box: "black", truth: 100,
			fixtureFlags: append([]string{"--db-pool", "5", "--db-hold", "50ms"}, bbFlags...),
			body: constBody(`stages:
  - steps: {from: 60, to: 140, step: 20, hold: 3s}
`),
		}, {
			name: "bb-conn-limit", target: "fixture-bb", shape: "pool 10, hold 50ms", fault: "db.conn_limit 3 in a surge", want: report.CauseDBConnections, box: "black", truth: 200,
			fixtureFlags: append([]string{"--db-pool", "10", "--db-hold", "50ms"}, bbFlags...),
			body: constBody(`stages:
  - constant: {name: quiet, rate: 30, for: 4s}
  - constant: {name: surge, rate: 100, for: 8s}
faults:
  - {kind: db.conn_limit, start: 3s, for: 7s, limit: 3}
`),
		}, {
			name: "bb-hot-row", target: "fixture-bb", shape: "pool 10, hold 20ms, hot row", fault: "- (hot row)", want: report.CauseDBQueries, box: "black",
			fixtureFlags: append([]string{"--db-pool", "10", "--db-hold", "20ms", "--hot-row"}, bbFlags...),
			body: constBody(`stages:
  - constant: {name: quiet, rate: 10, for: 4s}
  - ramp: {name: climb, from: 10, to: 90, for: 10s}
`),
		}, {
			name: "bb-terminate", target: "fixture-bb", shape: "pool 10, hold 20ms", fault: "db.terminate every 1s", want: report.CauseDBConnections, box: "black", truth: 500,
			fixtureFlags: append([]string{"--db-pool", "10", "--db-hold", "20ms"}, bbFlags...),
			body: constBody(`stages:
  - constant: {rate: 40, for: 12s}
faults:
  - {kind: db.terminate, start: 4s, for: 5s, every: 1s}
`),
		}, {
			name: "bb-client-latency", target: "fixture-bb", shape: "pool 10, hold 20ms", fault: "net.latency client 600ms", want: report.CauseNetClient, box: "black", truth: 500, netFault: true,
			fixtureFlags: append([]string{"--db-pool", "10", "--db-hold", "20ms"}, bbFlags...),
			body: clientPathBody(`stages:
  - constant: {rate: 40, for: 12s}
faults:
  - {kind: net.latency, path: client, start: 4s, for: 5s, latency: 600ms}
`),
		}, {
			// A subtler client-path fault: 150 ms against an SLO of 120 ms,
			// no health path declared (the unused-path probe is the
			// default).
			name: "bb-client-150ms", target: "fixture-bb", shape: "pool 10, hold 20ms", fault: "net.latency client 150ms, SLO 120ms", want: report.CauseNetClient, box: "black", truth: 500, netFault: true,
			fixtureFlags: append([]string{"--db-pool", "10", "--db-hold", "20ms"}, bbFlags...),
			body: clientPathBody(`slo: {latency: 120ms}
stages:
  - constant: {rate: 40, for: 12s}
faults:
  - {kind: net.latency, path: client, start: 4s, for: 5s, latency: 150ms}
`),
		}, {
			name: "bb-cpu", target: "fixture-bb", shape: "pool 10, hash-cost 10", fault: "-", want: report.CauseApp, box: "black",
			fixtureFlags: append([]string{"--db-pool", "10", "--hash-cost", "10"}, bbFlags...),
			body: constBody(`stages:
  - constant: {name: calm, rate: 5, for: 3s}
  - ramp: {name: climb, from: 5, to: 60, for: 10s}
`),
		}, {
			// A single-threaded event loop saturated by its hashing: every
			// request waits for the loop, health checks and unused paths
			// included, while the kernel accepts connections at once and
			// sessions sit idle in transaction waiting for it.
			name: "bb-event-loop", target: "fixture-bb", shape: "event loop, pool 10, hash-cost 10", fault: "-", want: report.CauseApp, box: "black",
			fixtureFlags: append([]string{"--db-pool", "10", "--hash-cost", "10", "--event-loop"}, bbFlags...),
			body: constBody(`stages:
  - constant: {name: calm, rate: 3, for: 3s}
  - ramp: {name: climb, from: 3, to: 40, for: 10s}
`),
		}, {
			name: "bb-ramp", target: "fixture-bb", shape: "pool 5, hold 50ms", fault: "-", want: report.CauseDBConnections, box: "black", truth: 100,
			fixtureFlags: append([]string{"--db-pool", "5", "--db-hold", "50ms"}, bbFlags...),
			body:         constBody(rampStages),
		}, {
			// wb-db-latency's fault on a black box: the service dials its
			// database through the run's network.db proxy. The pool's
			// connections die with that proxy at the run's end, and one
			// idle under a second is handed out unpinged ("conn closed"),
			// so every run gets a fresh service.
			name: "bb-db-latency", target: "fixture-bb", shape: "pool 10, hold 50ms, db via proxy", fault: "net.latency db 100ms", want: report.CauseNetDB, box: "black", netFault: true, dbPath: true, fresh: true,
			fixtureFlags: append([]string{"--db-pool", "10", "--db-hold", "50ms"}, bbFlags...),
			body: dbPathBody(`stages:
  - constant: {rate: 30, for: 12s}
faults:
  - {kind: net.latency, path: db, start: 4s, for: 5s, latency: 100ms}
`),
		},
		// Django under gunicorn: 2 workers × 4 threads, persistent
		// connections (up to 8).
		{
			name: "dj-below", target: "django", shape: "2×4, fast hasher", fault: "-", want: report.CauseNone, box: "black",
			djangoOpts: django.Options{Workers: 2, Threads: 4, Hasher: django.HasherFast, ConnMaxAge: -1, Users: 200},
			body: constBody(`stages:
  - constant: {rate: 10, for: 10s}
`),
		}, {
			// The cap's rollback leaves gunicorn's threads holding persistent
			// connections the cap ended: a reused stack answers its next login
			// 500 (Django without CONN_HEALTH_CHECKS), so every run gets a
			// fresh one.
			name: "dj-conn-limit", target: "django", shape: "2×4, fast hasher", fault: "db.conn_limit 1 in a surge", want: report.CauseDBConnections, box: "black", fresh: true,
			djangoOpts: django.Options{Workers: 2, Threads: 4, Hasher: django.HasherFast, ConnMaxAge: -1, Users: 200},
			body: constBody(`stages:
  - constant: {name: quiet, rate: 8, for: 4s}
  - constant: {name: surge, rate: 30, for: 8s}
faults:
  - {kind: db.conn_limit, start: 3s, for: 7s, limit: 1}
`),
		}, {
			name: "dj-cpu", target: "django", shape: "2×4, default hasher", fault: "-", want: report.CauseApp, box: "black",
			djangoOpts: django.Options{Workers: 2, Threads: 4, Hasher: django.HasherDefault, ConnMaxAge: -1, Users: 200},
			body: constBody(`client: {timeout: 3s}
stages:
  - constant: {name: calm, rate: 2, for: 3s}
  - ramp: {name: climb, from: 2, to: 40, for: 10s}
`),
		}, {
			// Persistent connections, as the other Django cases: each
			// worker thread keeps its own through the proxy. They die with
			// the run's proxy, so every run gets a fresh stack.
			name: "dj-db-latency", target: "django", shape: "2×4, fast hasher, db via proxy", fault: "net.latency db 100ms", want: report.CauseNetDB, box: "black", netFault: true, dbPath: true, fresh: true,
			djangoOpts: django.Options{Workers: 2, Threads: 4, Hasher: django.HasherFast, ConnMaxAge: -1, Users: 200},
			body: dbPathBody(`stages:
  - constant: {rate: 5, for: 12s}
faults:
  - {kind: net.latency, path: db, start: 4s, for: 5s, latency: 100ms}
`),
		}, {
			// The incident on real code: one gunicorn worker with 8 threads
			// and persistent connections wants up to 8, and max_connections 6
			// leaves the app role 2 (3 reserved for superusers, 1 taken by
			// stampede's sampler). A thread connects on its first request and
			// keeps the connection: the calm stage needs one or two, the surge
			// (near what one Python process serves, so logins overlap) starts
			// more threads, and theirs are refused. With 3 workers × 4 threads
			// a quiet machine served a 40/s and a 100/s surge from the first
			// threads alone. Threads keep what they got: a fresh stack per run.
			name: "dj-max-conn", target: "django", shape: "1×8, fast hasher, max_connections 6", fault: "- (max_connections)", want: report.CauseDBConnections, box: "black", fresh: true,
			djangoOpts: django.Options{Workers: 1, Threads: 8, Hasher: django.HasherFast, ConnMaxAge: -1, Users: 200, MaxConnections: 6},
			body: constBody(`stages:
  - constant: {name: calm, rate: 3, for: 4s}
  - constant: {name: surge, rate: 80, for: 8s}
`),
		}, {
			name: "dj-client-reset", target: "django", shape: "2×4, fast hasher", fault: "net.reset_peer client", want: report.CauseNetClient, box: "black", netFault: true,
			djangoOpts: django.Options{Workers: 2, Threads: 4, Hasher: django.HasherFast, ConnMaxAge: -1, Users: 200},
			body: clientPathBody(`stages:
  - constant: {rate: 10, for: 12s}
faults:
  - {kind: net.reset_peer, path: client, start: 4s, for: 5s}
`),
		},
		// The generator: far more offered than this machine can send to a
		// trivial service (internal/benchserver, a process of its own) that
		// shares its 2 cores: the machine, not the target, is the wall.
		{
			name: "gen-overload", target: "trivial", shape: "trivial service, 60000/s offered", fault: "- (overload)", want: report.CauseGenerator, box: "black",
			body: constBody(`stages:
  - constant: {name: calm, rate: 500, for: 3s}
  - constant: {name: flood, rate: 60000, for: 5s}
`),
		},
	}
}

// fullRun is one run of one case.
type fullRun struct {
	caseName, label string
	busy            bool
	want, got       string
	confidence      string
	sustainable     *float64
	breaking        *float64
	limitMethod     string // report.json's limit.method: which windows the figure rests on
	netWindows      int    // windows named network.* in a run with healthy paths
	dir             string
	took            time.Duration
	err             error
	cause           accuracyCause
	windows         string
}

func TestAccuracyFull(t *testing.T) {
	begin := time.Now()
	// STAMPEDE_ACCURACY_OUT: another folder for a partial rerun (with
	// STAMPEDE_ACCURACY_CASES), so the full matrix's runs stay.
	out := filepath.Join("..", "..", "runs", "accuracy")
	if o := os.Getenv("STAMPEDE_ACCURACY_OUT"); o != "" {
		out = o
	}
	root, err := filepath.Abs(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := buildStampede(t)
	cases := fullCases()
	if only := os.Getenv("STAMPEDE_ACCURACY_CASES"); only != "" {
		cases = filterCases(cases, strings.Split(only, ","))
	}
	// STAMPEDE_ACCURACY_ONCE=1: one quiet run per case and no find-limit,
	// to try a case while writing it.
	once := os.Getenv("STAMPEDE_ACCURACY_ONCE") != ""
	n := quietRuns + busyRuns
	if once {
		n = 1
	}
	var runs []fullRun
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tg *fullTarget
			stop := func() {}
			defer func() { stop() }()
			for i := 0; i < n; i++ {
				busy := i >= quietRuns
				label := fmt.Sprintf("quiet%d", i+1)
				if busy {
					label = fmt.Sprintf("busy%d", i-quietRuns+1)
				}
				switch {
				case tg == nil:
					tg, stop = startFullTarget(t, bin, tc)
				case tc.fresh:
					stop()
					tg, stop = startFullTarget(t, bin, tc)
				case tg.url != "":
					// The target outlives the run: let what the last run
					// left queued (a backlog of slow logins) drain first.
					if err := settle(tg.url); err != nil {
						t.Logf("%s %s: %v", tc.name, label, err)
					}
				}
				r := runFullCase(t, tc, tg, filepath.Join(root, tc.name, label), busy)
				r.label = label
				runs = append(runs, r)
				switch {
				case r.err != nil:
					t.Errorf("%s %s: %v", tc.name, label, r.err)
				case r.got != tc.want:
					t.Errorf("%s %s: cause %s (%s), want %s; see %s", tc.name, label, r.got, r.confidence, tc.want, filepath.Join(r.dir, "report.txt"))
				}
				if r.netWindows > 0 && strings.HasPrefix(r.got, "network.") {
					t.Errorf("%s %s: network named with healthy paths", tc.name, label)
				}
			}
		})
	}
	var limits []findLimit
	if !once {
		limits = findLimits(t, bin, root)
	}
	sum := fullSummary(cases, runs, limits, time.Since(begin))
	fmt.Print(sum)
	if err := os.WriteFile(filepath.Join(root, "summary.txt"), []byte(sum), 0o644); err != nil {
		t.Error(err)
	}
}

func filterCases(cs []fullCase, names []string) []fullCase {
	var out []fullCase
	for _, c := range cs {
		for _, n := range names {
			if c.name == n {
				out = append(out, c)
			}
		}
	}
	return out
}

// startFullTarget starts the case's target (nothing for the in-process
// fixture) and returns how to stop it.
func startFullTarget(t *testing.T, bin string, tc fullCase) (*fullTarget, func()) {
	t.Helper()
	switch tc.target {
	case "fixture":
		return &fullTarget{kind: "fixture"}, func() {}
	case "trivial":
		return startTrivialTarget(t)
	case "fixture-bb":
		srv := pgtest.Start(t, pg.Options{MaxConnections: 60})
		flags, dbListen := tc.fixtureFlags, ""
		if tc.dbPath {
			dbListen = fmt.Sprintf("127.0.0.1:%d", freePort())
			flags = append(slices.Clip(flags), "--db-addr", dbListen)
		}
		tg, stop := startFixtureProcess(t, bin, srv.AdminDSN(), flags)
		tg.dbListen, tg.dbUpstream = dbListen, net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Port))
		return tg, stop
	case "django":
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		o := tc.djangoOpts
		o.Dir = t.TempDir()
		if tc.dbPath {
			o.DBAddr = fmt.Sprintf("127.0.0.1:%d", freePort())
		}
		st, err := django.Start(ctx, o)
		if err != nil {
			t.Fatalf("django: %v", err)
		}
		tg := &fullTarget{kind: "django", url: st.URL, dsn: st.AdminDSN, upstream: strings.TrimPrefix(st.URL, "http://"),
			dbListen: o.DBAddr, dbUpstream: st.DBAddr}
		tg.head = fmt.Sprintf(`target: %s
login:
  path: %s
  encoding: form
  preflight: {path: %s, from: cookie, name: csrftoken, send_as: field, send_name: csrfmiddlewaretoken}
  success: {status: [302], cookie: sessionid}
credentials: {file: %s}
evidence: {role: %s}
`, st.URL, "/accounts/login/", "/accounts/login/", st.CredentialsPath, django.AppRole)
		return tg, func() {
			if err := st.Stop(); err != nil {
				t.Errorf("django stop: %v", err)
			}
		}
	}
	t.Fatalf("unknown target %q", tc.target)
	return nil, nil
}

// startFixtureProcess runs `stampede fixture` on an existing PostgreSQL and
// reads its URL and credentials path from what it prints.
func startFixtureProcess(t *testing.T, bin, dsn string, flags []string) (*fullTarget, func()) {
	t.Helper()
	args := append([]string{"fixture", "--dsn", dsn, "--listen", "127.0.0.1:0"}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "STAMPEDE_DSN=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(t.TempDir(), "fixture.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logf.Close()
	}
	tg := &fullTarget{kind: "fixture-bb", dsn: dsn}
	var creds string
	found := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			switch {
			case strings.HasPrefix(line, "url:"):
				tg.url = strings.TrimSpace(strings.TrimPrefix(line, "url:"))
			case strings.HasPrefix(line, "credentials:"):
				f := strings.Fields(strings.TrimPrefix(line, "credentials:"))
				if len(f) > 0 {
					creds = f[0]
				}
				found <- nil
				io.Copy(io.Discard, stdout)
				return
			}
		}
		found <- fmt.Errorf("fixture exited before it was ready: %v", sc.Err())
	}()
	select {
	case err := <-found:
		if err != nil {
			stop()
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("%v\n%s", err, b)
		}
	case <-time.After(2 * time.Minute):
		stop()
		t.Fatal("fixture not ready in 2 minutes")
	}
	tg.upstream = strings.TrimPrefix(tg.url, "http://")
	tg.head = fmt.Sprintf("target: %s\ncredentials: {file: %s}\nevidence: {role: %s}\n", tg.url, creds, fixtures.AppRole)
	return tg, stop
}

// settleFor bounds the wait for a reused target to drain; settleFast is
// what an idle service's answer to an unused path takes at most.
const (
	settleFor  = time.Minute
	settleFast = 100 * time.Millisecond
)

// settle waits until three requests in a row for an unused path are
// answered fast: the service has nothing queued from the previous run.
func settle(url string) error {
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(settleFor)
	fast := 0
	for fast < 3 {
		if time.Now().After(deadline) {
			return fmt.Errorf("target still slow after %s", settleFor)
		}
		start := time.Now()
		resp, err := c.Get(url + "/stampede-settle-probe")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if err == nil && time.Since(start) < settleFast {
			fast++
		} else {
			fast = 0
			time.Sleep(500 * time.Millisecond)
		}
	}
	return nil
}

// freePort asks the kernel for a port and gives it back.
func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func runFullCase(t *testing.T, tc fullCase, tg *fullTarget, dir string, busy bool) fullRun {
	t.Helper()
	r := fullRun{caseName: tc.name, busy: busy, want: tc.want, got: "(no report)", dir: dir}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		r.err = err
		return r
	}
	sc := dir + ".yaml"
	body := tg.head + tc.body(tg)
	if err := os.WriteFile(sc, []byte(body), 0o644); err != nil {
		r.err = err
		return r
	}
	args := []string{"run", sc, "--out", dir, "--quiet", "--seed", "11"}
	if tg.dsn != "" {
		args = append(args, "--dsn", tg.dsn)
	}
	if busy {
		stop := startBusyCore(t)
		defer stop()
	}
	start := time.Now()
	e, stdout, stderr := testEnv(nil)
	err := runMain(context.Background(), e, args)
	r.took = time.Since(start)
	os.WriteFile(dir+".stdout.txt", stdout.Bytes(), 0o644)
	if code := exitCode(err); code != exitOK && code != exitGateFailed {
		r.err = fmt.Errorf("run: %v (exit %d)\n%s", err, code, lastLines(stderr.String(), 20))
		return r
	}
	rep, err := readAccuracyReport(dir)
	if err != nil {
		r.err = err
		return r
	}
	r.got, r.confidence, r.cause = rep.Cause.Primary, rep.Cause.Confidence, rep.Cause
	r.sustainable, r.breaking, r.limitMethod = rep.Limit.SustainableRPS, rep.Limit.BreakingRPS, rep.Limit.Method
	var ws []string
	for _, w := range rep.Windows {
		if !tc.netFault && strings.HasPrefix(w.Cause, "network.") {
			r.netWindows++
		}
		c := w.Cause
		if c == "" {
			c = "-"
		}
		mark := "ok"
		if !w.SLOMet {
			mark = "FAIL"
		}
		ws = append(ws, fmt.Sprintf("%gs:%s:%s", w.StartS, mark, c))
	}
	r.windows = strings.Join(ws, " ")
	if tc.netFault {
		r.netWindows = 0
	}
	return r
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// findLimit is one find-limit search against a known truth.
type findLimit struct {
	name        string
	truth       float64
	sustainable *float64
	took        time.Duration
	err         error
}

// findLimits runs find-limit on the fixture with pool 5, hold 50ms (100/s
// by Little's law), white box in-process and black box as a process.
func findLimits(t *testing.T, bin, root string) []findLimit {
	var out []findLimit
	const body = `stages:
  - constant: {rate: 40, for: 5s}
search: {factor: 1.5, precision: 0.05, warmup: 2s, hold: 3s}
`
	run := func(name string, tg *fullTarget, fixture string) {
		dir := filepath.Join(root, "find-limit", name)
		os.MkdirAll(filepath.Dir(dir), 0o755)
		sc := dir + ".yaml"
		fl := findLimit{name: name, truth: 100}
		os.WriteFile(sc, []byte(tg.head+fixture+body), 0o644)
		args := []string{"find-limit", sc, "--out", dir, "--quiet", "--seed", "11", "--budget", "50s"}
		if tg.dsn != "" {
			args = append(args, "--dsn", tg.dsn)
		}
		start := time.Now()
		e, stdout, stderr := testEnv(nil)
		err := runMain(context.Background(), e, args)
		fl.took = time.Since(start)
		os.WriteFile(dir+".stdout.txt", stdout.Bytes(), 0o644)
		if code := exitCode(err); code != exitOK && code != exitGateFailed {
			fl.err = fmt.Errorf("find-limit: %v (exit %d)\n%s", err, code, lastLines(stderr.String(), 20))
		} else if rep, err := readAccuracyReport(dir); err != nil {
			fl.err = err
		} else {
			fl.sustainable = rep.Limit.SustainableRPS
		}
		if fl.err != nil {
			t.Errorf("%s: %v", name, fl.err)
		}
		out = append(out, fl)
	}
	run("wb-pool5-hold50", &fullTarget{kind: "fixture"}, "fixture: {users: 200, db_pool: 5, db_hold: 50ms}\n")
	srv := pgtest.Start(t, pg.Options{MaxConnections: 60})
	tg, stop := startFixtureProcess(t, bin, srv.AdminDSN(), append([]string{"--db-pool", "5", "--db-hold", "50ms"}, bbFlags...))
	run("bb-pool5-hold50", tg, "")
	stop()
	return out
}

// fullSummary lays the runs out: per case, overall, the confusion matrix,
// network named on healthy paths, limit errors, wrong verdicts in detail.
func fullSummary(cases []fullCase, runs []fullRun, limits []findLimit, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n=== stampede accuracy: %d cases, %d runs (each case %d quiet + %d beside a busy core) ===\n\n", len(cases), len(runs), quietRuns, busyRuns)
	fmt.Fprintf(&b, "%-18s %-10s %-5s %-32s %-27s %-15s %-6s %6s %6s %6s  %s\n", "case", "target", "box", "shape", "fault", "expected", "truth", "quiet", "busy", "all", "detected (q1 q2 q3 | b1 b2)")
	right, total := 0, 0
	for _, tc := range cases {
		q, bz, nq, nb := 0, 0, 0, 0
		var got []string
		for _, r := range runs {
			if r.caseName != tc.name {
				continue
			}
			total++
			if r.busy {
				nb++
			} else {
				nq++
			}
			g := r.got
			if r.got == tc.want {
				right++
				if r.busy {
					bz++
				} else {
					q++
				}
			} else {
				g = strings.ToUpper(g)
			}
			if r.busy && len(got) == nq {
				got = append(got, "|")
			}
			got = append(got, g)
		}
		truth := "-"
		if tc.truth > 0 {
			truth = fmt.Sprintf("%g/s", tc.truth)
		}
		fmt.Fprintf(&b, "%-18s %-10s %-5s %-32s %-27s %-15s %-6s %4d/%d %4d/%d %4d/%d  %s\n", tc.name, tc.target, tc.box, tc.shape, tc.fault, tc.want, truth,
			q, nq, bz, nb, q+bz, nq+nb, strings.Join(got, " "))
	}
	if total > 0 {
		fmt.Fprintf(&b, "\noverall right cause: %d/%d = %.0f%%\n", right, total, 100*float64(right)/float64(total))
	}

	// Confusion matrix: expected (rows) × detected (columns).
	cols := map[string]bool{}
	rows := map[string]bool{}
	cm := map[[2]string]int{}
	for _, r := range runs {
		cols[r.got] = true
		rows[r.want] = true
		cm[[2]string{r.want, r.got}]++
	}
	colNames := sortedKeys(cols)
	fmt.Fprintf(&b, "\nconfusion matrix (rows expected, columns detected):\n%-16s", "")
	for _, c := range colNames {
		fmt.Fprintf(&b, " %14s", c)
	}
	b.WriteString("\n")
	for _, rw := range sortedKeys(rows) {
		fmt.Fprintf(&b, "%-16s", rw)
		for _, c := range colNames {
			fmt.Fprintf(&b, " %14d", cm[[2]string{rw, c}])
		}
		b.WriteString("\n")
	}

	// network.* on healthy paths.
	netRuns, netWins, healthy := 0, 0, 0
	for _, r := range runs {
		tc := caseByName(cases, r.caseName)
		if tc.netFault {
			continue
		}
		healthy++
		if strings.HasPrefix(r.got, "network.") {
			netRuns++
		}
		netWins += r.netWindows
	}
	fmt.Fprintf(&b, "\nnetwork.* named with healthy network paths: %d of %d runs as the run's cause (must be 0); %d windows in those runs\n", netRuns, healthy, netWins)

	// Limits against the truth, each figure marked with what it rests on:
	// steady windows (constant stages or the steps of a steps stage), a
	// ramp (corrected for the queue it gives no time to build), or an
	// adaptive find-limit search. Goals: a ramp within rampGoal of the
	// truth, find-limit within findLimitGoal; steps resolve to their step.
	fmt.Fprintf(&b, "\nlimit against the truth (sustainable rate; error = (measured - truth) / truth; [steady] constant or steps windows, [ramp] a ramp's windows corrected for its queue, [find-limit] the adaptive search):\n")
	for _, tc := range cases {
		if tc.truth == 0 || tc.fault != "-" {
			continue // under a fault the limit is the fault's, not pool/hold
		}
		var parts []string
		var errs []float64
		bases := map[string]bool{}
		for _, r := range runs {
			if r.caseName != tc.name {
				continue
			}
			if r.sustainable == nil {
				parts = append(parts, "none")
				continue
			}
			e := (*r.sustainable - tc.truth) / tc.truth
			errs = append(errs, e)
			basis := limitBasis(r.limitMethod)
			bases[basis] = true
			parts = append(parts, fmt.Sprintf("%g(%+.0f%%)[%s]", *r.sustainable, 100*e, basis))
		}
		crosses := "stays below the truth: a lower bound at best"
		if tc.want != report.CauseNone {
			crosses = "crosses the truth"
		}
		goal := ""
		if len(bases) == 1 && bases["ramp"] {
			goal = fmt.Sprintf(" (goal for ramps ≤%.0f%%: %s)", 100*rampGoal, goalMet(errs, rampGoal))
		}
		fmt.Fprintf(&b, "  %-18s truth %g/s (%s): %s; median |error| %s%s\n", tc.name, tc.truth, crosses, strings.Join(parts, " "), medianAbs(errs), goal)
	}
	for _, fl := range limits {
		if fl.err != nil || fl.sustainable == nil {
			fmt.Fprintf(&b, "  find-limit %-12s truth %g/s: no figure (%v) in %s\n", fl.name, fl.truth, fl.err, fl.took.Round(time.Second))
			continue
		}
		e := (*fl.sustainable - fl.truth) / fl.truth
		fmt.Fprintf(&b, "  find-limit %-12s truth %g/s: %g/s (%+.0f%%)[find-limit] in %s (goal ≤%.0f%%: %s)\n", fl.name, fl.truth, *fl.sustainable, 100*e,
			fl.took.Round(time.Second), 100*findLimitGoal, goalMet([]float64{e}, findLimitGoal))
	}

	// Wrong verdicts in detail.
	fmt.Fprintf(&b, "\nwrong verdicts:\n")
	wrong := 0
	for _, r := range runs {
		if r.err == nil && r.got == r.want {
			continue
		}
		wrong++
		fmt.Fprintf(&b, "- %s %s: expected %s, detected %s (confidence %s); %s\n", r.caseName, r.label, r.want, r.got, r.confidence, filepath.Join(r.dir, "report.txt"))
		if r.err != nil {
			fmt.Fprintf(&b, "    error: %v\n", r.err)
			continue
		}
		fmt.Fprintf(&b, "    scope: %s\n", r.cause.Scope)
		for _, l := range r.cause.Evidence {
			fmt.Fprintf(&b, "    evidence: %s\n", l)
		}
		for _, l := range r.cause.RuledOut {
			fmt.Fprintf(&b, "    ruled out: %s\n", l)
		}
		for _, l := range r.cause.NotChecked {
			fmt.Fprintf(&b, "    not checked: %s\n", l)
		}
		fmt.Fprintf(&b, "    windows: %s\n", r.windows)
	}
	if wrong == 0 {
		b.WriteString("  none\n")
	}
	var runTime time.Duration
	for _, r := range runs {
		runTime += r.took
	}
	fmt.Fprintf(&b, "\ntime: %s in all (%d runs, %s inside `stampede run`)\n", took.Round(time.Second), len(runs), runTime.Round(time.Second))
	return b.String()
}

// The limit's goals against the truth (issue #12): a ramp's corrected
// figure within 10%, an adaptive search's within 5%.
const (
	rampGoal      = 0.10
	findLimitGoal = 0.05
)

// limitBasis names what a run's sustainable rate rests on, from
// report.json's limit.method (report/limit.go limitMethod).
func limitBasis(method string) string {
	if strings.Contains(method, "rests on the ramp") {
		return "ramp"
	}
	return "steady"
}

// goalMet says whether the median |error| is within goal.
func goalMet(errs []float64, goal float64) string {
	switch {
	case len(errs) == 0:
		return "no figure"
	case medianAbsOf(errs) <= goal:
		return "met"
	}
	return "missed"
}

func caseByName(cs []fullCase, name string) fullCase {
	for _, c := range cs {
		if c.name == name {
			return c
		}
	}
	return fullCase{}
}

func medianAbs(xs []float64) string {
	if len(xs) == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", 100*medianAbsOf(xs))
}

// medianAbsOf is the median of |x| over xs (not empty).
func medianAbsOf(xs []float64) float64 {
	a := make([]float64, len(xs))
	for i, x := range xs {
		a[i] = math.Abs(x)
	}
	sort.Float64s(a)
	if len(a)%2 == 0 {
		return (a[len(a)/2-1] + a[len(a)/2]) / 2
	}
	return a[len(a)/2]
}

// startTrivialTarget builds and starts internal/benchserver, a service
// that answers every request 200 at once, in a process of its own.
func startTrivialTarget(t *testing.T) (*fullTarget, func()) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "benchserver")
	if out, err := exec.Command("go", "build", "-o", bin, "../../internal/benchserver").CombinedOutput(); err != nil {
		t.Fatalf("build benchserver: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		t.Fatalf("benchserver: %v", err)
	}
	url = strings.TrimSpace(url)
	creds := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(creds, []byte("username,password\nuser1,good\nuser2,good\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tg := &fullTarget{kind: "trivial", url: url, upstream: strings.TrimPrefix(url, "http://")}
	tg.head = fmt.Sprintf("target: %s\nmax_rate: 100000\ncredentials: {file: %s}\nlogin: {success: {status: [200]}}\n", url, creds)
	return tg, stop
}
