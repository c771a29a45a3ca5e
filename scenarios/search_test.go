package scenarios

import (
	"strings"
	"testing"
	"time"
)

var testSearch = Search{From: 20, Factor: 1.5, Precision: 0.05, Budget: 3 * time.Minute, MaxRate: 1000,
	Warmup: 2 * time.Second, Hold: 3 * time.Second, MinRequests: 200}

func TestTrialHold(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		want time.Duration
	}{
		{1000, 3 * time.Second}, // 3,000 requests: the minimum time rules
		{200 / 3.0, 3 * time.Second},
		{50, 4 * time.Second}, // 200 requests take 4s
		{20, 10 * time.Second},
		{3, 66666666667}, // 200/3 s, rounded up to the nanosecond
	} {
		if got := testSearch.TrialHold(tc.rate); got != tc.want {
			t.Errorf("trialHold(%g) = %s, want %s", tc.rate, got, tc.want)
		}
	}
}

func TestSearchSettings(t *testing.T) {
	sc := &Scenario{MaxRate: 500, Stages: []Stage{{Kind: StageRamp, From: 40, To: 400, Duration: time.Minute}}}
	c, err := sc.SearchSettings()
	if err != nil {
		t.Fatal(err)
	}
	if c.From != 40 || c.MaxRate != 500 || c.Factor != 1.5 || c.Precision != 0.05 || c.Budget != 3*time.Minute || c.MinRequests != 200 {
		t.Errorf("defaults not resolved: %+v", c)
	}
	for _, tc := range []struct {
		name   string
		search Search
		want   string
	}{
		{"above the safety cap", Search{MaxRate: 600}, "above max_rate (500/s), the safety cap"},
		{"from above max", Search{From: 300, MaxRate: 200}, "search.from (300/s) is above"},
		{"budget too small", Search{From: 10, Budget: 10 * time.Second, Warmup: 2 * time.Second}, "no room for the first trial at 10/s"},
	} {
		sc.Search = tc.search
		if _, err := sc.SearchSettings(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// events records timeline events in memory.
