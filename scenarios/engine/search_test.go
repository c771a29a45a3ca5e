package engine

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

func TestBracketNext(t *testing.T) {
	for _, tc := range []struct {
		name   string
		b      bracket
		rate   float64
		met    bool
		want   bracket
		next   float64
		reason string
	}{
		{"first held: up by the factor", bracket{}, 20, true, bracket{Lo: 20}, 30, ""},
		{"held again", bracket{Lo: 20}, 30, true, bracket{Lo: 30}, 45, ""},
		{"up to max_rate, not past it", bracket{Lo: 700}, 800, true, bracket{Lo: 800}, 1000, ""},
		{"held at max_rate: done", bracket{Lo: 800}, 1000, true, bracket{Lo: 1000}, 0, SearchMaxRate},
		{"first failure: bisect geometrically", bracket{Lo: 45}, 67.5, false, bracket{Lo: 45, Hi: 67.5, HiFails: 1}, math.Sqrt(45 * 67.5), ""},
		{"bisect: held", bracket{Lo: 45, Hi: 67.5, HiFails: 1}, 55, true, bracket{Lo: 55, Hi: 67.5, HiFails: 1}, math.Sqrt(55 * 67.5), ""},
		{"bisect: failed", bracket{Lo: 55, Hi: 67.5, HiFails: 1}, 61, false, bracket{Lo: 55, Hi: 61, HiFails: 1}, math.Sqrt(55 * 61), ""},
		{"within precision, upper end failed twice: done", bracket{Lo: 95, Hi: 101, HiFails: 2}, 97, true, bracket{Lo: 97, Hi: 101, HiFails: 2}, 0, SearchPrecision},
		{"within precision, upper end failed once: confirm it", bracket{Lo: 95, Hi: 101, HiFails: 1}, 97, true, bracket{Lo: 97, Hi: 101, HiFails: 1}, 101, ""},
		{"exactly at precision: confirm the new upper end", bracket{Lo: 100, Hi: 110, HiFails: 2}, 105, false, bracket{Lo: 100, Hi: 105, HiFails: 1}, 105, ""},
		{"upper end failed again: done", bracket{Lo: 100, Hi: 105, HiFails: 1}, 105, false, bracket{Lo: 100, Hi: 105, HiFails: 2}, 0, SearchPrecision},
		{"upper end held when tried again: it was noise, rise from it", bracket{Lo: 73.1, Hi: 75, HiFails: 1}, 75, true, bracket{Lo: 75}, 112.5, ""},
		{"a failure above the upper end does not confirm it", bracket{Lo: 100, Hi: 105, HiFails: 1}, 108, false, bracket{Lo: 100, Hi: 105, HiFails: 1}, 105, ""},
		{"first trial failed: down", bracket{}, 20, false, bracket{Hi: 20, HiFails: 1}, 20 / 1.5, ""},
		{"down to the floor", bracket{Hi: 1.5, HiFails: 1}, 1.2, false, bracket{Hi: 1.2, HiFails: 1}, 1, ""},
		{"failed at the floor: done", bracket{Hi: 1.2, HiFails: 1}, 1, false, bracket{Hi: 1, HiFails: 1}, 0, SearchMinRate},
		{"held after going down: bisect", bracket{Hi: 20, HiFails: 1}, 13.3, true, bracket{Lo: 13.3, Hi: 20, HiFails: 1}, math.Sqrt(13.3 * 20), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, next, reason := tc.b.next(tc.rate, tc.met, testSearch)
			if b != tc.want || !closeF(next, tc.next) || reason != tc.reason {
				t.Errorf("next = %+v, %g, %q; want %+v, %g, %q", b, next, reason, tc.want, tc.next, tc.reason)
			}
		})
	}
}

type events struct {
	mu  sync.Mutex
	evs []map[string]any
}

// Record keeps the event as its timeline line reads back.
func (e *events) Record(ev rundir.Event, at time.Time) {
	b, err := rundir.Line(ev, at, time.Time{})
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, m)
}

