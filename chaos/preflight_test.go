package chaos

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func wantPreflightError(t *testing.T, err error, what string) {
	t.Helper()
	var pe *PreflightError
	if !errors.As(err, &pe) {
		t.Fatalf("want a *PreflightError about %q, got %v", what, err)
	}
	if !strings.Contains(pe.What, what) {
		t.Fatalf("PreflightError.What = %q, want it to name %q", pe.What, what)
	}
}

func TestPreflightNamesTheMissingPrivilege(t *testing.T) {
	ctx := context.Background()
	newRole(t, "pf_app", "")
	newRole(t, "pf_weak", "")
	env := &Env{AdminDSN: roleDSN("pf_weak"), Role: "pf_app"}

	wantPreflightError(t, preflightKinds(ctx, env, []string{"db.conn_limit"}), `ALTER ROLE "pf_app"`)
	wantPreflightError(t, preflightKinds(ctx, env, []string{"db.hog"}), "pg_read_all_stats")
	adminExec(t, "ALTER ROLE pf_weak CREATEROLE")
	wantPreflightError(t, preflightKinds(ctx, env, []string{"db.conn_limit"}), "pg_read_all_stats")
	adminExec(t, "GRANT pg_read_all_stats TO pf_weak")
	wantPreflightError(t, preflightKinds(ctx, env, []string{"db.conn_limit"}), `terminate sessions of role "pf_app"`)
	wantPreflightError(t, preflightKinds(ctx, env, []string{"db.hog"}), "pg_signal_backend")
	adminExec(t, "GRANT pg_signal_backend TO pf_weak")
	if err := preflightKinds(ctx, env, []string{"db.conn_limit", "db.hog", "db.terminate"}); err != nil {
		t.Errorf("with CREATEROLE, pg_read_all_stats and pg_signal_backend: %v", err)
	}
	// The privileges are real: the weak role can now apply a conn_limit.
	f := build(t, env, "db.conn_limit", map[string]any{"limit": 3})
	inject(t, f)
	revert(t, f)

	wantPreflightError(t, preflightKinds(ctx, env, []string{"db.lock"}), `table "sessions"`)
	adminExec(t, "DROP TABLE IF EXISTS pf_table", "CREATE TABLE pf_table (id int)", "GRANT SELECT ON pf_table TO pf_weak")
	t.Cleanup(func() { adminExec(t, "DROP TABLE IF EXISTS pf_table") })
	lock := build(t, env, "db.lock", map[string]any{"table": "pf_table"})
	wantPreflightError(t, PreflightFaults(ctx, env, []Fault{lock}), "LOCK TABLE")
	share := build(t, env, "db.lock", map[string]any{"table": "pf_table", "mode": "ACCESS SHARE"})
	if err := PreflightFaults(ctx, env, []Fault{share}); err != nil {
		t.Errorf("ACCESS SHARE with SELECT: %v", err)
	}
	missing := build(t, &Env{Role: "pf_nobody"}, "db.conn_limit", map[string]any{"limit": 1})
	wantPreflightError(t, PreflightFaults(ctx, env, []Fault{missing}), `role "pf_nobody"`)
}

func TestPreflightPassesForTheSuperuserAndChecksTheNetwork(t *testing.T) {
	ctx := context.Background()
	newRole(t, "pf_svc", "")
	adminExec(t, "CREATE TABLE IF NOT EXISTS sessions (id int)")
	t.Cleanup(func() { adminExec(t, "DROP TABLE IF EXISTS sessions") })
	env, _ := netEnv(t)
	env.AdminDSN, env.Role = srv.AdminDSN(), "pf_svc"
	if err := preflightKinds(ctx, env, NewRegistry().Kinds()); err != nil {
		t.Errorf("superuser, every kind: %v", err)
	}
	onDB := build(t, env, "net.latency", map[string]any{"path": "db", "latency": "1ms"})
	wantPreflightError(t, PreflightFaults(ctx, env, []Fault{onDB}), `proxy "db"`)
	wantPreflightError(t, preflightKinds(ctx, &Env{}, []string{"net.down"}), "network")

	// A wrong password: named as the database, and never shown.
	bad := &Env{AdminDSN: srv.DSN("postgres", "wrong-pw-77", "postgres"), Role: "pf_svc"}
	err := preflightKinds(ctx, bad, []string{"db.terminate"})
	wantPreflightError(t, err, "127.0.0.1")
	if strings.Contains(err.Error(), "wrong-pw-77") || strings.Contains(err.Error(), adminPassword(t)) {
		t.Errorf("the error shows a password: %v", err)
	}
}
