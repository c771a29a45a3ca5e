package chaos

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The admin DSN's password must appear in no event, no journal and no
// error text.
func TestAdminPasswordAppearsNowhere(t *testing.T) {
	ctx := context.Background()
	pw := adminPassword(t)
	newRole(t, "sec_app", "")
	adminExec(t, "DROP TABLE IF EXISTS sec_sessions", "CREATE TABLE sec_sessions (id int)")
	dir := t.TempDir()
	j, err := OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{AdminDSN: srv.AdminDSN(), Role: "sec_app", Journal: j}
	var items []Scheduled
	for _, spec := range []struct {
		kind   string
		params map[string]any
	}{
		{"db.conn_limit", map[string]any{"limit": 2}},
		{"db.hog", map[string]any{"leave": 4}},
		{"db.lock", map[string]any{"table": "sec_sessions"}},
		{"db.terminate", map[string]any{"every": "20ms"}},
		{"db.lock", map[string]any{"table": "no_such_table"}}, // fails: its error goes into an event
	} {
		items = append(items, Scheduled{Fault: build(t, env, spec.kind, spec.params), Duration: 80 * time.Millisecond})
	}
	ev := &events{}
	r := StartSchedule(ctx, time.Now(), items, ev)
	<-r.Done()
	var texts []string
	if err := r.Stop(ctx); err != nil {
		texts = append(texts, err.Error())
	}
	for _, e := range ev.all() {
		b, err := json.Marshal(e.fields)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	if !strings.Contains(strings.Join(texts, "\n"), "no_such_table") {
		t.Errorf("the failing lock left no error in the events:\n%s", ev)
	}
	b, err := os.ReadFile(filepath.Join(dir, JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	texts = append(texts, string(b))

	// Errors: a wrong password, a refused connection, a bad DSN.
	for _, dsn := range []string{
		srv.DSN("postgres", pw+"x", "postgres"),
		strings.Replace(srv.AdminDSN(), "127.0.0.1:", "127.0.0.1:1", 1) + "&connect_timeout=2",
		"postgres://postgres:" + pw + "@127.0.0.1:bad/postgres",
	} {
		bad := &Env{AdminDSN: dsn, Role: "sec_app", Journal: j}
		for _, kind := range []string{"db.conn_limit", "db.hog", "db.lock", "db.terminate"} {
			params := map[string]any{}
			if kind == "db.conn_limit" {
				params["limit"] = 1
			}
			f := build(t, bad, kind, params)
			if err := f.Inject(ctx); err != nil {
				texts = append(texts, err.Error())
			} else {
				t.Errorf("%s with a bad DSN succeeded", kind)
			}
			f.Revert(ctx)
		}
		if err := preflightKinds(ctx, bad, []string{"db.conn_limit"}); err != nil {
			texts = append(texts, err.Error())
		}
		if _, err := Restore(ctx, dir, dsn, &strings.Builder{}); err != nil {
			texts = append(texts, err.Error())
		}
	}
	for _, s := range texts {
		if strings.Contains(s, pw) {
			t.Errorf("the admin password appears in:\n%s", s)
		}
	}
	t.Logf("checked %d texts; e.g. %q", len(texts), texts[len(texts)-1])
}
