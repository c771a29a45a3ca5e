package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
	"github.com/stampede-load/stampede/scenarios/rundir/merge/mergetest"
)

func writeMergeShards(t *testing.T, count int, skip int, scenario string) []string {
	t.Helper()
	base := t.TempDir()
	var dirs []string
	for i := 0; i < count; i++ {
		if i == skip {
			continue
		}
		dir := filepath.Join(base, "shard-"+strconv.Itoa(i))
		s := mergetest.Shard{Index: i, Count: count, Rate: 200, Duration: 10 * time.Second}
		if i == count-1 && scenario != "" {
			s.Scenario = scenario
		}
		if _, err := mergetest.Write(dir, s); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	return dirs
}

func runMerge(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	err := runMain(context.Background(), e, append([]string{"merge"}, args...))
	return out.String() + errb.String(), err
}

func TestMergeCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "merged")
	text, err := runMerge(t, append(writeMergeShards(t, 3, -1, ""), "--out", out)...)
	if exitCode(err) != exitOK || !strings.Contains(text, "merged 3 of 3 shards, 1998 results") {
		t.Fatalf("exit %d (%v):\n%s", exitCode(err), err, text)
	}
	// the report reads the merged run as one run
	var rep bytes.Buffer
	e := &env{stdout: &rep, stderr: &rep, getenv: func(string) string { return "" }}
	if err := runMain(context.Background(), e, []string{"report", out, "--format", "json"}); exitCode(err) > exitGateFailed {
		t.Fatalf("report on the merged run: exit %d (%v)\n%s", exitCode(err), err, rep.String())
	}
	if _, err := os.Stat(filepath.Join(out, rundir.JSONFile)); err != nil {
		t.Fatalf("no report written: %v\n%s", err, rep.String())
	}
}

func TestMergeCommandPartial(t *testing.T) {
	dirs := writeMergeShards(t, 3, 1, "")
	out := filepath.Join(t.TempDir(), "merged")
	text, err := runMerge(t, append(dirs, "--out", out)...)
	if exitCode(err) != exitGateFailed || !strings.Contains(err.Error(), "shard 1 missing") || !strings.Contains(text, "shard 1:") {
		t.Fatalf("exit %d (%v):\n%s", exitCode(err), err, text)
	}
	if _, err := os.Stat(filepath.Join(out, rundir.ManifestFile)); err != nil {
		t.Fatalf("a partial merge is still written: %v", err)
	}
	_, err = runMerge(t, append(dirs, "--out", filepath.Join(t.TempDir(), "merged"), "--allow-partial")...)
	if exitCode(err) != exitOK {
		t.Fatalf("--allow-partial: exit %d (%v)", exitCode(err), err)
	}
}

func TestMergeCommandRefuses(t *testing.T) {
	mixed := writeMergeShards(t, 2, -1, mergetest.Scenario+"# another scenario\n")
	for _, args := range [][]string{
		append(mixed, "--out", filepath.Join(t.TempDir(), "m")),
		{mixed[0]},                    // no --out
		{"--out", t.TempDir()},        // no inputs
		{t.TempDir(), "--out", "x/m"}, // not a run directory
		{mixed[0], "--out", mixed[1]}, // out holds a run
	} {
		text, err := runMerge(t, args...)
		if exitCode(err) != exitUsage {
			t.Errorf("merge %v: exit %d (%v)\n%s", args, exitCode(err), err, text)
		}
	}
}
