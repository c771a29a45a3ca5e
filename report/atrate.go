package report

import (
	"math"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stampede-load/stampede/report/format"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// rateTolerance is how near a window's offered rate must be to a stated
// rate to count as "at" it: 5% either side.
const rateTolerance = 0.05

// rateSel names the windows at (or nearest above) a stated rate, chosen
// from the plan alone.
type rateSel struct {
	asked, rate float64 // the stated rate; the offered rate the windows hold
	windows     []int   // window indices, ascending
	kind        string  // "steady" or "ramp" windows
	// reason says why no window was chosen; empty when some were.
	reason string
}

// selectRateWindows picks the windows whose planned offered rate is
// within 5% of rate: steady windows (constant-rate parts of stages), or
// ramp windows when the plan has no steady window at all, as the limit is
// measured. With none that near, it takes the nearest offered rate above
// (a service that meets a p99 at a higher load meets it at the lower one);
// with none above, nothing: the run cannot speak for that rate.
func selectRateWindows(p *rundir.Plan, width, stop time.Duration, rate float64) *rateSel {
	sel := &rateSel{asked: rate}
	if p == nil {
		sel.reason = "no plan (no scenario stages): the offered rate of a window is not known before its results"
		return sel
	}
	end := planEnd(p, stop)
	type cand struct {
		i       int
		offered float64
	}
	var steady, ramp []cand
	for i := 0; ; i++ {
		sh, ok := windowShape(p, i, width, end)
		if !ok {
			break
		}
		if !sh.full || !sh.exact || sh.offered <= 0 {
			continue
		}
		switch {
		case sh.steady:
			steady = append(steady, cand{i, sh.offered})
		case sh.ramp:
			ramp = append(ramp, cand{i, sh.offered})
		}
	}
	cands, kind := steady, "steady"
	if len(cands) == 0 {
		cands, kind = ramp, "ramp"
	}
	if len(cands) == 0 {
		sel.reason = "no full window inside the plan"
		return sel
	}
	// near lists the windows within 5% of target and the rate they hold
	// (the first one's: "at 30/s" when 31/s was asked).
	near := func(target float64) ([]int, float64) {
		var out []int
		held := target
		for _, c := range cands {
			if math.Abs(c.offered-target) <= rateTolerance*target {
				if len(out) == 0 {
					held = c.offered
				}
				out = append(out, c.i)
			}
		}
		return out, held
	}
	idx, held := near(rate)
	if len(idx) == 0 {
		above, highest := math.Inf(1), 0.0
		for _, c := range cands {
			highest = max(highest, c.offered)
			if c.offered > rate && c.offered < above {
				above = c.offered
			}
		}
		if math.IsInf(above, 1) {
			sel.reason = "the run never offered " + format.Num(rate) + "/s in a " + kind + " window (highest " + format.Num(format.Round(highest, 1)) + "/s)"
			return sel
		}
		idx, held = near(above)
	}
	sel.rate, sel.windows, sel.kind = held, idx, kind
	return sel
}

// planEnd is where windows stop being judged: the plan's end, or where
// the run stopped.
func planEnd(p *rundir.Plan, stop time.Duration) time.Duration {
	if p == nil {
		return 0
	}
	if stop >= 0 {
		return min(p.Total, stop)
	}
	return p.Total
}

// rateLatency is the latency of every hit sent in the windows at a stated
// rate, merged (not the worst window's, not a mean of windows').
type rateLatency struct {
	sel      *rateSel
	hits     int64
	p50, p99 time.Duration
}

// markRate makes the pass record hits sent in the given windows into one
// extra histogram (3 significant figures).
func (w *windower) markRate(idx []int) {
	if len(idx) == 0 {
		return
	}
	w.rateMark = make([]bool, idx[len(idx)-1]+1)
	for _, i := range idx {
		w.rateMark[i] = true
	}
	w.rateHist = hdrhistogram.New(1, histMaxUS, totalHistDigit)
}

// addRate records a hit that fell in window i, if i is marked.
func (w *windower) addRate(i int, h *hit) {
	if i < len(w.rateMark) && w.rateMark[i] {
		_ = w.rateHist.RecordValue(usOf(h.latency))
		w.rateMax = max(w.rateMax, h.latency)
	}
}

func (w *windower) rateResult(sel *rateSel) *rateLatency {
	rl := &rateLatency{sel: sel}
	if w.rateHist == nil || w.rateHist.TotalCount() == 0 {
		return rl
	}
	rl.hits = w.rateHist.TotalCount()
	q := func(p float64) time.Duration {
		return min(time.Duration(w.rateHist.ValueAtQuantile(p))*time.Microsecond, w.rateMax)
	}
	rl.p50, rl.p99 = q(50), q(99)
	return rl
}
