package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// capacityServer is a login endpoint with a known capacity: slots logins
// at a time, each holding its slot for hold (slots/hold logins/s), the
// rest queueing, like a service in front of a connection pool. It counts
// the connections it accepts.
func capacityServer(t *testing.T, slots int, hold time.Duration, conns *atomic.Int64) *httptest.Server {
	t.Helper()
	sem := make(chan struct{}, slots)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case sem <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		time.Sleep(hold)
		<-sem
		io.WriteString(w, `{"token":"t"}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func readTimeline(t *testing.T, dir string) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, rundir.TimelineFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("timeline line %q: %v", sc.Text(), err)
		}
		evs = append(evs, m)
	}
	return evs
}

func ofType(evs []map[string]any, typ string) []map[string]any {
	var out []map[string]any
	for _, e := range evs {
		if e["type"] == typ {
			out = append(out, e)
		}
	}
	return out
}

// TestRunSearch runs mode: search against a server of about 200 logins/s
// (4 slots of 20ms): one attack over one set of connections, trials in the
// timeline, and a bracket around the capacity. Trials are short, the
// precision coarse: the accuracy test against the fixture is in
// cmd/stampede.
func TestRunSearch(t *testing.T) {
	var conns atomic.Int64
	srv := capacityServer(t, 4, 20*time.Millisecond, &conns)
	sc := testScenario(scenarios.Stage{Name: "c", Kind: scenarios.StageConstant, Rate: 100, Duration: time.Second})
	sc.Login.Success = scenarios.Success{Status: []int{200}}
	sc.Mode = scenarios.ModeSearch
	sc.SLO = scenarios.SLO{SuccessRatio: 0.99, Percentile: 99, Latency: 100 * ms}
	sc.Search = scenarios.Search{Factor: 1.5, Precision: 0.2, Budget: time.Minute, Warmup: 500 * ms, Hold: time.Second, MinRequests: 50}
	dir := t.TempDir()
	res, err := Run(context.Background(), RunOptions{Scenario: sc, Target: mustURL(t, srv.URL),
		Credentials: creds(4), Dir: dir, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Search
	if s == nil || !s.Bracketed() || s.Reason != SearchPrecision {
		t.Fatalf("search result %v", s)
	}
	// Generous: the capacity is about 200/s, less the server's overhead
	// on a busy machine; the bracket must not be far off it.
	if s.Lo > 260 || s.Hi < 100 {
		t.Errorf("bracket [%g, %g] is far from the server's ~200/s", s.Lo, s.Hi)
	}
	if n := conns.Load(); n > int64(sc.Client.MaxConnections) {
		t.Errorf("%d connections for %d trials: want one set, at most max_connections (%d)", n, len(s.Trials), sc.Client.MaxConnections)
	}
	evs := readTimeline(t, dir)
	trials := ofType(evs, "trial")
	if len(trials) != len(s.Trials) || len(trials) < 3 {
		t.Fatalf("%d trial events for %d trials", len(trials), len(s.Trials))
	}
	for _, k := range []string{"rate", "warmup_s", "hold_s", "start_s", "success_ratio", "p99_ms", "slo_met"} {
		if _, ok := trials[0][k]; !ok {
			t.Errorf("trial event lacks %s: %v", k, trials[0])
		}
	}
	if r := ofType(evs, "search_result"); len(r) != 1 || r[0]["lo"] == nil || r[0]["hi"] == nil || r[0]["reason"] != SearchPrecision {
		t.Errorf("search_result events %v", r)
	}
	// Stage events cover the plan back to back, one per stage summary.
	stages := ofType(evs, "stage")
	var at float64
	for i, st := range stages {
		if st["index"] != float64(i) || !closeF(st["planned_start_s"].(float64), at) {
			t.Fatalf("stage event %d: %v (want it to start at %gs)", i, st, at)
		}
		at += st["duration_s"].(float64)
	}
	if len(stages) != len(res.Stages) {
		t.Errorf("%d stage events, %d stage summaries", len(stages), len(res.Stages))
	}
	var m map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, rundir.ManifestFile))
	if err := json.Unmarshal(b, &m); err != nil || m["mode"] != scenarios.ModeSearch || m["status"] != "completed" || m["search_result"] == nil {
		t.Errorf("manifest: mode %v, status %v, search_result %v (%v)", m["mode"], m["status"], m["search_result"], err)
	}
	t.Logf("%s", s)
}

// TestRunSearchInterrupted: a signal mid-search stops it like a run, and
// the result says so, with the trials judged so far.
func TestRunSearchInterrupted(t *testing.T) {
	srv := loginServer(t, 0, nil)
	sc := testScenario(scenarios.Stage{Name: "c", Kind: scenarios.StageConstant, Rate: 50, Duration: time.Second})
	sc.Mode = scenarios.ModeSearch
	sc.Search = scenarios.Search{Budget: time.Minute, Warmup: 200 * ms, Hold: 500 * ms, MinRequests: 10}
	ctl := NewControl()
	dir := t.TempDir()
	go func() {
		for i := 0; i < 200; i++ { // signal once the first trial is judged
			if b, _ := os.ReadFile(filepath.Join(dir, rundir.TimelineFile)); bytes.Contains(b, []byte(`"type":"trial"`)) {
				break
			}
			time.Sleep(50 * ms)
		}
		ctl.Stop("interrupt")
	}()
	res, err := Run(context.Background(), RunOptions{Scenario: sc, Target: mustURL(t, srv.URL), Credentials: creds(2),
		Dir: dir, Seed: 1, Control: ctl})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.Search == nil || res.Search.Reason != SearchInterrupted || len(res.Search.Trials) == 0 {
		t.Fatalf("interrupted %v, search %v", res.Interrupted, res.Search)
	}
	if r := ofType(readTimeline(t, dir), "search_result"); len(r) != 1 || r[0]["reason"] != SearchInterrupted {
		t.Errorf("search_result events %v", r)
	}
}
