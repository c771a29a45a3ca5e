package render

import (
	"bytes"
	"encoding/xml"
	"testing"

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/reporttest"
)

func analyzeDir(t testing.TB, dir string) *report.Report {
	t.Helper()
	r, err := report.Analyze(dir, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// withGates analyses reporttest.WithGates.
func withGates(t testing.TB, gates string) *report.Report {
	t.Helper()
	return analyzeDir(t, reporttest.WithGates(t, gates).Write())
}

// junitOf renders r as JUnit XML and parses it back.
func junitOf(t *testing.T, r *report.Report) junitSuites {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("junit.xml does not parse: %v\n%s", err, buf.String())
	}
	return doc
}
