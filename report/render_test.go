package report

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestWriteAll(t *testing.T) {
	dir := drillRun(t).write()
	r := analyzeDir(t, dir)
	if err := WriteAll(dir, r); err != nil {
		t.Fatal(err)
	}
	for _, f := range Formats() {
		b, err := os.ReadFile(filepath.Join(dir, f.File))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v (%d bytes)", f.File, err, len(b))
		}
	}
	if len(Formats()) != 5 {
		t.Errorf("%d formats, want 5", len(Formats()))
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestJUnit(t *testing.T) {
	r := analyzeDir(t, dbCapRun(t).write())
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("junit.xml does not parse: %v\n%s", err, buf.String())
	}
	s := doc.Suites[0]
	// three SLO checks and the scenario's two gates
	if s.Tests != 5 || len(s.Cases) != 5 || s.Failures != 2 || doc.Failures != 2 {
		t.Errorf("tests %d cases %d failures %d", s.Tests, len(s.Cases), s.Failures)
	}
	names := map[string]bool{}
	for _, c := range s.Cases {
		names[c.Name] = true
		if c.Name == "slo.windows" && (c.Failure == nil || !strings.Contains(c.Failure.Text, "cause: db.connections")) {
			t.Errorf("slo.windows failure should carry the cause: %+v", c.Failure)
		}
	}
	for _, n := range []string{"slo.windows", "slo.success_ratio", "slo.latency_p99", "gate.min_sustainable_rps", "gate.expect_cause"} {
		if !names[n] {
			t.Errorf("no testcase %s", n)
		}
	}
}

func TestPostmortem(t *testing.T) {
	r := analyzeDir(t, drillRun(t).write())
	var buf bytes.Buffer
	if err := WritePostmortem(&buf, r); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"# Post-mortem: test (2025-03-14 09:26 UTC)",
		"## Summary", "**Duration:** planned 40s, ran 40.3s", "**Impact:** the SLO",
		"## Timeline", "| 10s | fault `db.conn_limit` injected |", "| 28s | fault `net.reset_peer` injected on path client |",
		"SLO missed (db.connections 11) until 22s",
		"## Root cause", "**db.connections**", "SQLSTATE 53300",
		"## Resolution", "`db.conn_limit` injected at 10s, reverted at 20s: impact after 1s, SLO met again 2s after the revert; detected db.connections, expected db.connections (match)",
		"`db.terminate` failed to inject at 39s: permission denied to terminate",
		"## Corrective and preventive measures", "- [ ] ",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("postmortem lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}

// report.html is one file that needs no network: inline CSS and SVG, no
// script, no external reference.
func TestHTMLSelfContained(t *testing.T) {
	r := analyzeDir(t, drillRun(t).write())
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	h := buf.String()
	for _, bad := range []string{"<script", "<link", " src=", "@import", "url("} {
		if strings.Contains(h, bad) {
			t.Errorf("report.html contains %q", bad)
		}
	}
	for _, u := range regexp.MustCompile(`https?://[^"' <]+`).FindAllString(h, -1) {
		if u != "http://www.w3.org/2000/svg" {
			t.Errorf("report.html references %s", u)
		}
	}
	if n := strings.Count(h, "<svg "); n != 4 {
		t.Errorf("%d charts, want 4 (load, latency, errors, database)", n)
	}
	for _, want := range []string{"Load: offered vs achieved vs goodput", "Latency percentiles", "Errors by class",
		"Database connections against their caps", "role limit", "fault in force", "<title>db.conn_limit</title>",
		"net.reset_peer on path client", "Faults scorecard", "Cause: db.connections"} {
		if !strings.Contains(h, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// without database samples, no database chart
	r = analyzeDir(t, constRun(t, func(float64, int) hitSpec { return hitSpec{lat: 900e6} }).write())
	buf.Reset()
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "<svg "); n != 3 {
		t.Errorf("%d charts without database samples, want 3", n)
	}
}
