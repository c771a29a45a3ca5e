package engine

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/rundir"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// maxKeptBody bounds the response body kept for a failed result.
const maxKeptBody = 4 << 10

// recorder owns the run directory's files. Results are written unbuffered:
// gob writes one whole record per Write, so after kill -9 the file is
// readable up to its last record.
type recorder struct {
	dir     string
	results *os.File
	enc     vegeta.Encoder
	start   time.Time

	tmu      sync.Mutex
	timeline *os.File
	obs      Observer // sees each event recorded; nil for none
}

func newRecorder(dir string, sc *scenarios.Scenario) (*recorder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("run dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, rundir.ScenarioFile), sc.Raw, 0o644); err != nil {
		return nil, fmt.Errorf("run dir: copy scenario: %w", err)
	}
	rf, err := os.OpenFile(filepath.Join(dir, rundir.ResultsFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run dir: %w", err)
	}
	tf, err := os.OpenFile(filepath.Join(dir, rundir.TimelineFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		rf.Close()
		return nil, fmt.Errorf("run dir: %w", err)
	}
	return &recorder{dir: dir, results: rf, enc: vegeta.NewEncoder(rf), timeline: tf}, nil
}

// Sink appends typed events to the run's timeline.
type Sink interface {
	Record(ev rundir.Event, at time.Time)
}

// Record appends one line to timeline.jsonl: the event's type, its time
// (RFC 3339 and seconds since the run's start) and its fields.
func (r *recorder) Record(ev rundir.Event, at time.Time) {
	b, err := rundir.Line(ev, at, r.start)
	if err != nil {
		b, _ = rundir.Line(rundir.ErrorEvent{Error: err.Error()}, at, r.start)
	}
	r.tmu.Lock()
	_, _ = r.timeline.Write(append(b, '\n'))
	r.tmu.Unlock()
	if r.obs != nil {
		r.obs.Event(ev, at)
	}
}

// annotate adds stampede's per-hit evidence to a result, and drops what
// could be secret: session cookies and the bodies of successful logins.
func annotate(res *vegeta.Result, stage int, hi *hitInfo, outcome rundir.Outcome, lag time.Duration) {
	h := res.Headers
	if h == nil {
		h = http.Header{}
	}
	h.Del("Set-Cookie")
	h.Set(rundir.HeaderStage, strconv.Itoa(stage))
	h.Set(rundir.HeaderIntent, string(hi.intent))
	h.Set(rundir.HeaderOutcome, string(outcome))
	h.Set(rundir.HeaderSendLag, strconv.FormatInt(int64(lag), 10))
	switch {
	case hi.reused:
		h.Set(rundir.HeaderConn, "reused")
	case hi.connect > 0:
		h.Set(rundir.HeaderConn, "new;connect="+strconv.FormatInt(int64(hi.connect), 10))
	}
	if res.Code == 0 && res.Error != "" {
		class := hi.errClass
		if class == "" {
			class = rundir.ErrOther
		}
		h.Set(rundir.HeaderErrorClass, class)
	}
	res.Headers = h
	if outcome == rundir.OutcomeOK {
		res.Body = nil
	} else if len(res.Body) > maxKeptBody {
		res.Body = res.Body[:maxKeptBody]
	}
}

func (r *recorder) write(res *vegeta.Result) error { return r.enc.Encode(res) }

func (r *recorder) Close() error {
	err1 := r.results.Close()
	r.tmu.Lock()
	err2 := r.timeline.Close()
	r.tmu.Unlock()
	if err1 != nil {
		return err1
	}
	return err2
}
