package merge

import (
	"fmt"
	"strings"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// runBounds is the merged run's start and end. The start is the shared
// start_at when every shard has the same one (the instant they were all to
// start sending, which the plan counts from), else the earliest shard's
// run_start; the end is the latest shard's end.
func runBounds(shards []*shardIn) (start, end time.Time) {
	shared := shards[0].man.Shard.StartAt
	for _, sh := range shards {
		if !sh.man.Shard.StartAt.Equal(shared) {
			shared = time.Time{}
		}
		if !sh.start.IsZero() && (start.IsZero() || sh.start.Before(start)) {
			start = sh.start
		}
		e := sh.tl.end
		if e.IsZero() {
			e = sh.man.End
		}
		if e.After(end) {
			end = e
		}
	}
	if !shared.IsZero() {
		start = shared
	}
	if end.Before(start) {
		end = start
	}
	return start, end
}

// mergedManifest is the whole run's manifest: see the package comment.
func mergedManifest(shards []*shardIn, srcs []*source, count int, start, end time.Time) *rundir.Manifest {
	m := *shards[0].man
	m.Shard, m.Host, m.Stages = nil, "", nil
	m.Scale = shards[0].man.Scale * float64(count)
	m.Start, m.End = start, end
	m.FollowUps = nil

	byIndex := map[int]*shardIn{}
	for _, sh := range shards {
		byIndex[sh.index] = sh
		if f := sh.man.FollowUps; f != nil {
			if m.FollowUps == nil {
				m.FollowUps = &rundir.FollowUpStats{}
			}
			m.FollowUps.Sent += f.Sent
			m.FollowUps.OK += f.OK
			m.FollowUps.Failed += f.Failed
			m.FollowUps.Dropped += f.Dropped
		}
	}
	offsets := map[int]time.Duration{}
	measured := map[int]bool{}
	for _, s := range srcs {
		if o, ok := s.probe.offset(); ok {
			offsets[s.shard], measured[s.shard] = o, true
		} else if sh := byIndex[s.shard]; !sh.start.IsZero() {
			offsets[s.shard] = sh.start.Sub(start)
		}
	}
	var earliest time.Duration
	firstOffset := true
	for _, o := range offsets {
		if firstOffset || o < earliest {
			earliest, firstOffset = o, false
		}
	}

	var partial []string
	missing, unfinished, interrupted, aborted := false, false, false, false
	m.Shards = make([]rundir.MergedShard, 0, count)
	for i := 0; i < count; i++ {
		sh, ok := byIndex[i]
		if !ok {
			note := fmt.Sprintf("shard %d of %d: no run directory given (its agent never wrote one?)", i, count)
			if i == 0 {
				note += "; shard 0 alone injects faults and samples the database and the network, so the merged run has none"
			}
			m.Shards = append(m.Shards, rundir.MergedShard{Index: i, Status: rundir.StatusMissing, Note: note})
			partial = append(partial, fmt.Sprintf("shard %d missing", i))
			missing = true
			continue
		}
		ms := rundir.MergedShard{Index: i, Dir: sh.dir, Status: sh.status, Start: sh.start}
		var notes []string
		for _, s := range srcs {
			if s.shard != i {
				continue
			}
			ms.Records = s.read
			if s.f == nil {
				notes = append(notes, "no "+rundir.ResultsFile)
			}
			if s.truncated {
				notes = append(notes, fmt.Sprintf("%s ends inside a record: the %d whole ones before it are merged", rundir.ResultsFile, s.read))
				partial = append(partial, fmt.Sprintf("shard %d's results truncated", i))
				unfinished = true
			}
		}
		if o, ok := offsets[i]; ok {
			ms.SkewMS = float64(o-earliest) / float64(time.Millisecond)
			m.MaxSkewMS = max(m.MaxSkewMS, ms.SkewMS)
			if !measured[i] {
				notes = append(notes, "skew from its run_start: no planned hit to measure against")
			}
		}
		switch sh.status {
		case rundir.StatusCompleted:
		case rundir.StatusAborted:
			notes = append(notes, "its abort rule stopped the surge")
			aborted = true
		case rundir.StatusInterrupted:
			notes = append(notes, "interrupted")
			partial = append(partial, fmt.Sprintf("shard %d interrupted", i))
			interrupted = true
		default:
			notes = append(notes, fmt.Sprintf("never finished (status %q): its agent stopped before the end of the run", sh.status))
			partial = append(partial, fmt.Sprintf("shard %d never finished", i))
			unfinished = true
		}
		ms.Note = strings.Join(notes, "; ")
		m.Shards = append(m.Shards, ms)
	}
	switch {
	case missing || unfinished:
		m.Status = rundir.StatusPartial
	case interrupted:
		m.Status = rundir.StatusInterrupted
	case aborted:
		m.Status = rundir.StatusAborted
	default:
		m.Status = rundir.StatusCompleted
	}
	if len(partial) > 0 {
		m.Partial, m.PartialReason = true, strings.Join(partial, "; ")
	}
	return &m
}
