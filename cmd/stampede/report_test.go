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

// `stampede report` on a merged run: one report with a Shards section,
// exit 0 when every shard completed; exit 1 on a partial run (a shard
// missing), reported all the same, unless --allow-partial.
func TestReportCommandMerged(t *testing.T) {
	out, errs, code := runReportCLI(t, reporttest.MergedRun(t, 3, -1))
	if code != exitOK || !strings.Contains(out, "\nShards\n") || !strings.Contains(out, "Clock skew between shards: max 8 ms") {
		t.Errorf("complete merged run: exit %d\n%s%s", code, out, errs)
	}
	part := reporttest.MergedRun(t, 3, 2)
	out, errs, code = runReportCLI(t, part)
	const reason = "shard 2 of 3 missing — figures cover 2/3 of the planned load"
	if code != exitGateFailed || !strings.Contains(out, "Verdict: fail: partial: "+reason) || !strings.Contains(errs, "--allow-partial") {
		t.Errorf("partial merged run: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(part, "report.json")); err != nil {
		t.Errorf("a partial run's report files are still written: %v", err)
	}
	out, errs, code = runReportCLI(t, part, "--allow-partial", "--format", "json")
	if code != exitOK || !strings.Contains(out, `"partial": true`) || !strings.Contains(out, `"partial_reason": "`+reason+`"`) {
		t.Errorf("--allow-partial: exit %d\n%s%s", code, out, errs)
	}
}
