package engine

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

var _ vegeta.Pacer = (*Pacer)(nil)

const ms = time.Millisecond

func constant(rate float64, d time.Duration) scenarios.Stage {
	return scenarios.Stage{Kind: scenarios.StageConstant, Rate: rate, Duration: d}
}

func ramp(from, to float64, d time.Duration) scenarios.Stage {
	return scenarios.Stage{Kind: scenarios.StageRamp, From: from, To: to, Duration: d}
}

func steps(from, to, step float64, hold time.Duration) scenarios.Stage {
	return scenarios.Stage{Kind: scenarios.StageSteps, From: from, To: to, Step: step, Hold: hold}
}

func spike(base, peak float64, at, spikeFor, d time.Duration) scenarios.Stage {
	return scenarios.Stage{Kind: scenarios.StageSpike, Base: base, Peak: peak, At: at, SpikeFor: spikeFor, Duration: d}
}

func mustPacer(t *testing.T, scale float64, stages ...scenarios.Stage) *Pacer {
	t.Helper()
	p, err := NewPacer(stages, scale)
	if err != nil {
		t.Fatalf("NewPacer(%v, %g): %v", stages, scale, err)
	}
	return p
}

// within1ns allows for rounding a float send time to the nanosecond.
func closeDur(a, b time.Duration) bool { return a-b <= 1 && b-a <= 1 }

func closeF(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestPacerPace(t *testing.T) {
	c10 := []scenarios.Stage{constant(10, 10*time.Second)}
	for _, tc := range []struct {
		name    string
		stages  []scenarios.Stage
		scale   float64
		elapsed time.Duration
		hits    uint64
		wait    time.Duration
		stop    bool
	}{
		{"constant t=0 first hit now", c10, 1, 0, 0, 0, false},
		{"constant t=0 second hit in 100ms", c10, 1, 0, 1, 100 * ms, false},
		{"constant on time", c10, 1, 50 * ms, 1, 50 * ms, false},
		{"constant ahead", c10, 1, 1 * time.Second, 20, time.Second, false},
		{"constant behind", c10, 1, 1 * time.Second, 5, 0, false},
		{"constant exactly due", c10, 1, 1 * time.Second, 10, 0, false},
		{"constant last hit", c10, 1, 9900 * ms, 99, 0, false},
		{"constant plan done before end", c10, 1, 9950 * ms, 100, 0, true},
		{"constant at end", c10, 1, 10 * time.Second, 3, 0, true},
		{"constant after end", c10, 1, time.Hour, 3, 0, true},
		{"constant scaled 1/2", c10, 0.5, 0, 1, 200 * ms, false},
		{"constant scaled 1/4 behind", c10, 0.25, time.Second, 2, 0, false},
		// H(t) = 10t + t²: hit 11 at 1s, hit 56 at 4s.
		{"ramp up exact", []scenarios.Stage{ramp(10, 30, 10*time.Second)}, 1, 0, 11, time.Second, false},
		{"ramp up mid", []scenarios.Stage{ramp(10, 30, 10*time.Second)}, 1, time.Second, 56, 3 * time.Second, false},
		{"ramp up behind", []scenarios.Stage{ramp(10, 30, 10*time.Second)}, 1, 4 * time.Second, 55, 0, false},
		// H(t) = 30t - t²: hit 56 at 2s.
		{"ramp down", []scenarios.Stage{ramp(30, 10, 10*time.Second)}, 1, 0, 56, 2 * time.Second, false},
		// H(t) = t²/2 * 2: from 0, hit 1 at 1s.
		{"ramp from zero", []scenarios.Stage{ramp(0, 20, 10*time.Second)}, 1, 0, 1, time.Second, false},
		{"ramp from zero first hit now", []scenarios.Stage{ramp(0, 20, 10*time.Second)}, 1, 0, 0, 0, false},
		// steps 10, 20, 30 per second, 1s each: hit 10 at 1s, hit 30 at 2s.
		{"steps at change", []scenarios.Stage{steps(10, 30, 10, time.Second)}, 1, 500 * ms, 10, 500 * ms, false},
		{"steps second step", []scenarios.Stage{steps(10, 30, 10, time.Second)}, 1, time.Second, 11, 50 * ms, false},
		{"steps third step", []scenarios.Stage{steps(10, 30, 10, time.Second)}, 1, 2 * time.Second, 31, 33333333, false},
		{"steps end", []scenarios.Stage{steps(10, 30, 10, time.Second)}, 1, 3 * time.Second, 0, 0, true},
		// spike base 10, peak 100 during [2s, 3s) of 5s: hit 20 at 2s, 120 at 3s.
		{"spike before", []scenarios.Stage{spike(10, 100, 2*time.Second, time.Second, 5*time.Second)}, 1, 0, 20, 2 * time.Second, false},
		{"spike peak", []scenarios.Stage{spike(10, 100, 2*time.Second, time.Second, 5*time.Second)}, 1, 2 * time.Second, 21, 10 * ms, false},
		{"spike after", []scenarios.Stage{spike(10, 100, 2*time.Second, time.Second, 5*time.Second)}, 1, 3 * time.Second, 121, 100 * ms, false},
		{"spike at zero", []scenarios.Stage{spike(10, 100, 0, time.Second, 2*time.Second)}, 1, 0, 1, 10 * ms, false},
		// Two stages: hit 10 is the first of the second stage, due at 1s.
		{"stage change", []scenarios.Stage{constant(10, time.Second), constant(20, time.Second)}, 1, 900 * ms, 10, 100 * ms, false},
		{"stage change +1", []scenarios.Stage{constant(10, time.Second), constant(20, time.Second)}, 1, time.Second, 11, 50 * ms, false},
		// A silent stage: hit 10 waits for the third stage.
		{"zero-rate stage", []scenarios.Stage{constant(10, time.Second), constant(0, time.Second), constant(10, time.Second)}, 1, time.Second, 10, time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mustPacer(t, tc.scale, tc.stages...)
			wait, stop := p.Pace(tc.elapsed, tc.hits)
			if !closeDur(wait, tc.wait) || stop != tc.stop {
				t.Errorf("Pace(%s, %d) = %s, %v; want %s, %v", tc.elapsed, tc.hits, wait, stop, tc.wait, tc.stop)
			}
		})
	}
}

func TestPacerRateHitsStage(t *testing.T) {
	p := mustPacer(t, 1,
		constant(10, 2*time.Second),                            // 0..2s, 20 hits
		ramp(10, 30, 2*time.Second),                            // 2..4s, 40 hits
		steps(5, 15, 5, time.Second),                           // 4..7s, 30 hits
		spike(10, 50, time.Second, time.Second, 3*time.Second), // 7..10s, 70 hits
	)
	if got, want := p.Duration(), 10*time.Second; got != want {
		t.Fatalf("Duration = %s, want %s", got, want)
	}
	for _, tc := range []struct {
		elapsed time.Duration
		rate    float64
		hits    float64
		stage   int
	}{
		{-time.Second, 10, 0, 0},
		{0, 10, 0, 0},
		{time.Second, 10, 10, 0},
		{2*time.Second - 1, 10, 20, 0},
		{2 * time.Second, 10, 20, 1},
		{3 * time.Second, 20, 35, 1},
		{4 * time.Second, 5, 60, 2},
		{5 * time.Second, 10, 65, 2},
		{6500 * ms, 15, 82.5, 2},
		{7 * time.Second, 10, 90, 3},
		{8 * time.Second, 50, 100, 3},
		{9 * time.Second, 10, 150, 3},
		{10 * time.Second, 0, 160, 3},
		{time.Hour, 0, 160, 3},
	} {
		if got := p.Rate(tc.elapsed); !closeF(got, tc.rate) {
			t.Errorf("Rate(%s) = %g, want %g", tc.elapsed, got, tc.rate)
		}
		if got := p.Hits(tc.elapsed); math.Abs(got-tc.hits) > 1e-6 {
			t.Errorf("Hits(%s) = %g, want %g", tc.elapsed, got, tc.hits)
		}
		if got := p.StageAt(tc.elapsed); got != tc.stage {
			t.Errorf("StageAt(%s) = %d, want %d", tc.elapsed, got, tc.stage)
		}
	}
	if got := p.TotalHits(); got != 160 {
		t.Errorf("TotalHits = %d, want 160", got)
	}
	if got := p.PeakRate(); got != 50 {
		t.Errorf("PeakRate = %g, want 50", got)
	}
	if got := p.StageStart(3); got != 7*time.Second {
		t.Errorf("StageStart(3) = %s, want 7s", got)
	}
	want := "Stages{constant 10/s 2s, ramp 10→30/s 2s, steps 5→15/s +5 every 1s (3s), spike 10/s peak 50/s at 1s for 1s (3s)}"
	if got := p.String(); got != want {
		t.Errorf("String =\n %s\nwant\n %s", got, want)
	}
	if st := p.Stages(); len(st) != 4 || st[2].Duration != 3*time.Second {
		t.Errorf("Stages = %v, want the steps stage's Duration filled in", st)
	}
}

