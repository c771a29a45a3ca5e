package report

import (
	"fmt"
	"math"
	"time"

	"github.com/stampede-load/stampede/report/format"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// buildWindows is the analysis' second step: the streaming pass's
// accumulators become the report's windows (with the plan's offered rate
// and each window's SLO verdict), stages, totals and a merged run's shards.
func buildWindows(r *Report, w *windower, fr *frame) {
	p := fr.plan
	if fr.stop >= 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("the run stopped at %s of its planned %s: later windows are not judged", format.Sec(fr.stop), format.Sec(p.Total)))
	}
	r.Windows = windowsOf(w, p, r.Window, r.SLO, fr.stop)
	if fr.atRate != nil {
		r.atRate = w.rateResult(fr.atRate)
	}
	switch {
	case fr.end != nil:
		r.Elapsed = *fr.end
	case len(r.Windows) > 0:
		last := r.Windows[len(r.Windows)-1]
		r.Elapsed = last.Start + last.Length
	}
	r.Stages = buildStages(w, p)
	r.Totals = buildTotals(w)
	if r.Shards != nil {
		buildShards(r.Shards, w, r, fr)
	}
}

// windowsOf turns the accumulators into windows, with the plan's
// offered rate and each window's SLO verdict.
func windowsOf(w *windower, p *rundir.Plan, width time.Duration, slo rundir.SLO, stop time.Duration) []Window {
	n := len(w.wins)
	end := planEnd(p, stop)
	if p != nil {
		n = max(n, int((end+width-1)/width))
	}
	out := make([]Window, n)
	for i := range out {
		var acc winAcc
		if i < len(w.wins) {
			acc = w.wins[i]
		}
		win := Window{Index: i, Start: time.Duration(i) * width, Length: width, Stage: -1, c: acc.counts}
		if sh, ok := windowShape(p, i, width, end); ok {
			win.Length, win.Full, win.Stage, win.Steady, win.Ramp = sh.length, sh.full, sh.stage, sh.steady, sh.ramp
			if sh.exact {
				win.OfferedRPS = sh.offered
			} else {
				win.OfferedRPS = float64(acc.due) / win.Length.Seconds()
			}
		}
		c := &acc.counts
		win.Sent, win.OK, win.ExpectedRejects, win.Failed = c.sent, c.ok, c.rejects, c.failed
		secs := win.Length.Seconds()
		win.AchievedRPS = float64(c.sent) / secs
		win.GoodputRPS = float64(c.ok) / secs
		if i < len(w.served) {
			win.ServedRPS = float64(w.served[i]) / secs
		}
		win.SuccessRatio = c.successRatio()
		win.P50, win.P90, win.P99 = acc.q.p50, acc.q.p90, acc.q.p99
		win.Max = c.maxLat
		win.LatencyAtSLO, win.SendLagP99 = acc.q.atSLO, acc.q.lagP99
		win.Errors = c.errors()
		win.Details = c.details()
		win.LateRecords = c.late
		win.Timing = timingMeans(c)
		win.Connect = ConnectStats{New: c.newConns, P99: acc.q.connP99, HaveTiming: c.connectSum > 0}
		if c.newConns > 0 {
			win.Connect.Mean = c.connectSum / time.Duration(c.newConns)
		}
		win.Traffic = win.OfferedRPS > 0 || c.sent > 0
		win.SLOMet = !win.Traffic || meetsSLO(&win, slo)
		out[i] = win
	}
	return out
}

// shape is what the plan says of one window, before any result is read.
type shape struct {
	length             time.Duration
	full, steady, ramp bool
	stage              int
	exact              bool    // the plan knows the offered rate here
	offered            float64 // planned hits per second, when exact
}

