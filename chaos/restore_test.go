package chaos

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestRestoreAfterACrashUndoesEverythingOnce(t *testing.T) {
	ctx := context.Background()
	newRole(t, "rs_app", "CONNECTION LIMIT 7")
	adminExec(t, "DROP TABLE IF EXISTS rs_sessions", "CREATE TABLE rs_sessions (id int)", "GRANT SELECT ON rs_sessions TO rs_app")
	dir := t.TempDir()
	j, err := OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	netw := NewNetwork()
	defer netw.Close(ctx)
	if _, err := netw.AddProxy(ctx, PathDB, "", echoServer(t)); err != nil {
		t.Fatal(err)
	}
	env := &Env{AdminDSN: srv.AdminDSN(), Role: "rs_app", Journal: j, Network: netw}
	var faults []Fault
	for _, spec := range []struct {
		kind   string
		params map[string]any
	}{
		{"db.conn_limit", map[string]any{"limit": 2}},
		{"db.hog", map[string]any{"leave": 5}},
		{"db.lock", map[string]any{"table": "rs_sessions"}},
		{"net.latency", map[string]any{"path": "db", "latency": "50ms"}},
	} {
		f := build(t, env, spec.kind, spec.params)
		inject(t, f)
		faults = append(faults, f)
	}
	if got := len(j.Pending()); got != 4 {
		t.Fatalf("%d pending journal entries, want 4", got)
	}
	// The crash: nothing is reverted and the Go objects are lost (the hog's
	// and the lock's sessions stay open, as in a hung process).
	faults, env, j = nil, nil, nil

	var out strings.Builder
	restored, err := Restore(ctx, dir, srv.AdminDSN(), &out)
	t.Logf("first restore:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	if restored != 3 {
		t.Errorf("restored %d entries, want 3 (conn_limit, hog, lock; the in-process toxic ended with its process)", restored)
	}
	if got := connLimitOf(t, "rs_app"); got != 7 {
		t.Errorf("limit after restore = %d, want the original 7", got)
	}
	if n := hogRoles(t); n != 0 {
		t.Errorf("%d hog roles left", n)
	}
	if n := adminQueryInt(t, "SELECT count(*) FROM pg_stat_activity WHERE application_name IN ('stampede-hog', 'stampede-lock')"); n != 0 {
		t.Errorf("%d hog or lock sessions left", n)
	}
	c := connectAs(t, "rs_app")
	if _, err := c.Exec(ctx, "SET statement_timeout = '2s'; SELECT count(*) FROM rs_sessions"); err != nil {
		t.Errorf("query on the formerly locked table: %v", err)
	}

	out.Reset()
	restored, err = Restore(ctx, dir, srv.AdminDSN(), &out)
	if err != nil || restored != 0 || !strings.Contains(out.String(), "nothing to restore") {
		t.Errorf("second restore = %d, %v, %q; want nothing to restore", restored, err, out.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), adminPassword(t)) || strings.Contains(string(b), "PASSWORD") {
		t.Errorf("the journal holds a password:\n%s", b)
	}
	if !strings.Contains(string(b), `"conn_limit": 7`) {
		t.Errorf("the journal does not hold the original limit:\n%s", b)
	}
}

func TestRestoreThrowawayAndUnreachableDatabases(t *testing.T) {
	ctx := context.Background()
	limit := 7

	// The bundled fixture's database ended with its run: nothing to do.
	dir := t.TempDir()
	j, _ := OpenJournal(dir)
	j.Record(JournalEntry{Kind: "db.conn_limit", Fault: "db.conn_limit{…}", DB: "127.0.0.1:1/x", Ephemeral: true, Role: "app", ConnLimit: &limit})
	var out strings.Builder
	n, err := Restore(ctx, dir, "", &out)
	if err != nil || n != 0 || !strings.Contains(out.String(), "throwaway") {
		t.Errorf("throwaway: %d, %v, %q", n, err, out.String())
	}

	// A real database that does not answer: entries stay pending.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dsn := "postgres://admin:hunter2-secret@127.0.0.1:" + strconv.Itoa(port) + "/app?sslmode=disable&connect_timeout=2"
	dir = t.TempDir()
	j, _ = OpenJournal(dir)
	j.Record(JournalEntry{Kind: "db.conn_limit", Fault: "db.conn_limit{…}", DB: "127.0.0.1:" + strconv.Itoa(port) + "/app", Role: "app", ConnLimit: &limit})
	out.Reset()
	n, err = Restore(ctx, dir, dsn, &out)
	if err == nil || n != 0 || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("unreachable: %d, %v", n, err)
	}
	if err != nil && strings.Contains(err.Error()+out.String(), "hunter2-secret") {
		t.Errorf("the password leaked: %v\n%s", err, out.String())
	}
	if j2, _ := OpenJournal(dir); len(j2.Pending()) != 1 {
		t.Errorf("the entry is no longer pending after a failed restore")
	}
	// No DSN at all.
	if _, err := Restore(ctx, dir, "", &out); err == nil || !strings.Contains(err.Error(), "--dsn") {
		t.Errorf("no DSN: %v", err)
	}
	// No journal: nothing to restore.
	out.Reset()
	if n, err := Restore(ctx, t.TempDir(), "", &out); err != nil || n != 0 || !strings.Contains(out.String(), "nothing to restore") {
		t.Errorf("no journal: %d, %v, %q", n, err, out.String())
	}
}

func TestJournalSurvivesReopening(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := j.Record(JournalEntry{Kind: "net.down", Proxy: "db", EnableProxy: true})
	b, _ := j.Record(JournalEntry{Kind: "net.down", Proxy: "client", EnableProxy: true})
	if err := j.Done(a); err != nil {
		t.Fatal(err)
	}
	j2, err := OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := j2.Pending()
	if len(p) != 1 || p[0].ID != b || p[0].Proxy != "client" {
		t.Errorf("pending after reopening: %+v", p)
	}
	c, _ := j2.Record(JournalEntry{Kind: "net.down"})
	if c == a || c == b {
		t.Errorf("id %q reused", c)
	}
	if err := j2.Done("nope"); err == nil {
		t.Error("Done of an unknown id succeeded")
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".journal-*")); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}
