package chaos

import (
	"context"
	"testing"
)

func TestLockMakesQueriesWaitUntilReverted(t *testing.T) {
	ctx := context.Background()
	newRole(t, "lock_app", "")
	adminExec(t, "DROP TABLE IF EXISTS lock_sessions",
		"CREATE TABLE lock_sessions (id int)", "GRANT SELECT ON lock_sessions TO lock_app")
	c := connectAs(t, "lock_app")
	if _, err := c.Exec(ctx, "SET statement_timeout = '300ms'"); err != nil {
		t.Fatal(err)
	}
	before := adminQueryInt(t, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")

	f := build(t, testEnv("lock_app"), "db.lock", map[string]any{"table": "public.lock_sessions", "mode": "access_exclusive"})
	if got, want := f.String(), "db.lock{table=public.lock_sessions mode=ACCESS EXCLUSIVE}"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	inject(t, f)
	defer f.Revert(ctx)
	_, err := c.Exec(ctx, "SELECT count(*) FROM lock_sessions")
	wantSQLState(t, err, "57014")
	// The wall is a lock, not connections: one more session, the holder.
	during := adminQueryInt(t, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
	if during > before+1 {
		t.Errorf("client sessions went from %d to %d while locked; want at most one more", before, during)
	}

	revert(t, f)
	if _, err := c.Exec(ctx, "SELECT count(*) FROM lock_sessions"); err != nil {
		t.Errorf("query after revert: %v", err)
	}
	if n := adminQueryInt(t, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'stampede-lock'"); n != 0 {
		t.Errorf("%d lock holders left after revert", n)
	}
}

func TestLockRejectsUnknownMode(t *testing.T) {
	_, err := NewRegistry().Build(nil, "db.lock", map[string]any{"mode": "TOTAL"})
	var pe *ParamError
	if !asParamError(err, &pe) || pe.Key != "mode" {
		t.Fatalf("want a ParamError on mode, got %v", err)
	}
}
