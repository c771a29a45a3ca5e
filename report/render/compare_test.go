package render

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/reporttest"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

func TestCompareRenders(t *testing.T) {
	old := analyzeDir(t, reporttest.RegressRun(t, reporttest.RegressScenario, 1, 1, math.Inf(1)))
	cur := analyzeDir(t, reporttest.RegressRun(t, reporttest.RegressScenario, 2, 1.3, 73))
	c := report.Compare(old, cur)

	var txt bytes.Buffer
	if err := WriteComparisonText(&txt, c); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"stampede compare", "old: " + old.Dir + " (test, 2025-03-14 09:26, pass)",
		"sustainable rate", "−30/s (−30.0%)", "±3/s", "REGRESSION", "never → 73/s",
		"Regression beyond the noise: sustainable rate 100/s → 70/s: −30/s (−30.0%), noise ±3/s; run p99"} {
		if !strings.Contains(txt.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, txt.String())
		}
	}

	var md bytes.Buffer
	if err := WriteComparisonMarkdown(&md, c); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| sustainable rate | 100/s | 70/s | −30/s (−30.0%) | ±3/s | **REGRESSION** |") {
		t.Errorf("markdown:\n%s", md.String())
	}

	var js bytes.Buffer
	if err := WriteComparisonJSON(&js, c); err != nil {
		t.Fatal(err)
	}
	var j report.ComparisonJSON
	if err := json.Unmarshal(js.Bytes(), &j); err != nil {
		t.Fatalf("json: %v\n%s", err, js.String())
	}
	if !j.Regressed || len(j.Rows) != len(c.Rows) || j.Rows[0].Metric != "sustainable rate" || *j.Rows[0].Delta != -30 ||
		*j.Rows[0].DeltaPct != -30 || !j.Rows[0].BeyondNoise || !j.Rows[0].Regression || j.Rows[0].Noise != 3 ||
		j.Rows[1].Old != nil || !j.Old.Noise.Known {
		t.Errorf("json: %s", js.String())
	}
	for _, f := range CompareFormats() {
		if g, ok := CompareFormatByName(f.Name); !ok || g.Name != f.Name {
			t.Errorf("format %s not found by name", f.Name)
		}
	}
}

// The report carries its baseline comparison in every rendering.
func TestCompareInReport(t *testing.T) {
	base := analyzeDir(t, reporttest.RegressRun(t, reporttest.RegressScenario, 1, 1, math.Inf(1)))
	r, err := report.Analyze(reporttest.RegressRun(t, reporttest.RegressScenario, 2, 1, 73), report.Options{Baseline: base})
	if err != nil {
		t.Fatal(err)
	}
	if r.Baseline.New.Verdict != r.Verdict || r.Baseline.Old.Verdict != "pass" || r.Baseline.Old.Path != base.Dir {
		t.Errorf("comparison sides: %+v / %+v", r.Baseline.Old, r.Baseline.New)
	}
	for name, want := range map[string]string{
		"text":     "Against the baseline " + base.Dir,
		"markdown": "## Against the baseline",
		"json":     `"regressed": true`,
		"junit":    `<property name="regressed" value="true">`,
	} {
		f, _ := FormatByName(name)
		var buf bytes.Buffer
		if err := f.Write(&buf, r); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), want) || (name != "junit" && !strings.Contains(buf.String(), "sustainable rate")) {
			t.Errorf("%s lacks the baseline comparison (%q):\n%s", name, want, buf.String())
		}
	}
}

func TestLoadBaseline(t *testing.T) {
	dir := reporttest.RegressRun(t, reporttest.RegressScenario, 1, 1, 91)
	fromDir, err := report.LoadBaseline(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteAll(dir, fromDir); err != nil {
		t.Fatal(err)
	}
	fromJSON, err := report.LoadBaseline(filepath.Join(dir, rundir.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if fromJSON.Noise != fromDir.Noise || *fromJSON.Limit.SustainableRPS != 88 || *fromJSON.Limit.BreakingRPS != 91 ||
		fromJSON.Cause.Primary != fromDir.Cause.Primary || len(fromJSON.Windows) != len(fromDir.Windows) ||
		len(fromJSON.Stages) != 1 || len(fromJSON.Checks) != len(fromDir.Checks) || !fromJSON.Start.Equal(fromDir.Start) {
		t.Errorf("report.json read back: noise %+v vs %+v, limit %+v", fromJSON.Noise, fromDir.Noise, fromJSON.Limit)
	}
	c := report.Compare(fromJSON, fromDir)
	for _, d := range c.Rows {
		if d.Beyond || (d.Change != "unchanged" && d.Change != "within noise") {
			t.Errorf("report.json vs its own run: %s %s", d.Metric, d.Change)
		}
	}
	// Without the noise block (an older report.json), it is recomputed
	// from the windows.
	var m map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, rundir.JSONFile))
	_ = json.Unmarshal(b, &m)
	delete(m, "noise")
	b, _ = json.Marshal(m)
	old, err := report.ReadJSON(bytes.NewReader(b))
	if err != nil || old.Noise.Pairs != fromDir.Noise.Pairs || math.Abs(float64(old.Noise.P99-fromDir.Noise.P99)) > 0.01*float64(fromDir.Noise.P99) {
		t.Errorf("noise recomputed: %+v vs %+v (%v)", old.Noise, fromDir.Noise, err)
	}
	// A run directory whose results are gone but whose report.json is there.
	if err := os.Remove(filepath.Join(dir, rundir.ResultsFile)); err != nil {
		t.Fatal(err)
	}
	if r, err := report.LoadBaseline(dir); err != nil || *r.Limit.SustainableRPS != 88 {
		t.Errorf("run dir without results: %v", err)
	}
}
