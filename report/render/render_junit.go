package render

import (
	"encoding/xml"
	"fmt"
	"io"
	"time"

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/format"
)

// JUnit XML as CI systems read it: one testsuite, one testcase per SLO
// check and per gate.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure"`
	Skipped   *junitSkipped `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes junit.xml's content.
func WriteJUnit(w io.Writer, r *report.Report) error {
	name := r.Scenario
	if name == "" {
		name = "run"
	}
	suite := junitSuite{Name: "stampede." + name, Time: fmt.Sprintf("%.3f", r.Elapsed.Seconds())}
	if !r.Start.IsZero() {
		suite.Timestamp = r.Start.UTC().Format(time.RFC3339)
	}
	suite.Properties = []junitProperty{
		{"verdict", r.Verdict},
		{"cause", r.Cause.Primary},
		{"sustainable_rps", format.RPS(r.Limit.SustainableRPS)},
		{"breaking_rps", format.RPS(r.Limit.BreakingRPS)},
		{"slo", format.SLO(r.SLO)},
	}
	if p := r.RequestProblem; p != nil { // first: there is no capacity verdict
		suite.Properties = append([]junitProperty{{"request_problem", p.Message}}, suite.Properties...)
	}
	if c := r.Baseline; c != nil {
		suite.Properties = append(suite.Properties, junitProperty{"baseline", c.Old.Path},
			junitProperty{"regressed", fmt.Sprint(c.Regressed)})
	}
	if p := r.RequestProblem; p != nil {
		suite.Tests++
		suite.Failures++
		msg := fmt.Sprintf("%s; likely fix: %s", p.Message, p.Fix)
		suite.Cases = append(suite.Cases, junitCase{Classname: "stampede.request", Name: "request", Time: "0",
			Failure: &junitFailure{Message: msg, Type: "request", Text: fmt.Sprintf("%s\n%d of %d logins got %d", msg, p.Failed, p.Logins, p.Status)}})
	}
	for _, c := range r.Checks {
		jc := junitCase{Classname: "stampede." + c.Kind, Name: c.Name, Time: "0", SystemOut: c.Detail}
		suite.Tests++
		switch {
		case c.Skipped:
			suite.Skipped++
			jc.Skipped = &junitSkipped{Message: c.Detail}
		case !c.Passed:
			suite.Failures++
			text := c.Detail
			if r.Cause.Primary != report.CauseNone {
				text += "\ncause: " + r.Cause.Primary
				for _, e := range r.Cause.Evidence {
					text += "\n  - " + e
				}
			}
			jc.Failure = &junitFailure{Message: c.Detail, Type: c.Kind, Text: text}
		}
		suite.Cases = append(suite.Cases, jc)
	}
	doc := junitSuites{Name: "stampede", Tests: suite.Tests, Failures: suite.Failures, Skipped: suite.Skipped,
		Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
