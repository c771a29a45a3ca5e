// Package merge joins the run directories of the N shards of one sharded
// run (stampede run --shard I/N on N agents) into one run directory, so that
// the report reads the whole run as it reads a run of one agent: one
// verdict, percentiles from the merged records.
//
// What it writes:
//   - results.bin: every shard's results, in time order (see the reorder
//     bound in results.go), vegeta's gob encoding as before, each result
//     marked with its shard (rundir.HeaderShard). Seq stays each shard's own.
//   - timeline.jsonl: see writeTimeline.
//   - manifest.json: shard 0's (else the lowest present shard's), made the
//     whole run's: Scale × N, Shard nil, Shards listing all N, status of the
//     whole, Partial, MaxSkewMS, follow-up counts summed, per-stage
//     summaries dropped (they hold each shard's percentiles, which cannot be
//     merged; the report computes stages from the merged records).
//   - scenario.yaml, the shards' (byte for byte the same).
//
// Scale and stages: shard I of N paces every stage at 1/N of its rate, and
// its manifest's scale is the scale its pacer ran at (the whole run's scale
// / N). The merged manifest's scale is that × N, so the report, which plans
// from the scenario's stages × the manifest's scale, plans the whole run;
// the stage events, kept once from shard 0, have their rates × N for the
// same reason. All shards must agree on their scale.
//
// A shard's journal.json (shard 0's, what to undo of its faults) stays in
// its own directory: it is the record `stampede chaos restore` reads there,
// and the report does not need it.
package merge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// ErrIncompatible is returned (wrapped) when the inputs cannot be merged:
// not run directories, not shards, shards of different runs, duplicate or
// out-of-range indexes, or an output that already holds a run.
var ErrIncompatible = errors.New("cannot merge")

// Defaults of Options.
const (
	// DefaultReorder is the time-order bound: a result up to this far
	// behind one its shard wrote before it is still put in order. Logins
	// slower than this are client timeouts in all but odd scenarios.
	DefaultReorder = 5 * time.Second
	// DefaultMaxBuffered caps each input's reorder buffer (results held),
	// so memory stays bounded at any rate: a decoded result with its
	// headers takes about 1.5 kB, so 50k is about 75 MB a shard, 5 s of a
	// shard sending 10k/s. Past that rate the bound shrinks below Reorder.
	DefaultMaxBuffered = 50_000
	// DefaultSkewSpan is how much of the start of the plan skew is
	// measured over: long enough for hundreds of hits at modest rates,
	// short enough to end before a generator falls behind under load.
	DefaultSkewSpan = 5 * time.Second
)

// Options tune a merge; the zero value takes the defaults.
type Options struct {
	Reorder     time.Duration
	MaxBuffered int
	SkewSpan    time.Duration
}

func (o Options) withDefaults() Options {
	if o.Reorder <= 0 {
		o.Reorder = DefaultReorder
	}
	if o.MaxBuffered <= 0 {
		o.MaxBuffered = DefaultMaxBuffered
	}
	if o.SkewSpan <= 0 {
		o.SkewSpan = DefaultSkewSpan
	}
	return o
}

// Result is what a merge did. The merged manifest says which shards went in
// and whether the run is partial.
type Result struct {
	Dir      string
	Manifest *rundir.Manifest
	Records  int64
	// OutOfOrder counts results written behind a later one: those that
	// arrived more than Reorder after a later-sent hit of their shard.
	OutOfOrder int64
	// MaxBuffered is the most results held at once, all inputs together.
	MaxBuffered int
	// DroppedLines counts timeline lines left out: faults and samples of
	// shards other than 0, and lines that were not JSON.
	DroppedLines int
}

// shardIn is one input run directory.
type shardIn struct {
	dir      string
	index    int
	man      *rundir.Manifest
	scenario []byte
	tl       *shardTimeline
	status   string // the run_end's status, else the manifest's
	start    time.Time
}

// Merge joins the run directories dirs, shards of one run, into out (created
// if needed; it must not hold a run). Inputs that cannot be merged give an
// error wrapping ErrIncompatible and nothing is written. A missing shard, or
// one that did not complete, still gives a merged directory, marked partial
// in its manifest.
func Merge(ctx context.Context, dirs []string, out string, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	shards, count, err := readShards(dirs, out)
	if err != nil {
		return nil, err
	}
	start, end := runBounds(shards)

	// Results: each shard's plan from its own stage events, for the skew.
	srcs := make([]*source, 0, len(shards))
	defer func() {
		for _, s := range srcs {
			s.f.Close()
		}
	}()
	for _, sh := range shards {
		probe := newSkewProbe(planFromStages(sh.tl.stages), start, opts.SkewSpan)
		s, err := openSource(sh.dir, sh.index, probe)
		if errors.Is(err, os.ErrNotExist) {
			srcs = append(srcs, &source{shard: sh.index, eof: true, probe: probe})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("shard %d: %w", sh.index, err)
		}
		srcs = append(srcs, s)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	res := &Result{Dir: out}
	st, err := writeFile(filepath.Join(out, rundir.ResultsFile), func(f *os.File) (resultStats, error) {
		return mergeResults(ctx, f, srcs, opts.Reorder, opts.MaxBuffered)
	})
	if err != nil {
		return nil, err
	}
	res.Records, res.OutOfOrder, res.MaxBuffered = st.records, st.outOfOrder, st.maxBuffered

	m := mergedManifest(shards, srcs, count, start, end)
	res.Manifest = m
	stagesFrom := shards[0].index
	res.DroppedLines, err = writeFile(filepath.Join(out, rundir.TimelineFile), func(f *os.File) (int, error) {
		return writeTimeline(f, timelineIn{start: start, end: end, status: m.Status, count: count,
			stagesFrom: stagesFrom, shards: shards})
	})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(out, rundir.ScenarioFile), shards[0].scenario, 0o644); err != nil {
		return nil, err
	}
	// the manifest last: a directory with one holds a whole merge
	if err := rundir.WriteJSON(filepath.Join(out, rundir.ManifestFile), m); err != nil {
		return nil, err
	}
	return res, nil
}

