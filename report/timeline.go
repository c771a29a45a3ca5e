package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// timeline is timeline.jsonl, read once. It is small (a few lines a
// second), so it is held whole; each sample keeps its time since the start.
type timeline struct {
	start      time.Time
	runStart   *rundir.RunStartEvent
	stages     []rundir.StageEvent
	generator  []timed[rundir.GeneratorEvent]
	faults     []timed[rundir.FaultEvent]
	reverts    []timed[rundir.FaultEvent]
	dbSamples  []timed[rundir.DBSample]
	probes     []timed[rundir.TCPProbe]
	httpProbes []timed[rundir.HTTPProbe]
	cpu        []timed[rundir.CPUSample]
	interrupts []time.Duration
	end        *time.Duration
	endStatus  string
	badLines   int

	// An adaptive search's trials and result, and the abort rule's stops
	// (with their own t, when the line had one).
	trials       []rundir.TrialEvent
	searchResult *rundir.SearchResultEvent
	aborts       []abortAt
}

type abortAt struct {
	t  *float64
	ev rundir.AbortEvent
}

type timed[T any] struct {
	at time.Duration
	ev T
}

// readTimeline parses timeline.jsonl, once: lines it cannot read are
// counted, unknown types ignored.
func readTimeline(r io.Reader) (*timeline, error) {
	tl := &timeline{}
	lines, err := tl.scan(r)
	if err != nil {
		return nil, err
	}
	if tl.start.IsZero() { // no run_start: the earliest line with a t of 0 or the first line
		for _, l := range lines {
			if !l.hdr.Time.IsZero() {
				tl.start = l.hdr.Time
				if l.hdr.T != nil {
					tl.start = l.hdr.Time.Add(-rundir.Secs(*l.hdr.T))
				}
				break
			}
		}
	}
	for _, l := range lines {
		tl.add(l)
	}
	return tl, nil
}

// rawLine is one timeline line and its header.
type rawLine struct {
	hdr  rundir.Header
	line []byte
}

// scan splits the timeline into lines with their headers, and takes the
// run's start from its run_start.
func (tl *timeline) scan(r io.Reader) ([]rawLine, error) {
	var lines []rawLine
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var h rundir.Header
		if json.Unmarshal(b, &h) != nil || h.Type == "" {
			tl.badLines++
			continue
		}
		if h.Type == rundir.EventRunStart && tl.runStart == nil {
			var rs rundir.RunStartEvent
			_ = json.Unmarshal(b, &rs)
			tl.runStart = &rs
			tl.start = h.Time
		}
		lines = append(lines, rawLine{h, append([]byte(nil), b...)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	return lines, nil
}

// add files one line's event under its type.
func (tl *timeline) add(l rawLine) {
	at := tl.at(l.hdr)
	bad := false
	switch l.hdr.Type {
	case rundir.EventStage:
		var e rundir.StageEvent
		bad = json.Unmarshal(l.line, &e) != nil
		tl.stages = append(tl.stages, e)
	case rundir.EventGenerator:
		var e rundir.GeneratorEvent
		bad = json.Unmarshal(l.line, &e) != nil
		if !e.Second.IsZero() && !tl.start.IsZero() {
			at = e.Second.Sub(tl.start) + 500*time.Millisecond // the middle of the second it covers
		}
		tl.generator = append(tl.generator, timed[rundir.GeneratorEvent]{at, e})
	case rundir.EventFaultInject, rundir.EventFaultRevert:
		var e rundir.FaultEvent
		bad = json.Unmarshal(l.line, &e) != nil
		if l.hdr.Type == rundir.EventFaultInject {
			tl.faults = append(tl.faults, timed[rundir.FaultEvent]{at, e})
		} else {
			tl.reverts = append(tl.reverts, timed[rundir.FaultEvent]{at, e})
		}
	case rundir.EventDBSample, rundir.EventPoolSample:
		var e rundir.DBSample
		bad = json.Unmarshal(l.line, &e) != nil
		tl.dbSamples = append(tl.dbSamples, timed[rundir.DBSample]{at, e})
	case rundir.EventTCPProbe:
		var e rundir.TCPProbe
		bad = json.Unmarshal(l.line, &e) != nil
		tl.probes = append(tl.probes, timed[rundir.TCPProbe]{at, e})
	case rundir.EventHTTPProbe:
		var e rundir.HTTPProbe
		bad = json.Unmarshal(l.line, &e) != nil
		tl.httpProbes = append(tl.httpProbes, timed[rundir.HTTPProbe]{at, e})
	case rundir.EventCPUSample:
		var e rundir.CPUSample
		bad = json.Unmarshal(l.line, &e) != nil
		tl.cpu = append(tl.cpu, timed[rundir.CPUSample]{at, e})
	case rundir.EventInterrupt: // the surge stopped here
		tl.interrupts = append(tl.interrupts, at)
	case rundir.EventAbort: // so did it here, by the scenario's abort rule
		tl.interrupts = append(tl.interrupts, at)
		var e rundir.AbortEvent
		if json.Unmarshal(l.line, &e) == nil {
			tl.aborts = append(tl.aborts, abortAt{l.hdr.T, e})
		}
	case rundir.EventTrial: // an unreadable trial or result is skipped, not counted
		var e rundir.TrialEvent
		if json.Unmarshal(l.line, &e) == nil {
			tl.trials = append(tl.trials, e)
		}
	case rundir.EventSearchResult:
		var e rundir.SearchResultEvent
		if json.Unmarshal(l.line, &e) == nil {
			tl.searchResult = &e
		}
	case rundir.EventRunEnd:
		var e rundir.RunEndEvent
		_ = json.Unmarshal(l.line, &e)
		end := at
		tl.end, tl.endStatus = &end, e.Status
	}
	if bad {
		tl.badLines++
	}
}

// at is an event's time since the run's start: its t, else its time.
func (tl *timeline) at(h rundir.Header) time.Duration {
	if h.T != nil {
		return rundir.Secs(*h.T)
	}
	if !h.Time.IsZero() && !tl.start.IsZero() {
		return h.Time.Sub(tl.start)
	}
	return 0
}
