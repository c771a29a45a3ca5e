package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios"
)

// BenchmarkEngineMaxRate measures the engine's highest request rate against
// a trivial loopback server, next to the vegeta command-line tool's on the
// same server in the same run (VEGETA_BIN names it; `make bench` builds it).
// It reports both rates and their ratio. The server shares the engine's
// process here: for profiling (go test -cpuprofile); the figures a user
// gets, each tool in its own process, come from scripts/bench-agents.sh.
func BenchmarkEngineMaxRate(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"token":"t"}`)
	}))
	defer srv.Close()
	const workers = 64
	d := 4 * time.Second
	if s := os.Getenv("STAMPEDE_BENCH_SECONDS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil {
			d = time.Duration(n) * time.Second
		}
	}
	for i := 0; i < b.N; i++ {
		ours := engineMaxRate(b, srv.URL, workers, d)
		b.ReportMetric(ours, "stampede_rps")
		if bin := os.Getenv("VEGETA_BIN"); bin != "" {
			theirs := vegetaMaxRate(b, bin, srv.URL, workers, d)
			b.ReportMetric(theirs, "vegeta_rps")
			b.ReportMetric(ours/theirs, "ratio")
			b.Logf("max rate on loopback: stampede %.0f/s, vegeta %.0f/s, ratio %.2f (goal ≥ 0.9)", ours, theirs, ours/theirs)
		}
	}
}

func engineMaxRate(b *testing.B, target string, workers uint64, d time.Duration) float64 {
	sc := testScenario(scenarios.Stage{Name: "max", Kind: scenarios.StageConstant, Rate: 1e6, Duration: d})
	sc.Login.Success = scenarios.Success{Status: []int{200}}
	sc.Client.MaxWorkers, sc.Client.MaxConnections = workers, int(workers)
	res, err := Run(context.Background(), RunOptions{Scenario: sc, Target: mustURL(b, target),
		Credentials: creds(8), Dir: b.TempDir(), Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	return float64(res.Stages[0].Sent) / res.End.Sub(res.Start).Seconds()
}

func vegetaMaxRate(b *testing.B, bin, target string, workers uint64, d time.Duration) float64 {
	body := `{"username":"usera","password":"good"}`
	attack := exec.Command(bin, "attack", "-rate=0", "-max-workers="+strconv.FormatUint(workers, 10),
		"-connections="+strconv.FormatUint(workers, 10), "-duration="+d.String(),
		"-header=Content-Type: application/json", "-body=/dev/stdin")
	// vegeta reads targets from -targets (default stdin); give it one target
	// and the body from a file.
	bodyFile := b.TempDir() + "/body.json"
	os.WriteFile(bodyFile, []byte(body), 0o644)
	attack.Args[len(attack.Args)-1] = "-body=" + bodyFile
	attack.Stdin = bytes.NewBufferString("POST " + target + "/login\n")
	var results bytes.Buffer
	attack.Stdout = &results
	if err := attack.Run(); err != nil {
		b.Fatalf("vegeta attack: %v", err)
	}
	rep := exec.Command(bin, "report", "-type=json")
	rep.Stdin = &results
	out, err := rep.Output()
	if err != nil {
		b.Fatalf("vegeta report: %v", err)
	}
	var m struct {
		Requests uint64  `json:"requests"`
		Rate     float64 `json:"rate"`
	}
	if err := json.Unmarshal(out, &m); err != nil {
		b.Fatal(err)
	}
	return m.Rate
}