func TestPacerDueAt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stages []scenarios.Stage
		scale  float64
		hit    uint64
		due    time.Duration
		ok     bool
	}{
		{"first", []scenarios.Stage{constant(10, time.Second)}, 1, 0, 0, true},
		{"last", []scenarios.Stage{constant(10, time.Second)}, 1, 9, 900 * ms, true},
		{"past the end", []scenarios.Stage{constant(10, time.Second)}, 1, 10, 0, false},
		{"fractional plan keeps its last hit", []scenarios.Stage{constant(2.5, time.Second)}, 1, 2, 800 * ms, true},
		{"fractional plan ends", []scenarios.Stage{constant(2.5, time.Second)}, 1, 3, 0, false},
		{"ramp exact inverse", []scenarios.Stage{ramp(10, 30, 10*time.Second)}, 1, 56, 4 * time.Second, true},
		{"ramp last", []scenarios.Stage{ramp(10, 30, 10*time.Second)}, 1, 199, 9966629547, true},
		{"ramp down last", []scenarios.Stage{ramp(30, 10, 10*time.Second)}, 1, 199, 9900980486, true},
		{"steps boundary", []scenarios.Stage{steps(10, 30, 10, time.Second)}, 1, 30, 2 * time.Second, true},
		{"scaled 1/3", []scenarios.Stage{constant(30, time.Second)}, 1.0 / 3, 5, 500 * ms, true},
		{"scaled x2", []scenarios.Stage{constant(30, time.Second)}, 2, 59, 983333333, true},
		{"a million per second", []scenarios.Stage{constant(1e6, 2*time.Second)}, 1, 1_000_000, time.Second, true},
		{"max uint64", []scenarios.Stage{constant(1e6, time.Hour)}, 1, math.MaxUint64, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mustPacer(t, tc.scale, tc.stages...)
			due, ok := p.DueAt(tc.hit)
			if !closeDur(due, tc.due) || ok != tc.ok {
				t.Errorf("DueAt(%d) = %s, %v; want %s, %v", tc.hit, due, ok, tc.due, tc.ok)
			}
		})
	}
}

func TestPacerOverflow(t *testing.T) {
	long := time.Duration(math.MaxInt64)
	p := mustPacer(t, 1, constant(1e6, long))
	if p.Duration() != long {
		t.Fatalf("Duration = %s", p.Duration())
	}
	for _, tc := range []struct {
		elapsed time.Duration
		hits    uint64
		stop    bool
	}{
		{0, math.MaxUint64, true},                // far more hits than ever planned
		{0, 1 << 62, true},                       // still more than 9.2e15 planned
		{long - 1, 0, false},                     // far behind: send now
		{long - 1, 1 << 53, false},               // behind at the very end
		{long, 0, true},                          // at the end
		{time.Duration(math.MinInt64), 0, false}, // before the start
	} {
		wait, stop := p.Pace(tc.elapsed, tc.hits)
		if stop != tc.stop || wait < 0 {
			t.Errorf("Pace(%d, %d) = %s, %v; want stop %v and no negative wait", tc.elapsed, tc.hits, wait, stop, tc.stop)
		}
	}
	if due, ok := p.DueAt(1 << 52); !ok || due <= 0 || due >= long {
		t.Errorf("DueAt(2^52) = %s, %v; want a time within the plan", due, ok)
	}
	for _, stages := range [][]scenarios.Stage{
		{constant(1, long), constant(1, 1)},            // total overflows
		{constant(1, long/2+1), constant(1, long/2+1)}, // total overflows
		{steps(1, 10000, 1, long/1000)},                // 10000 steps of a huge hold
		{steps(1, 1e9, 1e-3, time.Second)},             // too many steps
		{constant(2e9, time.Second)},                   // faster than one hit per ns
		{constant(math.Inf(1), time.Second)},           // infinite rate
		{constant(math.NaN(), time.Second)},            // not a rate
	} {
		if p, err := NewPacer(stages, 1); err == nil {
			t.Errorf("NewPacer(%v) = %v, want an error", stages, p)
		}
	}
	if _, err := NewPacer([]scenarios.Stage{constant(5e8, time.Second)}, 10); err == nil {
		t.Error("NewPacer scaled beyond 1e9/s: want an error")
	}
}

