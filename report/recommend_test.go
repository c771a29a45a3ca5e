package report

import (
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/report/reporttest"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// Little's law from Server-Timing: 50 ms of db time per login at a target
// of 100/s keeps 5 connections busy; 7 with 30% headroom.
func TestRecommendSizingFromServerTiming(t *testing.T) {
	const sc = "stages:\n  - constant: {rate: 40, for: 10s}\n"
	b := reporttest.New(t, sc)
	p := reporttest.Plan(t, sc)
	b.Stages(p)
	b.Traffic(p, 0, 10, func(float64) reporttest.Hit {
		return reporttest.Hit{Lat: 60 * time.Millisecond, Timing: reporttest.TimingHdr(0.2, 50, 3, 56)}
	})
	b.DBSamples(0, 10, reporttest.NormalDB)
	dir := b.Write()
	r, err := Analyze(dir, Options{TargetRPS: 100})
	if err != nil {
		t.Fatal(err)
	}
	rec := r.Recommend
	if rec.HoldTime != 50*time.Millisecond || !strings.HasPrefix(rec.HoldSource, "Server-Timing db") {
		t.Errorf("hold %s from %q", rec.HoldTime, rec.HoldSource)
	}
	if len(rec.Sizing) != 1 || rec.Sizing[0].RPS != 100 || rec.Sizing[0].Busy != 5 || rec.Sizing[0].Connections != 7 {
		t.Errorf("sizing %+v", rec.Sizing)
	}
	if !strings.Contains(joined(rec.Lines), "the service's pool of 10, supports about 200/s") {
		t.Errorf("lines:\n%s", joined(rec.Lines))
	}
}

// Without Server-Timing the hold time is estimated from the pool size in
// the manifest and the limit: 10 connections / 35/s (between 30 and 40).
func TestRecommendHoldEstimatedFromLimit(t *testing.T) {
	b := reporttest.New(t, reporttest.SteppedScenario)
	b.Manifest["fixture"] = map[string]any{"db_pool": 10, "db_hold": "20ms", "max_connections": 100}
	p := reporttest.Plan(t, reporttest.SteppedScenario)
	b.Stages(p)
	b.Traffic(p, 0, 30, func(at float64) reporttest.Hit {
		if at >= 15 && int(at*100)%5 == 0 {
			return reporttest.Hit{Lat: 5 * time.Second, Outcome: rundir.OutcomeFailed, Class: "client_timeout"}
		}
		return reporttest.Hit{Lat: 10 * time.Millisecond}
	})
	r := analyzeDir(t, b.Write())
	rec := r.Recommend
	pool, capacity := 10.0, 35.0
	want := time.Duration(pool / capacity * float64(time.Second))
	if rec.HoldTime != want || !strings.HasPrefix(rec.HoldSource, "estimated: the fixture's pool of 10") {
		t.Errorf("hold %s from %q, want %s estimated", rec.HoldTime, rec.HoldSource, want)
	}
	if r.Fixture == nil || r.Fixture.DBHold != 20*time.Millisecond {
		t.Errorf("fixture %+v", r.Fixture)
	}
	if len(rec.Alerts) != 0 || !strings.Contains(joined(rec.Lines), "need database samples") {
		t.Errorf("no samples: want no alerts and a line saying why:\n%s", joined(rec.Lines))
	}
}

// Alerts: warn at the utilisation where latency turned (the knee), page
// where errors began.
func TestRecommendAlerts(t *testing.T) {
	const sc = "stages:\n  - steps: {from: 10, to: 60, step: 10, hold: 3s}\n"
	b := reporttest.New(t, sc)
	p := reporttest.Plan(t, sc)
	b.Stages(p)
	i := 0
	b.Traffic(p, 0, 18, func(at float64) reporttest.Hit {
		i++
		h := reporttest.Hit{Lat: 10 * time.Millisecond, Timing: reporttest.TimingHdr(0.1, 5, 2, 8)}
		if at >= 9 {
			h.Lat, h.Timing = 60*time.Millisecond, reporttest.TimingHdr(45, 5, 2, 55)
		}
		if at >= 12 && i%4 == 0 {
			h = reporttest.Hit{Lat: 3 * time.Millisecond, Outcome: rundir.OutcomeFailed, Code: 503, Body: `{"error":"db_unavailable","sqlstate":"53300"}`}
		}
		return h
	})
	role := []int{4, 7, 10, 14, 20, 20}
	b.DBSamples(0, 18, func(s int) map[string]any {
		m := reporttest.NormalDB(s)
		m["role_backends"], m["role_limit"] = role[s/3], 20
		return m
	})
	r := analyzeDir(t, b.Write())
	if r.Limit.KneeRPS == nil || *r.Limit.KneeRPS != 40 {
		t.Fatalf("knee %s, want 40", ptrStr(r.Limit.KneeRPS))
	}
	a := r.Recommend.Alerts
	if len(a) != 2 || a[0].Name != "warn" || a[0].Utilisation != 0.7 || a[1].Name != "page" || a[1].Utilisation != 1 {
		t.Fatalf("alerts %+v", a)
	}
	if !strings.Contains(a[0].Metric, "role") || !strings.Contains(a[0].Why, "latency turned upward at 70%") {
		t.Errorf("warn %+v", a[0])
	}
}

// A latency turn caused by the network says nothing about connection
// utilisation: the alerts come from the db.connections windows only, and
// the cap that bound is the role's limit of 4 in force at the breaking
// point, not the service's pool of 10 seen on the healthy windows.
func TestRecommendIgnoresNetworkDecoy(t *testing.T) {
	r := analyzeDir(t, reporttest.DecoyCapRun(t).Write())
	if r.Cause.Primary != CauseDBConnections {
		t.Fatalf("cause %s, want db.connections", r.Cause.Primary)
	}
	if w := r.Windows[4]; w.SLOMet || w.Cause != CauseNetClient {
		t.Fatalf("blip window 4s: met %v cause %s, want a network.client miss", w.SLOMet, w.Cause)
	}
	if r.Limit.BreakingRPS == nil || *r.Limit.BreakingRPS != 120 || r.Limit.BreakingAt != 12*time.Second {
		t.Fatalf("breaking %s at %s, want 120/s at 12s", ptrStr(r.Limit.BreakingRPS), r.Limit.BreakingAt)
	}
	lines := joined(r.Recommend.Lines)
	a := r.Recommend.Alerts
	if len(a) != 2 || a[0].Name != "warn" || a[1].Name != "page" {
		t.Fatalf("alerts %+v\n%s", a, lines)
	}
	for _, al := range a {
		if !strings.Contains(al.Metric, "role") || strings.Contains(al.Why, "(3s") || strings.Contains(al.Why, "(4s") || strings.Contains(al.Why, "(5s") {
			t.Errorf("%s alert from the network blip or the wrong cap: %+v", al.Name, al)
		}
	}
	if a[0].Utilisation != 0.8 || a[1].Utilisation != 1 {
		t.Errorf("warn %g page %g, want 0.8 (before where errors began) and 1", a[0].Utilisation, a[1].Utilisation)
	}
	if !strings.Contains(lines, "The tightest connection cap in force at the breaking point (120/s, from 12s), the role's connection limit of 4, supports about 78/s") {
		t.Errorf("cap line names the wrong cap:\n%s", lines)
	}
	if strings.Contains(lines, "the service's pool of 10") {
		t.Errorf("the pool of 10 did not bind:\n%s", lines)
	}
	if !strings.Contains(lines, "provision 8 (30% headroom): more than the role's connection limit of 4") {
		t.Errorf("sizing line does not say the cap in force is too small:\n%s", lines)
	}
}

// Without a breaking point the cap is the tightest among the degraded
// db.connections windows (the drill's role limit of 2), not the pool of 10
// on healthy windows.
func TestRecommendCapFromDegradedConnectionWindows(t *testing.T) {
	r := analyzeDir(t, reporttest.DrillRun(t).Write())
	if r.Limit.BreakingRPS != nil {
		t.Fatalf("breaking %s, want none", ptrStr(r.Limit.BreakingRPS))
	}
	if lines := joined(r.Recommend.Lines); !strings.Contains(lines, "in force while the cause was db.connections, the role's connection limit of 2") {
		t.Errorf("lines:\n%s", lines)
	}
}
