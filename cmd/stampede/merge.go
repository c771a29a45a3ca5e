package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/stampede-load/stampede/scenarios/rundir"
	"github.com/stampede-load/stampede/scenarios/rundir/merge"
)

// cmdMerge joins the run directories of a sharded run's shards into one run
// directory, for `stampede report`. Inputs that cannot be merged exit 2 with
// nothing written; a merge missing a shard, or holding one that did not
// complete, is still written but exits 1 unless --allow-partial.
func cmdMerge(ctx context.Context, e *env, args []string) error {
	flags := newFlagSet("merge", "DIR... --out DIR [--allow-partial]", e)
	out := flags.String("out", "", "the merged run directory to write (must not hold a run)")
	allowPartial := flags.Bool("allow-partial", false, "exit 0 even when a shard is missing or did not complete")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if *out == "" {
		return usageErr("merge needs --out DIR, the merged run directory to write")
	}
	if flags.NArg() == 0 {
		return usageErr("merge needs the run directories of a sharded run's shards")
	}
	res, err := merge.Merge(ctx, flags.Args(), *out, merge.Options{})
	if errors.Is(err, merge.ErrIncompatible) {
		return usageErr("merge: %v", err)
	}
	if err != nil {
		return infraErr(fmt.Errorf("merge: %w", err))
	}
	m := res.Manifest
	fmt.Fprintf(e.stdout, "merged %d of %d shards, %d results, into %s (status %s, max clock skew %.1f ms)\n",
		len(m.Shards)-missingShards(m.Shards), len(m.Shards), res.Records, res.Dir, m.Status, m.MaxSkewMS)
	for _, s := range m.Shards {
		if s.Note != "" {
			fmt.Fprintf(e.stdout, "  shard %d: %s\n", s.Index, s.Note)
		}
	}
	if res.OutOfOrder > 0 {
		fmt.Fprintf(e.stdout, "  %d results arrived more than %s after a later send and were written out of time order\n",
			res.OutOfOrder, merge.DefaultReorder)
	}
	if m.Partial && !*allowPartial {
		return &exitError{code: exitGateFailed, err: fmt.Errorf("merge: partial run (%s); merged anyway into %s, pass --allow-partial to accept it", m.PartialReason, res.Dir)}
	}
	return nil
}

func missingShards(shards []rundir.MergedShard) int {
	n := 0
	for _, s := range shards {
		if s.Status == rundir.StatusMissing {
			n++
		}
	}
	return n
}
