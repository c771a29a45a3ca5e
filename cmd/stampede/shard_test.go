package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stampede-load/stampede/fixtures"
	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// shardFixture is one bundled fixture that every shard of a test sends
// to, and a scenario file for it: 150 logins/s, well within the pool.
type shardFixture struct {
	stack    *fixtures.Stack
	scenario string
	tmp      string
}

func startShardFixture(t *testing.T, stages, faults string) *shardFixture {
	t.Helper()
	stack, err := fixtures.StartStack(context.Background(), fixtures.StackOptions{Users: 300, DBPool: 20, Dir: t.TempDir()})
	if err != nil {
		t.Skipf("no fixture: %v", err)
	}
	t.Cleanup(func() { stack.Close() })
	tmp := t.TempDir()
	sc := filepath.Join(tmp, "sharded.yaml")
	body := fmt.Sprintf("name: sharded\ncredentials: {file: %s}\nevidence: {role: %s}\nslo: {success_ratio: 0.95, latency: 1s}\nstages:\n%s%s",
		stack.CredentialsPath, fixtures.AppRole, stages, faults)
	if err := os.WriteFile(sc, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return &shardFixture{stack: stack, scenario: sc, tmp: tmp}
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// shardProc is one `stampede run --shard I/N` process.
type shardProc struct {
	index  int
	dir    string
	cmd    *exec.Cmd
	out    bytes.Buffer
	exited chan error
}

func (f *shardFixture) startShard(t *testing.T, bin string, i, n int, barrierAddr string) *shardProc {
	t.Helper()
	p := &shardProc{index: i, dir: filepath.Join(f.tmp, "shard-"+strconv.Itoa(i)), exited: make(chan error, 1)}
	p.cmd = exec.Command(bin, "run", f.scenario, "--shard", fmt.Sprintf("%d/%d", i, n), "--barrier", barrierAddr,
		"--barrier-timeout", "60s", "--target", f.stack.URL, "--dsn", f.stack.AdminDSN, "--out", p.dir, "--quiet", "--seed", "7")
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	p.cmd.Env = append(os.Environ(), "STAMPEDE_DSN=", "TMPDIR="+t.TempDir())
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() { p.cmd.Process.Kill() })
	return p
}

// wait waits for the process; exit 0 or 1 (a gate on its share) are fine.
func (p *shardProc) wait(t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(2 * time.Minute):
		t.Fatalf("shard %d still running after 2m:\n%s", p.index, p.out.String())
	}
	if c := p.cmd.ProcessState.ExitCode(); c != exitOK && c != exitGateFailed {
		t.Fatalf("shard %d: exit %d:\n%s", p.index, c, p.out.String())
	}
}

// firstSend is the earliest send time in a run directory's results.
func firstSend(t *testing.T, dir string) time.Time {
	t.Helper()
	var first time.Time
	for _, r := range decodeResults(t, dir) {
		if first.IsZero() || r.Timestamp.Before(first) {
			first = r.Timestamp
		}
	}
	return first
}

func countEvents(t *testing.T, dir, typ string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, rundir.TimelineFile))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		var ev struct{ Type string }
		if json.Unmarshal(line, &ev) == nil && ev.Type == typ {
			n++
		}
	}
	return n
}

