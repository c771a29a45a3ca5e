package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stampede-load/stampede/fixtures/pg"
	"github.com/stampede-load/stampede/fixtures/pg/pgtest"
)

// syncBuffer is an io.Writer the command writes to while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixtureRun is `stampede fixture` running in the background.
type fixtureRun struct {
	stdout, stderr syncBuffer
	signals        chan os.Signal
	done           chan error
}

func startFixtureCmd(t *testing.T, getenv func(string) string, args ...string) *fixtureRun {
	t.Helper()
	f := &fixtureRun{signals: make(chan os.Signal, 2), done: make(chan error, 1)}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	e := &env{stdout: &f.stdout, stderr: &f.stderr, signals: f.signals, getenv: getenv}
	go func() { f.done <- runMain(context.Background(), e, append([]string{"fixture"}, args...)) }()
	return f
}

// field waits for a "  name:  value" line on stdout and returns the value.
func (f *fixtureRun) field(t *testing.T, name string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^\s+` + name + `:\s+(\S+)`)
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(f.stdout.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-f.done:
			t.Fatalf("fixture ended before printing %s: %v\nstdout:\n%s\nstderr:\n%s", name, err, f.stdout.String(), f.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("no %s line after 2 minutes; stdout:\n%s", name, f.stdout.String())
	return ""
}

func (f *fixtureRun) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-f.done:
		return err
	case <-time.After(time.Minute):
		t.Fatalf("fixture still running a minute after the signal; stderr:\n%s", f.stderr.String())
		return nil
	}
}

// privateTempDir points TMPDIR at a fresh directory, so that every
// stampede-pg-* and stampede-fixture-* folder in it is this test's own,
// whatever other tests on the machine are doing. The postgres user must be
// able to traverse it.
func privateTempDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "stampede-cmd-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.Setenv("TMPDIR", dir)
	return dir
}

// requireNothingLeft asserts the private TMPDIR is empty and no process
// still runs from it (postgres's command line names its data directory).
func requireNothingLeft(t *testing.T, tmp string) {
	t.Helper()
	if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("left behind in TMPDIR: %v", names)
	}
	if pids := procs(func(_ int, cmdline string, _ int) bool { return strings.Contains(cmdline, tmp) }); len(pids) > 0 {
		t.Errorf("processes still running from %s: %v", tmp, pids)
	}
}

// procs lists the processes for which keep(pid, cmdline, ppid) is true.
func procs(keep func(pid int, cmdline string, ppid int) bool) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		ppid := -1
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 {
			if f := strings.Fields(string(stat[i+1:])); len(f) > 1 {
				ppid, _ = strconv.Atoi(f[1])
			}
		}
		if keep(pid, strings.ReplaceAll(string(cmd), "\x00", " "), ppid) {
			out = append(out, pid)
		}
	}
	return out
}

// requireNoSecrets asserts that output holds no database password: every
// DSN in it is redacted, and no 32-hex-digit string (the form of the
// generated passwords) or given secret appears.
func requireNoSecrets(t *testing.T, output string, secrets ...string) {
	t.Helper()
	for _, m := range regexp.MustCompile(`postgres(ql)?://\S+`).FindAllString(output, -1) {
		u, err := url.Parse(m)
		if err != nil {
			t.Errorf("unparsable DSN in output: %v", err)
			continue
		}
		if p, ok := u.User.Password(); ok && p != "xxxxx" {
			t.Errorf("unredacted DSN in output: %s", m)
		}
	}
	if m := regexp.MustCompile(`[0-9a-f]{32}`).FindString(output); m != "" {
		t.Errorf("output holds what looks like a generated password: %s", m)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(output, s) {
			t.Errorf("output holds the secret %q", s)
		}
	}
}

