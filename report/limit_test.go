package report

import (
	"testing"
	"time"

	"github.com/stampede-load/stampede/report/format"
	"github.com/stampede-load/stampede/report/reporttest"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

func TestLimitClean(t *testing.T) {
	r := analyzeDir(t, reporttest.CleanRun(t).Write())
	l := r.Limit
	if l.SustainableRPS == nil || *l.SustainableRPS != 40 || l.BreakingRPS != nil {
		t.Errorf("sustainable %v breaking %v: want 40 and nil", ptrStr(l.SustainableRPS), ptrStr(l.BreakingRPS))
	}
	if l.MaxGoodputRPS != 36 { // 40/s with a tenth expected rejects
		t.Errorf("max goodput %g, want 36", l.MaxGoodputRPS)
	}
	if l.KneeRPS != nil {
		t.Errorf("knee %g on flat latency: want none", *l.KneeRPS)
	}
	if l.PrecisionRPS == nil || *l.PrecisionRPS != 10 {
		t.Errorf("precision %v (%s): want the 10/s step", ptrStr(l.PrecisionRPS), l.Precision)
	}
}

func TestLimitStepped(t *testing.T) {
	r := analyzeDir(t, reporttest.DBCapRun(t).Write())
	l := r.Limit
	if l.SustainableRPS == nil || *l.SustainableRPS != 30 {
		t.Errorf("sustainable %v, want 30", ptrStr(l.SustainableRPS))
	}
	if l.BreakingRPS == nil || *l.BreakingRPS != 40 || l.BreakingAt != 15*time.Second {
		t.Errorf("breaking %v at %s, want 40 at 15s", ptrStr(l.BreakingRPS), l.BreakingAt)
	}
	if l.MaxGoodputRPS != 48 {
		t.Errorf("max goodput %g, want 48 (60/s with a fifth failing)", l.MaxGoodputRPS)
	}
	if l.KneeRPS == nil || *l.KneeRPS != 40 {
		t.Errorf("knee %v, want 40", ptrStr(l.KneeRPS))
	}
	if l.PrecisionRPS == nil || *l.PrecisionRPS != 10 {
		t.Errorf("precision %v, want 10", ptrStr(l.PrecisionRPS))
	}
	if r.Verdict != "fail" {
		t.Errorf("verdict %q, want fail", r.Verdict)
	}
}

// On a ramp, latency flat at 10 ms up to 70/s then climbing: the knee is
// near 70/s, and ramp windows measure the limit.
func TestLimitRampKnee(t *testing.T) {
	const sc = "stages:\n  - ramp: {from: 10, to: 100, for: 30s}\nslo: {latency: 200ms}\n"
	b := reporttest.New(t, sc)
	p := reporttest.Plan(t, sc)
	b.Stages(p)
	b.Traffic(p, 0, 30, func(at float64) reporttest.Hit {
		rate := 10 + 3*at
		lat := 10 * time.Millisecond
		if rate > 70 {
			lat += time.Duration((rate - 70) * float64(10*time.Millisecond))
		}
		return reporttest.Hit{Lat: lat}
	})
	r := analyzeDir(t, b.Write())
	l := r.Limit
	if l.KneeRPS == nil || *l.KneeRPS < 68 || *l.KneeRPS > 76 {
		t.Errorf("knee %v, want about 70", ptrStr(l.KneeRPS))
	}
	if l.BreakingRPS == nil || *l.BreakingRPS < 85 || *l.BreakingRPS > 92 {
		t.Errorf("breaking %v, want where latency crosses 200 ms (about 89)", ptrStr(l.BreakingRPS))
	}
	if l.Method == "" || l.PrecisionRPS == nil {
		t.Errorf("method %q precision %v", l.Method, ptrStr(l.PrecisionRPS))
	}
}

// A constant rate degraded for a while, then healthy again: no breaking
// point (it did not stay failed).
func TestLimitTransientFailure(t *testing.T) {
	const sc = "stages:\n  - constant: {rate: 20, for: 20s}\n"
	b := reporttest.New(t, sc)
	p := reporttest.Plan(t, sc)
	b.Stages(p)
	b.Traffic(p, 0, 20, func(at float64) reporttest.Hit {
		if at >= 5 && at < 10 {
			return reporttest.Hit{Lat: 2 * time.Second, Outcome: rundir.OutcomeFailed, Class: "client_timeout"}
		}
		return reporttest.Hit{Lat: 10 * time.Millisecond}
	})
	r := analyzeDir(t, b.Write())
	if r.Limit.BreakingRPS != nil || r.Limit.SustainableRPS == nil || *r.Limit.SustainableRPS != 20 {
		t.Errorf("breaking %v sustainable %v: want nil and 20", ptrStr(r.Limit.BreakingRPS), ptrStr(r.Limit.SustainableRPS))
	}
}

func ptrStr(v *float64) string {
	if v == nil {
		return "nil"
	}
	return format.Num(*v)
}

// A service with a capacity of 60 logins/s (one at a time, 1/60 s each,
// first come first served) under a ramp from 20 to 120/s: past 60/s the
// queue grows, every login still succeeds, latency crosses the SLO's
// 500 ms only some seconds later. Counted by send time, the windows after
// the break keep up with the offered rate; the service completed 60/s.
// The sustainable rate from the ramp is the capacity, within 10%.
func TestLimitRampQueueIsTheCapacity(t *testing.T) {
	const sc = "stages:\n  - ramp: {from: 20, to: 120, for: 30s}\nslo: {latency: 500ms}\n"
	b := reporttest.New(t, sc)
	p := reporttest.Plan(t, sc)
	b.Stages(p)
	const service = time.Second / 60
	var free float64 // when the service is free, s
	b.Traffic(p, 0, 30, func(at float64) reporttest.Hit {
		start := max(at, free)
		free = start + service.Seconds()
		return reporttest.Hit{Lat: time.Duration((free - at) * float64(time.Second))}
	})
	r := analyzeDir(t, b.Write())
	l := r.Limit
	if l.SustainableRPS == nil || *l.SustainableRPS < 54 || *l.SustainableRPS > 66 {
		t.Errorf("sustainable %v, want the capacity, 60/s within 10%% (%s)", ptrStr(l.SustainableRPS), l.Method)
	}
}
