package merge

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir/merge/mergetest"
)

// BenchmarkMerge4x1M merges 4 shards of 1,000,000 results each (10,000/s
// for 100 s a shard, every 97th hit 2 s slow, so the reorder buffers work),
// written to temporary files first; only the merge is timed. It reports
// records/s, bytes allocated per record, the peak of live heap and the most
// results buffered: set beside BenchmarkMerge4x250k, time and allocation
// per record stay the same and the heap does not grow with the run. The
// 2.4 GB of files can make the disk the bottleneck (writeback throttling
// slowed the longer run by a quarter on a small VM's disk); TMPDIR=/dev/shm
// times the merge alone.
func BenchmarkMerge4x1M(b *testing.B) { benchMerge(b, 1_000_000) }

// BenchmarkMerge4x250k is the same merge a quarter as long.
func BenchmarkMerge4x250k(b *testing.B) { benchMerge(b, 250_000) }

func benchMerge(b *testing.B, perShard int) {
	if testing.Short() {
		b.Skip("writes 4 shards of results first; skipped with -short")
	}
	const shards = 4
	rate := 10_000.0
	base := b.TempDir()
	var dirs []string
	for i := 0; i < shards; i++ {
		dir := filepath.Join(base, "shard-"+strconv.Itoa(i))
		n, err := mergetest.Write(dir, mergetest.Shard{Index: i, Count: shards, Rate: rate * shards,
			Duration: time.Duration(float64(perShard) / rate * float64(time.Second)), SlowEvery: 97, Slow: 2 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		if n != perShard {
			b.Fatalf("wrote %d results, want %d", n, perShard)
		}
		dirs = append(dirs, dir)
	}

	runtime.GC()
	peak := make(chan uint64)
	stop := make(chan struct{})
	go func() { // samples the live heap while the merges run
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var hi uint64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				peak <- hi
				return
			case <-tick.C:
				metrics.Read(s)
				hi = max(hi, s[0].Value.Uint64())
			}
		}
	}()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var records int64
	maxBuf, iters := 0, 0
	for b.Loop() {
		out := filepath.Join(base, "merged")
		res, err := Merge(context.Background(), dirs, out, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if res.Records != int64(shards*perShard) || res.OutOfOrder != 0 {
			b.Fatalf("merged %d results, %d out of order", res.Records, res.OutOfOrder)
		}
		records += res.Records
		maxBuf = max(maxBuf, res.MaxBuffered)
		iters++
		b.StopTimer()
		os.RemoveAll(out)
		b.StartTimer()
	}
	elapsed := b.Elapsed()
	runtime.ReadMemStats(&after)
	close(stop)
	hi := <-peak
	b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(records), "B/record")
	b.ReportMetric(float64(hi)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(maxBuf), "max-buffered")
}