// windowShape is window i's place in the plan; ok is false outside it
// (end is the plan's end, or where the run stopped).
func windowShape(p *rundir.Plan, i int, width, end time.Duration) (shape, bool) {
	a := time.Duration(i) * width
	if p == nil || a >= end {
		return shape{}, false
	}
	sh := shape{length: width, stage: -1}
	if a+width > end {
		sh.length = end - a
	} else {
		sh.full = true
	}
	if si := p.SegAt(a + sh.length/2); si >= 0 {
		sg := p.Segs[si]
		sh.stage = sg.Stage
		inside := sg.Start <= a && a+sh.length <= sg.Start+sg.Dur
		sh.steady = sh.full && inside && sg.Steady()
		sh.ramp = !sg.Unknown && sg.R0 != sg.R1
	}
	if knownOver(p, a, a+sh.length) {
		sh.exact = true
		sh.offered = (p.Hits(a+sh.length) - p.Hits(a)) / sh.length.Seconds()
	}
	return sh, true
}

// meetsSLO: success ratio and latency percentile within the SLO, and the
// load actually offered (at least half the planned hits sent).
func meetsSLO(win *Window, slo rundir.SLO) bool {
	if win.Sent == 0 {
		return false
	}
	planned := win.OfferedRPS * win.Length.Seconds()
	if planned >= 5 && float64(win.Sent) < planned/2 {
		return false
	}
	return win.SuccessRatio >= slo.SuccessRatio && win.LatencyAtSLO <= slo.Latency
}

func timingMeans(c *counts) *TimingMeans {
	if c.timingN == 0 {
		return nil
	}
	n := float64(c.timingN)
	d := func(sum float64) time.Duration { return msDur(sum / n) }
	t := &TimingMeans{N: c.timingN, Pool: d(c.pool), DB: d(c.db), App: d(c.app), Hash: d(c.hash),
		PoolMax: msDur(c.poolMax), AppNet: d(c.appNet), Unexplained: d(c.gap)}
	if tot := c.gap + c.app; tot > 0 {
		t.NetworkShareOfClient = c.gap / tot
	}
	return t
}

func msDur(v float64) time.Duration { return time.Duration(math.Round(v * 1e6)) }

// buildStages summarises each planned stage.
func buildStages(w *windower, p *rundir.Plan) []StageSummary {
	var spans []rundir.StageSpan
	if p != nil {
		spans = p.Stages
	}
	n := max(len(spans), len(w.stages))
	out := make([]StageSummary, n)
	for i := range out {
		var s StageSummary
		s.Index, s.Name = i, fmt.Sprintf("stage %d", i+1)
		if i < len(spans) {
			sp := spans[i]
			s.Name, s.Kind, s.Start, s.Duration = sp.Name, sp.Kind, sp.Start, sp.Duration
			s.RateStart, s.RateEnd = sp.RateStart, sp.RateEnd
			if sp.Duration > 0 {
				s.OfferedRPS = (p.Hits(sp.Start+sp.Duration) - p.Hits(sp.Start)) / sp.Duration.Seconds()
			}
		}
		if i < len(w.stages) {
			st := &w.stages[i]
			s.Sent, s.OK, s.ExpectedRejects, s.Failed = st.sent, st.ok, st.rejects, st.failed
			s.SuccessRatio = st.successRatio()
			s.Errors = st.errors()
			if st.hist.TotalCount() > 0 {
				s.P50 = time.Duration(st.hist.ValueAtQuantile(50)) * time.Microsecond
				s.P99 = time.Duration(st.hist.ValueAtQuantile(99)) * time.Microsecond
			}
			if s.Duration > 0 {
				s.AchievedRPS = float64(st.sent) / s.Duration.Seconds()
			}
		}
		out[i] = s
	}
	return out
}

func buildTotals(w *windower) Figures {
	c := &w.total
	q := w.totalHists.quantiles(w.sloPct, &w.total)
	return Figures{Sent: c.sent, OK: c.ok, ExpectedRejects: c.rejects, Failed: c.failed,
		SuccessRatio: c.successRatio(), P50: q.p50, P90: q.p90, P99: q.p99, Max: c.maxLat,
		LatencyAtSLO: q.atSLO, SendLagP99: q.lagP99, Errors: c.errors(), Details: c.details()}
}
