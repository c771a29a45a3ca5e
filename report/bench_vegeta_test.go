package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// BenchmarkAnalyzeMillionVsVegeta analyses a recorded run of 1,000,000
// results and runs `vegeta report` on the same results file, each as its own
// process, and prints both times and peak memories (max RSS) and their
// ratios. VEGETA_BIN names the vegeta command-line tool (`make bench` builds
// it). The goal: analysis no slower than vegeta's report.
func BenchmarkAnalyzeMillionVsVegeta(b *testing.B) {
	bin := os.Getenv("VEGETA_BIN")
	if bin == "" {
		b.Skip("VEGETA_BIN is not set: run `make bench`, which builds the vegeta CLI")
	}
	dir := b.TempDir()
	writeMillion(b, dir)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ours := exec.Command(os.Args[0], "-test.run=^TestAnalyzeChild$")
		ours.Env = append(os.Environ(), "STAMPEDE_ANALYZE_CHILD="+dir)
		ours.Stdout = io.Discard
		oursT, oursRSS := measure(b, ours)

		theirs := exec.Command(bin, "report", "-type=text", filepath.Join(dir, rundir.ResultsFile))
		theirs.Stdout = io.Discard
		theirsT, theirsRSS := measure(b, theirs)

		b.ReportMetric(oursT.Seconds(), "stampede-s")
		b.ReportMetric(theirsT.Seconds(), "vegeta-s")
		b.ReportMetric(oursT.Seconds()/theirsT.Seconds(), "time-ratio")
		b.ReportMetric(float64(oursRSS)/(1<<20), "stampede-maxrss-MB")
		b.ReportMetric(float64(theirsRSS)/(1<<20), "vegeta-maxrss-MB")
		b.Logf("1,000,000 results: stampede analysis %.2fs, max RSS %d MB; vegeta report %.2fs, max RSS %d MB; time ratio %.2f (goal ≤ 1), memory ratio %.2f",
			oursT.Seconds(), oursRSS>>20, theirsT.Seconds(), theirsRSS>>20,
			oursT.Seconds()/theirsT.Seconds(), float64(oursRSS)/float64(theirsRSS))
	}
}

// measure runs cmd and returns its wall time and peak resident memory.
func measure(b *testing.B, cmd *exec.Cmd) (time.Duration, int64) {
	b.Helper()
	cmd.Stderr = os.Stderr
	begin := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%v: %v", cmd.Args, err)
	}
	el := time.Since(begin)
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		return el, 0
	}
	return el, ru.Maxrss << 10 // Linux reports KiB
}

// TestAnalyzeChild is the benchmark's analysing process: it analyses the
// run directory named by STAMPEDE_ANALYZE_CHILD and writes the JSON report,
// as `stampede report DIR --format json` does. Without the variable it does
// nothing.
func TestAnalyzeChild(t *testing.T) {
	dir := os.Getenv("STAMPEDE_ANALYZE_CHILD")
	if dir == "" {
		return
	}
	r, err := Analyze(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(os.Stdout) // as render.WriteJSON does
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r.JSON()); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, "analysed", r.Totals.Sent, "results")
}
