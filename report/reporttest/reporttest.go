// Package reporttest crafts run directories by hand for the report's tests
// and the CLI's: a scenario, a manifest, timeline events and results, with
// a fixed start so renders are golden. It imports neither the report nor
// the engine: only the run contract, the report's reading of scenario.yaml
// (to plan traffic from a scenario's stages) and vegeta's encoder.
package reporttest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/stampede-load/stampede/report/scenariofile"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// Start is every crafted run's start: fixed, so renders are golden.
var Start = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// RunDir crafts a run directory by hand: no traffic needed.
type RunDir struct {
	t        testing.TB
	Dir      string
	Scenario string
	Manifest map[string]any
	Events   []map[string]any
	Hits     []Hit
}

// Hit is one result to record.
type Hit struct {
	At      float64 // actual send time, seconds since the start
	Lat     time.Duration
	Code    uint16
	Outcome rundir.Outcome // ok (default), expected_reject, failed
	Class   string         // Stampede-Error-Class for transport failures
	Body    string
	Timing  string // Server-Timing
	Conn    string // Stampede-Conn
	Lag     time.Duration
	Stage   int
}

func New(t testing.TB, scenario string) *RunDir {
	t.Helper()
	return &RunDir{t: t, Dir: t.TempDir(), Scenario: scenario,
		Manifest: map[string]any{"scenario": "test", "seed": 7, "status": "completed", "target_kind": "fixture", "scale": 1}}
}

func (b *RunDir) Event(typ string, at float64, fields map[string]any) {
	m := map[string]any{"type": typ, "time": Start.Add(rundir.Secs(at)).Format(time.RFC3339Nano), "t": at}
	for k, v := range fields {
		m[k] = v
	}
	b.Events = append(b.Events, m)
}

// Stages writes the stage events of a plan the way the runner does.
func (b *RunDir) Stages(p *rundir.Plan) {
	for _, s := range p.Stages {
		b.Event(rundir.EventStage, s.Start.Seconds(), map[string]any{"index": s.Index, "name": s.Name, "kind": s.Kind,
			"planned_start_s": s.Start.Seconds(), "duration_s": s.Duration.Seconds(),
			"rate_start": s.RateStart, "rate_end": s.RateEnd})
	}
}

// Traffic sends at the planned rate from `from` to `to` seconds, evenly
// spaced; gen shapes each hit (its at and stage are filled in).
func (b *RunDir) Traffic(p *rundir.Plan, from, to float64, gen func(at float64) Hit) {
	n0 := p.Hits(rundir.Secs(from))
	n1 := p.Hits(rundir.Secs(to))
	for n := math.Ceil(n0); n < n1; n++ {
		// invert hits(t) = n by bisection: exact enough for tests
		lo, hi := rundir.Secs(from), rundir.Secs(to)
		for hi-lo > time.Microsecond {
			mid := (lo + hi) / 2
			if p.Hits(mid) > n {
				hi = mid
			} else {
				lo = mid
			}
		}
		at := hi.Seconds()
		h := gen(at)
		h.At = at + h.Lag.Seconds()
		if si := p.SegAt(lo); si >= 0 {
			h.Stage = p.Segs[si].Stage
		}
		b.Hits = append(b.Hits, h)
	}
}

func (b *RunDir) Write() string {
	b.t.Helper()
	must := func(err error) {
		if err != nil {
			b.t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(b.Dir, rundir.ScenarioFile), []byte(b.Scenario), 0o644))
	mb, err := json.MarshalIndent(b.Manifest, "", "  ")
	must(err)
	must(os.WriteFile(filepath.Join(b.Dir, rundir.ManifestFile), mb, 0o644))

	sort.SliceStable(b.Events, func(i, j int) bool { return b.Events[i]["t"].(float64) < b.Events[j]["t"].(float64) })
	tf, err := os.Create(filepath.Join(b.Dir, rundir.TimelineFile))
	must(err)
	b.Event(rundir.EventRunStart, 0, nil) // placed first below
	first := b.Events[len(b.Events)-1]
	first["scenario"], first["seed"] = b.Manifest["scenario"], b.Manifest["seed"]
	for _, e := range append([]map[string]any{first}, b.Events[:len(b.Events)-1]...) {
		line, err := json.Marshal(e)
		must(err)
		_, err = tf.Write(append(line, '\n'))
		must(err)
	}
	must(tf.Close())

	// results in completion order
	sort.SliceStable(b.Hits, func(i, j int) bool {
		return b.Hits[i].At+b.Hits[i].Lat.Seconds() < b.Hits[j].At+b.Hits[j].Lat.Seconds()
	})
	rf, err := os.Create(filepath.Join(b.Dir, rundir.ResultsFile))
	must(err)
	enc := vegeta.NewEncoder(rf)
	for i, h := range b.Hits {
		res := h.Result(uint64(i))
		must(enc.Encode(&res))
	}
	must(rf.Close())
	return b.Dir
}

