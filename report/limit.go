package report

import (
	"sort"
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
	r.Limit = computeLimit(r.Windows, p)
	applySearch(r) // a search's limit is its bracket (search.go)
}

// computeLimit finds the sustainable rate, the breaking point, the max
// goodput, the knee and the precision the stages allow. Windows the load
// generator spoiled (cause generator) say nothing about the target and are
// left out.
func computeLimit(wins []Window, p *rundir.Plan) Limit {
	var l Limit
	var cands []*Window
	for i := range wins {
		w := &wins[i]
		if w.Full && w.Traffic && w.GoodputRPS > l.MaxGoodputRPS {
			l.MaxGoodputRPS, l.MaxGoodputAt = w.GoodputRPS, w.Start
		}
		if w.Steady && w.Traffic && w.Cause != CauseGenerator {
			cands = append(cands, w)
		}
	}
	l.Method = "steady windows (constant-rate parts of stages)"
	if len(cands) == 0 {
		for i := range wins {
			if w := &wins[i]; w.Full && w.Ramp && w.Traffic && w.Cause != CauseGenerator {
				cands = append(cands, w)
			}
		}
		l.Method = "ramp windows (offered rate averaged over each window)"
	}
	if len(cands) == 0 {
		l.Method = ""
		l.Precision = "no window inside the plan to measure on"
		return l
	}

	const eps = 1e-6
	for i, w := range cands {
		if w.SLOMet {
			continue
		}
		stayed, failing := true, 0
		for _, v := range cands[i:] {
			if v.OfferedRPS+eps < w.OfferedRPS {
				continue
			}
			if v.SLOMet {
				stayed = false
				break
			}
			failing++
		}
		if stayed && failing >= 2 {
			l.BreakingRPS, l.BreakingAt = fp(w.OfferedRPS), w.Start
			break
		}
	}
	// A rate that broke and stayed broken is not sustainable, even if its
	// first windows held (a queue builds slowly just above capacity).
	for _, w := range cands {
		if !w.SLOMet || (l.BreakingRPS != nil && w.OfferedRPS+eps >= *l.BreakingRPS) {
			continue
		}
		if l.SustainableRPS == nil || w.OfferedRPS > *l.SustainableRPS {
			l.SustainableRPS = fp(w.OfferedRPS)
		}
	}
	l.KneeRPS, l.KneeAt = knee(wins, p)
	l.PrecisionRPS, l.Precision = precision(l, p, cands)
	return l
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