func TestNewPacerErrors(t *testing.T) {
	ok := []scenarios.Stage{constant(10, time.Second)}
	for _, tc := range []struct {
		name   string
		stages []scenarios.Stage
		scale  float64
		want   string
	}{
		{"no stages", nil, 1, "at least one stage"},
		{"zero scale", ok, 0, "scale must be > 0"},
		{"negative scale", ok, -1, "scale must be > 0"},
		{"NaN scale", ok, math.NaN(), "scale must be > 0"},
		{"infinite scale", ok, math.Inf(1), "scale must be > 0"},
		{"no kind", []scenarios.Stage{{Rate: 1, Duration: time.Second}}, 1, "unknown stage kind"},
		{"zero duration", []scenarios.Stage{constant(10, 0)}, 1, "duration must be > 0"},
		{"negative rate", []scenarios.Stage{constant(-1, time.Second)}, 1, "rate must be within"},
		{"steps down", []scenarios.Stage{steps(30, 10, 10, time.Second)}, 1, "must be >= from"},
		{"steps zero step", []scenarios.Stage{steps(10, 30, 0, time.Second)}, 1, "step must be > 0"},
		{"steps zero hold", []scenarios.Stage{steps(10, 30, 10, 0)}, 1, "hold must be > 0"},
		{"spike too long", []scenarios.Stage{spike(1, 2, 5*time.Second, 6*time.Second, 10*time.Second)}, 1, "within the stage"},
		{"spike negative at", []scenarios.Stage{spike(1, 2, -time.Second, time.Second, 10*time.Second)}, 1, "within the stage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewPacer(tc.stages, tc.scale)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewPacer error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestPacerSimulatedRun drives each plan as an attacker would, without
// sleeping: it advances a fake clock by every wait Pace returns, sends, and
// counts hits per stage against the plan.
func TestPacerSimulatedRun(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stages []scenarios.Stage
		scale  float64
		lag    time.Duration // extra delay after each wait, a slow sender
	}{
		{"surge", []scenarios.Stage{constant(20, 10*time.Second), ramp(20, 100, 20*time.Second),
			spike(100, 150, 5*time.Second, 5*time.Second, 15*time.Second), constant(20, 15*time.Second)}, 1, 0},
		{"steps", []scenarios.Stage{steps(25, 200, 25, 5*time.Second)}, 1, 0},
		{"fractional rates", []scenarios.Stage{constant(0.7, 10*time.Second), ramp(0.3, 7.9, 13*time.Second), constant(3.3, 333*ms)}, 1, 0},
		{"ramp from zero and down to zero", []scenarios.Stage{ramp(0, 50, 3*time.Second), ramp(50, 0, 3*time.Second)}, 1, 0},
		{"silent stage", []scenarios.Stage{constant(10, time.Second), constant(0, time.Second), constant(10, time.Second)}, 1, 0},
		{"shard 1 of 3", []scenarios.Stage{ramp(10, 400, 10*time.Second), constant(400, 5*time.Second)}, 1.0 / 3, 0},
		{"shard 1 of 7", []scenarios.Stage{spike(50, 700, 2*time.Second, time.Second, 5*time.Second)}, 1.0 / 7, 0},
		{"fast", []scenarios.Stage{constant(100000, 2*time.Second), ramp(1000, 1e6, time.Second)}, 1, 0},
		{"slow sender catches up", []scenarios.Stage{constant(100, 5*time.Second), constant(50, 5*time.Second)}, 1, 3 * ms},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mustPacer(t, tc.scale, tc.stages...)
			counts := make([]uint64, len(tc.stages))
			var elapsed time.Duration
			var hits uint64
			for {
				wait, stop := p.Pace(elapsed, hits)
				if stop {
					break
				}
				if wait < 0 {
					t.Fatalf("Pace(%s, %d) waits %s", elapsed, hits, wait)
				}
				elapsed += wait
				if tc.lag == 0 {
					if due, _ := p.DueAt(hits); due != elapsed {
						t.Fatalf("hit %d sent at %s, due at %s", hits, elapsed, due)
					}
				}
				counts[p.StageAt(elapsed)]++
				hits++
				elapsed += tc.lag
				if hits > 10_000_000 {
					t.Fatal("runaway: more than 10M hits")
				}
			}
			if tc.lag > 0 { // a late sender sends what was due by the end
				if want := p.Hits(p.Duration()); float64(hits) > want+1 {
					t.Errorf("sent %d hits, more than planned %g", hits, want)
				}
				return
			}
			if hits != p.TotalHits() {
				t.Errorf("sent %d hits, plan has %d", hits, p.TotalHits())
			}
			for i := range tc.stages {
				start := p.StageStart(i)
				end := start + p.Stages()[i].Duration
				planned := p.Hits(end) - p.Hits(start)
				if math.Abs(float64(counts[i])-planned) > 1 {
					t.Errorf("stage %d (%s): sent %d hits, planned %.2f", i, p.Stages()[i], counts[i], planned)
				}
			}
		})
	}
}
