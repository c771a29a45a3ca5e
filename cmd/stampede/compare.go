package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/render"
)

// cmdCompare lays two runs side by side (each a report.json or a run
// directory) and exits 1 when the new one regressed beyond the noise: its
// sustainable rate fell, or its p99 rose, by more than the runs' own noise
// (report.Comparison says exactly what that is). Bad input exits 2.
func cmdCompare(_ context.Context, e *env, args []string) error {
	var names []string
	for _, f := range render.CompareFormats() {
		names = append(names, f.Name)
	}
	flags := newFlagSet("compare", "OLD NEW [--format "+strings.Join(names, "|")+"]", e)
	format := flags.String("format", "text", "what to print: "+strings.Join(names, ", "))
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if flags.NArg() != 2 {
		return usageErr("compare needs OLD and NEW, each a report.json or a run directory (got %d arguments)", flags.NArg())
	}
	f, ok := render.CompareFormatByName(*format)
	if !ok {
		return usageErr("--format must be one of %s, got %q", strings.Join(names, ", "), *format)
	}
	var runs [2]*report.Report
	for i, path := range flags.Args() {
		r, err := report.LoadBaseline(path)
		if err != nil {
			return usageErr("%s: %v", [...]string{"OLD", "NEW"}[i], err)
		}
		runs[i] = r
	}
	cmp := report.Compare(runs[0], runs[1])
	cmp.Old.Path, cmp.New.Path = flags.Arg(0), flags.Arg(1)
	if err := f.Write(e.stdout, cmp); err != nil {
		return infraErr(fmt.Errorf("compare: %w", err))
	}
	if p := e.getenv("GITHUB_STEP_SUMMARY"); p != "" {
		if err := render.AppendStepSummary(p, runs[1], cmp); err != nil {
			fmt.Fprintf(e.stderr, "stampede: GITHUB_STEP_SUMMARY: %v\n", err)
		}
	}
	if regs := cmp.Regressions(); len(regs) > 0 {
		var parts []string
		for _, d := range regs {
			parts = append(parts, fmt.Sprintf("%s %s → %s: %s, noise %s", d.Metric, d.OldText, d.NewText, d.DeltaText(), d.NoiseText()))
		}
		return &exitError{code: exitGateFailed, err: fmt.Errorf("regression beyond the noise: %s", strings.Join(parts, "; "))}
	}
	return nil
}
