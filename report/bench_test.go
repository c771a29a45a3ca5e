package report

import (
	"bufio"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stampede-load/stampede/report/reporttest"
	"github.com/stampede-load/stampede/scenarios/rundir"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The streaming pass keeps histograms only for windows that can still
// receive results: a run 50 times longer than the client timeout needs no
// more histogram sets than the timeout spans.
func TestWindowingBoundedMemory(t *testing.T) {
	const seconds, rate = 3000, 100
	horizon := 5*time.Second + 5*time.Second + time.Second
	w := newWindower(time.Second, horizon, seconds+10, 99)
	var h hit
	for i := 0; i < seconds*rate; i++ {
		sent := time.Duration(i) * time.Second / rate
		h = hit{sent: sent, latency: time.Duration(5+i%40) * time.Millisecond, stage: 0, outcome: rundir.OutcomeOK, detail: -1}
		if i%1000 == 0 { // a slow one: completes 4s later
			h.latency = 4 * time.Second
		}
		w.add(&h)
	}
	// a straggler for a long-closed window is still counted
	h = hit{sent: 10 * time.Second, latency: time.Millisecond, stage: 0, outcome: rundir.OutcomeOK, detail: -1}
	w.add(&h)
	w.finish()
	if got, limit := w.openHistograms(), int(horizon/time.Second)+3; got > limit {
		t.Errorf("%d histogram sets for a %ds run; want at most %d (the horizon)", got, seconds, limit)
	}
	if len(w.wins) != seconds || w.wins[10].sent != rate+1 || w.wins[10].late != 1 {
		t.Errorf("%d windows; window 10: %d sent, %d late", len(w.wins), w.wins[10].sent, w.wins[10].late)
	}
	if q := w.wins[100].q; q.p99 < 40*time.Millisecond || q.p99 > 45*time.Millisecond {
		t.Errorf("window 100 p99 %s, want ~44ms", q.p99)
	}
}

// writeMillion writes a run of 1,000,000 results: 1000 s at 1000/s, with
// the headers a real run carries.
func writeMillion(tb testing.TB, dir string) {
	const sc = "name: million\nstages:\n  - constant: {rate: 1000, for: 1000s}\n"
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, rundir.ScenarioFile), []byte(sc), 0o644))
	must(os.WriteFile(filepath.Join(dir, rundir.ManifestFile), []byte(`{"scenario":"million","status":"completed","scale":1}`), 0o644))
	tl := `{"type":"run_start","time":"` + reporttest.Start.Format(time.RFC3339Nano) + `","t":0,"scenario":"million"}` + "\n" +
		`{"type":"stage","time":"` + reporttest.Start.Format(time.RFC3339Nano) + `","t":0,"index":0,"kind":"constant","planned_start_s":0,"duration_s":1000,"rate_start":1000,"rate_end":1000}` + "\n"
	must(os.WriteFile(filepath.Join(dir, rundir.TimelineFile), []byte(tl), 0o644))
	f, err := os.Create(filepath.Join(dir, rundir.ResultsFile))
	must(err)
	bw := bufio.NewWriterSize(f, 1<<20)
	enc := vegeta.NewEncoder(bw)
	body503 := []byte(`{"error":"db_unavailable","sqlstate":"53300"}`)
	for i := 0; i < 1_000_000; i++ {
		hd := http.Header{}
		hd.Set(rundir.HeaderTiming, "pool;dur=0.10, db;dur=3.00, hash;dur=2.00, app;dur=8.00")
		hd.Set(rundir.HeaderStage, "0")
		hd.Set(rundir.HeaderIntent, "valid")
		hd.Set(rundir.HeaderSendLag, strconv.Itoa(i%7*1000))
		hd.Set(rundir.HeaderConn, "reused")
		res := vegeta.Result{Seq: uint64(i), Code: 200, Timestamp: reporttest.Start.Add(time.Duration(i) * time.Millisecond),
			Latency: time.Duration(5+i%20) * time.Millisecond, Headers: hd}
		if i%100 == 0 {
			res.Code, res.Body, res.Error = 503, body503, "503 Service Unavailable"
			hd.Set(rundir.HeaderOutcome, string(rundir.OutcomeFailed))
		} else {
			hd.Set(rundir.HeaderOutcome, string(rundir.OutcomeOK))
		}
		must(enc.Encode(&res))
	}
	must(bw.Flush())
	must(f.Close())
}

// BenchmarkAnalyzeMillion analyses a 1,000,000-result run (1000 windows).
// Besides ns/op and B/op it reports the histogram sets the pass held (the
// memory bound) and the heap the finished report retains.
func BenchmarkAnalyzeMillion(b *testing.B) {
	dir := b.TempDir()
	writeMillion(b, dir)
	b.ReportAllocs()
	b.ResetTimer()
	var r *Report
	for i := 0; i < b.N; i++ {
		var err error
		if r, err = Analyze(dir, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if r.Totals.Sent != 1_000_000 || len(r.Windows) != 1000 {
		b.Fatalf("sent %d in %d windows", r.Totals.Sent, len(r.Windows))
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(r.histSets), "hist-sets")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
	b.ReportMetric(1e6/(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e9), "results/s")
}
