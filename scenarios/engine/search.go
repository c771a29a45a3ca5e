package engine

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/stampede-load/stampede/scenarios"
)

// The adaptive search (mode: search, stampede find-limit) offers one rate
// per trial, in one attack over one set of connections: each trial warms
// up, then holds; only the hold is judged, against the scenario's SLO, once
// its hits are due back. The rate rises by a factor until a trial fails,
// then the bracket [last good, first bad] is bisected (geometrically: the
// precision is relative) until (hi-lo)/lo <= precision, or the budget has
// no room for another trial. After a failed trial nothing is sent for a
// while, so that the queue it built drains before the next trial's warmup.
//
// A bracket ends only on an upper end that failed twice. Noise on a shared
// machine (a busy neighbour, a GC pause, a burst of other tests) only ever
// makes a trial fail, never pass, so a single failure may be the machine's
// rather than the service's; left alone it would cap every later trial
// below it, and the search would converge on the noise (a CI run read
// [73.1, 75.0]/s for a 100/s pool that way, every trial below 75 held).
// Once the bracket is narrow enough, the upper end is tried once more: a
// second failure confirms it; a pass makes it the lower end, and the
// search rises again from there.

// minSearchRate is the lowest rate a search goes down to when its first
// trials fail.
const minSearchRate = 1.0

// Stop reasons of a search.
const (
	SearchPrecision   = "precision"   // the bracket is as narrow as asked
	SearchMaxRate     = "max_rate"    // held at the highest rate allowed: no bracket above
	SearchMinRate     = "min_rate"    // failed at the lowest rate: no bracket below
	SearchBudget      = "budget"      // no room for another trial
	SearchInterrupted = "interrupted" // stopped by Control.Stop, an error or a cancelled context
)

// bracket is the search's state between trials: the highest rate held and
// the lowest that failed; 0 while there is none.
type bracket struct {
	Lo, Hi float64
	// HiFails is how many trials failed at Hi (the confirmation trial
	// reruns exactly Hi).
	HiFails int
}

// hiConfirmations is how many failures at the upper end make it the limit:
// one more than noise alone is likely to produce.
const hiConfirmations = 2

// width is (hi-lo)/lo, or +Inf without both ends.
func (b bracket) width() float64 {
	if b.Lo <= 0 || b.Hi <= 0 {
		return math.Inf(1)
	}
	return (b.Hi - b.Lo) / b.Lo
}

// next takes a trial's verdict at rate into the bracket and picks the next
// rate, or says why the search is done. It is the whole search policy.
func (b bracket) next(rate float64, met bool, c scenarios.Search) (bracket, float64, string) {
	switch {
	case met && b.Hi > 0 && rate >= b.Hi: // the upper end held when tried again: it was noise
		b.Lo, b.Hi, b.HiFails = rate, 0, 0
	case met:
		b.Lo = max(b.Lo, rate)
	case b.Hi > 0 && rate == b.Hi:
		b.HiFails++
	case b.Hi == 0 || rate < b.Hi:
		b.Hi, b.HiFails = rate, 1
	}
	const eps = 1e-9
	switch {
	case b.Lo > 0 && b.Hi > 0:
		if b.width() <= c.Precision+eps {
			if b.HiFails >= hiConfirmations {
				return b, 0, SearchPrecision
			}
			return b, b.Hi, "" // confirm the upper end
		}
		return b, math.Sqrt(b.Lo * b.Hi), ""
	case b.Hi == 0: // nothing failed yet: up
		if b.Lo >= c.MaxRate*(1-eps) {
			return b, 0, SearchMaxRate
		}
		return b, min(b.Lo*c.Factor, c.MaxRate), ""
	default: // nothing held yet: down
		if b.Hi <= minSearchRate*(1+eps) {
			return b, 0, SearchMinRate
		}
		return b, max(b.Hi/c.Factor, minSearchRate), ""
	}
}

// Trial is one judged trial of a search.
type Trial struct {
	Index  int
	Rate   float64
	Phase  string        // "raise" before the first failure (or "lower" before the first success), then "bisect"; "confirm" reruns the upper end
	Start  time.Duration // the warmup's start, on the plan's clock
	Warmup time.Duration
	Hold   time.Duration
	SLOVerdict
	// Recover is the pause after a failed trial, until the target drained.
	Recover time.Duration
}

// SearchResult is what a search found.
type SearchResult struct {
	// Lo is the highest rate held, Hi the lowest that failed; 0 for none.
	Lo, Hi float64
	// Precision is (Hi-Lo)/Lo; Target the precision asked for.
	Precision, Target float64
	Trials            []Trial
	Elapsed           time.Duration
	Reason            string
}

// Bracketed reports whether the search found both ends of the limit.
func (r *SearchResult) Bracketed() bool { return r != nil && r.Lo > 0 && r.Hi > 0 }

// String is the bracket in words: "sustainable ≥ 93.8/s, broken at 98.4/s".
func (r *SearchResult) String() string {
	switch {
	case r.Bracketed():
		return fmt.Sprintf("sustainable ≥ %s/s, broken at %s/s (bracket %.1f%%, target %s%%; %d trials in %s)",
			fnum(r.Lo), fnum(r.Hi), 100*r.Precision, fnum(100*r.Target), len(r.Trials), r.Elapsed.Round(100*time.Millisecond))
	case r.Lo > 0:
		return fmt.Sprintf("sustainable ≥ %s/s, never broke (%s; %d trials)", fnum(r.Lo), r.Reason, len(r.Trials))
	case r.Hi > 0:
		return fmt.Sprintf("broken at %s/s, nothing held (%s; %d trials)", fnum(r.Hi), r.Reason, len(r.Trials))
	}
	return fmt.Sprintf("no trial judged (%s)", r.Reason)
}

func fnum(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }
