package report

import (
	"strings"
	"testing"
	"time"
)

// Little's law from Server-Timing: 50 ms of db time per login at a target
// of 100/s keeps 5 connections busy; 7 with 30% headroom.
func TestRecommendSizingFromServerTiming(t *testing.T) {
	const sc = "stages:\n  - constant: {rate: 40, for: 10s}\n"
	b := newRunDir(t, sc)
	p := mustPlan(t, sc)
	b.stages(p)
	b.traffic(p, 0, 10, func(float64) hitSpec { return hitSpec{lat: 60 * time.Millisecond, timing: timingHdr(0.2, 50, 3, 56)} })
	b.dbSamples(0, 10, normalDB)
	dir := b.write()
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
	b := newRunDir(t, steppedScenario)
	b.manifest["fixture"] = map[string]any{"db_pool": 10, "db_hold": "20ms", "max_connections": 100}
	p := mustPlan(t, steppedScenario)
	b.stages(p)
	b.traffic(p, 0, 30, func(at float64) hitSpec {
		if at >= 15 && int(at*100)%5 == 0 {
			return hitSpec{lat: 5 * time.Second, outcome: OutcomeFailed, class: "client_timeout"}
		}
		return hitSpec{lat: 10 * time.Millisecond}
	})
	r := analyzeDir(t, b.write())
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
	b := newRunDir(t, sc)
	p := mustPlan(t, sc)
	b.stages(p)
	i := 0
	b.traffic(p, 0, 18, func(at float64) hitSpec {
		i++
		h := hitSpec{lat: 10 * time.Millisecond, timing: timingHdr(0.1, 5, 2, 8)}
		if at >= 9 {
			h.lat, h.timing = 60*time.Millisecond, timingHdr(45, 5, 2, 55)
		}
		if at >= 12 && i%4 == 0 {
			h = hitSpec{lat: 3 * time.Millisecond, outcome: OutcomeFailed, code: 503, body: `{"error":"db_unavailable","sqlstate":"53300"}`}
		}
		return h
	})
	role := []int{4, 7, 10, 14, 20, 20}
	b.dbSamples(0, 18, func(s int) map[string]any {
		m := normalDB(s)
		m["role_backends"], m["role_limit"] = role[s/3], 20
		return m
	})
	r := analyzeDir(t, b.write())
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
