package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/stampede-load/stampede/report/render"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// writeTinyRun writes a five-second run at 10/s, all 200s, by hand.
func writeTinyRun(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	start := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	files := map[string]string{
		rundir.ScenarioFile: "name: tiny\nstages:\n  - constant: {rate: 10, for: 5s}\n",
		rundir.ManifestFile: `{"scenario":"tiny","seed":1,"status":"completed","scale":1}`,
		rundir.TimelineFile: fmt.Sprintf(`{"type":"run_start","time":%q,"t":0,"scenario":"tiny","seed":1}`+"\n"+
			`{"type":"stage","time":%[1]q,"t":0,"index":0,"name":"constant 1","kind":"constant","planned_start_s":0,"duration_s":5,"rate_start":10,"rate_end":10}`+"\n",
			start.Format(time.RFC3339Nano)),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Create(filepath.Join(dir, rundir.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	enc := vegeta.NewEncoder(f)
	for i := 0; i < 50; i++ {
		h := http.Header{}
		h.Set(rundir.HeaderOutcome, string(rundir.OutcomeOK))
		h.Set(rundir.HeaderStage, "0")
		res := vegeta.Result{Seq: uint64(i), Code: 200, Timestamp: start.Add(time.Duration(i) * 100 * time.Millisecond),
			Latency: 5 * time.Millisecond, Headers: h}
		if err := enc.Encode(&res); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
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