func TestFixtureCommandServesUntilSignal(t *testing.T) {
	tmp := privateTempDir(t)
	f := startFixtureCmd(t, nil, "--users", "50", "--db-pool", "4")
	base := f.field(t, "url")
	credPath := f.field(t, "credentials")

	// The throwaway server is ours: find its data directory and pid.
	dirs, _ := filepath.Glob(filepath.Join(tmp, pg.DirPrefix+"*"))
	if len(dirs) != 1 {
		t.Fatalf("want one %s* directory in %s, got %v", pg.DirPrefix, tmp, dirs)
	}
	pidText, err := os.ReadFile(filepath.Join(dirs[0], "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.SplitN(string(pidText), "\n", 2)[0])
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		t.Fatalf("postmaster pid %d not running", pid)
	}

	// Log in with the printed credential: the username in the example,
	// its password from the credentials file.
	user := regexp.MustCompile(`username=(\S+)`).FindStringSubmatch(f.stdout.String())
	if user == nil {
		t.Fatalf("no example username in output:\n%s", f.stdout.String())
	}
	password := passwordFor(t, credPath, user[1])
	resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}).PostForm(base+"/login",
		url.Values{"username": {user[1]}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Server-Timing"), "app;dur=") {
		t.Errorf("login: status %d, Server-Timing %q; want 200 with timing", resp.StatusCode, resp.Header.Get("Server-Timing"))
	}

	f.signals <- syscall.SIGINT
	if err := f.wait(t); err != nil {
		t.Fatalf("fixture after SIGINT: %v (exit %d)\nstderr:\n%s", err, exitCode(err), f.stderr.String())
	}
	if syscall.Kill(pid, 0) == nil {
		t.Errorf("postmaster %d still alive after the signal", pid)
	}
	if kids := procs(func(_ int, _ string, ppid int) bool { return ppid == pid }); len(kids) > 0 {
		t.Errorf("postgres children of %d still alive: %v", pid, kids)
	}
	requireNothingLeft(t, tmp)
	requireNoSecrets(t, f.stdout.String()+f.stderr.String(), password)
	if !strings.Contains(f.stdout.String(), "curl ") {
		t.Errorf("no example curl command in output:\n%s", f.stdout.String())
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("service still answering after the signal")
	}
}

// An existing database given through $STAMPEDE_DSN: the admin password must
// not be printed, and the database must survive the fixture.
func TestFixtureCommandWithExistingDatabase(t *testing.T) {
	tmp := privateTempDir(t)
	srv := pgtest.Start(t, pg.Options{})
	admin, _ := url.Parse(srv.AdminDSN())
	adminPassword, _ := admin.User.Password()

	f := startFixtureCmd(t, func(k string) string {
		if k == "STAMPEDE_DSN" {
			return srv.AdminDSN()
		}
		return ""
	}, "--users", "20", "--hide-server-timing")
	base := f.field(t, "url")
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Server-Timing") != "" {
		t.Errorf("healthz: %d, Server-Timing %q; want 200 and none", resp.StatusCode, resp.Header.Get("Server-Timing"))
	}
	f.signals <- syscall.SIGTERM
	if err := f.wait(t); err != nil {
		t.Fatalf("fixture after SIGTERM: %v", err)
	}
	requireNoSecrets(t, f.stdout.String()+f.stderr.String(), adminPassword)
	select {
	case <-srv.Exited():
		t.Error("the fixture stopped a database it did not start")
	default:
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 1 { // srv's own directory only
		t.Errorf("TMPDIR holds %d entries, want only the test's database", len(entries))
	}
}

// PostgreSQL refuses max_connections=1 (below the reserved slots): the
// command must exit 3 with the launcher's message and leave nothing.
func TestFixtureCommandDatabaseStartFailure(t *testing.T) {
	tmp := privateTempDir(t)
	f := startFixtureCmd(t, nil, "--max-connections", "1", "--users", "10")
	err := f.wait(t)
	if code := exitCode(err); code != exitInfra {
		t.Fatalf("exit %d (%v), want %d", code, err, exitInfra)
	}
	if !strings.Contains(err.Error(), "pg: postgres exited during start-up") || !strings.Contains(err.Error(), "max_connections") {
		t.Errorf("error %q lacks the launcher's message", err)
	}
	requireNothingLeft(t, tmp)
	requireNoSecrets(t, f.stdout.String()+f.stderr.String()+err.Error())
}

// A signal while PostgreSQL starts or users are seeded stops the start-up,
// exits 130 and leaves nothing.
func TestFixtureCommandSignalDuringStartup(t *testing.T) {
	tmp := privateTempDir(t)
	f := startFixtureCmd(t, nil, "--users", "10000")
	deadline := time.Now().Add(30 * time.Second)
	// Wait for the postmaster (not initdb) so the signal lands while the
	// server comes up or users are being seeded.
	for len(procs(func(_ int, cmdline string, _ int) bool {
		return strings.Contains(cmdline, tmp) && strings.Contains(cmdline, "listen_addresses")
	})) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no postmaster started from the private TMPDIR")
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.signals <- syscall.SIGINT
	err := f.wait(t)
	if code := exitCode(err); code != exitInterrupted {
		t.Fatalf("exit %d (%v), want %d", code, err, exitInterrupted)
	}
	requireNothingLeft(t, tmp)
}

