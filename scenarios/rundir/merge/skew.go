package merge

import (
	"slices"
	"strconv"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// Clock skew between shards is measured from what each shard sent, not from
// what its clock said when it started: wall clocks on different nodes can
// disagree, and a shard's timestamps are all read from its own.
//
// Every shard paces the same plan (each stage at 1/N of its rate, from the
// shared start), so its k-th hit is planned at start + TimeOf(k) on the
// plan its own stage events describe. For each of a shard's first hits
// planned within SkewSpan, taken in time order, the probe records
//
//	offset_k = (Timestamp_k − SendLag_k) − (start + TimeOf(k))
//
// where SendLag_k is the shard's own Stampede-Send-Lag header (how late its
// generator sent the hit, 0 when absent), so a generator running behind is
// not mistaken for a clock ahead. The shard's offset is the median of
// offset_k (robust to a hit lost or a few sent out of turn), and its skew
// the offset less the smallest offset of all shards: skew_ms is 0 for the
// earliest clock and MaxSkewMS the largest.
//
// Hits in a stage whose shape the events do not tell (steps, spike) are not
// measured. A shard with no hit to measure (no stage events, no results)
// falls back to its run_start against the start, and says so in its note.
// Skew this measures is that of clocks released together (a start barrier);
// shards that each waited for --start-at on their own clock sent at their
// clock's start_at, and no timestamp can show how far apart those were.

// maxSkewSamples bounds the hits measured per shard.
const maxSkewSamples = 10000

// skewProbe collects one shard's first sends against its plan.
type skewProbe struct {
	plan    *rundir.Plan
	start   time.Time
	span    time.Duration
	k       int
	done    bool
	offsets []time.Duration
}

func newSkewProbe(plan *rundir.Plan, start time.Time, span time.Duration) *skewProbe {
	return &skewProbe{plan: plan, start: start, span: span, done: plan == nil}
}

// add takes the shard's next result in time order.
func (p *skewProbe) add(r *vegeta.Result) {
	if p.done {
		return
	}
	at, ok := p.plan.TimeOf(float64(p.k))
	p.k++
	if !ok || at >= p.span || len(p.offsets) >= maxSkewSamples || p.plan.Segs[p.plan.SegAt(at)].Unknown {
		p.done = true
		return
	}
	sent := r.Timestamp
	if v := r.Headers.Get(rundir.HeaderSendLag); v != "" {
		if ns, err := strconv.ParseInt(v, 10, 64); err == nil {
			sent = sent.Add(-time.Duration(ns))
		}
	}
	p.offsets = append(p.offsets, sent.Sub(p.start.Add(at)))
}

// offset is the median offset, false when no hit was measured.
func (p *skewProbe) offset() (time.Duration, bool) {
	if p == nil || len(p.offsets) == 0 {
		return 0, false
	}
	o := slices.Clone(p.offsets)
	slices.Sort(o)
	n := len(o)
	if n%2 == 1 {
		return o[n/2], true
	}
	return (o[n/2-1] + o[n/2]) / 2, true
}

// planFromStages is the plan a shard's stage events describe, at its own
// rates: constant and ramp stages exactly, steps and spikes by their ends
// only (Unknown). Nil without stage events.
func planFromStages(stages []rundir.StageEvent) *rundir.Plan {
	if len(stages) == 0 {
		return nil
	}
	st := slices.Clone(stages)
	slices.SortFunc(st, func(a, b rundir.StageEvent) int { return a.Index - b.Index })
	p := &rundir.Plan{}
	for i, s := range st {
		d := rundir.Secs(s.DurationS)
		if d <= 0 || s.RateStart < 0 || s.RateEnd < 0 {
			break
		}
		p.Stages = append(p.Stages, rundir.StageSpan{Index: s.Index, Name: s.Name, Kind: s.Kind, Start: p.Total,
			Duration: d, RateStart: s.RateStart, RateEnd: s.RateEnd})
		p.Add(rundir.Segment{Dur: d, R0: s.RateStart, R1: s.RateEnd, Stage: i,
			Unknown: s.Kind != rundir.KindConstant && s.Kind != rundir.KindRamp})
	}
	if len(p.Segs) == 0 {
		return nil
	}
	return p
}
