package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

var _ vegeta.Pacer = (*AdaptivePacer)(nil)

func mustAdaptive(t *testing.T, rate float64, horizon time.Duration) *AdaptivePacer {
	t.Helper()
	a, err := NewAdaptivePacer(scenarios.Stage{Name: "first", Rate: rate}, horizon)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAdaptivePacerPace(t *testing.T) {
	const s = time.Second
	for _, tc := range []struct {
		name    string
		change  func(a *AdaptivePacer) error
		elapsed time.Duration
		hits    uint64
		wait    time.Duration
		stop    bool
	}{
		{"open stage runs to the horizon", nil, 9 * s, 90, 0, false},
		{"open stage ahead", nil, 0, 1, 100 * ms, false},
		{"horizon ends it", nil, 10 * s, 100, 0, true},
		// 10/s for 2s (20 hits), then 20/s: hit 21 at 2.05s.
		{"next rate", func(a *AdaptivePacer) error { return a.Next(2*s, scenarios.Stage{Rate: 20}) }, 2 * s, 21, 50 * ms, false},
		{"next rate behind", func(a *AdaptivePacer) error { return a.Next(2*s, scenarios.Stage{Rate: 20}) }, 3 * s, 30, 0, false},
		// A 1s pause at 0/s after 2s: hit 20 is due at 3s.
		{"pause waits", func(a *AdaptivePacer) error {
			return a.Next(2*s, scenarios.Stage{Name: "pause", Duration: s}, scenarios.Stage{Rate: 10})
		}, 2100 * ms, 20, 900 * ms, false},
		{"after the pause", func(a *AdaptivePacer) error {
			return a.Next(2*s, scenarios.Stage{Name: "pause", Duration: s}, scenarios.Stage{Rate: 10})
		}, 3 * s, 21, 100 * ms, false},
		{"end stops at once", func(a *AdaptivePacer) error { a.End(3 * s); return nil }, 3 * s, 30, 0, true},
		{"end: hits behind still go until it", func(a *AdaptivePacer) error { a.End(3 * s); return nil }, 2999 * ms, 29, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := mustAdaptive(t, 10, 10*s)
			if tc.change != nil {
				if err := tc.change(a); err != nil {
					t.Fatal(err)
				}
			}
			wait, stop := a.Pace(tc.elapsed, tc.hits)
			if !closeDur(wait, tc.wait) || stop != tc.stop {
				t.Errorf("Pace(%s, %d) = %s, %v; want %s, %v (plan %s)", tc.elapsed, tc.hits, wait, stop, tc.wait, tc.stop, a)
			}
		})
	}
}

// TestAdaptivePacerKeepsThePast: a change never moves a send time due
// before it, so hits already sent keep their plan.
func TestAdaptivePacerKeepsThePast(t *testing.T) {
	a := mustAdaptive(t, 37, time.Minute)
	at := 2345 * ms
	before := a.HitsBefore(at)
	var due []time.Duration
	for n := uint64(0); n < before; n++ {
		d, _ := a.DueAt(n)
		due = append(due, d)
	}
	if err := a.Next(at, scenarios.Stage{Name: "pause", Duration: 700 * ms}, scenarios.Stage{Rate: 91}); err != nil {
		t.Fatal(err)
	}
	for n, want := range due {
		if got, ok := a.DueAt(uint64(n)); !ok || got != want {
			t.Fatalf("hit %d: due %s after the change, %s before", n, got, want)
		}
	}
	if got := a.HitsBefore(at); got != before {
		t.Errorf("HitsBefore(%s) = %d after the change, %d before", at, got, before)
	}
	// The next hit waits out the pause, then 91/s.
	if d, _ := a.DueAt(before); d < at+700*ms {
		t.Errorf("first hit after the change due at %s, inside the pause", d)
	}
	if n := a.HitsBefore(at+700*ms+time.Second) - a.HitsBefore(at+700*ms); n != 91 {
		t.Errorf("%d hits in the first second after the pause, want 91", n)
	}
	if got := a.StageAt(at + 100*ms); got != 1 {
		t.Errorf("StageAt inside the pause = %d, want 1", got)
	}
	if s := a.String(); !strings.HasPrefix(s, "Adaptive{") || !strings.HasSuffix(s, "(open)}") {
		t.Errorf("String() = %q", s)
	}
}

func TestAdaptivePacerChanges(t *testing.T) {
	a := mustAdaptive(t, 10, 10*time.Second)
	if err := a.Next(time.Second, scenarios.Stage{Rate: 20}); err != nil {
		t.Fatal(err)
	}
	// An open stage that has not started yet is replaced.
	if err := a.Next(time.Second, scenarios.Stage{Rate: 30}); err != nil {
		t.Fatal(err)
	}
	if st := a.Stages(); len(st) != 2 || st[1].Rate != 30 || st[1].Duration != 9*time.Second {
		t.Errorf("stages %v, want 10/s then 30/s open to the horizon", st)
	}
	if err := a.Next(10*time.Second, scenarios.Stage{Rate: 5}); err == nil {
		t.Error("Next at the horizon: no error")
	}
	if err := a.Next(2*time.Second, scenarios.Stage{Name: "pause"}, scenarios.Stage{Rate: 5}); err == nil {
		t.Error("a closed stage without a duration: no error")
	}
	if err := a.Next(2*time.Second, scenarios.Stage{Name: "long", Duration: 9 * time.Second}, scenarios.Stage{Rate: 5}); err == nil {
		t.Error("an open stage past the horizon: no error")
	}
	a.End(4 * time.Second)
	if a.Open() || a.Duration() != 4*time.Second {
		t.Errorf("after End(4s): open %v, duration %s", a.Open(), a.Duration())
	}
	if err := a.Next(5*time.Second, scenarios.Stage{Rate: 5}); err == nil {
		t.Error("Next after End: no error")
	}
	if got, want := a.Plan().TotalHits(), uint64(10+3*30); got != want {
		t.Errorf("TotalHits %d, want %d", got, want)
	}
}

// TestHitsBeforeAgreesWithDueAt: bucketing hits by due time and counting
// them from the plan give the same numbers, boundaries included.
func TestHitsBeforeAgreesWithDueAt(t *testing.T) {
	for _, stages := range [][]scenarios.Stage{
		{constant(10, 10*time.Second)},
		{constant(33.3, 3*time.Second), ramp(5, 97, 4*time.Second)},
		{steps(7, 49, 7, 700*ms)},
		{spike(3, 300, time.Second, 500*ms, 3*time.Second), constant(0, time.Second), constant(1, 2*time.Second)},
	} {
		p := mustPacer(t, 1, stages...)
		counts := map[int64]uint64{}
		for n := uint64(0); ; n++ {
			d, ok := p.DueAt(n)
			if !ok {
				break
			}
			counts[int64(d/(100*ms))]++
		}
		var sum uint64
		for i := int64(0); time.Duration(i)*100*ms < p.Duration()+time.Second; i++ {
			if got := p.HitsBefore(time.Duration(i) * 100 * ms); got != sum {
				t.Fatalf("%s: HitsBefore(%s) = %d, counted %d", p, time.Duration(i)*100*ms, got, sum)
			}
			sum += counts[i]
		}
	}
}