func (e *events) of(typ string) []map[string]any {
	var out []map[string]any
	for _, ev := range e.evs {
		if ev["type"] == typ {
			out = append(out, ev)
		}
	}
	return out
}

// simulateSearch runs a search controller on a synthetic clock against a
// model service: a queue with the given capacity (logins/s) in front of a
// 50ms login. Results come back when the model says, in that order; the
// controller ticks every 100ms, as in a run.
func simulateSearch(t *testing.T, cfg scenarios.Search, capacity float64) (*SearchResult, *events, *AdaptivePacer) {
	t.Helper()
	return simulateNoisySearch(t, cfg, capacity, nil)
}

// simulateNoisySearch is simulateSearch on a noisy machine: a login sent
// while noisy(the trial in progress) says so fails, whatever the model.
func simulateNoisySearch(t *testing.T, cfg scenarios.Search, capacity float64, noisy func(Trial) bool) (*SearchResult, *events, *AdaptivePacer) {
	t.Helper()
	sink := &events{}
	slo := rundir.SLO{SuccessRatio: 0.99, Percentile: 99, Latency: 150 * ms}
	c, err := newSearchCtl(cfg, slo, 5*time.Second, sink)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		due, back time.Duration
		good      bool
	}
	var inflight []result
	var sent uint64
	var free time.Duration // when the model's queue is next empty
	for now := time.Duration(0); !c.done; now += 100 * ms {
		if now > cfg.Budget+time.Minute {
			t.Fatal("the search never ended")
		}
		for { // send what the plan had due by now, through the model
			due, ok := c.pacer.DueAt(sent)
			if !ok || due > now {
				break
			}
			start := max(due, free)
			free = start + time.Duration(float64(time.Second)/capacity)
			good := noisy == nil || c.trial == nil || c.rec != nil || !noisy(c.trial.Trial)
			inflight = append(inflight, result{due, start + 50*ms, good})
			sent++
		}
		slices.SortFunc(inflight, func(a, b result) int { return cmp.Compare(a.back, b.back) })
		for len(inflight) > 0 && inflight[0].back <= now {
			c.add(inflight[0].due, inflight[0].back-inflight[0].due, inflight[0].good)
			inflight = inflight[1:]
		}
		c.tick(now, int64(len(inflight)))
	}
	return c.result(), sink, c.pacer
}

func TestSearchFindsTheModelsCapacity(t *testing.T) {
	for _, capacity := range []float64{37, 100, 455} {
		res, sink, pacer := simulateSearch(t, testSearch, capacity)
		if !res.Bracketed() || res.Reason != SearchPrecision {
			t.Fatalf("capacity %g: %s", capacity, res)
		}
		// The model never fails below its capacity; just above it a queue
		// builds too slowly to break a short trial (1% over for 5s is 50ms
		// of queue), so the bracket may sit a little above it.
		if res.Hi < capacity || res.Lo > 1.05*capacity || res.Precision > testSearch.Precision {
			t.Errorf("capacity %g: %s; want hi >= capacity and lo <= 1.05 x capacity", capacity, res)
		}
		if n := len(sink.of("trial")); n != len(res.Trials) || n > 14 {
			t.Errorf("capacity %g: %d trial events for %d trials (want at most 14)", capacity, n, len(res.Trials))
		}
		if len(sink.of("search_result")) != 1 {
			t.Errorf("capacity %g: want one search_result event", capacity)
		}
		// Every stage is recorded once, back to back, ending with the plan.
		stages := sink.of("stage")
		var at float64
		for i, st := range stages {
			if st["index"] != float64(i) || !closeF(st["planned_start_s"].(float64), at) {
				t.Fatalf("capacity %g: stage event %d: %v (want it to start at %gs)", capacity, i, st, at)
			}
			at += st["duration_s"].(float64)
		}
		if !closeF(at, pacer.Duration().Seconds()) || pacer.Open() {
			t.Errorf("capacity %g: stages end at %gs, the plan at %s (open %v)", capacity, at, pacer.Duration(), pacer.Open())
		}
		// A failed trial is followed by a pause before the next one.
		for i, tr := range res.Trials[:len(res.Trials)-1] {
			if !tr.Met && tr.Recover <= 0 {
				t.Errorf("capacity %g: trial %d failed with no pause after it", capacity, i+1)
			}
			if next := res.Trials[i+1]; next.Start < tr.Start+tr.Warmup+tr.Hold+tr.Recover {
				t.Errorf("capacity %g: trial %d starts at %s, inside trial %d", capacity, i+2, next.Start, i+1)
			}
		}
		t.Logf("capacity %g: %s", capacity, res)
	}
}

