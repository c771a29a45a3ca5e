package merge

import (
	"bufio"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// A shard writes its results in arrival order: a hit's Timestamp is when it
// was sent, so a slow answer lands in the file after faster ones sent later.
// Each input is therefore read through a reorder buffer: a result is handed
// on once the input has yielded one sent at least Reorder after it (or
// ended), so results out of order by less than Reorder come out in time
// order. One that arrives later than that (a hit slower than Reorder) is
// written as soon as it is read, out of order, and counted in
// Result.OutOfOrder; the report buckets hits by their timestamps, so it
// reads them right all the same. The buffer holds at most MaxBuffered
// results, so memory is bounded by shards × MaxBuffered whatever the run's
// length.

// source is one shard's results.bin, read through its reorder buffer.
type source struct {
	shard  int
	label  []string // the Stampede-Shard header's value
	f      *os.File
	dec    vegeta.Decoder
	buf    byTime // read, not yet written; earliest first
	newest time.Time
	eof    bool
	// truncated is set when the file ends inside a record (an agent that
	// died while writing).
	truncated bool
	read      int64
	probe     *skewProbe
}

func openSource(dir string, shard int, probe *skewProbe) (*source, error) {
	f, err := os.Open(filepath.Join(dir, rundir.ResultsFile))
	if err != nil {
		return nil, err
	}
	return &source{shard: shard, label: []string{strconv.Itoa(shard)}, f: f,
		dec: vegeta.NewDecoder(bufio.NewReaderSize(f, 256<<10)), probe: probe}, nil
}

// fill reads until the earliest buffered result is settled: the input has
// gone reorder past it, ended, or filled its buffer.
func (s *source) fill(reorder time.Duration, maxBuf int) error {
	for !s.eof && len(s.buf) < maxBuf && (len(s.buf) == 0 || s.newest.UnixNano()-s.buf[0].ns < int64(reorder)) {
		r := new(vegeta.Result)
		if err := s.dec.Decode(r); err != nil {
			s.eof = true
			switch {
			case errors.Is(err, io.EOF):
			case errors.Is(err, io.ErrUnexpectedEOF):
				s.truncated = true
			default:
				return fmt.Errorf("shard %d: %s: record %d: %w", s.shard, rundir.ResultsFile, s.read+1, err)
			}
			break
		}
		s.read++
		if r.Timestamp.After(s.newest) {
			s.newest = r.Timestamp
		}
		heap.Push(&s.buf, timed{r.Timestamp.UnixNano(), r})
	}
	return nil
}

// byTime is a min-heap of results by Timestamp. The key is kept beside
// the pointer (ns since the epoch): comparing them then reads the heap's
// own array, not a result each.
type byTime []timed

type timed struct {
	ns int64
	r  *vegeta.Result
}

func (h byTime) Len() int           { return len(h) }
func (h byTime) Less(i, j int) bool { return h[i].ns < h[j].ns }
func (h byTime) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *byTime) Push(x any)        { *h = append(*h, x.(timed)) }
func (h *byTime) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = timed{}
	*h = old[:len(old)-1]
	return t
}

// sources is a min-heap of inputs by their earliest settled result; ties go
// to the lower shard, so the output is the same from run to run.
type sources []*source

func (h sources) Len() int { return len(h) }
func (h sources) Less(i, j int) bool {
	a, b := h[i].buf[0].ns, h[j].buf[0].ns
	if a == b {
		return h[i].shard < h[j].shard
	}
	return a < b
}
func (h sources) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *sources) Push(x any)   { *h = append(*h, x.(*source)) }
func (h *sources) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}

// resultStats is what mergeResults tells of its pass.
type resultStats struct {
	records     int64
	outOfOrder  int64
	maxBuffered int
}

// mergeResults writes every input's results to w in time order (within
// the reorder bound), each marked with its shard: a k-way merge over the
// inputs' reorder buffers, one pass, linear in the number of records.
func mergeResults(ctx context.Context, w io.Writer, srcs []*source, reorder time.Duration, maxBuf int) (resultStats, error) {
	var st resultStats
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := vegeta.NewEncoder(bw)
	h := make(sources, 0, len(srcs))
	buffered := 0
	for _, s := range srcs {
		if err := s.fill(reorder, maxBuf); err != nil {
			return st, err
		}
		buffered += len(s.buf)
		if len(s.buf) > 0 {
			h = append(h, s)
		}
	}
	heap.Init(&h)
	st.maxBuffered = buffered
	var last time.Time
	for len(h) > 0 {
		if st.records%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return st, err
			}
		}
		s := h[0]
		r := heap.Pop(&s.buf).(timed).r
		if r.Timestamp.Before(last) {
			st.outOfOrder++
		} else {
			last = r.Timestamp
		}
		if r.Headers == nil {
			r.Headers = make(http.Header, 1)
		}
		r.Headers[rundir.HeaderShard] = s.label
		if s.probe != nil {
			s.probe.add(r)
		}
		if err := enc.Encode(r); err != nil {
			return st, fmt.Errorf("write %s: %w", rundir.ResultsFile, err)
		}
		st.records++
		buffered--
		before := len(s.buf)
		if err := s.fill(reorder, maxBuf); err != nil {
			return st, err
		}
		buffered += len(s.buf) - before
		st.maxBuffered = max(st.maxBuffered, buffered)
		if len(s.buf) == 0 {
			heap.Pop(&h)
		} else {
			heap.Fix(&h, 0)
		}
	}
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("write %s: %w", rundir.ResultsFile, err)
	}
	return st, nil
}
