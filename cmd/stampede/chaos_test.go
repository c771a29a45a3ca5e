package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/chaos"
)

// chaosCLI runs the CLI in-process with its output captured and the given
// environment variables.
func chaosCLI(t *testing.T, vars map[string]string, args ...string) (out string, err error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return vars[k] }}
	err = runMain(context.Background(), e, args)
	return stdout.String() + stderr.String(), err
}

func TestChaosRestoreUsage(t *testing.T) {
	for _, args := range [][]string{
		{"chaos"},
		{"chaos", "undo"},
		{"chaos", "restore", "a", "b"},
		{"chaos", "restore", "--bogus"},
		{"chaos", "restore", filepath.Join(t.TempDir(), "missing")},
	} {
		if _, err := chaosCLI(t, nil, args...); exitCode(err) != exitUsage {
			t.Errorf("%v: exit %d (%v), want %d", args, exitCode(err), err, exitUsage)
		}
	}
}

func TestChaosRestoreWithoutJournal(t *testing.T) {
	out, err := chaosCLI(t, nil, "chaos", "restore", t.TempDir())
	if err != nil || !strings.Contains(out, "nothing to restore") {
		t.Errorf("exit %d (%v), output %q", exitCode(err), err, out)
	}
}

func TestChaosRestoreThrowawayDatabaseThenNothing(t *testing.T) {
	dir := t.TempDir()
	j, err := chaos.OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	limit := -1
	if _, err := j.Record(chaos.JournalEntry{Kind: "db.conn_limit", Fault: "db.conn_limit{role=stampede_app limit=5 terminate=true}",
		DB: "127.0.0.1:5432/stampede", Ephemeral: true, Role: "stampede_app", ConnLimit: &limit}); err != nil {
		t.Fatal(err)
	}
	out, err := chaosCLI(t, nil, "chaos", "restore", dir)
	if err != nil || !strings.Contains(out, "throwaway") {
		t.Errorf("first restore: exit %d (%v), output:\n%s", exitCode(err), err, out)
	}
	out, err = chaosCLI(t, nil, "chaos", "restore", dir)
	if err != nil || !strings.Contains(out, "nothing to restore") {
		t.Errorf("second restore: exit %d (%v), output:\n%s", exitCode(err), err, out)
	}
}

func TestChaosRestoreUnreachableDatabaseExits3WithoutThePassword(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	dir := t.TempDir()
	j, err := chaos.OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	limit := 7
	j.Record(chaos.JournalEntry{Kind: "db.conn_limit", Fault: "db.conn_limit{role=app limit=5 terminate=true}",
		DB: "127.0.0.1:" + port + "/app", Role: "app", ConnLimit: &limit})
	vars := map[string]string{"STAMPEDE_DSN": "postgres://admin:s3cret-pw@127.0.0.1:" + port + "/app?sslmode=disable&connect_timeout=2"}
	out, err := chaosCLI(t, vars, "chaos", "restore", dir)
	if exitCode(err) != exitInfra || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("exit %d (%v), want %d and 'unreachable'", exitCode(err), err, exitInfra)
	}
	if strings.Contains(out, "s3cret-pw") || err != nil && strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("the password was printed:\n%s\n%v", out, err)
	}
	// Without any DSN the message says how to give one.
	_, err = chaosCLI(t, nil, "chaos", "restore", dir)
	if exitCode(err) != exitInfra || !strings.Contains(err.Error(), "STAMPEDE_DSN") {
		t.Errorf("no DSN: exit %d (%v)", exitCode(err), err)
	}
}

func TestNewestRunDir(t *testing.T) {
	root := t.TempDir()
	if _, err := newestRunDir(filepath.Join(root, "runs")); err == nil {
		t.Error("no runs/ directory: want an error")
	}
	runs := filepath.Join(root, "runs")
	old := time.Now().Add(-time.Hour)
	for i, name := range []string{"20260101-a", "20260102-b", "20251231-c"} {
		d := filepath.Join(runs, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(d, old, old.Add(time.Duration(i)*time.Minute))
	}
	os.WriteFile(filepath.Join(runs, "notes.txt"), nil, 0o644) // newest, but a file
	got, err := newestRunDir(runs)
	if err != nil || got != filepath.Join(runs, "20251231-c") {
		t.Errorf("newestRunDir = %q, %v; want the most recently modified, 20251231-c", got, err)
	}
}
