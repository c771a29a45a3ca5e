package engine

import (
	"bytes"
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

// Results are buffered in memory and written to the file at most
// flushInterval apart (the run's loop calls flush), or sooner once
// flushSize bytes are waiting, and at the end. gob hands each whole
// message to one Write, and a flush writes only whole messages, so after
// kill -9 the file is readable up to its last record: at most the last
// flushInterval of results is lost. (Writing each record with a syscall of
// its own cost more than a tenth of a run's CPU at high rates.)
const (
	flushInterval = 100 * time.Millisecond
	flushSize     = 256 << 10
)

// recorder owns the run directory's files. write and flush are called
// from the run's loop alone.
type recorder struct {
	dir     string
	results *os.File
	buf     bytes.Buffer // whole gob messages not yet in the file
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
	r := &recorder{dir: dir, results: rf, timeline: tf}
	r.enc = vegeta.NewEncoder(&r.buf)
	return r, nil
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
// The values share one backing array: one allocation instead of one per
// header (this runs once per result).
func annotate(res *vegeta.Result, stage int, hi *hitInfo, outcome rundir.Outcome, lag time.Duration) {
	h := res.Headers
	if h == nil {
		h = make(http.Header, 6)
	}
	delete(h, "Set-Cookie")
	var conn string
	switch {
	case hi.reused:
		conn = "reused"
	case hi.connect > 0:
		conn = "new;connect=" + strconv.FormatInt(int64(hi.connect), 10)
	}
	var class string
	if res.Code == 0 && res.Error != "" {
		if class = hi.errClass; class == "" {
			class = rundir.ErrOther
		}
	}
	vals := [6]string{strconv.Itoa(stage), string(hi.intent), string(outcome), strconv.FormatInt(int64(lag), 10), conn, class}
	vs := vals[:]
	set := func(i int, k string) {
		if vs[i] != "" {
			h[k] = vs[i : i+1 : i+1]
		}
	}
	set(0, rundir.HeaderStage)
	set(1, rundir.HeaderIntent)
	set(2, rundir.HeaderOutcome)
	set(3, rundir.HeaderSendLag)
	set(4, rundir.HeaderConn)
	set(5, rundir.HeaderErrorClass)
	res.Headers = h
	if outcome == rundir.OutcomeOK {
		res.Body = nil
	} else if len(res.Body) > maxKeptBody {
		res.Body = res.Body[:maxKeptBody]
	}
}

func (r *recorder) write(res *vegeta.Result) error {
	if err := r.enc.Encode(res); err != nil {
		return err
	}
	if r.buf.Len() >= flushSize {
		return r.flush()
	}
	return nil
}

// flush writes the results waiting in memory to the file.
func (r *recorder) flush() error {
	if r.buf.Len() == 0 {
		return nil
	}
	_, err := r.results.Write(r.buf.Bytes())
	r.buf.Reset()
	return err
}

func (r *recorder) Close() error {
	err1 := r.flush()
	if err := r.results.Close(); err1 == nil {
		err1 = err
	}
	r.tmu.Lock()
	err2 := r.timeline.Close()
	r.tmu.Unlock()
	if err1 != nil {
		return err1
	}
	return err2
}
