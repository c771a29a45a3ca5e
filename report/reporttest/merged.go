package reporttest

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir/merge"
	"github.com/stampede-load/stampede/scenarios/rundir/merge/mergetest"
)

// MergedRun writes the shards of a 200/s, 10 s run over count agents
// (mergetest's scenario), skipping shard skip (-1: none), and merges them
// with stampede merge's library; it returns the merged run directory.
// Shard 0's every 20th login takes 300 ms (the others' take up to 40 ms),
// so the run's p99 (300 ms) is far from the mean of the shards' p99s; shard
// i's clock runs 4·i ms ahead of shard 0's.
func MergedRun(t testing.TB, count, skip int) string {
	t.Helper()
	base := t.TempDir()
	var dirs []string
	for i := range count {
		if i == skip {
			continue
		}
		s := mergetest.Shard{Index: i, Count: count, Rate: 200, Duration: 10 * time.Second, Clock: time.Duration(i) * 4 * time.Millisecond}
		if i == 0 {
			s.SlowEvery, s.Slow = 20, 300*time.Millisecond
		}
		dir := filepath.Join(base, "shard-"+strconv.Itoa(i))
		if _, err := mergetest.Write(dir, s); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	out := filepath.Join(base, "merged")
	if _, err := merge.Merge(context.Background(), dirs, out, merge.Options{}); err != nil {
		t.Fatal(err)
	}
	return out
}