func (h Hit) Result(seq uint64) vegeta.Result {
	hd := http.Header{}
	if h.Timing != "" {
		hd.Set(rundir.HeaderTiming, h.Timing)
	}
	out := h.Outcome
	if out == "" {
		out = rundir.OutcomeOK
	}
	code := h.Code
	if code == 0 && h.Class == "" {
		switch out {
		case rundir.OutcomeOK:
			code = 200
		case rundir.OutcomeExpectedReject:
			code = 401
		}
	}
	hd.Set(rundir.HeaderStage, strconv.Itoa(h.Stage))
	hd.Set(rundir.HeaderIntent, "valid")
	hd.Set(rundir.HeaderOutcome, string(out))
	hd.Set(rundir.HeaderSendLag, strconv.FormatInt(int64(h.Lag), 10))
	if h.Conn != "" {
		hd.Set(rundir.HeaderConn, h.Conn)
	} else {
		hd.Set(rundir.HeaderConn, "reused")
	}
	res := vegeta.Result{Attack: "test", Seq: seq, Code: code, Timestamp: Start.Add(rundir.Secs(h.At)),
		Latency: h.Lat, Method: "POST", URL: "http://127.0.0.1:8080/login", Headers: hd}
	if h.Class != "" {
		hd.Set(rundir.HeaderErrorClass, h.Class)
		res.Error = "Post \"http://127.0.0.1:8080/login\": " + h.Class
	} else if code >= 400 {
		res.Error = fmt.Sprintf("%d %s", code, http.StatusText(int(code)))
	}
	if h.Body != "" {
		res.Body = []byte(h.Body)
	}
	return res
}

// TimingHdr builds a Server-Timing header.
func TimingHdr(pool, db, hash, app float64) string {
	return fmt.Sprintf("pool;dur=%.2f, db;dur=%.2f, hash;dur=%.2f, app;dur=%.2f", pool, db, hash, app)
}

// Plan plans a scenario's stages for the builder.
func Plan(t testing.TB, scenario string) *rundir.Plan {
	t.Helper()
	sf, _, err := scenariofile.Parse([]byte(scenario))
	if err != nil {
		t.Fatal(err)
	}
	p, err := rundir.FromStages(sf.PlanStages(), 1)
	if err != nil {
		t.Fatalf("scenario stages do not plan: %v", err)
	}
	return p
}

// DBSamples writes one db_sample a second over [from, to).
func (b *RunDir) DBSamples(from, to int, f func(sec int) map[string]any) {
	for s := from; s < to; s++ {
		b.Event(rundir.EventDBSample, float64(s)+0.1, f(s))
	}
}

// Probes writes TCP probes every 500ms for a path over [from, to).
func (b *RunDir) Probes(path string, from, to int, connectMS func(sec int) float64) {
	for s := from; s < to; s++ {
		for _, off := range []float64{0.2, 0.7} {
			b.Event(rundir.EventTCPProbe, float64(s)+off, map[string]any{"path": path, "connect_ms": connectMS(s)})
		}
	}
}

// ReadTimeline reads a run directory's timeline.jsonl as raw events, for
// tests that look at what the engine wrote: nil without the file, a line
// that does not parse (torn by kill -9) skipped.
func ReadTimeline(t testing.TB, dir string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, rundir.TimelineFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var evs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			continue
		}
		evs = append(evs, m)
	}
	return evs
}
