package report

import (
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/stampede-load/stampede/report/format"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// Limit is where the run found the service's capacity (DESIGN.md "Capacity").
type Limit struct {
	// SustainableRPS is the highest offered rate held for a whole steady
	// window with the SLO met; nil if none.
	SustainableRPS *float64
	// BreakingRPS is the first offered rate where the SLO failed and stayed
	// failed; nil if it never broke.
	BreakingRPS *float64
	BreakingAt  time.Duration
	// MaxGoodputRPS is the most successful logins in one window, per second.
	MaxGoodputRPS float64
	MaxGoodputAt  time.Duration
	// KneeRPS is the offered rate where latency turned upward on a rising
	// load; nil without one.
	KneeRPS *float64
	KneeAt  time.Duration
	// PrecisionRPS is how finely the stages resolve the limit (the step, the
	// ramp's change per window, or the gap between sustainable and breaking).
	PrecisionRPS *float64
	Precision    string
	// Method says which windows measured the limit.
	Method string
}

// findLimit is the analysis' limit step: from the windows and the plan,
// or, for an adaptive search, from the bracket its trials found.
func findLimit(r *Report, p *rundir.Plan) {
	r.Limit = computeLimit(r.Windows, p, r.SLO)
	applySearch(r) // a search's limit is its bracket (search.go)
}

// computeLimit finds the sustainable rate, the breaking point, the max
// goodput, the knee and the precision the stages allow, from every window
// with a known offered rate: constant-rate parts of stages and ramps
// alike (a ramp's figure corrected for the queue it gives no time to
// build: rampEstimate). Windows the load generator spoiled (cause
// generator) say nothing about the target and are left out.
func computeLimit(wins []Window, p *rundir.Plan, slo rundir.SLO) Limit {
	var l Limit
	var cands []*Window
	for i := range wins {
		w := &wins[i]
		if w.Full && w.Traffic && w.GoodputRPS > l.MaxGoodputRPS {
			l.MaxGoodputRPS, l.MaxGoodputAt = w.GoodputRPS, w.Start
		}
		if (w.Steady || (w.Full && w.Ramp)) && w.Traffic && w.Cause != CauseGenerator {
			cands = append(cands, w)
		}
	}
	if len(cands) == 0 {
		l.Precision = "no window inside the plan to measure on"
		return l
	}
	brk := breakingWindow(cands)
	if brk >= 0 {
		l.BreakingRPS, l.BreakingAt = fp(cands[brk].OfferedRPS), cands[brk].Start
	}
	var best *Window
	for _, w := range cands {
		// A rate that broke and stayed broken is not sustainable, even if its
		// first windows held (a queue builds slowly just above capacity).
		if !w.SLOMet || (l.BreakingRPS != nil && w.OfferedRPS+limitEps >= *l.BreakingRPS) {
			continue
		}
		est := w.OfferedRPS
		if !w.Steady {
			est = rampEstimate(w, p, slo, cands, brk, wins)
		}
		if l.SustainableRPS == nil || est > *l.SustainableRPS {
			l.SustainableRPS, best = fp(est), w
		}
	}
	l.Method = limitMethod(best, cands, p)
	l.KneeRPS, l.KneeAt = knee(wins, p)
	l.PrecisionRPS, l.Precision = precision(l, p, cands)
	return l
}

const limitEps = 1e-6

// breakingWindow is the index in cands of the first window that failed
// and stayed failed at its rate and above (for two windows at least); -1
// if the run never broke.
func breakingWindow(cands []*Window) int {
	for i, w := range cands {
		if w.SLOMet {
			continue
		}
		stayed, failing := true, 0
		for _, v := range cands[i:] {
			if v.OfferedRPS+limitEps < w.OfferedRPS {
				continue
			}
			if v.SLOMet {
				stayed = false
				break
			}
			failing++
		}
		if stayed && failing >= 2 {
			return i
		}
	}
	return -1
}

// rampEstimate is what a ramp window that met the SLO says of the limit.
// A rising ramp outruns the queue: past the capacity c, logins queue up
// at s·t²/2 after t seconds (s the ramp's slope), so the SLO's latency L
// is only reached at c + sqrt(2·c·L·s), and the last window that held
// overstates c by that much. When the ramp then broke on latency (not on
// errors, which need no queue), the estimate is the rate c solving
// c + sqrt(2·c·Lq·s) = r, Lq being what the SLO leaves for queueing over
// the healthy p99, but no lower than the logins the service completed per
// second once saturated (its throughput then is its capacity; counted by
// completion, as logins counted by send time keep up with the offered rate
// while the queue grows), and never above the rate that held.
func rampEstimate(w *Window, p *rundir.Plan, slo rundir.SLO, cands []*Window, brk int, wins []Window) float64 {
	r := w.OfferedRPS
	if brk < 0 || p == nil {
		return r // never broke: a lower bound as it is
	}
	b := cands[brk]
	if b.SuccessRatio < slo.SuccessRatio {
		return r // broke on errors: no queue needed
	}
	i := p.SegAt(w.Start + w.Length/2)
	if i < 0 {
		return r
	}
	sg := p.Segs[i]
	slope := (sg.R1 - sg.R0) / sg.Dur.Seconds()
	if slope <= 0 {
		return r
	}
	lq := (slo.Latency - healthyP99(wins)).Seconds()
	if lq <= 0 {
		return r
	}
	a := math.Sqrt(2 * lq * slope) // c + a·sqrt(c) = r
	x := (-a + math.Sqrt(a*a+4*r)) / 2
	corrected := x * x
	return min(r, max(corrected, servedSaturated(cands, brk)))
}

// servedSaturated is the median of the logins the service completed per
// second in every window from the breaking point on that stayed broken at
// its rate or above: the service saturated, its throughput its capacity.
// Every such window, not the first few: a dip of a second or two (a pause,
// a neighbour's burst) must not stand for the capacity.
func servedSaturated(cands []*Window, brk int) float64 {
	var served []float64
	for _, v := range cands[brk:] {
		if !v.SLOMet && v.OfferedRPS+limitEps >= cands[brk].OfferedRPS {
			served = append(served, v.ServedRPS)
		}
	}
	return medianF(served)
}

// healthyP99 is the median p99 of the windows that met the SLO.
func healthyP99(wins []Window) time.Duration {
	var v []time.Duration
	for _, w := range wins {
		if w.Traffic && w.SLOMet && w.Sent > 0 {
			v = append(v, w.P99)
		}
	}
	return medianDur(v)
}

// limitMethod says which windows the sustainable rate rests on.
func limitMethod(best *Window, cands []*Window, p *rundir.Plan) string {
	steady := true
	for _, w := range cands {
		steady = steady && w.Steady
	}
	switch {
	case best == nil && steady:
		return "steady windows (constant-rate parts of stages)"
	case best == nil:
		return "steady and ramp windows"
	case best.Steady:
		if steady {
			return "steady windows (constant-rate parts of stages)"
		}
		return "steady and ramp windows; the sustainable rate rests on " + stageName(best, p) + ", held at a constant rate"
	}
	return "steady and ramp windows; the sustainable rate rests on the ramp " + stageName(best, p) +
		", corrected for the queue a ramp gives no time to build (and for what the service served once saturated)"
}

func stageName(w *Window, p *rundir.Plan) string {
	if p == nil || w.Stage < 0 || w.Stage >= len(p.Stages) {
		return "a stage"
	}
	return "stage " + strconv.Itoa(w.Stage+1) + " (" + p.Stages[w.Stage].Name + ")"
}

// knee is where latency turned upward on a rising load: the first window
// of a ramp or steps stage whose p90 exceeds the early windows' median by
// half (and 2 ms), for two windows running.
func knee(wins []Window, p *rundir.Plan) (*float64, time.Duration) {
	if p == nil {
		return nil, 0
	}
	var rising []*Window
	for i := range wins {
		w := &wins[i]
		if !w.Full || !w.Traffic || w.Stage < 0 || w.Stage >= len(p.Stages) || w.Sent == 0 {
			continue
		}
		if st := p.Stages[w.Stage]; (st.Kind == "ramp" || st.Kind == "steps") && st.RateEnd > st.RateStart {
			rising = append(rising, w)
		}
	}
	if len(rising) < 4 {
		return nil, 0
	}
	n := max(2, len(rising)/5)
	early := make([]time.Duration, 0, n)
	for _, w := range rising[:n] {
		early = append(early, w.P90)
	}
	base := medianDur(early)
	limit := max(base*3/2, base+2*time.Millisecond)
	for i := n; i+1 < len(rising); i++ {
		if rising[i].P90 > limit && rising[i+1].P90 > limit {
			return fp(rising[i].OfferedRPS), rising[i].Start
		}
	}
	return nil, 0
}

// precision is how finely the plan resolves the limit.
func precision(l Limit, p *rundir.Plan, cands []*Window) (*float64, string) {
	var step float64
	ramp := false
	if p != nil {
		for _, s := range p.Stages {
			if s.Kind == "steps" && s.Step > 0 && (step == 0 || s.Step < step) {
				step = s.Step
			}
		}
		for _, sg := range p.Segs {
			if !sg.Unknown && sg.R1 != sg.R0 {
				ramp = true
			}
		}
	}
	if s, b := l.SustainableRPS, l.BreakingRPS; s != nil && b != nil {
		gap := *b - *s
		return fp(gap), "the limit lies between " + format.Num(format.Round(*s, 1)) + "/s (held) and " + format.Num(format.Round(*b, 1)) +
			"/s (failed); steps of " + format.Num(format.Round(gap/5, 1)) + "/s between them would narrow it"
	}
	switch s, b := l.SustainableRPS, l.BreakingRPS; {
	case b == nil && s != nil:
		txt := "never broke: the limit is above " + format.Num(format.Round(*s, 1)) + "/s; offer more load to find it"
		if step > 0 {
			return fp(step), txt + " (steps of " + format.Num(step) + "/s)"
		}
		return nil, txt
	case b != nil && s == nil:
		return nil, "failed from the lowest rate measured: the limit is below " + format.Num(format.Round(*b, 1)) + "/s"
	case step > 0:
		return fp(step), "steps of " + format.Num(step) + "/s"
	case ramp && len(cands) > 0 && !cands[0].Steady:
		var most float64
		for _, sg := range p.Segs {
			if !sg.Unknown && sg.Dur > 0 {
				most = max(most, abs(sg.R1-sg.R0)/sg.Dur.Seconds())
			}
		}
		return fp(most), "the ramp rises up to " + format.Num(format.Round(most, 1)) + "/s per second"
	}
	return nil, "one rate only: it tells whether that rate holds, not where the limit is"
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func medianDur(v []time.Duration) time.Duration {
	if len(v) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
