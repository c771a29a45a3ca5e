package rundir

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestLineRoundTrip(t *testing.T) {
	start := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	idx := 2
	in := FaultEvent{Type: EventFaultRevert, Index: &idx, Fault: "db.conn_limit{limit=4}", Kind: "db.conn_limit", Reason: "end"}
	b, err := Line(in, start.Add(1500*time.Millisecond), start)
	if err != nil {
		t.Fatal(err)
	}
	var h Header
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	if h.Type != EventFaultRevert || h.T == nil || *h.T != 1.5 || !h.Time.Equal(start.Add(1500*time.Millisecond)) {
		t.Fatalf("header %+v from %s", h, b)
	}
	var out FaultEvent
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Index == nil || *out.Index != 2 || out.Kind != in.Kind || out.Reason != "end" || out.Fault != in.Fault {
		t.Fatalf("read back %+v from %s", out, b)
	}
	// an event with no fields, and no start: no t
	b, err = Line(RunEndEvent{}, start, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if _, has := m["t"]; has || m["type"] != EventRunEnd {
		t.Fatalf("%s", b)
	}
}

func TestPlanHitsAndRates(t *testing.T) {
	p, err := FromStages([]StageSpec{
		{Kind: KindConstant, Rate: 10, Duration: 2 * time.Second},
		{Kind: KindRamp, From: 10, To: 30, Duration: 2 * time.Second, Name: "surge"},
		{Kind: KindSteps, From: 10, To: 30, Step: 10, Hold: time.Second},
		{Kind: KindSpike, Base: 5, Peak: 50, Duration: 3 * time.Second, At: time.Second, SpikeFor: time.Second},
	}, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at    time.Duration
		hits  float64
		rate  float64
		stage int
	}{
		{0, 0, 20, 0},
		{2 * time.Second, 40, 20, 1},
		{3 * time.Second, 40 + 20 + 10, 40, 1}, // ramp 20→60 over 2 s: 20·1 + 40·1²/(2·2) in its first second
		{4 * time.Second, 40 + 80, 20, 2},      // the ramp's 80 hits
		{7 * time.Second, 40 + 80 + 20 + 40 + 60, 10, 3},
		{8 * time.Second, 240 + 10, 100, 3},
		{10 * time.Second, 240 + 10 + 100 + 10, 0, 3}, // the end
	} {
		if h := p.Hits(tc.at); math.Abs(h-tc.hits) > 1e-9 {
			t.Errorf("Hits(%s) = %g, want %g", tc.at, h, tc.hits)
		}
		if r := p.Rate(tc.at); math.Abs(r-tc.rate) > 1e-9 {
			t.Errorf("Rate(%s) = %g, want %g", tc.at, r, tc.rate)
		}
		if s := p.StageAt(tc.at); s != tc.stage {
			t.Errorf("StageAt(%s) = %d, want %d", tc.at, s, tc.stage)
		}
	}
	if p.Total != 10*time.Second || p.Peak() != 100 || p.Stages[1].Name != "surge" || p.Stages[0].Name != "constant 1" {
		t.Fatalf("plan %+v", p.Stages)
	}
	if p.Stages[2].Duration != 3*time.Second || p.Stages[2].Step != 20 {
		t.Fatalf("steps span %+v", p.Stages[2])
	}
	// OffsetOf inverts HitsAt on a ramp.
	s := p.Segs[1]
	for _, m := range []float64{0, 1, 17.5, 79} {
		if got := s.HitsAt(s.OffsetOf(m)); math.Abs(got-m) > 1e-6 {
			t.Errorf("HitsAt(OffsetOf(%g)) = %g", m, got)
		}
	}
}

func TestPlanErrors(t *testing.T) {
	for _, st := range []StageSpec{
		{Kind: KindSteps, From: 0, To: 1e6, Step: 1, Hold: time.Second},
		{Kind: KindSteps, From: 10, To: 5, Step: 1, Hold: time.Second},
		{Kind: KindSpike, Base: 1, Peak: 2, Duration: time.Second, At: time.Second, SpikeFor: time.Second},
		{Kind: KindConstant, Rate: 2e9, Duration: time.Second},
		{Kind: "wave", Duration: time.Second},
		{Kind: KindConstant, Rate: 1},
	} {
		if _, err := FromStages([]StageSpec{st}, 1); err == nil {
			t.Errorf("FromStages(%+v) accepted", st)
		}
	}
}

func TestSLODefaultsAndDuration(t *testing.T) {
	if s := (SLO{}).WithDefaults(); s.SuccessRatio != 0.99 || s.Percentile != 99 || s.Latency != 500*time.Millisecond {
		t.Fatalf("%+v", s)
	}
	var f Fixture
	if err := json.Unmarshal([]byte(`{"db_hold":"20ms"}`), &f); err != nil || time.Duration(f.DBHold) != 20*time.Millisecond {
		t.Fatalf("%v %v", f.DBHold, err)
	}
	if err := json.Unmarshal([]byte(`{"db_hold":5000000}`), &f); err != nil || time.Duration(f.DBHold) != 5*time.Millisecond {
		t.Fatalf("%v %v", f.DBHold, err)
	}
}

func TestPlanTimeOf(t *testing.T) {
	p, err := FromStages([]StageSpec{
		{Kind: KindConstant, Rate: 10, Duration: 2 * time.Second},
		{Kind: KindRamp, From: 10, To: 30, Duration: 2 * time.Second},
	}, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		k    float64
		want time.Duration
		ok   bool
	}{
		{0, 0, true},
		{1, 100 * time.Millisecond, true},
		{20, 2 * time.Second, true}, // the ramp's first hit
		{20 + 40 - 1, 0, true},      // checked by Hits below
		{60, 0, false},              // past the last hit
		{-1, 0, false},
	} {
		at, ok := p.TimeOf(tc.k)
		if ok != tc.ok {
			t.Errorf("TimeOf(%g) ok = %v", tc.k, ok)
			continue
		}
		if !ok {
			continue
		}
		if tc.want != 0 && at != tc.want {
			t.Errorf("TimeOf(%g) = %s, want %s", tc.k, at, tc.want)
		}
		if h := p.Hits(at); math.Abs(h-tc.k) > 1e-6 {
			t.Errorf("Hits(TimeOf(%g)) = %g", tc.k, h)
		}
	}
}
