package report

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/stampede-load/stampede/report/reporttest"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// latencies reads every latency of a run's results.
func latencies(t *testing.T, dir string) []time.Duration {
	f, err := os.Open(filepath.Join(dir, rundir.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []time.Duration
	if _, _, err := decodeResults(bufio.NewReader(f), func(r *vegeta.Result) { out = append(out, r.Latency) }); err != nil {
		t.Fatal(err)
	}
	return out
}

// A merged run is one run: its p99 is the p99 of the union of the shards'
// records (not a mean of the shards' p99s), its offered load the whole
// plan's, and each shard has its row.
func TestMergedRunShards(t *testing.T) {
	dir := reporttest.MergedRun(t, 3, -1)
	r, err := Analyze(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := r.Shards
	if s == nil || len(s.List) != 3 || s.Partial {
		t.Fatalf("shards %+v", s)
	}
	var records int64
	var meanP99 time.Duration
	for _, sh := range s.List {
		records += sh.Records
		meanP99 += sh.P99 / 3
		if sh.Records != 666 || sh.Status != rundir.StatusCompleted || math.Abs(sh.OfferedRPS-200.0/3) > 0.5 ||
			math.Abs(sh.AchievedRPS-sh.OfferedRPS) > 1 || sh.SuccessRatio != 1 {
			t.Errorf("shard %d: %+v; want 666 records, ~66.7/s offered and achieved, all succeeded", sh.Index, sh)
		}
	}
	if records != r.Totals.Sent {
		t.Errorf("shards hold %d records, the run %d", records, r.Totals.Sent)
	}
	if p := s.List[0].P99; p != 300*time.Millisecond {
		t.Errorf("shard 0 p99 %s, want 300ms (its 5%% slow logins)", p)
	}
	if p := s.List[1].P99; p > 41*time.Millisecond {
		t.Errorf("shard 1 p99 %s, want at most 41ms", p)
	}
	if got := s.List[2].SkewMS; math.Abs(got-8) > 1 {
		t.Errorf("shard 2 skew %.1f ms, want ~8 (its clock runs 8 ms ahead)", got)
	}
	if math.Abs(s.MaxSkewMS-8) > 1 {
		t.Errorf("max skew %.1f ms, want ~8", s.MaxSkewMS)
	}

	// the union's p99, exactly (nearest rank)
	lats := latencies(t, dir)
	slices.Sort(lats)
	union := lats[int(math.Ceil(0.99*float64(len(lats))))-1]
	if got := r.Totals.P99; math.Abs(float64(got-union)) > 0.01*float64(union) {
		t.Errorf("run p99 %s; the union of the records' p99 is %s (the mean of the shards' p99s %s)", got, union, meanP99)
	}
	if union != 300*time.Millisecond || meanP99 > 150*time.Millisecond {
		t.Fatalf("the test's premise: union p99 %s, mean of shard p99s %s", union, meanP99)
	}

	// offered: the whole run's plan (scale 1/3 × 3), achieved: all shards
	for _, w := range r.Windows[1:9] {
		if math.Abs(w.OfferedRPS-200) > 0.01 || math.Abs(w.AchievedRPS-200) > 6 {
			t.Errorf("window %d: offered %.1f/s, achieved %.1f/s; want 200 and ~200", w.Index, w.OfferedRPS, w.AchievedRPS)
		}
	}
	if st := r.Stages[0]; math.Abs(st.OfferedRPS-200) > 0.01 || math.Abs(st.AchievedRPS-199.8) > 0.01 {
		t.Errorf("stage: offered %.1f/s, achieved %.1f/s; want 200 and 199.8 (1998 of 2000 sent)", st.OfferedRPS, st.AchievedRPS)
	}
	c := r.Checks[len(r.Checks)-1]
	if c.Name != "shards" || !c.Passed || strings.Contains(r.Summary, "partial") {
		t.Errorf("check %+v, summary %q", c, r.Summary)
	}
}

// A merged run missing a shard is partial: named in the verdict, failing
// the shards check unless the options accept a partial run.
func TestMergedRunPartial(t *testing.T) {
	dir := reporttest.MergedRun(t, 3, 2)
	const reason = "shard 2 of 3 missing — figures cover 2/3 of the planned load"
	for _, allow := range []bool{false, true} {
		r, err := Analyze(dir, Options{AllowPartial: allow})
		if err != nil {
			t.Fatal(err)
		}
		s := r.Shards
		if s == nil || !s.Partial || s.PartialReason != reason || s.List[2].Status != rundir.StatusMissing || s.List[2].Records != 0 {
			t.Fatalf("shards %+v", s)
		}
		if !strings.Contains(strings.Join(r.Notes, "\n"), "1 of 3 shards missing: offered rates are the whole plan's") {
			t.Errorf("notes %q: want the missing shard's share explained", r.Notes)
		}
		if !strings.Contains(r.Summary, "partial: "+reason) {
			t.Errorf("summary %q: want the run marked partial", r.Summary)
		}
		c := r.Checks[len(r.Checks)-1]
		if c.Name != "shards" || c.Passed != allow {
			t.Errorf("allow %v: check %+v", allow, c)
		}
		if !allow && r.Verdict != "fail" {
			t.Errorf("verdict %q, want fail", r.Verdict)
		}
		j := r.JSON()
		if !j.Partial || j.PartialReason != reason || len(j.Shards) != 3 {
			t.Errorf("JSON partial %v %q, %d shards", j.Partial, j.PartialReason, len(j.Shards))
		}
	}
}
