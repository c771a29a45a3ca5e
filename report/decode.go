package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// decode is the analysis' streaming pass: every result in results.bin is
// classified (classify.go) and counted into its window (windower.go), and
// in a merged run into its shard (shards.go), in one pass with bounded
// memory.
func decode(dir string, r *Report, fr *frame) (*windower, error) {
	w := newWindower(r.Window, fr.horizon, fr.maxWin, r.SLO.Percentile)
	if fr.atRate != nil {
		w.markRate(fr.atRate.windows)
	}
	if r.Shards != nil {
		w.shards = make([]shardAcc, len(r.Shards.List))
	}
	f, err := os.Open(filepath.Join(dir, rundir.ResultsFile))
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	var h hit
	r.requests = newRequestTally()
	_, note, err := decodeResults(bufio.NewReaderSize(f, 256<<10), func(res *vegeta.Result) {
		if fr.start.IsZero() { // no timeline, no manifest: the first result's planned time
			fr.start = res.Timestamp
			if lag := hget(res.Headers, rundir.HeaderSendLag); lag != "" {
				var ns int64
				_, _ = fmt.Sscan(lag, &ns)
				fr.start = fr.start.Add(-time.Duration(ns))
			}
			r.Notes = append(r.Notes, "no run start recorded: windows start at the first result")
		}
		reduce(res, fr.start, &h)
		w.add(&h)
		if w.shards != nil {
			w.addShard(shardOf(res), &h)
		}
		r.requests.add(res, fr.start)
	})
	if err != nil {
		return nil, err
	}
	if note != "" {
		r.Notes = append(r.Notes, note)
	}
	w.finish()
	r.histSets = w.openHistograms()
	r.Start = fr.start
	if w.negative > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d results sent before the run's start were counted in the first window", w.negative))
	}
	if w.clipped > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d results sent long after the plan were counted in the last window", w.clipped))
	}
	return w, nil
}

// decodeResults streams results.bin into fn. A file cut short (the runner
// killed mid-write) ends the stream with a note, not an error.
//
// Decoding runs in a goroutine of its own, a batch ahead of fn: gob
// decoding is most of the pass and fn (classify, window) the rest, so on
// two cores the two overlap. The results are decoded into a fixed set of
// batches that fn hands back once read, so memory stays bounded whatever
// the file's length, and fn sees each result once, in file order, on the
// caller's goroutine. fn must not keep the *Result past its return.
func decodeResults(r io.Reader, fn func(*vegeta.Result)) (n int64, note string, err error) {
	free := make(chan *resultBatch, nBatches)
	full := make(chan *resultBatch, nBatches)
	for range nBatches {
		free <- &resultBatch{}
	}
	go func() {
		defer close(full) // after n, note and err are set: the loop below reads them once full is drained
		n, note, err = decodeInto(vegeta.NewDecoder(r), free, full)
	}()
	for b := range full {
		for i := range b.n {
			fn(&b.res[i])
		}
		free <- b
	}
	return n, note, err
}

// Batches in flight between the decoding goroutine and fn: enough that
// neither waits on the other's jitter, few enough that the decoded results
// held (about 1.5 kB each with their headers) stay well under a megabyte.
const (
	batchLen = 256
	nBatches = 4
)

type resultBatch struct {
	res [batchLen]vegeta.Result
	n   int
}

// decodeInto fills batches taken from free and sends them on full, until
// the stream ends.
func decodeInto(dec vegeta.Decoder, free <-chan *resultBatch, full chan<- *resultBatch) (n int64, note string, err error) {
	for {
		b := <-free
		b.n = 0
		for b.n < batchLen {
			res := &b.res[b.n]
			// gob leaves absent (zero) fields untouched: start clean, but keep
			// the header map and body buffer to decode into (fewer allocations).
			hd, body := res.Headers, res.Body[:0]
			clear(hd)
			*res = vegeta.Result{Headers: hd, Body: body}
			if err := dec.Decode(res); err != nil {
				if b.n > 0 {
					full <- b
				}
				switch {
				case errors.Is(err, io.EOF):
					return n, "", nil
				case errors.Is(err, io.ErrUnexpectedEOF):
					return n, fmt.Sprintf("results.bin ends mid-record after %d results (run killed?): the rest is lost", n), nil
				}
				if n > 0 {
					return n, fmt.Sprintf("results.bin unreadable after %d results: %v", n, err), nil
				}
				return n, "", fmt.Errorf("report: results.bin: %w", err)
			}
			b.n++
			n++
		}
		full <- b
	}
}