// TestShardThreeProcessesMatchOneRun: three shard processes, started a
// second apart and released by the barrier, together reproduce one run at
// the whole rate: after merge, the same achieved rate, verdict and cause
// as one agent's run, the fault injected once, by shard 0.
func TestShardThreeProcessesMatchOneRun(t *testing.T) {
	bin := buildStampede(t)
	f := startShardFixture(t, "  - constant: {name: steady, rate: 150, for: 12s}\n",
		"faults:\n  - {kind: db.conn_limit, start: 4s, for: 4s, limit: 0}\n")
	addr := freeAddr(t)
	var shards []*shardProc
	for i := range 3 {
		if i > 0 {
			time.Sleep(time.Second)
		}
		shards = append(shards, f.startShard(t, bin, i, 3, addr))
	}
	for _, p := range shards {
		p.wait(t)
	}

	// (b) one start: the first sends within 50ms of each other.
	var firsts []time.Time
	var startAt time.Time
	for _, p := range shards {
		firsts = append(firsts, firstSend(t, p.dir))
		m, err := rundir.ReadManifest(filepath.Join(p.dir, rundir.ManifestFile))
		if err != nil {
			t.Fatal(err)
		}
		if m.Shard == nil || m.Shard.Index != p.index || m.Shard.Count != 3 || m.Shard.Barrier != addr || math.Abs(m.Scale-1.0/3) > 1e-9 {
			t.Errorf("shard %d manifest: shard %+v, scale %g", p.index, m.Shard, m.Scale)
		} else if startAt.IsZero() {
			startAt = m.Shard.StartAt
		} else if !m.Shard.StartAt.Equal(startAt) {
			t.Errorf("shard %d start_at %s, shard 0's %s", p.index, m.Shard.StartAt, startAt)
		}
		// Only shard 0 injects: only its journal holds the fault.
		j, err := os.ReadFile(filepath.Join(p.dir, "journal.json"))
		if p.index == 0 && (err != nil || !bytes.Contains(j, []byte("conn_limit"))) {
			t.Errorf("shard 0's journal: %v %s", err, j)
		}
		if p.index > 0 && err == nil {
			t.Errorf("shard %d wrote a fault journal: %s", p.index, j)
		}
	}
	earliest, latest := span(firsts)
	spread := latest.Sub(earliest)
	t.Logf("first sends: %v after start_at; spread %s", offsets(firsts, startAt), spread)
	if spread > 50*time.Millisecond {
		t.Errorf("first sends spread over %s, want within 50ms", spread)
	}

	merged := filepath.Join(f.tmp, "merged")
	if text, err := runMerge(t, shards[0].dir, shards[1].dir, shards[2].dir, "--out", merged); err != nil {
		t.Fatalf("merge: %v\n%s", err, text)
	}
	if n := countEvents(t, merged, rundir.EventFaultInject); n != 1 {
		t.Errorf("merged timeline: %d fault_inject events, want 1", n)
	}
	mrep, err := report.Analyze(merged, report.Options{})
	if err != nil {
		t.Fatal(err)
	}

	single := filepath.Join(f.tmp, "single")
	e, _, stderr := testEnv(nil)
	err = runMain(context.Background(), e, []string{"run", f.scenario, "--target", f.stack.URL, "--dsn", f.stack.AdminDSN,
		"--out", single, "--quiet", "--seed", "7"})
	if c := exitCode(err); c != exitOK && c != exitGateFailed {
		t.Fatalf("single run: exit %d (%v)\n%s", c, err, stderr)
	}
	srep, err := report.Analyze(single, report.Options{})
	if err != nil {
		t.Fatal(err)
	}

	for name, r := range map[string]*report.Report{"merged": mrep, "single": srep} {
		st := r.Stages[0]
		t.Logf("%s: offered %.1f/s achieved %.1f/s, sent %d, success %.3f, verdict %s, cause %s",
			name, st.OfferedRPS, st.AchievedRPS, st.Sent, st.SuccessRatio, r.Verdict, r.Cause.Primary)
		if math.Abs(st.AchievedRPS/150-1) > 0.02 || math.Abs(st.OfferedRPS/150-1) > 0.02 {
			t.Errorf("%s: offered %.1f/s, achieved %.1f/s; want 150/s within 2%%", name, st.OfferedRPS, st.AchievedRPS)
		}
	}
	if mrep.Verdict != srep.Verdict || mrep.Cause.Primary != srep.Cause.Primary {
		t.Errorf("merged: %s (%s); single: %s (%s)", mrep.Verdict, mrep.Cause.Primary, srep.Verdict, srep.Cause.Primary)
	}
}

