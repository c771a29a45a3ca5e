// Package mergetest writes the run directory of one shard of a sharded run
// by hand, with real vegeta results from a fixed seed, for the tests of
// stampede merge and of its command.
package mergetest

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// Start is every crafted run's shared start_at.
var Start = time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)

// Scenario is the scenario every shard ran, unless a Shard says otherwise.
const Scenario = "name: sharded\nstages:\n  - constant: {rate: 200, duration: 10s}\n"

// Shard describes one shard's run directory.
type Shard struct {
	Index, Count int
	Rate         float64       // the whole run's rate; the shard sends Rate/Count
	Duration     time.Duration // planned
	Clock        time.Duration // how far the agent's clock runs ahead of shard 0's
	Status       string        // default completed
	Scenario     string        // default Scenario
	// SlowEvery makes every n-th hit take Slow (0: none).
	SlowEvery int
	Slow      time.Duration
}

// Write writes the shard's run directory into dir and returns the number of
// results it holds. Its timeline has a run_start, the stage, a generator
// line, a fault injection and revert and a database sample every second
// (as if every shard sampled, so that a merge must keep shard 0's alone),
// and a run_end; its results are written in arrival order.
func Write(dir string, s Shard) (int, error) {
	if s.Status == "" {
		s.Status = rundir.StatusCompleted
	}
	if s.Scenario == "" {
		s.Scenario = Scenario
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	own := Start.Add(s.Clock) // the start as this agent's clock reads it
	rate := s.Rate / float64(s.Count)
	n := int(rate * s.Duration.Seconds())
	end := own.Add(s.Duration + 200*time.Millisecond)
	m := rundir.Manifest{Scenario: "sharded", Seed: 7, Scale: 1 / float64(s.Count), Target: "http://127.0.0.1:1/login",
		Host: "agent-" + strconv.Itoa(s.Index), Status: s.Status, PlannedDurationS: s.Duration.Seconds(),
		Start: own, End: end, Shard: &rundir.Shard{Index: s.Index, Count: s.Count, StartAt: Start},
		FollowUps: &rundir.FollowUpStats{Sent: 10, OK: 9, Failed: 1}}
	if err := rundir.WriteJSON(filepath.Join(dir, rundir.ManifestFile), m); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(dir, rundir.ScenarioFile), []byte(s.Scenario), 0o644); err != nil {
		return 0, err
	}

	// timeline
	f, err := os.Create(filepath.Join(dir, rundir.TimelineFile))
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriter(f)
	line := func(ev rundir.Event, at time.Time) {
		if b, lerr := rundir.Line(ev, at, own); lerr == nil {
			w.Write(append(b, '\n'))
		} else if err == nil {
			err = lerr
		}
	}
	idx, ok := 0, true
	line(rundir.RunStartEvent{Scenario: "sharded", Seed: 7, PlannedDurationS: s.Duration.Seconds(), Target: m.Target}, own)
	line(rundir.StageEvent{Index: 0, Name: "constant 1", Kind: rundir.KindConstant, DurationS: s.Duration.Seconds(),
		RateStart: rate, RateEnd: rate}, own)
	line(rundir.FaultEvent{Type: rundir.EventFaultInject, Index: &idx, Fault: "db.conn_limit{limit=4}", Kind: "db.conn_limit", OK: &ok}, own.Add(2*time.Second))
	line(rundir.FaultEvent{Type: rundir.EventFaultRevert, Index: &idx, Fault: "db.conn_limit{limit=4}", Kind: "db.conn_limit", Reason: "end"}, own.Add(4*time.Second))
	for sec := 0; sec < int(s.Duration.Seconds()); sec++ {
		total := float64(sec + 3)
		line(rundir.DBSample{BackendsTotal: &total}, own.Add(time.Duration(sec)*time.Second+500*time.Millisecond))
	}
	line(rundir.GeneratorEvent{Second: own.Add(time.Second), Hits: int64(rate)}, own.Add(time.Second+900*time.Millisecond))
	line(rundir.RunEndEvent{Status: s.Status}, end)
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return n, WriteResults(filepath.Join(dir, rundir.ResultsFile), s, own, n)
}

// WriteResults writes n results of the shard, hit k planned at k/rate after
// start, in arrival order (send time plus latency).
func WriteResults(path string, s Shard, start time.Time, n int) error {
	rng := rand.New(rand.NewPCG(7, uint64(s.Index)))
	rate := s.Rate / float64(s.Count)
	type hit struct {
		sent time.Time
		lat  time.Duration
		lag  time.Duration
		seq  uint64
	}
	hits := make([]hit, n)
	for k := range hits {
		lag := time.Duration(rng.IntN(2000)) * time.Microsecond
		lat := time.Duration(1+rng.IntN(40)) * time.Millisecond
		if s.SlowEvery > 0 && k%s.SlowEvery == s.SlowEvery-1 {
			lat = s.Slow
		}
		planned := start.Add(time.Duration(float64(k) / rate * 1e9))
		hits[k] = hit{sent: planned.Add(lag), lat: lat, lag: lag, seq: uint64(k)}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return a.sent.Add(a.lat).Compare(b.sent.Add(b.lat)) })
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	enc := vegeta.NewEncoder(bw)
	for _, h := range hits {
		hd := http.Header{}
		hd.Set(rundir.HeaderStage, "0")
		hd.Set(rundir.HeaderOutcome, string(rundir.OutcomeOK))
		hd.Set(rundir.HeaderIntent, string(rundir.IntentValid))
		hd.Set(rundir.HeaderSendLag, strconv.FormatInt(int64(h.lag), 10))
		r := vegeta.Result{Attack: "sharded", Seq: h.seq, Code: 200, Timestamp: h.sent, Latency: h.lat,
			BytesIn: 42, Method: http.MethodPost, URL: "http://127.0.0.1:1/login", Headers: hd}
		if err := enc.Encode(&r); err != nil {
			f.Close()
			return fmt.Errorf("encode: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
