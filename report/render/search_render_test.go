package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/report/reporttest"
)

// A search's bracket and trials in the text report and report.json.
func TestSearchRenders(t *testing.T) {
	r := analyzeDir(t, reporttest.SearchRun(t))

	var text bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nSearch\n", "Result: sustainable ≥ 91.9/s, broken at 101.7/s (bracket 10.66%, target 15.00%; 5 trials in 28.7s; stopped: precision)",
		"│ 3     │ raise │ 112.5  │ 10.6s │ 3s   │ 337/337 │ 100.00% │ 900 ms  │ FAILED │ db.connections │"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}

	var js bytes.Buffer
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	var j struct {
		Search struct {
			LoRPS     *float64         `json:"lo_rps"`
			HiRPS     *float64         `json:"hi_rps"`
			Precision *float64         `json:"precision"`
			Trials    []map[string]any `json:"trials"`
		} `json:"search"`
	}
	if err := json.Unmarshal(js.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	if j.Search.LoRPS == nil || *j.Search.LoRPS != 91.9 || *j.Search.HiRPS != 101.7 || len(j.Search.Trials) != 5 {
		t.Fatalf("report.json search: %s", js.String())
	}
	for _, k := range []string{"rate_rps", "hold_s", "success_ratio", "p99_ms", "slo_met", "cause"} {
		if _, ok := j.Search.Trials[2][k]; !ok {
			t.Errorf("report.json trial lacks %s: %v", k, j.Search.Trials[2])
		}
	}
}
