package chaos

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func hogBackends(t *testing.T) int {
	t.Helper()
	return adminQueryInt(t, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'stampede-hog'")
}

func hogRoles(t *testing.T) int {
	t.Helper()
	return adminQueryInt(t, "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'stampede_hog_%'")
}

// waitSessions waits until the server has n client sessions besides the
// one asking: sessions closed by earlier tests end asynchronously, and the
// hog's arithmetic counts what is there.
func waitSessions(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := adminQueryInt(t, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d client sessions on the server, want %d", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHogTakesEveryFreeSlotAndGivesThemBack(t *testing.T) {
	ctx := context.Background()
	newRole(t, "hog_app", "")
	held := connectAs(t, "hog_app") // a session already there counts
	waitSessions(t, 1)

	f := build(t, testEnv("hog_app"), "db.hog", nil)
	inject(t, f)
	defer f.Revert(ctx)
	n := f.(*hog).Held()
	// 20 slots − 3 reserved − the session above = 16.
	if n != testMaxConns-3-1 {
		t.Errorf("hog holds %d connections, want %d", n, testMaxConns-3-1)
	}
	_, err := pgx.Connect(ctx, roleDSN("hog_app"))
	wantSQLState(t, err, "53300")
	if _, err := held.Exec(ctx, "SELECT 1"); err != nil {
		t.Errorf("a session opened before the hog: %v", err)
	}

	revert(t, f)
	if n := hogBackends(t); n != 0 {
		t.Errorf("%d hog sessions left after revert", n)
	}
	if n := hogRoles(t); n != 0 {
		t.Errorf("%d hog roles left after revert", n)
	}
	// Every slot is back: the role can open all of them again.
	var conns []*pgx.Conn
	defer func() {
		for _, c := range conns {
			c.Close(ctx)
		}
	}()
	for i := 0; i < testMaxConns-3-1; i++ {
		c, err := pgx.Connect(ctx, roleDSN("hog_app"))
		if err != nil {
			t.Fatalf("connection %d after revert: %v", i+1, err)
		}
		conns = append(conns, c)
	}
}

func TestHogLeavesTheAskedSlotsFree(t *testing.T) {
	ctx := context.Background()
	newRole(t, "hog_leave", "")
	waitSessions(t, 0)
	f := build(t, testEnv("hog_leave"), "db.hog", map[string]any{"leave": 2})
	inject(t, f)
	defer f.Revert(ctx)
	var got int
	for got < 5 {
		c, err := pgx.Connect(ctx, roleDSN("hog_leave"))
		if err != nil {
			wantSQLState(t, err, "53300")
			break
		}
		defer c.Close(ctx)
		got++
	}
	if got != 2 {
		t.Errorf("with leave=2 the service could open %d connections, want 2", got)
	}
}