// TestSearchOutlivesANoisyFailure: one trial failed by the machine's noise,
// below the capacity, does not become the limit. Without the confirmation
// of the upper end the search converged under it: [43.9, 45] for 100/s.
func TestSearchOutlivesANoisyFailure(t *testing.T) {
	for _, noisyTrial := range []int{3, 4} { // 45/s in the raise, then the first trial above it
		res, _, _ := simulateNoisySearch(t, testSearch, 100, func(tr Trial) bool { return tr.Index == noisyTrial })
		if !res.Bracketed() || res.Reason != SearchPrecision || res.Hi < 100 || res.Lo > 105 {
			t.Errorf("noise in trial %d: %s (%s), want a bracket around 100/s", noisyTrial, res, res.Reason)
		}
		var confirms int
		for _, tr := range res.Trials {
			if tr.Phase == "confirm" {
				confirms++
				if !tr.Met && tr.Rate < 100 {
					t.Errorf("noise in trial %d: confirmation at %g failed below the capacity", noisyTrial, tr.Rate)
				}
			}
		}
		if last := res.Trials[len(res.Trials)-1]; last.Phase != "confirm" || last.Met || last.Rate != res.Hi || confirms < 2 {
			t.Errorf("noise in trial %d: want the noisy upper end and the last one confirmed (%d confirmations), the last trial %+v", noisyTrial, confirms, last)
		}
		t.Logf("noise in trial %d: %s", noisyTrial, res)
	}
	// The same noise, every time a rate is tried: it is the limit then.
	res, _, _ := simulateNoisySearch(t, testSearch, 100, func(tr Trial) bool { return tr.Rate >= 67 && tr.Rate <= 68 })
	if !res.Bracketed() || res.Hi != 67.5 {
		t.Errorf("a rate that fails every time: %s, want it as the upper end", res)
	}
}

func TestSearchEnds(t *testing.T) {
	t.Run("never breaks below max_rate", func(t *testing.T) {
		cfg := testSearch
		cfg.MaxRate = 60
		res, _, _ := simulateSearch(t, cfg, 1000)
		if res.Reason != SearchMaxRate || res.Lo != 60 || res.Hi != 0 {
			t.Errorf("%s (reason %s)", res, res.Reason)
		}
	})
	t.Run("budget", func(t *testing.T) {
		cfg := testSearch
		cfg.Budget = 40 * time.Second
		res, _, pacer := simulateSearch(t, cfg, 100)
		if res.Reason != SearchBudget || pacer.Duration() > cfg.Budget {
			t.Errorf("%s (reason %s), plan %s", res, res.Reason, pacer.Duration())
		}
	})
	t.Run("fails from the first trial", func(t *testing.T) {
		cfg := testSearch
		cfg.From = 200
		res, _, _ := simulateSearch(t, cfg, 100)
		if !res.Bracketed() || res.Lo > 105 || res.Hi < 100 || res.Trials[0].Phase != "raise" || res.Trials[1].Phase != "lower" {
			t.Errorf("%s", res)
		}
	})
}

var testSearch = scenarios.Search{From: 20, Factor: 1.5, Precision: 0.05, Budget: 3 * time.Minute, MaxRate: 1000,
	Warmup: 2 * time.Second, Hold: 3 * time.Second, MinRequests: 200}
