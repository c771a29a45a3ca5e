package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/render"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// cmdReport re-analyses a run directory, prints one rendering and rewrites
// every rendering in the directory. A merged run that is partial (a shard
// missing or unfinished) is reported, then exits 1 unless --allow-partial.
func cmdReport(_ context.Context, e *env, args []string) error {
	var names []string
	for _, f := range render.Formats() {
		names = append(names, f.Name)
	}
	flags := newFlagSet("report", "RUN_DIR [--format "+strings.Join(names, "|")+"] [--allow-partial]", e)
	format := flags.String("format", "text", "what to print: "+strings.Join(names, ", "))
	allowPartial := flags.Bool("allow-partial", false, "a merged run missing a shard, or holding one that did not finish: pass its shards check and exit 0")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if flags.NArg() != 1 {
		return usageErr("report needs exactly one RUN_DIR")
	}
	f, ok := render.FormatByName(*format)
	if !ok {
		return usageErr("--format must be one of %s, got %q", strings.Join(names, ", "), *format)
	}
	dir := flags.Arg(0)
	if _, err := os.Stat(filepath.Join(dir, rundir.ResultsFile)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return usageErr("%s is not a run directory: no %s", dir, rundir.ResultsFile)
		}
		return infraErr(err)
	}
	r, err := report.Analyze(dir, report.Options{AllowPartial: *allowPartial})
	if err != nil {
		return infraErr(err)
	}
	if err := f.Write(e.stdout, r); err != nil {
		return infraErr(fmt.Errorf("report: %w", err))
	}
	if err := render.WriteAll(dir, r); err != nil {
		// The report was printed; a read-only run directory only costs the files.
		fmt.Fprintf(e.stderr, "stampede: warning: %v\n", err)
	}
	if s := r.Shards; s != nil && s.Partial && !*allowPartial {
		return &exitError{code: exitGateFailed, err: fmt.Errorf("report: partial run (%s); pass --allow-partial to accept it", s.PartialReason)}
	}
	return nil
}
