package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/reporttest"
)

// render writes r in the named format.
func render(t *testing.T, name string, r *report.Report) string {
	t.Helper()
	f, ok := FormatByName(name)
	if !ok {
		t.Fatalf("no format %s", name)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// A merged run's report has a Shards section in every rendering, the
// largest clock skew stated; a partial one names its missing shard in the
// verdict, report.json and a failing JUnit testcase.
func TestShardsSection(t *testing.T) {
	full := analyzeDir(t, reporttest.MergedRun(t, 3, -1))
	const skew = "lock skew between shards: max 8 ms, measured from send times against the plan"
	for name, want := range map[string][]string{
		"text":     {"\nShards\n", "│ 2     │ completed │ 666     │ 66.7      │ 66.6       │ 100.00% │ 40.0 ms │ 8 ms │", skew},
		"markdown": {"## Shards", "| 0 | completed | 666 | 66.7 | 66.6 | 100.00% | 300 ms | 0 ms |", skew},
		"html":     {"<h2>Shards</h2>", "<td>300 ms</td><td>0 ms</td>", skew},
	} {
		out := render(t, name, full)
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: no %q in\n%s", name, w, out)
			}
		}
		if strings.Contains(out, "partial") {
			t.Errorf("%s: a complete merged run called partial", name)
		}
	}
	var j struct {
		Partial *bool `json:"partial"`
		Shards  []struct {
			Index   int      `json:"index"`
			Records int64    `json:"records"`
			P99MS   *float64 `json:"p99_ms"`
			SkewMS  *float64 `json:"skew_ms"`
		} `json:"shards"`
	}
	if err := json.Unmarshal([]byte(render(t, "json", full)), &j); err != nil {
		t.Fatal(err)
	}
	if j.Partial != nil || len(j.Shards) != 3 || j.Shards[0].Records != 666 || *j.Shards[0].P99MS != 300 || *j.Shards[2].SkewMS != 8 {
		t.Errorf("report.json: partial %v, shards %+v", j.Partial, j.Shards)
	}

	part := analyzeDir(t, reporttest.MergedRun(t, 3, 2))
	const reason = "partial: shard 2 of 3 missing — figures cover 2/3 of the planned load"
	text := render(t, "text", part)
	for _, w := range []string{"Verdict: fail: " + reason, "│ 2     │ missing   │ 0       │ 66.7      │ 0          │ -       │ -       │ -    │",
		"shard 2 of 3: no run directory given"} {
		if !strings.Contains(text, w) {
			t.Errorf("text: no %q in\n%s", w, text)
		}
	}
	if err := json.Unmarshal([]byte(render(t, "json", part)), &j); err != nil {
		t.Fatal(err)
	}
	if j.Partial == nil || !*j.Partial || j.Shards[2].P99MS != nil || j.Shards[2].SkewMS != nil {
		t.Errorf("report.json of a partial run: partial %v, shards %+v", j.Partial, j.Shards)
	}
	doc := junitOf(t, part)
	var found bool
	for _, c := range doc.Suites[0].Cases {
		if c.Name == "shards" {
			found = true
			if c.Failure == nil || !strings.Contains(c.Failure.Message, reason) {
				t.Errorf("junit shards testcase: %+v", c)
			}
		}
	}
	if !found || doc.Failures != 1 {
		t.Errorf("junit: shards testcase found %v, %d failures", found, doc.Failures)
	}
}