// The shape flags reach the service: the shape line names them, the pool
// endpoint is gone, /token wants the client, and the secret is not printed.
func TestFixtureCommandShapes(t *testing.T) {
	tmp := privateTempDir(t)
	const secret = "s3cret-of-the-client"
	f := startFixtureCmd(t, nil, "--users", "20", "--conn-per-login", "--hot-row", "--hash-cost", "6",
		"--opaque-errors", "--no-pool-endpoint", "--token-client-id", "web-app", "--token-client-secret", secret)
	base := f.field(t, "url")
	credPath := f.field(t, "credentials")
	out := f.stdout.String()
	for _, want := range []string{
		"shape:        conn-per-login hot-row hash-cost=6 opaque-errors no-pool-endpoint token-client-id=web-app\n",
		"POST " + base + "/token", base + "/accounts/login/", "GET " + base + "/me, /healthz\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	token := func(id, secret string) int {
		req, _ := http.NewRequest("POST", base+"/token", strings.NewReader(url.Values{"grant_type": {"password"},
			"username": {"user00001"}, "password": {passwordFor(t, credPath, "user00001")}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if id != "" {
			req.SetBasicAuth(id, secret)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := token("web-app", secret); got != 200 {
		t.Errorf("POST /token with the client: %d, want 200", got)
	}
	if got := token("", ""); got != 401 {
		t.Errorf("POST /token without the client: %d, want 401", got)
	}
	if resp, err := client.Get(base + "/debug/pool"); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != 404 {
		t.Errorf("/debug/pool: %d, want 404", resp.StatusCode)
	}
	f.signals <- syscall.SIGINT
	if err := f.wait(t); err != nil {
		t.Fatalf("fixture after SIGINT: %v\nstderr:\n%s", err, f.stderr.String())
	}
	requireNothingLeft(t, tmp)
	requireNoSecrets(t, f.stdout.String()+f.stderr.String(), secret)
}

// --db-addr: the service starts while nothing listens there (a proxy that
// exists only during a run), its logins fail then, and succeed once a
// forwarder to the database listens at that address.
func TestFixtureCommandDBAddr(t *testing.T) {
	srv := pgtest.Start(t, pg.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	proxyAddr := ln.Addr().String()
	ln.Close() // nothing listens there while the fixture starts
	f := startFixtureCmd(t, nil, "--dsn", srv.AdminDSN(), "--users", "20", "--db-addr", proxyAddr, "--acquire-timeout", "1s")
	base := f.field(t, "url")
	credPath := f.field(t, "credentials")
	if !strings.Contains(f.stdout.String(), "connect through "+proxyAddr) {
		t.Errorf("output does not name the db path %s:\n%s", proxyAddr, f.stdout.String())
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	login := func() int {
		resp, err := client.PostForm(base+"/login", url.Values{"username": {"user00001"}, "password": {passwordFor(t, credPath, "user00001")}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := login(); got == 200 {
		t.Errorf("login with nothing at --db-addr: 200, want a database failure")
	}

	// A forwarder to the database at --db-addr, counting the connections it carries.
	ln, err = net.Listen("tcp", proxyAddr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", proxyAddr, err)
	}
	carried := pgtest.Forward(t, ln, net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Port)))
	if got := login(); got != 200 {
		t.Errorf("login through the forwarder: %d, want 200", got)
	}
	if carried.Load() == 0 {
		t.Error("the service's login did not go through --db-addr")
	}
	f.signals <- syscall.SIGINT
	if err := f.wait(t); err != nil {
		t.Fatalf("fixture after SIGINT: %v\nstderr:\n%s", err, f.stderr.String())
	}
}

func TestFixtureCommandBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--db-pool", "0"},
		{"--db-hold", "-1s"},
		{"--bcrypt-cost", "3"},
		{"--users", "0"},
		{"--listen", "0.0.0.0:0"},
		{"--listen", "192.0.2.1:8080"},
		{"--listen", "nonsense"},
		{"--dsn", "postgres://x@127.0.0.1/db", "--max-connections", "5"},
		{"--no-such-flag"},
		{"--hash-cost", "3"},
		{"--hash-cost", "32"},
		{"--conn-per-login", "--db-pool", "5"},
		{"--token-client-secret", "x"},
		{"--db-addr", "127.0.0.1"},
		{"--db-addr", "127.0.0.1:0"},
		{"extra-arg"},
	} {
		f := startFixtureCmd(t, nil, args...)
		if err := f.wait(t); exitCode(err) != exitUsage {
			t.Errorf("fixture %v: exit %d (%v), want %d", args, exitCode(err), err, exitUsage)
		}
	}
}

// passwordFor reads a user's password from the credentials CSV.
func passwordFor(t *testing.T, path, user string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		if r[0] == user {
			return r[1]
		}
	}
	t.Fatalf("%s not in %s", user, path)
	return ""
}