// TestShardKilledMidRun: a shard killed mid-run is named by merge, which
// marks the run partial and exits 1 unless --allow-partial.
func TestShardKilledMidRun(t *testing.T) {
	bin := buildStampede(t)
	f := startShardFixture(t, "  - constant: {rate: 90, for: 8s}\n", "")
	addr := freeAddr(t)
	var shards []*shardProc
	for i := range 3 {
		shards = append(shards, f.startShard(t, bin, i, 3, addr))
	}
	victim := shards[2]
	if _, err := waitForEvent(victim.dir, "run_start", time.Minute); err != nil {
		t.Fatalf("%v\n%s", err, victim.out.String())
	}
	time.Sleep(3 * time.Second)
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.exited
	shards[0].wait(t)
	shards[1].wait(t)

	dirs := []string{shards[0].dir, shards[1].dir, victim.dir}
	text, err := runMerge(t, append(dirs, "--out", filepath.Join(f.tmp, "merged"))...)
	if exitCode(err) != exitGateFailed || !strings.Contains(err.Error(), "shard 2 never finished") || !strings.Contains(text, "shard 2:") {
		t.Fatalf("merge: exit %d (%v)\n%s", exitCode(err), err, text)
	}
	m, err := rundir.ReadManifest(filepath.Join(f.tmp, "merged", rundir.ManifestFile))
	if err != nil || !m.Partial || m.Status != rundir.StatusPartial {
		t.Fatalf("merged manifest: %+v, %v", m, err)
	}
	if _, err := runMerge(t, append(dirs, "--out", filepath.Join(f.tmp, "merged2"), "--allow-partial")...); exitCode(err) != exitOK {
		t.Fatalf("--allow-partial: exit %d (%v)", exitCode(err), err)
	}
}

// TestShardFlagsRefused: what a shard cannot run exits 2 before sending.
func TestShardFlagsRefused(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "two.csv")
	os.WriteFile(creds, []byte("u1,p1\nu2,p2\n"), 0o644)
	sc := filepath.Join(dir, "s.yaml")
	os.WriteFile(sc, []byte("credentials: {file: two.csv}\nstages:\n  - constant: {rate: 10, for: 1s}\n"), 0o644)
	target := "http://" + freeAddr(t)
	for _, tc := range []struct {
		args []string
		env  string // $JOB_COMPLETION_INDEX
		want string
	}{
		{[]string{"--shards", "3", "--barrier", "127.0.0.1:1", "--target", target}, "", "JOB_COMPLETION_INDEX"},
		{[]string{"--shards", "3", "--barrier", "127.0.0.1:1", "--target", target}, "x", "not a shard index"},
		{[]string{"--shards", "3", "--barrier", "127.0.0.1:1", "--target", target}, "3", "index runs from 0 to 2"},
		{[]string{"--shard", "0/0", "--barrier", "127.0.0.1:1", "--target", target}, "", "at least 1 shard"},
		{[]string{"--shard", "1-3", "--barrier", "127.0.0.1:1", "--target", target}, "", "want I/N"},
		{[]string{"--shard", "0/3", "--barrier", "127.0.0.1:1"}, "", "needs --target"},
		{[]string{"--shard", "0/3", "--target", target}, "", "add --barrier"},
		{[]string{"--shard", "0/3", "--target", target, "--start-at", "2001-01-01T00:00:00Z"}, "", "in the past"},
		{[]string{"--shard", "0/3", "--target", target, "--barrier", "nohost"}, "", "want HOST:PORT"},
		{[]string{"--target", target, "--barrier", "127.0.0.1:1"}, "", "add --shard"},
		{[]string{"--shard", "0/3", "--barrier", "127.0.0.1:1", "--target", target}, "", "2 credentials for 3 shards"},
	} {
		e, _, stderr := testEnv(nil)
		e.getenv = func(k string) string {
			if k == "JOB_COMPLETION_INDEX" {
				return tc.env
			}
			return ""
		}
		args := append([]string{"run", sc, "--out", filepath.Join(dir, "run"), "--quiet"}, tc.args...)
		err := runMain(context.Background(), e, args)
		if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v (index %q): exit %d (%v), want 2 and %q\n%s", tc.args, tc.env, exitCode(err), err, tc.want, stderr)
		}
	}
}

// span is the earliest and the latest of ts.
func span(ts []time.Time) (first, last time.Time) {
	first, last = ts[0], ts[0]
	for _, t := range ts[1:] {
		if t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	return first, last
}

func offsets(ts []time.Time, from time.Time) []time.Duration {
	var ds []time.Duration
	for _, t := range ts {
		ds = append(ds, t.Sub(from))
	}
	return ds
}
