package engine

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios"
)

// TestRunWaitsForStartAt: a run given StartAt sends nothing before it and
// its first hit soon after it (generous: the machine is shared).
func TestRunWaitsForStartAt(t *testing.T) {
	srv := loginServer(t, 0, nil)
	sc := testScenario(scenarios.Stage{Name: "c", Kind: scenarios.StageConstant, Rate: 50, Duration: time.Second})
	dir := filepath.Join(t.TempDir(), "run")
	at := time.Now().Add(700 * time.Millisecond)
	res, err := Run(context.Background(), RunOptions{Scenario: sc, Target: mustURL(t, srv.URL), Credentials: creds(4),
		Dir: dir, Seed: 1, StartAt: at})
	if err != nil {
		t.Fatal(err)
	}
	if res.Start.Before(at) {
		t.Errorf("run started at %s, before StartAt %s", res.Start, at)
	}
	rs := readResults(t, dir)
	if len(rs) == 0 {
		t.Fatal("no results")
	}
	first := rs[0].Timestamp
	for _, r := range rs {
		if r.Timestamp.Before(first) {
			first = r.Timestamp
		}
	}
	if d := first.Sub(at); d < 0 || d > 500*time.Millisecond {
		t.Errorf("first hit %s after StartAt, want within [0, 500ms)", d)
	}
}

// TestRunStartAtCancelled: a cancelled wait returns before any traffic.
func TestRunStartAtCancelled(t *testing.T) {
	srv := loginServer(t, 0, nil)
	sc := testScenario(scenarios.Stage{Name: "c", Kind: scenarios.StageConstant, Rate: 50, Duration: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := Run(ctx, RunOptions{Scenario: sc, Target: mustURL(t, srv.URL), Credentials: creds(4),
		Dir: filepath.Join(t.TempDir(), "run"), Seed: 1, StartAt: time.Now().Add(time.Hour)})
	if err == nil {
		t.Fatal("a run whose wait was cancelled returned no error")
	}
}