// writeFile writes path through a temporary file renamed into place.
func writeFile[T any](path string, write func(*os.File) (T, error)) (T, error) {
	var zero T
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return zero, err
	}
	v, err := write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(path+".tmp", path)
	}
	if err != nil {
		os.Remove(path + ".tmp")
		return zero, fmt.Errorf("write %s: %w", path, err)
	}
	return v, nil
}

// readShards reads and checks the inputs: run directories, shards of one
// run, each index once. They come back ordered by index.
func readShards(dirs []string, out string) ([]*shardIn, int, error) {
	if len(dirs) == 0 {
		return nil, 0, fmt.Errorf("%w: no run directories given", ErrIncompatible)
	}
	for _, name := range []string{rundir.ManifestFile, rundir.ResultsFile, rundir.TimelineFile} {
		if _, err := os.Stat(filepath.Join(out, name)); err == nil {
			return nil, 0, fmt.Errorf("%w: %s already holds a run (%s); merge into a new directory", ErrIncompatible, out, name)
		}
	}
	var shards []*shardIn
	count := 0
	for _, dir := range dirs {
		man, err := rundir.ReadManifest(filepath.Join(dir, rundir.ManifestFile))
		if errors.Is(err, os.ErrNotExist) {
			return nil, 0, fmt.Errorf("%w: %s is not a run directory (no %s)", ErrIncompatible, dir, rundir.ManifestFile)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%w: %s: %v", ErrIncompatible, dir, err)
		}
		if man.Shard == nil {
			return nil, 0, fmt.Errorf("%w: %s is a run of one agent, not a shard (its manifest has no shard)", ErrIncompatible, dir)
		}
		scen, err := os.ReadFile(filepath.Join(dir, rundir.ScenarioFile))
		if err != nil {
			return nil, 0, fmt.Errorf("%w: %s is not a run directory: %v", ErrIncompatible, dir, err)
		}
		sh := &shardIn{dir: dir, index: man.Shard.Index, man: man, scenario: scen}
		if len(shards) == 0 {
			count = man.Shard.Count
		}
		switch {
		case man.Shard.Count < 1 || man.Shard.Index < 0 || man.Shard.Index >= man.Shard.Count:
			return nil, 0, fmt.Errorf("%w: %s is shard %d of %d, out of range", ErrIncompatible, dir, man.Shard.Index, man.Shard.Count)
		case man.Shard.Count != count:
			return nil, 0, fmt.Errorf("%w: different shard counts: %s is one of %d, %s one of %d", ErrIncompatible, shards[0].dir, count, dir, man.Shard.Count)
		}
		for _, o := range shards {
			switch {
			case o.index == sh.index:
				return nil, 0, fmt.Errorf("%w: %s and %s are both shard %d", ErrIncompatible, o.dir, dir, sh.index)
			case !bytes.Equal(o.scenario, scen):
				return nil, 0, fmt.Errorf("%w: %s and %s are shards of different scenarios (their %s differ)", ErrIncompatible, o.dir, dir, rundir.ScenarioFile)
			case o.man.Scale != man.Scale:
				return nil, 0, fmt.Errorf("%w: %s ran at scale %g, %s at %g", ErrIncompatible, o.dir, o.man.Scale, dir, man.Scale)
			case !o.man.Shard.StartAt.IsZero() && !man.Shard.StartAt.IsZero() && !o.man.Shard.StartAt.Equal(man.Shard.StartAt):
				return nil, 0, fmt.Errorf("%w: %s and %s are shards of different runs (start_at %s and %s)", ErrIncompatible,
					o.dir, dir, o.man.Shard.StartAt.Format(time.RFC3339Nano), man.Shard.StartAt.Format(time.RFC3339Nano))
			}
		}
		if sh.tl, err = readTimeline(dir); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", dir, err)
		}
		sh.status = man.Status
		if sh.tl.status != "" {
			sh.status = sh.tl.status
		}
		sh.start = sh.tl.start
		if sh.start.IsZero() {
			sh.start = man.Start
		}
		shards = append(shards, sh)
	}
	slices.SortFunc(shards, func(a, b *shardIn) int { return a.index - b.index })
	return shards, count, nil
}
