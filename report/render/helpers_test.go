package render

import (
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
