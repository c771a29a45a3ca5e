package engine

import (
	"strconv"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stampede-load/stampede/scenarios/rundir"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// newHistogram covers 1µs to 2 minutes at 3 significant figures.
func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(2*time.Minute/time.Microsecond), 3)
}

type stageAcc struct {
	sum  rundir.StageSummary
	hist *hdrhistogram.Histogram
}

// stats aggregates results as they arrive: per stage, and for the live
// display over the last second. Memory is bounded whatever the run's length.
type stats struct {
	mu     sync.Mutex
	pacer  schedule
	stages []stageAcc // grown as stages come: a search adds them as it goes

	// live window
	winStart          time.Time
	cur, prev         liveWindow
	total, totalFails int64
}

type liveWindow struct {
	n, fails int64
	hist     *hdrhistogram.Histogram
}

// Live is a snapshot for the progress display.
type Live struct {
	Elapsed    time.Duration
	Stage      int
	OfferedRPS float64
	// AchievedRPS, P99 and ErrorRatio are over the last whole second.
	AchievedRPS float64
	P99         time.Duration
	ErrorRatio  float64
	Total       int64
	Failed      int64
	// InFlight is the requests sent and not yet answered.
	InFlight int64

	// StageName names the stage in force, as the plan stood at the start
	// (a search's later trials are not named); Planned is the plan's
	// length as it stood at the start (a search's budget).
	StageName string
	Planned   time.Duration
	// Note is a search's state ("trial 3 45/s hold"); empty otherwise.
	Note string
}

func newStats(p schedule) *stats {
	st := &stats{pacer: p}
	st.grow(len(p.Stages()))
	st.cur.hist, st.prev.hist = newHistogram(), newHistogram()
	return st
}

// grow makes room for n stages; the plan's figures are filled in by summaries.
func (st *stats) grow(n int) {
	for len(st.stages) < n {
		st.stages = append(st.stages, stageAcc{sum: rundir.StageSummary{ErrorClasses: map[string]int{}}, hist: newHistogram()})
	}
}

func (st *stats) add(start time.Time, res *vegeta.Result, outcome rundir.Outcome, errClass string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	el := res.Timestamp.Sub(start)
	i := st.pacer.StageAt(el)
	st.grow(i + 1)
	acc := &st.stages[i]
	acc.sum.Sent++
	switch outcome {
	case rundir.OutcomeOK:
		acc.sum.OK++
	case rundir.OutcomeExpectedReject:
		acc.sum.ExpectedRejects++
	default:
		acc.sum.Failed++
		if errClass == "" {
			errClass = "http_" + strconv.Itoa(int(res.Code))
		}
		acc.sum.ErrorClasses[errClass]++
	}
	us := res.Latency.Microseconds()
	_ = acc.hist.RecordValue(us)

	// live: roll the one-second window
	sec := res.Timestamp.Truncate(time.Second)
	if st.winStart.IsZero() {
		st.winStart = sec
	}
	if sec.After(st.winStart) {
		st.prev, st.cur = st.cur, st.prev
		if sec.Sub(st.winStart) > time.Second { // a silent second in between
			st.prev.reset()
		}
		st.cur.reset()
		st.winStart = sec
	}
	st.cur.n++
	st.total++
	_ = st.cur.hist.RecordValue(us)
	if outcome == rundir.OutcomeFailed {
		st.cur.fails++
		st.totalFails++
	}
}

func (w *liveWindow) reset() {
	w.n, w.fails = 0, 0
	w.hist.Reset()
}

func (st *stats) live(elapsed time.Duration) Live {
	st.mu.Lock()
	defer st.mu.Unlock()
	planned := elapsed // the last frame comes after the plan's end: show its last rate
	if d := st.pacer.Duration(); planned >= d && d > 0 {
		planned = d - time.Nanosecond
	}
	l := Live{Elapsed: elapsed, Stage: st.pacer.StageAt(planned), OfferedRPS: st.pacer.Rate(planned),
		Total: st.total, Failed: st.totalFails}
	if st.prev.n > 0 {
		l.AchievedRPS = float64(st.prev.n)
		l.P99 = time.Duration(st.prev.hist.ValueAtQuantile(99)) * time.Microsecond
		l.ErrorRatio = float64(st.prev.fails) / float64(st.prev.n)
	}
	return l
}

// summaries closes the stage accumulators, with the plan's figures of
// each stage as the plan stands now.
func (st *stats) summaries() []rundir.StageSummary {
	st.mu.Lock()
	defer st.mu.Unlock()
	stages := st.pacer.Stages()
	st.grow(len(stages))
	out := make([]rundir.StageSummary, len(stages))
	var at time.Duration
	for i, acc := range st.stages[:len(stages)] {
		s := acc.sum
		d := stages[i].Duration
		planned := st.pacer.Hits(at+d) - st.pacer.Hits(at)
		s.Index, s.Name, s.Kind, s.Start, s.Duration, s.PlannedHits = i, stages[i].Name, string(stages[i].Kind), at, d, planned
		s.OfferedRPS = planned / d.Seconds()
		at += d
		if s.Duration > 0 {
			s.AchievedRPS = float64(s.Sent) / s.Duration.Seconds()
		}
		if s.Sent > 0 {
			s.SuccessRatio = float64(s.OK+s.ExpectedRejects) / float64(s.Sent)
			s.P50 = time.Duration(acc.hist.ValueAtQuantile(50)) * time.Microsecond
			s.P99 = time.Duration(acc.hist.ValueAtQuantile(99)) * time.Microsecond
		}
		out[i] = s
	}
	return out
}
