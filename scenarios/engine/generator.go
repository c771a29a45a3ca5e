package engine

import (
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// genWatch notices the load generator falling behind or failing locally,
// once per second. Falling behind while every worker waits on the target is
// the target's doing, and is recorded as such.
type genWatch struct {
	maxWorkers uint64
	sec        time.Time
	n, late    int64
	maxLag     time.Duration
	local      map[string]int64
	inflight   int64
}

const lateThreshold = 50 * time.Millisecond

func (g *genWatch) add(rec Sink, r *vegeta.Result, lag time.Duration, errClass string, inflight int64) {
	sec := r.Timestamp.Truncate(time.Second)
	if !g.sec.IsZero() && sec.After(g.sec) {
		g.flush(rec)
	}
	g.sec = sec
	g.n++
	if lag > lateThreshold {
		g.late++
	}
	if lag > g.maxLag {
		g.maxLag = lag
	}
	if inflight > g.inflight {
		g.inflight = inflight
	}
	switch errClass {
	case rundir.ErrGenFiles, rundir.ErrGenPorts, rundir.ErrGenPool:
		if g.local == nil {
			g.local = map[string]int64{}
		}
		g.local[errClass]++
	}
}

func (g *genWatch) flush(rec Sink) {
	if g.sec.IsZero() {
		return
	}
	if g.late > 0 || len(g.local) > 0 {
		saturated := g.maxWorkers > 0 && uint64(g.inflight) >= g.maxWorkers*95/100
		rec.Record(rundir.GeneratorEvent{
			Second: g.sec.UTC(), Hits: g.n, Late: g.late,
			MaxLagMS: float64(g.maxLag) / 1e6, InflightMax: g.inflight,
			MaxWorkers: g.maxWorkers, WorkersSaturated: saturated, LocalErrors: g.local,
			// late sends while workers were free, or local failures
			BehindOwnFault: (g.late > 0 && !saturated) || len(g.local) > 0,
		}, g.sec.Add(time.Second))
	}
	g.n, g.late, g.maxLag, g.inflight, g.local = 0, 0, 0, 0, nil
}
