package merge

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// A timeline holds a few lines a second whatever the load, so each shard's
// is read whole and the merged one sorted in memory: O(run seconds), not
// O(hits).

// line is one timeline line of a shard, with the instant it happened.
type line struct {
	hdr rundir.Header
	at  time.Time
	raw []byte
}

// shardTimeline is one shard's timeline.jsonl.
type shardTimeline struct {
	lines    []line
	runStart *rundir.RunStartEvent
	start    time.Time // its run_start's time
	end      time.Time // its run_end's time, else its last line's
	endSeen  bool
	status   string // its run_end's status
	stages   []rundir.StageEvent
	badLines int
}

func readTimeline(dir string) (*shardTimeline, error) {
	tl := &shardTimeline{}
	f, err := os.Open(filepath.Join(dir, rundir.TimelineFile))
	if errors.Is(err, os.ErrNotExist) {
		return tl, nil // an agent that died before its first line
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var h rundir.Header
		if json.Unmarshal(b, &h) != nil || h.Type == "" {
			tl.badLines++
			continue
		}
		raw := bytes.Clone(b)
		switch h.Type {
		case rundir.EventRunStart:
			if tl.runStart == nil {
				var rs rundir.RunStartEvent
				if json.Unmarshal(raw, &rs) == nil {
					tl.runStart, tl.start = &rs, h.Time
				}
			}
		case rundir.EventRunEnd:
			var re rundir.RunEndEvent
			if json.Unmarshal(raw, &re) == nil {
				tl.status, tl.end, tl.endSeen = re.Status, h.Time, true
			}
		case rundir.EventStage:
			var se rundir.StageEvent
			if json.Unmarshal(raw, &se) == nil {
				tl.stages = append(tl.stages, se)
			}
		}
		tl.lines = append(tl.lines, line{hdr: h, at: h.Time, raw: raw})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", rundir.TimelineFile, err)
	}
	// a line with no time is placed by its t, when it has one
	for i := range tl.lines {
		l := &tl.lines[i]
		if l.at.IsZero() && l.hdr.T != nil && !tl.start.IsZero() {
			l.at = tl.start.Add(rundir.Secs(*l.hdr.T))
		}
		if !tl.endSeen && l.at.After(tl.end) {
			tl.end = l.at
		}
	}
	return tl, nil
}

// fromShardZeroOnly are the event types only shard 0 records: it alone
// injects faults and samples the database and the network. Other shards'
// lines of these types are left out.
var fromShardZeroOnly = map[string]bool{
	rundir.EventFaultInject: true, rundir.EventFaultRevert: true,
	rundir.EventDBSample: true, rundir.EventPoolSample: true, rundir.EventTCPProbe: true,
}

// timelineIn is what writeTimeline needs of the merge.
type timelineIn struct {
	start  time.Time // the merged run's
	end    time.Time
	status string
	count  int // N, the shard count: stage rates are multiplied by it
	// stagesFrom is the shard whose stage events are the run's (0, else
	// the lowest present).
	stagesFrom int
	shards     []*shardIn // present shards
}

// writeTimeline writes the merged timeline: one run_start and one run_end
// for the whole run, the stage events once with the whole run's rates, each
// shard's run_start and run_end as shard_start and shard_end, faults and
// samples from shard 0, every other line of every shard; all ordered by
// time, t counted from the merged start, and each shard's lines marked with
// their shard. It returns the number of lines left out.
func writeTimeline(w io.Writer, in timelineIn) (dropped int, err error) {
	type entry struct {
		at  time.Time
		raw []byte
	}
	var out []entry
	add := func(ev rundir.Event, at time.Time, shard *int) error {
		b, err := rundir.Line(ev, at, in.start)
		if err == nil && shard != nil {
			b, err = reline(b, at, in.start, shard)
		}
		out = append(out, entry{at, b})
		return err
	}
	for _, sh := range in.shards {
		idx := sh.index
		for _, l := range sh.tl.lines {
			switch {
			case l.hdr.Type == rundir.EventRunStart:
				if l.at.Equal(sh.tl.start) {
					err = add(rundir.ShardStartEvent{Index: idx, Count: in.count, Host: sh.man.Host, Seed: sh.man.Seed}, l.at, &idx)
				}
			case l.hdr.Type == rundir.EventRunEnd:
				err = add(rundir.ShardEndEvent{Index: idx, Status: sh.status}, l.at, &idx)
			case l.hdr.Type == rundir.EventStage:
				if idx != in.stagesFrom {
					continue
				}
				var se rundir.StageEvent
				if err = json.Unmarshal(l.raw, &se); err == nil {
					se.RateStart *= float64(in.count)
					se.RateEnd *= float64(in.count)
					err = add(se, l.at, nil)
				}
			case fromShardZeroOnly[l.hdr.Type] && idx != 0:
				dropped++
			default:
				var b []byte
				if b, err = reline(l.raw, l.at, in.start, &idx); err == nil {
					out = append(out, entry{l.at, b})
				}
			}
			if err != nil {
				return dropped, fmt.Errorf("shard %d: %s line of type %s: %w", idx, rundir.TimelineFile, l.hdr.Type, err)
			}
		}
		dropped += sh.tl.badLines
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })

	var rs rundir.RunStartEvent
	for _, sh := range in.shards {
		if sh.tl.runStart != nil {
			rs = *sh.tl.runStart
			break
		}
	}
	first, err := rundir.Line(rs, in.start, in.start)
	if err != nil {
		return dropped, err
	}
	last, err := rundir.Line(rundir.RunEndEvent{Status: in.status}, in.end, in.start)
	if err != nil {
		return dropped, err
	}
	bw := bufio.NewWriter(w)
	bw.Write(first)
	bw.WriteByte('\n')
	for _, e := range out {
		bw.Write(e.raw)
		bw.WriteByte('\n')
	}
	bw.Write(last)
	bw.WriteByte('\n')
	return dropped, bw.Flush()
}

// reline rewrites one timeline line for the merged run: its type and time
// as they were, t counted from the merged start, the shard it came from,
// then its own fields in their order.
func reline(raw []byte, at, start time.Time, shard *int) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var h rundir.Header
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, err
	}
	h.Time, h.Shard = at, shard
	if !at.IsZero() {
		t := math.Round(at.Sub(start).Seconds()*1e6) / 1e6
		h.T = &t
	}
	hb, err := json.Marshal(struct {
		Type  string   `json:"type"`
		Time  string   `json:"time,omitempty"`
		T     *float64 `json:"t,omitempty"`
		Shard *int     `json:"shard,omitempty"`
	}{h.Type, formatTime(at), h.T, h.Shard})
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(hb[:len(hb)-1])
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		switch key {
		case "type", "time", "t", "shard":
			continue
		}
		kb, _ := json.Marshal(key)
		b.WriteByte(',')
		b.Write(kb)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
