package render

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/reporttest"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// TestRequestProblemRenderedFirst: a run whose every login got 404 says so
// before any capacity figure, in every format.
func TestRequestProblemRenderedFirst(t *testing.T) {
	const sc = "name: wrongpath\nstages:\n  - ramp: {from: 5, to: 50, for: 5s}\n"
	b := reporttest.New(t, sc)
	p := reporttest.Plan(t, sc)
	b.Stages(p)
	b.Traffic(p, 0, 5, func(float64) reporttest.Hit {
		return reporttest.Hit{Lat: time.Millisecond, Code: 404, Outcome: rundir.OutcomeFailed}
	})
	b.Event(rundir.EventRunEnd, 5.2, map[string]any{"status": "completed"})
	r, err := report.Analyze(b.Write(), report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const msg = "every login was rejected with 404 from the start: the request is wrong, not the capacity"
	for _, f := range Formats() {
		var buf bytes.Buffer
		if err := f.Write(&buf, r); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		out := buf.String()
		i := strings.Index(out, msg)
		if i < 0 {
			t.Errorf("%s lacks %q", f.Name, msg)
			continue
		}
		for _, later := range []string{"sustainable", "Sustainable", "breaking"} {
			if j := strings.Index(out, later); j >= 0 && j < i {
				t.Errorf("%s shows %q before the request problem", f.Name, later)
			}
		}
	}
}
