package merge

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/stampede-load/stampede/scenarios/rundir"
	"github.com/stampede-load/stampede/scenarios/rundir/merge/mergetest"
)

// writeShards writes shards 0..count-1 but those in skip, shard 1's clock
// 300 ms ahead, and returns their directories and total results.
func writeShards(t *testing.T, count int, skip map[int]bool, mod func(*mergetest.Shard)) ([]string, int) {
	t.Helper()
	base := t.TempDir()
	var dirs []string
	total := 0
	for i := 0; i < count; i++ {
		if skip[i] {
			continue
		}
		s := mergetest.Shard{Index: i, Count: count, Rate: 200, Duration: 10 * time.Second, SlowEvery: 97, Slow: 3 * time.Second}
		if i == 1 {
			s.Clock = 300 * time.Millisecond
		}
		if mod != nil {
			mod(&s)
		}
		dir := filepath.Join(base, "shard-"+string(rune('0'+i)))
		n, err := mergetest.Write(dir, s)
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
		total += n
	}
	return dirs, total
}

func readResults(t *testing.T, path string) []vegeta.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(bufio.NewReader(f))
	var out []vegeta.Result
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("vegeta's decoder, record %d: %v", len(out), err)
		}
		out = append(out, r)
	}
}

func TestMergeShards(t *testing.T) {
	dirs, total := writeShards(t, 3, nil, nil)
	out := filepath.Join(t.TempDir(), "merged")
	// given in no particular order
	res, err := Merge(context.Background(), []string{dirs[2], dirs[0], dirs[1]}, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != int64(total) || res.OutOfOrder != 0 {
		t.Fatalf("merged %d results (%d out of order), want %d in order", res.Records, res.OutOfOrder, total)
	}

	// results: all of them, in time order, each marked with its shard
	rs := readResults(t, filepath.Join(out, rundir.ResultsFile))
	if len(rs) != total {
		t.Fatalf("read back %d results, want %d", len(rs), total)
	}
	perShard := map[string]int{}
	for i, r := range rs {
		if i > 0 && r.Timestamp.Before(rs[i-1].Timestamp) {
			t.Fatalf("result %d at %s before result %d at %s", i, r.Timestamp, i-1, rs[i-1].Timestamp)
		}
		perShard[r.Headers.Get(rundir.HeaderShard)]++
		if r.Headers.Get(rundir.HeaderOutcome) != string(rundir.OutcomeOK) {
			t.Fatalf("result %d lost its headers: %v", i, r.Headers)
		}
	}
	if len(perShard) != 3 || perShard["0"] != total/3 || perShard["1"] != total/3 || perShard["2"] != total/3 {
		t.Fatalf("results per shard %v", perShard)
	}

	// manifest
	m, err := rundir.ReadManifest(filepath.Join(out, rundir.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != rundir.StatusCompleted || m.Partial || m.Shard != nil || m.Scale != 1 || !m.Start.Equal(mergetest.Start) || len(m.Shards) != 3 {
		t.Fatalf("manifest %+v", m)
	}
	if m.FollowUps == nil || m.FollowUps.Sent != 30 || m.Stages != nil {
		t.Fatalf("follow-ups %+v, stages %v", m.FollowUps, m.Stages)
	}
	for i, s := range m.Shards {
		want := 0.0
		if i == 1 {
			want = 300
		}
		if s.Index != i || s.Dir != dirs[i] || s.Status != rundir.StatusCompleted || s.Records != int64(total/3) || math.Abs(s.SkewMS-want) > 20 {
			t.Errorf("shard %d: %+v (skew want %g ms)", i, s, want)
		}
	}
	t.Logf("skew: %.3f %.3f %.3f ms, max %.3f ms", m.Shards[0].SkewMS, m.Shards[1].SkewMS, m.Shards[2].SkewMS, m.MaxSkewMS)
	if math.Abs(m.MaxSkewMS-300) > 20 {
		t.Errorf("max skew %g ms, want 300", m.MaxSkewMS)
	}

	// timeline: ordered, re-based, marked
	f, err := os.Open(filepath.Join(out, rundir.TimelineFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	count := map[string]int{}
	var prev time.Time
	var hdrs []rundir.Header
	for sc.Scan() {
		var h rundir.Header
		if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
			t.Fatalf("%s: %v", sc.Bytes(), err)
		}
		hdrs = append(hdrs, h)
		count[h.Type]++
		if h.Time.Before(prev) {
			t.Fatalf("line out of time order: %s", sc.Bytes())
		}
		prev = h.Time
		if h.T == nil || math.Abs(*h.T-h.Time.Sub(mergetest.Start).Seconds()) > 1e-6 {
			t.Fatalf("t not re-based to the merged start: %s", sc.Bytes())
		}
		whole := h.Type == rundir.EventRunStart || h.Type == rundir.EventRunEnd || h.Type == rundir.EventStage
		if whole != (h.Shard == nil) {
			t.Fatalf("shard field: %s", sc.Bytes())
		}
		switch h.Type {
		case rundir.EventFaultInject, rundir.EventDBSample:
			if *h.Shard != 0 {
				t.Fatalf("a fault or sample from shard %d: %s", *h.Shard, sc.Bytes())
			}
		case rundir.EventStage:
			var se rundir.StageEvent
			if json.Unmarshal(sc.Bytes(), &se); se.RateStart != 200 || se.RateEnd != 200 {
				t.Fatalf("stage at the shard's rate, not the run's: %s", sc.Bytes())
			}
		case rundir.EventShardStart:
			if strings.Contains(sc.Text(), `"shard":1,`) && *h.T != 0.3 {
				t.Fatalf("shard 1's start: %s", sc.Bytes())
			}
		}
	}
	if hdrs[0].Type != rundir.EventRunStart || *hdrs[0].T != 0 || hdrs[len(hdrs)-1].Type != rundir.EventRunEnd {
		t.Fatalf("first %+v, last %+v", hdrs[0], hdrs[len(hdrs)-1])
	}
	want := map[string]int{rundir.EventRunStart: 1, rundir.EventRunEnd: 1, rundir.EventStage: 1, rundir.EventShardStart: 3,
		rundir.EventShardEnd: 3, rundir.EventFaultInject: 1, rundir.EventFaultRevert: 1, rundir.EventDBSample: 10, rundir.EventGenerator: 3}
	for typ, n := range want {
		if count[typ] != n {
			t.Errorf("%d %s lines, want %d (all: %v)", count[typ], typ, n, count)
		}
	}
	if res.DroppedLines != 2*(2+10) {
		t.Errorf("dropped %d lines, want shards 1 and 2's faults and samples", res.DroppedLines)
	}
	if b, err := os.ReadFile(filepath.Join(out, rundir.ScenarioFile)); err != nil || string(b) != mergetest.Scenario {
		t.Fatalf("scenario %q %v", b, err)
	}

	// vegeta's own command reads the merged file, when it is built (make bin/vegeta)
	bin, _ := filepath.Abs(filepath.Join("..", "..", "..", "bin", "vegeta"))
	if _, err := os.Stat(bin); err == nil {
		outb, err := exec.Command(bin, "report", filepath.Join(out, rundir.ResultsFile)).CombinedOutput()
		if err != nil || !strings.Contains(string(outb), "Requests") || !strings.Contains(string(outb), "200:"+strconv.Itoa(total)) {
			t.Fatalf("vegeta report: %v\n%s", err, outb)
		}
	} else {
		t.Logf("no %s: vegeta report not tried (make bin/vegeta)", bin)
	}
}

func TestMergeMissingShard(t *testing.T) {
	dirs, total := writeShards(t, 3, map[int]bool{1: true}, nil)
	out := t.TempDir() // empty: allowed
	res, err := Merge(context.Background(), dirs, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	if res.Records != int64(total) || !m.Partial || m.Status != rundir.StatusPartial || !strings.Contains(m.PartialReason, "shard 1 missing") {
		t.Fatalf("records %d of %d, manifest %+v", res.Records, total, m)
	}
	if len(m.Shards) != 3 || m.Shards[1].Status != rundir.StatusMissing || m.Shards[1].Note == "" || m.Shards[2].Records == 0 {
		t.Fatalf("shards %+v", m.Shards)
	}
	if m.MaxSkewMS > 20 {
		t.Fatalf("skew %g between two true clocks", m.MaxSkewMS)
	}
}

func TestMergeInterruptedShardAndTruncatedResults(t *testing.T) {
	dirs, total := writeShards(t, 2, nil, func(s *mergetest.Shard) {
		if s.Index == 1 {
			s.Status = rundir.StatusInterrupted
		}
	})
	// shard 0's agent died while writing a record
	p := filepath.Join(dirs[0], rundir.ResultsFile)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, fi.Size()-10); err != nil {
		t.Fatal(err)
	}
	res, err := Merge(context.Background(), dirs, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	if res.Records != int64(total-1) || !m.Partial || m.Status != rundir.StatusPartial ||
		!strings.Contains(m.Shards[0].Note, "ends inside a record") || !strings.Contains(m.Shards[1].Note, "interrupted") {
		t.Fatalf("records %d of %d, manifest %+v", res.Records, total, m)
	}
}

func TestMergeReorderBound(t *testing.T) {
	// every 97th hit takes 3 s: beyond a 1 s bound, those are written late
	dirs, total := writeShards(t, 2, nil, nil)
	res, err := Merge(context.Background(), dirs, t.TempDir(), Options{Reorder: time.Second, MaxBuffered: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != int64(total) || res.OutOfOrder == 0 || res.MaxBuffered > 2*50 {
		t.Fatalf("records %d of %d, out of order %d, buffered %d", res.Records, total, res.OutOfOrder, res.MaxBuffered)
	}
}

func TestMergeRefuses(t *testing.T) {
	dirs, _ := writeShards(t, 2, nil, nil)
	other, _ := writeShards(t, 2, nil, func(s *mergetest.Shard) { s.Scenario = mergetest.Scenario + "# another\n" })
	again, _ := writeShards(t, 2, nil, nil)
	three, _ := writeShards(t, 3, nil, nil)
	notRun := t.TempDir()
	held := t.TempDir()
	if err := os.WriteFile(filepath.Join(held, rundir.ManifestFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		dirs []string
		out  string
		want string
	}{
		{"different scenarios", []string{dirs[0], other[1]}, "", "different scenarios"},
		{"different counts", []string{dirs[0], three[1]}, "", "different shard counts"},
		{"duplicate index", []string{dirs[0], dirs[1], again[1]}, "", "both shard 1"},
		{"same shard twice", []string{dirs[0], dirs[0]}, "", "both shard 0"},
		{"not a run directory", []string{dirs[0], notRun}, "", "not a run directory"},
		{"out holds a run", dirs, held, "already holds a run"},
		{"nothing", nil, "", "no run directories"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := tc.out
			if out == "" {
				out = filepath.Join(t.TempDir(), "merged")
			}
			_, err := Merge(context.Background(), tc.dirs, out, Options{})
			if !errors.Is(err, ErrIncompatible) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrIncompatible saying %q", err, tc.want)
			}
			if tc.out == "" {
				if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("wrote %s after refusing", out)
				}
			}
		})
	}
}

func TestReline(t *testing.T) {
	start := mergetest.Start
	shard := 2
	b, err := reline([]byte(`{"type":"generator","time":"2026-11-30T06:00:01.5Z","t":1.2,"hits":5,"late":{"x":1}}`),
		start.Add(1500*time.Millisecond), start, &shard)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"type":"generator","time":"2026-11-30T06:00:01.5Z","t":1.5,"shard":2,"hits":5,"late":{"x":1}}`; string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}
