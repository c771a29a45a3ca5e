package report

import "testing"

func analyzeDir(t testing.TB, dir string) *Report {
	t.Helper()
	r, err := Analyze(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
