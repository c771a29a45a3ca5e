package report

import (
	"math"
	"sort"
	"time"

	"github.com/stampede-load/stampede/report/format"
)

// Noise is how much a run's own windows move from one to the next while
// nothing changes: the yardstick a change between two runs must exceed to
// count (see Compare).
//
// Each figure is a robust standard deviation (σ) of one per-window value
// (p50, p99, goodput), estimated from window-to-window changes:
//
//   - only windows that are full, carried traffic and met the SLO count
//     (a broken window's latency is the signal, not noise);
//   - a change is taken between two consecutive such windows of the same
//     plateau (steady windows of one stage at the same offered rate) or of
//     the same ramp; on a ramp, the group's median change (the ramp's own
//     rise) is subtracted first;
//   - σ = 1.4826 × median(|change|) / √2: the median absolute change, scaled
//     to a normal σ (1.4826) of one window (the √2 of a difference of two).
//
// Differences rather than deviations from a level make plateaus at
// different rates (and a ramp's climb) cost nothing, and the median makes
// a few odd windows (a GC pause, the first window of a step) cost little.
type Noise struct {
	P50, P99   time.Duration
	GoodputRPS float64
	// Pairs is the number of window-to-window changes the estimate rests on.
	Pairs int
	// Known: at least minNoisePairs changes; otherwise the figures are 0
	// and comparisons fall back to the measurement floors alone.
	Known bool
}

// minNoisePairs is the fewest window-to-window changes that make an estimate.
const minNoisePairs = 3

// madToSigma scales a median absolute deviation to a normal σ.
const madToSigma = 1.4826

// computeNoise estimates a run's noise from its windows.
func computeNoise(wins []Window) Noise {
	var d50, d99, dGood []float64
	var g50, g99, gGood []float64 // the current group's changes
	ramp := false
	flush := func() {
		if ramp {
			center(g50)
			center(g99)
			center(gGood)
		}
		d50, d99, dGood = append(d50, g50...), append(d99, g99...), append(dGood, gGood...)
		g50, g99, gGood = g50[:0], g99[:0], gGood[:0]
	}
	var prev *Window
	for i := range wins {
		w := &wins[i]
		quiet := w.Full && w.Traffic && w.SLOMet && w.Sent > 0 && (w.Steady || w.Ramp)
		if !quiet {
			flush()
			prev = nil
			continue
		}
		same := prev != nil && prev.Stage == w.Stage && prev.Ramp == w.Ramp &&
			(w.Ramp || math.Abs(prev.OfferedRPS-w.OfferedRPS) <= 1e-6*max(1, w.OfferedRPS))
		if !same {
			flush()
			ramp = w.Ramp
		} else {
			g50 = append(g50, float64(w.P50-prev.P50))
			g99 = append(g99, float64(w.P99-prev.P99))
			gGood = append(gGood, w.GoodputRPS-prev.GoodputRPS)
		}
		prev = w
	}
	flush()
	n := Noise{Pairs: len(d99)}
	if n.Pairs < minNoisePairs {
		return n
	}
	n.Known = true
	// Microseconds, as the histograms record: report.json keeps them exactly.
	n.P50 = time.Duration(sigmaOfChanges(d50)).Round(time.Microsecond)
	n.P99 = time.Duration(sigmaOfChanges(d99)).Round(time.Microsecond)
	n.GoodputRPS = format.Round(sigmaOfChanges(dGood), 3)
	return n
}

// center subtracts the median from each value, in place.
func center(v []float64) {
	if len(v) == 0 {
		return
	}
	m := median(v)
	for i := range v {
		v[i] -= m
	}
}

// sigmaOfChanges is the σ of one value from changes between two of them.
func sigmaOfChanges(d []float64) float64 {
	a := make([]float64, len(d))
	for i, v := range d {
		a[i] = math.Abs(v)
	}
	return madToSigma * median(a) / math.Sqrt2
}

// median of a copy of v; 0 when empty.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
