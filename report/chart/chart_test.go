package chart

import (
	"math"
	"slices"
	"testing"

	"gonum.org/v1/plot"
)

func TestLinearTicks(t *testing.T) {
	for _, tc := range []struct {
		min, max float64
		n        int
		want     []string // labels
	}{
		{0, 60, 12, []string{"0", "5", "10", "15", "20", "25", "30", "35", "40", "45", "50", "55", "60"}},
		{0, 172.5, 5, []string{"0", "50", "100", "150"}},
		{0, 1.15, 5, []string{"0", "0.5", "1"}},
		{0, 40.3, 12, []string{"0", "5", "10", "15", "20", "25", "30", "35", "40"}},
		{5, 5, 5, nil},
	} {
		var got []string
		minor := 0
		for _, tk := range linearTicks(tc.min, tc.max, tc.n) {
			if tk.Value < tc.min || tk.Value > tc.max {
				t.Errorf("%g..%g: tick %g out of range", tc.min, tc.max, tk.Value)
			}
			if tk.IsMinor() {
				minor++
			} else {
				got = append(got, tk.Label)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%g..%g by %d: labels %q, want %q", tc.min, tc.max, tc.n, got, tc.want)
		}
		if len(got) > 1 && minor < len(got)-1 {
			t.Errorf("%g..%g: %d minor ticks for %d labels", tc.min, tc.max, minor, len(got))
		}
	}
}

func TestLogTicks(t *testing.T) {
	labels := func(ticks []plot.Tick) []string {
		var out []string
		for _, tk := range ticks {
			if !tk.IsMinor() {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	for _, tc := range []struct {
		min, max float64
		want     []string
	}{
		{3.1, 1650, []string{"5", "10", "20", "50", "100", "200", "500", "1000"}},
		{0.3, 4, []string{"0.5", "1", "2"}},
		{6, 27, []string{"10", "20"}},
		{0, 10, nil},
	} {
		if got := labels(logTicks(tc.min, tc.max)); !slices.Equal(got, tc.want) {
			t.Errorf("%g..%g: %q, want %q", tc.min, tc.max, got, tc.want)
		}
	}
}

func TestLineSegments(t *testing.T) {
	nan := math.NaN()
	segs := lineSegments([]float64{1, 2, nan, 3, nan, nan, 0, 5, 6}, 2, true)
	// 1,2 | 3 alone (widened) | 0 dropped on a log scale | 5,6
	want := [][2]float64{{1, 3}, {6.4, 7.6}, {15, 17}}
	if len(segs) != len(want) {
		t.Fatalf("%d segments, want %d: %v", len(segs), len(want), segs)
	}
	for i, s := range segs {
		if s[0].X != want[i][0] || s[len(s)-1].X != want[i][1] {
			t.Errorf("segment %d spans %g..%g, want %g..%g", i, s[0].X, s[len(s)-1].X, want[i][0], want[i][1])
		}
	}
	if n := len(lineSegments([]float64{0, 1}, 1, false)); n != 1 {
		t.Errorf("a linear scale keeps 0: %d segments, want 1", n)
	}
}

func TestStripCauses(t *testing.T) {
	got := stripCauses([]string{"", "network.client", "db.connections", "", "weird", "db.connections"})
	if want := []string{"db.connections", "network.client", "weird"}; !slices.Equal(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
}
