package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/stampede-load/stampede/report/format"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// A merged run (stampede merge) is analysed as one run: one verdict, the
// percentiles from the merged records. Beside it the report shows each
// shard, counted in the same pass by the shard each result is marked with
// (rundir.HeaderShard), with what the merged manifest says of it (status,
// clock skew), and marks the run partial when a shard is missing or did
// not finish.

// ShardSummary is one shard of a merged run.
type ShardSummary struct {
	Index  int
	Status string // the shard's own status, or rundir.StatusMissing
	// Records are the results marked with this shard in the merged results.
	Records int64
	// OfferedRPS is the shard's share of the plan (1/N of every stage's
	// rate); AchievedRPS its records over the plan's length.
	OfferedRPS, AchievedRPS float64
	SuccessRatio            float64
	P99                     time.Duration
	// SkewMS is its clock's skew against the earliest shard's, measured by
	// stampede merge from its send times against the plan; meaningless
	// for a missing shard (Missing).
	SkewMS float64
	Note   string // why it is missing or failed (the merge's note)
}

// Missing: no run directory was given for the shard.
func (s ShardSummary) Missing() bool { return s.Status == rundir.StatusMissing }

// Shards are a merged run's shards and what joining them cost.
type Shards struct {
	List      []ShardSummary
	MaxSkewMS float64
	// Partial: a shard is missing or did not finish (or its results were
	// cut short); PartialReason says which, in the report's words.
	Partial       bool
	PartialReason string
}

// shardsOf reads a merged manifest's shard list; nil for a run of one agent.
func shardsOf(m *rundir.Manifest) *Shards {
	if m == nil || len(m.Shards) == 0 {
		return nil
	}
	s := &Shards{MaxSkewMS: m.MaxSkewMS, Partial: m.Partial}
	for _, ms := range m.Shards {
		s.List = append(s.List, ShardSummary{Index: ms.Index, Status: ms.Status, SkewMS: ms.SkewMS, Note: ms.Note})
	}
	if s.Partial {
		s.PartialReason = partialReason(s.List, m.PartialReason)
	}
	return s
}

// partialReason says what a partial run lacks: "shard 2 of 3 missing —
// figures cover 2/3 of the planned load". A partial run whose shards all
// finished (a results file cut short) keeps the merge's own words.
func partialReason(list []ShardSummary, merged string) string {
	n := len(list)
	var missing, unfinished []string
	for _, s := range list {
		switch s.Status {
		case rundir.StatusMissing:
			missing = append(missing, strconv.Itoa(s.Index))
		case rundir.StatusCompleted, rundir.StatusAborted:
		default:
			unfinished = append(unfinished, fmt.Sprintf("%d (%s)", s.Index, s.Status))
		}
	}
	if len(missing) == 0 && len(unfinished) == 0 {
		return merged
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, fmt.Sprintf("%s %s of %d missing", plural(len(missing), "shard"), strings.Join(missing, ", "), n))
	}
	if len(unfinished) > 0 {
		parts = append(parts, fmt.Sprintf("%s %s of %d did not finish", plural(len(unfinished), "shard"), strings.Join(unfinished, ", "), n))
	}
	whole := n - len(missing) - len(unfinished)
	cover := fmt.Sprintf("figures cover %d/%d of the planned load", whole, n)
	if len(unfinished) > 0 {
		cover += " and part of the unfinished " + plural(len(unfinished), "shard") + "'"
	}
	return strings.Join(parts, ", ") + " — " + cover
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// shardAcc is one shard's part of the streaming pass: fixed size, one
// histogram (memory grows with the shards, not with the run's length).
type shardAcc struct {
	counts
	hist *hdrhistogram.Histogram
}

// shardOf is the shard a merged result came from; -1 if it says none.
func shardOf(res *vegeta.Result) int {
	if i, err := strconv.Atoi(hget(res.Headers, rundir.HeaderShard)); err == nil && i >= 0 {
		return i
	}
	return -1
}

// addShard counts h for shard i (results of no known shard only count in
// the run's figures).
func (w *windower) addShard(i int, h *hit) {
	if i < 0 || i >= len(w.shards) {
		w.noShard++
		return
	}
	s := &w.shards[i]
	if s.hist == nil {
		s.hist = hdrhistogram.New(1, histMaxUS, totalHistDigit)
	}
	s.add(h)
	_ = s.hist.RecordValue(usOf(h.latency))
}

// buildShards fills each shard's figures from the pass: its records, its
// share of the plan, and what it achieved over the plan's length.
func buildShards(s *Shards, w *windower, r *Report, fr *frame) {
	span := planEnd(fr.plan, fr.stop)
	if span <= 0 {
		span = r.Elapsed
	}
	var offered float64
	if p := fr.plan; p != nil && span > 0 {
		offered = p.Hits(span) / span.Seconds() / float64(len(s.List))
	}
	for i := range s.List {
		sh := &s.List[i]
		sh.OfferedRPS = offered // planned for it, sent or not
		if i >= len(w.shards) {
			continue
		}
		acc := &w.shards[i]
		sh.Records = acc.sent
		sh.SuccessRatio = acc.successRatio()
		if span > 0 {
			sh.AchievedRPS = float64(acc.sent) / span.Seconds()
		}
		if acc.hist != nil && acc.hist.TotalCount() > 0 {
			sh.P99 = min(time.Duration(acc.hist.ValueAtQuantile(99))*time.Microsecond, acc.maxLat)
		}
	}
	missing := 0
	for _, sh := range s.List {
		if sh.Missing() {
			missing++
		}
	}
	if missing > 0 {
		// Whether a missing shard sent its share (a directory lost after the
		// run) or not (an agent that never started) the records cannot say:
		// the plan stays the whole run's, and the note says what that means.
		n := len(s.List)
		r.Notes = append(r.Notes, fmt.Sprintf("%d of %d shards missing: offered rates are the whole plan's and the records cover %d/%d of it; "+
			"if the missing %s sent nothing, the service saw %d/%d of the offered rates shown (and of the limit)", missing, n, n-missing, n,
			plural(missing, "shard"), n-missing, n))
	}
	if w.noShard > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d results of this merged run name no shard of its manifest: counted in the run's figures, in no shard's", w.noShard))
	}
}

// SkewLine states the clock skew between shards, as the reports print it.
func (s *Shards) SkewLine() string {
	return fmt.Sprintf("clock skew between shards: max %s ms, measured from send times against the plan", format.Num(format.Round(s.MaxSkewMS, 1)))
}

// shardCheckKind is the kind of the shards check (JUnit's classname
// stampede.shards), beside "slo" and "gate".
const shardCheckKind = "shards"

// shardCheck is the check a merged run adds: a partial run fails it
// unless the options accept one.
func shardCheck(s *Shards, allow bool) Check {
	n := len(s.List)
	c := Check{Name: "shards", Kind: shardCheckKind, Passed: true,
		Detail: fmt.Sprintf("%d of %d shards merged, all complete; %s", n, n, s.SkewLine())}
	if s.Partial {
		c.Passed = allow
		c.Detail = "partial: " + s.PartialReason
		if allow {
			c.Detail += " (accepted: --allow-partial)"
		}
	}
	return c
}
