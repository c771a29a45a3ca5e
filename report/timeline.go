package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// timeline is timeline.jsonl, read once. It is small (a few lines a
// second), so it is held whole; each sample keeps its time since the start.
type timeline struct {
	start      time.Time
	runStart   *RunStartEvent
	stages     []StageEvent
	generator  []timed[GeneratorEvent]
	faults     []timed[FaultEvent]
	reverts    []timed[FaultEvent]
	dbSamples  []timed[DBSample]
	probes     []timed[TCPProbe]
	interrupts []time.Duration
	end        *time.Duration
	endStatus  string
	badLines   int
}

type timed[T any] struct {
	at time.Duration
	ev T
}

// readTimeline parses timeline.jsonl; lines it cannot read are counted,
// unknown types ignored.
func readTimeline(r io.Reader) (*timeline, error) {
	tl := &timeline{}
	type raw struct {
		hdr  EventHeader
		line []byte
	}
	var lines []raw
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var h EventHeader
		if json.Unmarshal(b, &h) != nil || h.Type == "" {
			tl.badLines++
			continue
		}
		if h.Type == EventRunStart && tl.runStart == nil {
			var rs RunStartEvent
			_ = json.Unmarshal(b, &rs)
			tl.runStart = &rs
			tl.start = h.Time
		}
		lines = append(lines, raw{h, append([]byte(nil), b...)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	if tl.start.IsZero() { // no run_start: the earliest line with a t of 0 or the first line
		for _, l := range lines {
			if !l.hdr.Time.IsZero() {
				tl.start = l.hdr.Time
				if l.hdr.T != nil {
					tl.start = l.hdr.Time.Add(-secs(*l.hdr.T))
				}
				break
			}
		}
	}
	for _, l := range lines {
		at := tl.at(l.hdr)
		bad := false
		switch l.hdr.Type {
		case EventStage:
			var e StageEvent
			bad = json.Unmarshal(l.line, &e) != nil
			tl.stages = append(tl.stages, e)
		case EventGenerator:
			var e GeneratorEvent
			bad = json.Unmarshal(l.line, &e) != nil
			if !e.Second.IsZero() && !tl.start.IsZero() {
				at = e.Second.Sub(tl.start) + 500*time.Millisecond // the middle of the second it covers
			}
			tl.generator = append(tl.generator, timed[GeneratorEvent]{at, e})
		case EventFaultInject, EventFaultRevert:
			var e FaultEvent
			bad = json.Unmarshal(l.line, &e) != nil
			if l.hdr.Type == EventFaultInject {
				tl.faults = append(tl.faults, timed[FaultEvent]{at, e})
			} else {
				tl.reverts = append(tl.reverts, timed[FaultEvent]{at, e})
			}
		case EventDBSample, EventPoolSample:
			var e DBSample
			bad = json.Unmarshal(l.line, &e) != nil
			tl.dbSamples = append(tl.dbSamples, timed[DBSample]{at, e})
		case EventTCPProbe:
			var e TCPProbe
			bad = json.Unmarshal(l.line, &e) != nil
			tl.probes = append(tl.probes, timed[TCPProbe]{at, e})
		case EventInterrupt, EventAbort: // the surge stopped here
			tl.interrupts = append(tl.interrupts, at)
		case EventRunEnd:
			var e struct {
				Status string `json:"status"`
			}
			_ = json.Unmarshal(l.line, &e)
			end := at
			tl.end, tl.endStatus = &end, e.Status
		}
		if bad {
			tl.badLines++
		}
	}
	return tl, nil
}

// at is an event's time since the run's start: its t, else its time.
func (tl *timeline) at(h EventHeader) time.Duration {
	if h.T != nil {
		return secs(*h.T)
	}
	if !h.Time.IsZero() && !tl.start.IsZero() {
		return h.Time.Sub(tl.start)
	}
	return 0
}
