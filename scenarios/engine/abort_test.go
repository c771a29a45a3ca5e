package engine

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

var testSLO = rundir.SLO{SuccessRatio: 0.99, Percentile: 99, Latency: 300 * ms}

func TestSLOMet(t *testing.T) {
	for _, tc := range []struct {
		name                          string
		slo                           rundir.SLO
		planned, received, good, over int64
		met                           bool
		ratio                         float64
	}{
		{"all good", testSLO, 100, 100, 100, 0, true, 1},
		{"one slow of 100 is p99", testSLO, 100, 100, 100, 1, true, 1},
		{"two slow of 100", testSLO, 100, 100, 100, 2, false, 1},
		{"one missing counts slow", testSLO, 100, 99, 99, 0, true, 1},
		{"one missing and one slow", testSLO, 100, 99, 99, 1, false, 1},
		{"99% success holds", testSLO, 100, 100, 99, 0, true, 0.99},
		{"98% success fails", testSLO, 100, 100, 98, 0, false, 0.98},
		{"more received than planned", testSLO, 100, 101, 101, 1, true, 1},
		{"nothing back", testSLO, 100, 0, 0, 0, false, 0},
		{"nothing planned, nothing back", testSLO, 0, 0, 0, 0, false, 0},
		{"p90: ten slow of 100", rundir.SLO{SuccessRatio: 0.9, Percentile: 90, Latency: ms}, 100, 100, 95, 10, true, 0.95},
		{"p90: eleven slow of 100", rundir.SLO{SuccessRatio: 0.9, Percentile: 90, Latency: ms}, 100, 100, 95, 11, false, 0.95},
		{"small second: one slow of 20", testSLO, 20, 20, 20, 1, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			met, ratio := sloMet(tc.slo, tc.planned, tc.received, tc.good, tc.over)
			if met != tc.met || !closeF(ratio, tc.ratio) {
				t.Errorf("sloMet = %v, %.4f; want %v, %.4f", met, ratio, tc.met, tc.ratio)
			}
		})
	}
}

func TestSLOTallyVerdict(t *testing.T) {
	tl := newSLOTally()
	for i := 0; i < 97; i++ {
		tl.add(testSLO, 50*ms, true)
	}
	tl.add(testSLO, 400*ms, false)
	v := tl.verdict(testSLO, 100, 2*time.Second) // two missing, at least 2s old
	if v.Met || v.Missing != 2 || v.Received != 98 {
		t.Errorf("verdict %+v: want not met, 2 missing of 100", v)
	}
	if v.Latency < 2*time.Second || v.MaxLatency < 2*time.Second {
		t.Errorf("p99 %s, max %s: the missing hits count at their age (2s)", v.Latency, v.MaxLatency)
	}
	if !closeF(v.SuccessRatio, 97.0/98) {
		t.Errorf("success ratio %.4f, want 97/98", v.SuccessRatio)
	}
}

func TestAbortDue(t *testing.T) {
	const F, M = false, true
	for _, tc := range []struct {
		name   string
		rule   scenarios.Abort
		recent []bool
		abort  bool
		failed int
	}{
		{"too few seconds yet", scenarios.Abort{After: 5 * time.Second}, []bool{F, F, F, F}, false, 0},
		{"five failed in a row", scenarios.Abort{After: 5 * time.Second}, []bool{M, F, F, F, F, F}, true, 5},
		{"one good second breaks it", scenarios.Abort{After: 5 * time.Second}, []bool{F, F, M, F, F}, false, 4},
		{"only the last window counts", scenarios.Abort{After: 3 * time.Second}, []bool{F, F, F, M, M, F}, false, 1},
		{"ratio 0.8 of 5: four failed", scenarios.Abort{After: 5 * time.Second, Ratio: 0.8}, []bool{F, F, M, F, F}, true, 4},
		{"ratio 0.8 of 5: three failed", scenarios.Abort{After: 5 * time.Second, Ratio: 0.8}, []bool{F, M, M, F, F}, false, 3},
		{"ratio 0.5 of 3 rounds up to 2", scenarios.Abort{After: 3 * time.Second, Ratio: 0.5}, []bool{M, F, M}, false, 1},
		{"after rounds down to whole seconds", scenarios.Abort{After: 2500 * ms}, []bool{M, F, F}, true, 2},
		{"all good", scenarios.Abort{After: 2 * time.Second}, []bool{M, M, M}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			abort, failed, _ := abortDue(tc.rule, tc.recent)
			if abort != tc.abort || failed != tc.failed {
				t.Errorf("abortDue = %v, %d failed; want %v, %d", abort, failed, tc.abort, tc.failed)
			}
		})
	}
}

// TestAbortWatch feeds a watch results by planned send time as they come
// back, and judges on a synthetic clock: a second is judged only once its
// hits are due back, and the rule fires on the third failed second in a
// row, not before.
func TestAbortWatch(t *testing.T) {
	p := mustPacer(t, 1, constant(100, 20*time.Second))
	w := newAbortWatch(scenarios.Abort{After: 3 * time.Second}, testSLO, 5*time.Second)
	grace := scenarios.JudgeGrace(testSLO.Latency, 5*time.Second)
	// Seconds 0-1 fast; from second 2 on every hit takes 1s.
	type result struct{ due, lat time.Duration }
	var rs []result // in the order they come back
	for n := uint64(0); n < p.TotalHits(); n++ {
		due, _ := p.DueAt(n)
		lat := 20 * ms
		if due >= 2*time.Second {
			lat = time.Second
		}
		rs = append(rs, result{due, lat})
	}
	slices.SortStableFunc(rs, func(a, b result) int { return cmp.Compare(a.due+a.lat, b.due+b.lat) })
	var fired time.Duration
	for now := time.Duration(0); now < 10*time.Second; now += 100 * ms {
		for len(rs) > 0 && rs[0].due+rs[0].lat <= now {
			w.add(rs[0].due, rs[0].lat, true)
			rs = rs[1:]
		}
		if w.judge(now, p.HitsBefore) {
			fired = now
			break
		}
	}
	// Seconds 2, 3, 4 fail; second 4 is judged at 5s + grace.
	if want := 5*time.Second + grace; fired < want || fired > want+100*ms {
		t.Errorf("abort at %s, want at %s (second 4's end plus the grace)", fired, want)
	}
	ev := w.event()
	if ev.FailedSeconds != 3 || ev.WindowSeconds != 3 {
		t.Errorf("abort event %+v: want 3 of 3 seconds failed", ev)
	}
	if secs := ev.Seconds; len(secs) != 3 || secs[0].SecondS != 2 {
		t.Errorf("abort event seconds %v: want seconds 2, 3 and 4", secs)
	}
	if w.judge(20*time.Second, p.HitsBefore) {
		t.Error("the rule fired twice")
	}
}
