package chaos

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestConnLimitSetsAndRestoresTheOriginalLimit(t *testing.T) {
	for _, tc := range []struct {
		name     string
		original string // CREATE ROLE option
		want     int
	}{
		{"no limit before", "", -1},
		{"limit 7 before", "CONNECTION LIMIT 7", 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			newRole(t, "cl_app", tc.original)
			f := build(t, testEnv("cl_app"), "db.conn_limit", map[string]any{"limit": 2})
			if got, want := f.String(), "db.conn_limit{role=cl_app limit=2 terminate=true}"; got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}
			inject(t, f)
			if got := connLimitOf(t, "cl_app"); got != 2 {
				t.Errorf("limit while injected = %d, want 2", got)
			}
			revert(t, f)
			if got := connLimitOf(t, "cl_app"); got != tc.want {
				t.Errorf("limit after revert = %d, want the original %d", got, tc.want)
			}
			revert(t, f) // twice is harmless
			if got := connLimitOf(t, "cl_app"); got != tc.want {
				t.Errorf("limit after a second revert = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestConnLimitTerminatesExtraSessionsAndRefusesNewOnes(t *testing.T) {
	ctx := context.Background()
	newRole(t, "cl_busy", "")
	var conns []*pgx.Conn
	for range 4 {
		conns = append(conns, connectAs(t, "cl_busy"))
	}
	f := build(t, testEnv("cl_busy"), "db.conn_limit", map[string]any{"limit": 2, "terminate": true})
	inject(t, f)
	defer f.Revert(ctx)

	if n := backendsOf(t, "cl_busy"); n != 2 {
		t.Errorf("sessions of the role after inject = %d, want 2", n)
	}
	// The oldest two survive, the newest two were ended.
	for i, c := range conns {
		_, err := c.Exec(ctx, "SELECT 1")
		if i < 2 && err != nil {
			t.Errorf("old session %d: %v", i, err)
		}
		if i >= 2 && err == nil {
			t.Errorf("new session %d still works above the limit", i)
		}
	}
	_, err := pgx.Connect(ctx, roleDSN("cl_busy"))
	wantSQLState(t, err, "53300")

	revert(t, f)
	c, err := pgx.Connect(ctx, roleDSN("cl_busy"))
	if err != nil {
		t.Fatalf("connect after revert: %v", err)
	}
	c.Close(ctx)
}

func TestConnLimitOverlappingFaultsRestoreTheOriginal(t *testing.T) {
	newRole(t, "cl_stack", "CONNECTION LIMIT 7")
	env := testEnv("cl_stack")
	wide := build(t, env, "db.conn_limit", map[string]any{"limit": 10, "terminate": false})
	narrow := build(t, env, "db.conn_limit", map[string]any{"limit": 3, "terminate": false})
	inject(t, wide)
	inject(t, narrow)
	if got := connLimitOf(t, "cl_stack"); got != 3 {
		t.Errorf("limit with both in force = %d, want 3 (the newest)", got)
	}
	revert(t, wide) // the older one ends first
	if got := connLimitOf(t, "cl_stack"); got != 3 {
		t.Errorf("limit after the older one ended = %d, want 3 (the one still in force)", got)
	}
	revert(t, narrow)
	if got := connLimitOf(t, "cl_stack"); got != 7 {
		t.Errorf("limit after both ended = %d, want the original 7", got)
	}
}

func TestConnLimitOnMissingRoleFails(t *testing.T) {
	f := build(t, testEnv("no_such_role"), "db.conn_limit", map[string]any{"limit": 1})
	if err := f.Inject(context.Background()); err == nil {
		t.Fatal("inject on a missing role succeeded")
	}
	if err := f.Revert(context.Background()); err != nil {
		t.Errorf("revert after a failed inject: %v", err)
	}
}
