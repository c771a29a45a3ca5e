package engine

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/render"
	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// TestRunAbortsOnSustainedBreach runs 30s of stages against a target that
// answers every login with a 503, with abort: {after: 2s}: the run stops
// after a few seconds, says why in the timeline and the manifest, and the
// report still follows, as a failed SLO, not an error.
func TestRunAbortsOnSustainedBreach(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"db_unavailable"}`, http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	sc := testScenario(scenarios.Stage{Name: "c", Kind: scenarios.StageConstant, Rate: 50, Duration: 30 * time.Second})
	sc.Abort = &scenarios.Abort{After: 2 * time.Second, Ratio: 1}
	dir := t.TempDir()
	begin := time.Now()
	res, err := Run(context.Background(), RunOptions{Scenario: sc, Target: mustURL(t, srv.URL),
		Credentials: creds(2), Dir: dir, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Seconds 0 and 1 fail; the second is judged at 2s + the grace. Allow
	// a busy machine plenty.
	if el := time.Since(begin); !res.Aborted || res.Interrupted || el > 15*time.Second {
		t.Fatalf("aborted %v, interrupted %v, after %s: want aborted well before the planned 30s", res.Aborted, res.Interrupted, el)
	}
	aborts := ofType(readTimeline(t, dir), "abort")
	if len(aborts) != 1 || aborts[0]["failed_seconds"] != float64(2) || aborts[0]["window_seconds"] != float64(2) {
		t.Fatalf("abort events %v: want one, with 2 of 2 seconds failed", aborts)
	}
	var m map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, rundir.ManifestFile))
	if err := json.Unmarshal(b, &m); err != nil || m["status"] != "aborted" {
		t.Errorf("manifest status %v (%v), want aborted", m["status"], err)
	}

	rep, err := report.Analyze(dir, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := render.WriteAll(dir, rep); err != nil {
		t.Fatal(err)
	}
	var j struct {
		Status, Verdict string
	}
	b, err = os.ReadFile(filepath.Join(dir, rundir.JSONFile))
	if err != nil || json.Unmarshal(b, &j) != nil {
		t.Fatalf("report.json: %v", err)
	}
	if j.Status != "aborted" || j.Verdict != "fail" {
		t.Errorf("report.json: status %q, verdict %q; want aborted, fail", j.Status, j.Verdict)
	}
}

// TestRunAbortNotOnOneBadSecond: a target that fails for half a second,
// inside the run's second second, does not trip abort: {after: 2s}.
func TestRunAbortNotOnOneBadSecond(t *testing.T) {
	var start atomic.Int64 // unix ns
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if el := time.Since(time.Unix(0, start.Load())); el > 1200*ms && el < 1700*ms {
			http.Error(w, "blip", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"token":"t"}`))
	}))
	t.Cleanup(srv.Close)
	sc := testScenario(scenarios.Stage{Name: "c", Kind: scenarios.StageConstant, Rate: 50, Duration: 4 * time.Second})
	sc.Login.Success = scenarios.Success{Status: []int{200}}
	sc.Abort = &scenarios.Abort{After: 2 * time.Second}
	start.Store(time.Now().UnixNano())
	res, err := Run(context.Background(), RunOptions{Scenario: sc, Target: mustURL(t, srv.URL),
		Credentials: creds(2), Dir: t.TempDir(), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Aborted {
		t.Error("aborted on one bad second")
	}
}
