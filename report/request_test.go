package report

import (
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/report/reporttest"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

const rampScenario = `name: ramp
stages:
  - ramp: {from: 5, to: 50, for: 10s}
`

// uniformRun is a ramp whose every hit gen shapes.
func uniformRun(t *testing.T, gen func(at float64) reporttest.Hit) string {
	b := reporttest.New(t, rampScenario)
	p := reporttest.Plan(t, rampScenario)
	b.Stages(p)
	b.Traffic(p, 0, 10, gen)
	b.Event(rundir.EventRunEnd, 10.2, map[string]any{"status": "completed"})
	return b.Write()
}

func TestRequestProblem(t *testing.T) {
	for _, tc := range []struct {
		name string
		gen  func(at float64) reporttest.Hit
		want string // "" for no request problem
	}{
		{"404 from the start", func(float64) reporttest.Hit {
			return reporttest.Hit{Lat: time.Millisecond, Code: 404, Outcome: rundir.OutcomeFailed}
		}, "every login was rejected with 404 from the start: the request is wrong, not the capacity"},
		{"200 not meeting success", func(float64) reporttest.Hit {
			return reporttest.Hit{Lat: time.Millisecond, Code: 200, Outcome: rundir.OutcomeFailed}
		}, "every login was answered 200"},
		{"503 from the start is the service's", func(float64) reporttest.Hit {
			return reporttest.Hit{Lat: time.Millisecond, Code: 503, Outcome: rundir.OutcomeFailed}
		}, ""},
		{"healthy first, then 404", func(at float64) reporttest.Hit {
			if at < 2 {
				return reporttest.Hit{Lat: time.Millisecond}
			}
			return reporttest.Hit{Lat: time.Millisecond, Code: 404, Outcome: rundir.OutcomeFailed}
		}, ""},
		{"mixed statuses in the first second", func(at float64) reporttest.Hit {
			code := uint16(404)
			if int(at*100)%2 == 0 {
				code = 400
			}
			return reporttest.Hit{Lat: time.Millisecond, Code: code, Outcome: rundir.OutcomeFailed}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := analyzeDir(t, uniformRun(t, tc.gen))
			if tc.want == "" {
				if r.RequestProblem != nil {
					t.Fatalf("request problem %+v, want none", r.RequestProblem)
				}
				return
			}
			p := r.RequestProblem
			if p == nil || !strings.Contains(p.Message, tc.want) {
				t.Fatalf("request problem %+v, want %q", p, tc.want)
			}
			if r.Verdict != "fail" || !strings.Contains(r.Summary, tc.want) {
				t.Errorf("verdict %q summary %q: want the request problem in the verdict's place", r.Verdict, r.Summary)
			}
			if p.Fix == "" || p.Failed != p.Logins || p.Logins == 0 {
				t.Errorf("request problem %+v", p)
			}
		})
	}
}

// TestRequestProblemIgnoresExpectedRejects: wrong passwords refused as
// expected are not logins that failed.
func TestRequestProblemIgnoresExpectedRejects(t *testing.T) {
	i := 0
	r := analyzeDir(t, uniformRun(t, func(float64) reporttest.Hit {
		i++
		if i%5 == 0 {
			return reporttest.Hit{Lat: time.Millisecond, Outcome: rundir.OutcomeExpectedReject}
		}
		return reporttest.Hit{Lat: time.Millisecond}
	}))
	if r.RequestProblem != nil {
		t.Fatalf("request problem %+v on a healthy run", r.RequestProblem)
	}
}
