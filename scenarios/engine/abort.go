package engine

import (
	"math"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// The runner judges the SLO live, as the report does afterwards: hits are
// bucketed by their planned send time, and latency is counted from it
// (send lag + latency, no coordinated omission). A stretch of planned send
// times [a, b) is judged once its hits are due back: at b plus a grace of
// the SLO latency. A planned hit whose result is not back by then took
// longer than the SLO latency, whether it is in flight or was never sent,
// so it counts as slow: the verdict needs no guess about stragglers.

// sloTally counts the results of one stretch of planned send times.
type sloTally struct {
	received, good, over int64
	hist                 *hdrhistogram.Histogram // intended latency, µs
}

func newSLOTally() *sloTally { return &sloTally{hist: newHistogram()} }

// add records one result: its intended latency, and whether it counts as
// good (a success or an expected reject).
func (t *sloTally) add(slo rundir.SLO, intended time.Duration, good bool) {
	t.received++
	if good {
		t.good++
	}
	if intended > slo.Latency {
		t.over++
	}
	_ = t.hist.RecordValue(max(intended.Microseconds(), 1))
}

// SLOVerdict is the SLO's judgement of one stretch of planned send times.
type SLOVerdict struct {
	Planned  int64 // hits the plan put in the stretch
	Received int64 // results back by the judgement
	// Missing are planned hits not back by the judgement: each took longer
	// than the SLO latency.
	Missing int64
	// SuccessRatio is good results over results received; 0 with none.
	SuccessRatio float64
	// Latency is the SLO percentile of the intended latency, missing hits
	// counted at their age when judged (a lower bound).
	Latency time.Duration
	// P99 is the 99th percentile of the same (Latency when the SLO is about p99).
	P99 time.Duration
	// MaxLatency is the longest intended latency seen, missing hits at their age.
	MaxLatency time.Duration
	Met        bool
}

// Traffic reports whether the stretch had anything to judge.
func (v SLOVerdict) Traffic() bool { return v.Planned > 0 || v.Received > 0 }

// sloMet is the SLO decision from counts alone: of max(planned, received)
// hits, the missing and the received over the SLO latency are slow, and
// the SLO percentile is within the latency when the slow ones are at most
// the share above it (p99: 1%). The success ratio is over the received.
func sloMet(slo rundir.SLO, planned, received, good, over int64) (met bool, successRatio float64) {
	total := max(planned, received)
	if received > 0 {
		successRatio = float64(good) / float64(received)
	}
	if total == 0 || received == 0 {
		return false, successRatio
	}
	slow := over + (total - received)
	latencyOK := float64(slow) <= (1-slo.Percentile/100)*float64(total)+1e-9
	return latencyOK && successRatio >= slo.SuccessRatio-1e-12, successRatio
}

// verdict judges the tally of a stretch whose plan put planned hits in it;
// missingAge is how long the missing hits have been due, at least. It is
// the tally's last use: the missing hits join its histogram.
func (t *sloTally) verdict(slo rundir.SLO, planned int64, missingAge time.Duration) SLOVerdict {
	v := SLOVerdict{Planned: planned, Received: t.received, Missing: max(0, planned-t.received)}
	v.Met, v.SuccessRatio = sloMet(slo, planned, t.received, t.good, t.over)
	if v.Missing > 0 {
		_ = t.hist.RecordValues(max(missingAge.Microseconds(), 1), v.Missing)
	}
	if t.hist.TotalCount() > 0 {
		at := func(q float64) time.Duration { return time.Duration(t.hist.ValueAtQuantile(q)) * time.Microsecond }
		v.Latency, v.P99 = at(slo.Percentile), at(99)
		v.MaxLatency = time.Duration(t.hist.Max()) * time.Microsecond
	}
	return v
}

// abortDue decides from the verdicts of the last judged seconds (oldest
// first; seconds without traffic left out) whether the abort rule holds:
// at least ratio of the last After's whole seconds failed. It returns the
// failed seconds and the window's size in seconds.
func abortDue(rule scenarios.Abort, recent []bool) (abort bool, failed, window int) {
	window = int(rule.After / time.Second)
	if window < 1 {
		window = 1
	}
	ratio := rule.Ratio
	if ratio <= 0 || ratio > 1 {
		ratio = 1
	}
	if len(recent) < window {
		return false, 0, window
	}
	for _, met := range recent[len(recent)-window:] {
		if !met {
			failed++
		}
	}
	need := max(1, int(math.Ceil(ratio*float64(window)-1e-9)))
	return failed >= need, failed, window
}

// secondVerdict is one judged second of planned send time.
type secondVerdict struct {
	Second int64 // index: [Second, Second+1) seconds from the start
	SLOVerdict
}

// abortWatch judges each second of planned send time once its hits are
// due back and applies the abort rule to the last ones.
type abortWatch struct {
	rule    scenarios.Abort
	slo     rundir.SLO
	grace   time.Duration
	pending map[int64]*sloTally
	next    int64 // the first second not judged yet
	recent  []secondVerdict
	fired   bool
}

func newAbortWatch(rule scenarios.Abort, slo rundir.SLO, timeout time.Duration) *abortWatch {
	return &abortWatch{rule: rule, slo: slo, grace: scenarios.JudgeGrace(slo.Latency, timeout), pending: map[int64]*sloTally{}}
}

// add records a result by its planned send time.
func (w *abortWatch) add(due, intended time.Duration, good bool) {
	s := int64(due / time.Second)
	if s < w.next {
		return // judged already: it counted as missing
	}
	t := w.pending[s]
	if t == nil {
		t = newSLOTally()
		w.pending[s] = t
	}
	t.add(w.slo, intended, good)
}

// judge judges every second due back by now (elapsed on the plan's
// clock); hitsBefore counts the plan's hits due before a time. It returns
// true, once, when the abort rule holds.
func (w *abortWatch) judge(now time.Duration, hitsBefore func(time.Duration) uint64) bool {
	if w.fired {
		return false
	}
	for ; time.Duration(w.next+1)*time.Second+w.grace <= now; w.next++ {
		a, b := time.Duration(w.next)*time.Second, time.Duration(w.next+1)*time.Second
		t := w.pending[w.next]
		if t == nil {
			t = newSLOTally()
		}
		delete(w.pending, w.next)
		v := t.verdict(w.slo, int64(hitsBefore(b))-int64(hitsBefore(a)), now-b)
		if !v.Traffic() {
			continue
		}
		w.recent = append(w.recent, secondVerdict{Second: w.next, SLOVerdict: v})
		if n := int(w.rule.After/time.Second) + 1; len(w.recent) > n {
			w.recent = w.recent[len(w.recent)-n:]
		}
		met := make([]bool, len(w.recent))
		for i, r := range w.recent {
			met[i] = r.Met
		}
		if ok, _, _ := abortDue(w.rule, met); ok {
			w.fired = true
			w.next++
			return true
		}
	}
	return false
}

// event is the abort's timeline record: the rule and the seconds that
// made it hold.
func (w *abortWatch) event() rundir.AbortEvent {
	met := make([]bool, len(w.recent))
	for i, r := range w.recent {
		met[i] = r.Met
	}
	_, failed, window := abortDue(w.rule, met)
	var secs []rundir.AbortSecond
	for _, r := range w.recent[max(0, len(w.recent)-window):] {
		secs = append(secs, rundir.AbortSecond{SecondS: r.Second, Planned: r.Planned, Received: r.Received,
			Missing: r.Missing, SuccessRatio: round6(r.SuccessRatio), P99MS: ms3(r.P99), SLOLatencyMS: ms3(r.Latency), SLOMet: r.Met})
	}
	ratio := w.rule.Ratio
	if ratio <= 0 {
		ratio = 1
	}
	return rundir.AbortEvent{AfterS: w.rule.After.Seconds(), Ratio: ratio, WindowSeconds: window,
		FailedSeconds: failed, Seconds: secs,
		SLO: rundir.AbortSLO{SuccessRatio: w.slo.SuccessRatio, Percentile: w.slo.Percentile, LatencyMS: ms3(w.slo.Latency)}}
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// ms3 is a duration in milliseconds, to the microsecond.
func ms3(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
