package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/report/render"
	"github.com/stampede-load/stampede/report/reporttest"
)

// writeTinyRun writes a five-second run at 10/s, all 200s, by hand.
func writeTinyRun(t *testing.T) string {
	t.Helper()
	const sc = "name: tiny\nstages:\n  - constant: {rate: 10, for: 5s}\n"
	b := reporttest.New(t, sc)
	b.Manifest["scenario"], b.Manifest["seed"] = "tiny", 1
	p := reporttest.Plan(t, sc)
	b.Stages(p)
	b.Traffic(p, 0, 5, func(float64) reporttest.Hit { return reporttest.Hit{Lat: 5 * time.Millisecond} })
	return b.Write()
}

func runReportCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	err := runMain(context.Background(), e, append([]string{"report"}, args...))
	if err != nil {
		fmt.Fprintln(&errb, err)
	}
	return out.String(), errb.String(), exitCode(err)
}

func TestReportCommand(t *testing.T) {
	dir := writeTinyRun(t)
	out, errOut, code := runReportCLI(t, dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "stampede report: tiny") || !strings.Contains(out, "Primary cause: none") {
		t.Errorf("text report lacks its heading or cause:\n%s", out)
	}
	for _, f := range render.Formats() {
		if _, err := os.Stat(filepath.Join(dir, f.File)); err != nil {
			t.Errorf("%s not written: %v", f.File, err)
		}
	}

	out, errOut, code = runReportCLI(t, dir, "--format", "json")
	if code != exitOK {
		t.Fatalf("json: exit %d: %s", code, errOut)
	}
	var j struct {
		Limit struct {
			Sustainable *float64 `json:"sustainable_rps"`
		} `json:"limit"`
		Windows []struct {
			Offered float64 `json:"offered_rps"`
		} `json:"windows"`
		Verdict string `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("--format json is not JSON: %v\n%s", err, out)
	}
	if len(j.Windows) != 5 || j.Windows[0].Offered != 10 || j.Verdict != "pass" {
		t.Errorf("json: %d windows, first offered %v, verdict %q", len(j.Windows), j.Windows, j.Verdict)
	}
}

func TestReportCommandFormats(t *testing.T) {
	dir := writeTinyRun(t)
	for format, want := range map[string]string{
		"junit":    `<testsuites name="stampede"`,
		"markdown": "# Post-mortem: tiny",
		"html":     "<!DOCTYPE html>",
		"text":     "Primary cause: none",
	} {
		out, errOut, code := runReportCLI(t, dir, "--format", format)
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("--format %s: exit %d, output lacks %q (%s)", format, code, want, errOut)
		}
	}
}

func TestReportCommandUsage(t *testing.T) {
	dir := writeTinyRun(t)
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, exitUsage},
		{[]string{dir, dir}, exitUsage},
		{[]string{dir, "--format", "pdf"}, exitUsage},
		{[]string{t.TempDir()}, exitUsage}, // not a run directory
		{[]string{"--help"}, exitOK},
	} {
		if _, errOut, code := runReportCLI(t, tc.args...); code != tc.want {
			t.Errorf("report %q: exit %d, want %d (%s)", tc.args, code, tc.want, errOut)
		}
	}
}
