package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stampede-load/stampede/fixtures/pg"
	"github.com/stampede-load/stampede/fixtures/pg/pgtest"
)

// One throwaway PostgreSQL for the package. The database tests do not run
// in parallel: db.hog takes every free slot of the server.
var srv *pg.Server

const testMaxConns = 20

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main("chaos", pg.Options{MaxConnections: testMaxConns}, func(s *pg.Server) int {
		srv = s
		return m.Run()
	}))
}

const testPassword = "svc-pw-4c2a"

// adminExec runs statements as the superuser, each in a session of its own.
func adminExec(t *testing.T, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		pgtest.Exec(t, srv.AdminDSN(), q)
	}
}

// adminQueryInt returns one integer from a superuser query.
func adminQueryInt(t *testing.T, q string, args ...any) int {
	t.Helper()
	return pgtest.Int(t, srv.AdminDSN(), q, args...)
}

// newRole creates a login role (dropping any left by an earlier test) and
// drops it at the end of the test.
func newRole(t *testing.T, name, extra string) {
	t.Helper()
	adminExec(t, "DROP ROLE IF EXISTS "+name, "CREATE ROLE "+name+" LOGIN PASSWORD '"+testPassword+"' "+extra)
	t.Cleanup(func() {
		ctx := context.Background()
		c, err := pgx.Connect(ctx, srv.AdminDSN())
		if err != nil {
			return
		}
		defer c.Close(ctx)
		terminateWhere(ctx, c, "usename = $1", time.Second, name)
		c.Exec(ctx, "DROP OWNED BY "+name)
		c.Exec(ctx, "DROP ROLE IF EXISTS "+name)
	})
}

func roleDSN(role string) string { return srv.DSN(role, testPassword, "postgres") }

// connectAs opens a session as role; the test closes it at its end.
func connectAs(t *testing.T, role string) *pgx.Conn {
	t.Helper()
	return pgtest.Connect(t, roleDSN(role))
}

func connLimitOf(t *testing.T, role string) int {
	t.Helper()
	return pgtest.ConnLimit(t, srv.AdminDSN(), role)
}

func backendsOf(t *testing.T, role string) int {
	t.Helper()
	return pgtest.Backends(t, srv.AdminDSN(), role)
}

// wantSQLState checks that err carries the SQLSTATE code.
func wantSQLState(t *testing.T, err error, code string) {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Fatalf("want SQLSTATE %s, got %v (no *pgconn.PgError)", code, err)
	}
	if pe.Code != code {
		t.Fatalf("want SQLSTATE %s, got %s: %v", code, pe.Code, err)
	}
}

func adminPassword(t *testing.T) string {
	t.Helper()
	return pgtest.Password(t, srv.AdminDSN())
}

func testEnv(role string) *Env { return &Env{AdminDSN: srv.AdminDSN(), Role: role} }

func build(t *testing.T, env *Env, kind string, params map[string]any) Fault {
	t.Helper()
	f, err := NewRegistry().Build(env, kind, params)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func inject(t *testing.T, f Fault) {
	t.Helper()
	if err := f.Inject(context.Background()); err != nil {
		f.Revert(context.Background())
		t.Fatalf("inject %s: %v", f, err)
	}
}

func revert(t *testing.T, f Fault) {
	t.Helper()
	if err := f.Revert(context.Background()); err != nil {
		t.Fatalf("revert %s: %v", f, err)
	}
}

// events records a runner's events.
type events struct {
	mu   sync.Mutex
	list []event
}

type event struct {
	typ    string
	at     time.Time
	fields map[string]any
}

func (e *events) Event(typ string, at time.Time, fields map[string]any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, event{typ, at, fields})
}

func (e *events) all() []event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]event(nil), e.list...)
}

func (e *events) String() string {
	var b strings.Builder
	for _, ev := range e.all() {
		fmt.Fprintf(&b, "%s %v\n", ev.typ, ev.fields)
	}
	return b.String()
}
