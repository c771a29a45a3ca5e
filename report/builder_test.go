package report

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// testStart is every crafted run's start: fixed, so renders are golden.
var testStart = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// runDir crafts a run directory by hand: no traffic needed.
type runDir struct {
	t        testing.TB
	dir      string
	scenario string
	manifest map[string]any
	events   []map[string]any
	hits     []hitSpec
}

// hitSpec is one result to record.
type hitSpec struct {
	at      float64 // actual send time, seconds since the start
	lat     time.Duration
	code    uint16
	outcome rundir.Outcome // ok (default), expected_reject, failed
	class   string         // Stampede-Error-Class for transport failures
	body    string
	timing  string // Server-Timing
	conn    string // Stampede-Conn
	lag     time.Duration
	stage   int
}

func newRunDir(t testing.TB, scenario string) *runDir {
	t.Helper()
	return &runDir{t: t, dir: t.TempDir(), scenario: scenario,
		manifest: map[string]any{"scenario": "test", "seed": 7, "status": "completed", "target_kind": "fixture", "scale": 1}}
}

func (b *runDir) event(typ string, at float64, fields map[string]any) {
	m := map[string]any{"type": typ, "time": testStart.Add(rundir.Secs(at)).Format(time.RFC3339Nano), "t": at}
	for k, v := range fields {
		m[k] = v
	}
	b.events = append(b.events, m)
}

// stages writes the stage events of a plan the way the runner does.
func (b *runDir) stages(p *rundir.Plan) {
	for _, s := range p.Stages {
		b.event(rundir.EventStage, s.Start.Seconds(), map[string]any{"index": s.Index, "name": s.Name, "kind": s.Kind,
			"planned_start_s": s.Start.Seconds(), "duration_s": s.Duration.Seconds(),
			"rate_start": s.RateStart, "rate_end": s.RateEnd})
	}
}

// traffic sends at the planned rate from `from` to `to` seconds, evenly
// spaced; gen shapes each hit (its at and stage are filled in).
func (b *runDir) traffic(p *rundir.Plan, from, to float64, gen func(at float64) hitSpec) {
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
		h.at = at + h.lag.Seconds()
		if si := p.SegAt(lo); si >= 0 {
			h.stage = p.Segs[si].Stage
		}
		b.hits = append(b.hits, h)
	}
}

func (b *runDir) write() string {
	b.t.Helper()
	must := func(err error) {
		if err != nil {
			b.t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(b.dir, rundir.ScenarioFile), []byte(b.scenario), 0o644))
	mb, err := json.MarshalIndent(b.manifest, "", "  ")
	must(err)
	must(os.WriteFile(filepath.Join(b.dir, rundir.ManifestFile), mb, 0o644))

	sort.SliceStable(b.events, func(i, j int) bool { return b.events[i]["t"].(float64) < b.events[j]["t"].(float64) })
	tf, err := os.Create(filepath.Join(b.dir, rundir.TimelineFile))
	must(err)
	b.event(rundir.EventRunStart, 0, nil) // placed first below
	first := b.events[len(b.events)-1]
	first["scenario"], first["seed"] = "test", 7
	for _, e := range append([]map[string]any{first}, b.events[:len(b.events)-1]...) {
		line, err := json.Marshal(e)
		must(err)
		_, err = tf.Write(append(line, '\n'))
		must(err)
	}
	must(tf.Close())

	// results in completion order
	sort.SliceStable(b.hits, func(i, j int) bool {
		return b.hits[i].at+b.hits[i].lat.Seconds() < b.hits[j].at+b.hits[j].lat.Seconds()
	})
	rf, err := os.Create(filepath.Join(b.dir, rundir.ResultsFile))
	must(err)
	enc := vegeta.NewEncoder(rf)
	for i, h := range b.hits {
		res := h.result(uint64(i))
		must(enc.Encode(&res))
	}
	must(rf.Close())
	return b.dir
}

func (h hitSpec) result(seq uint64) vegeta.Result {
	hd := http.Header{}
	if h.timing != "" {
		hd.Set(rundir.HeaderTiming, h.timing)
	}
	out := h.outcome
	if out == "" {
		out = rundir.OutcomeOK
	}
	code := h.code
	if code == 0 && h.class == "" {
		switch out {
		case rundir.OutcomeOK:
			code = 200
		case rundir.OutcomeExpectedReject:
			code = 401
		}
	}
	hd.Set(rundir.HeaderStage, strconv.Itoa(h.stage))
	hd.Set(rundir.HeaderIntent, "valid")
	hd.Set(rundir.HeaderOutcome, string(out))
	hd.Set(rundir.HeaderSendLag, strconv.FormatInt(int64(h.lag), 10))
	if h.conn != "" {
		hd.Set(rundir.HeaderConn, h.conn)
	} else {
		hd.Set(rundir.HeaderConn, "reused")
	}
	res := vegeta.Result{Attack: "test", Seq: seq, Code: code, Timestamp: testStart.Add(rundir.Secs(h.at)),
		Latency: h.lat, Method: "POST", URL: "http://127.0.0.1:8080/login", Headers: hd}
	if h.class != "" {
		hd.Set(rundir.HeaderErrorClass, h.class)
		res.Error = "Post \"http://127.0.0.1:8080/login\": " + h.class
	} else if code >= 400 {
		res.Error = fmt.Sprintf("%d %s", code, http.StatusText(int(code)))
	}
	if h.body != "" {
		res.Body = []byte(h.body)
	}
	return res
}

// timingHdr builds a Server-Timing header.
func timingHdr(pool, db, hash, app float64) string {
	return fmt.Sprintf("pool;dur=%.2f, db;dur=%.2f, hash;dur=%.2f, app;dur=%.2f", pool, db, hash, app)
}

// mustPlan plans a scenario's stages for the builder.
func mustPlan(t testing.TB, scenario string) *rundir.Plan {
	t.Helper()
	sf, _, err := parseScenario([]byte(scenario))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := planFromStages(sf.planStages(), 1)
	if !ok {
		t.Fatal("scenario stages do not plan")
	}
	return p
}

// dbSamples writes one db_sample a second over [from, to).
func (b *runDir) dbSamples(from, to int, f func(sec int) map[string]any) {
	for s := from; s < to; s++ {
		b.event(rundir.EventDBSample, float64(s)+0.1, f(s))
	}
}

// probes writes TCP probes every 500ms for a path over [from, to).
func (b *runDir) probes(path string, from, to int, connectMS func(sec int) float64) {
	for s := from; s < to; s++ {
		for _, off := range []float64{0.2, 0.7} {
			b.event(rundir.EventTCPProbe, float64(s)+off, map[string]any{"path": path, "connect_ms": connectMS(s)})
		}
	}
}

func analyzeDir(t testing.TB, dir string) *Report {
	t.Helper()
	r, err := Analyze(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
