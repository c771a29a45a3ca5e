package chaos

import (
	"math"
	"sort"
	"time"
)

// Window is when one fault is in force: from Start for Duration. A
// Duration of 0 means until the run stops.
type Window struct {
	Start, Duration time.Duration
}

// Schedule is a list of windows, one per scheduled fault. It is pure
// timing: no clock, no faults; the Runner executes it.
type Schedule []Window

// Transition is one injection or revert, At elapsed time from the start.
type Transition struct {
	At     time.Duration
	Index  int  // into the Schedule
	Inject bool // false: revert
}

// end returns when window i ends, and false if it runs until stopped.
// An end beyond the largest Duration is clamped there.
func (s Schedule) end(i int) (time.Duration, bool) {
	w := s[i]
	if w.Duration <= 0 {
		return 0, false
	}
	start := max(w.Start, 0)
	if w.Duration > math.MaxInt64-start {
		return math.MaxInt64, true
	}
	return start + w.Duration, true
}

// Active returns the indices of the windows in force at elapsed, in
// index order: those with Start <= elapsed < end.
func (s Schedule) Active(elapsed time.Duration) []int {
	var out []int
	for i, w := range s {
		if elapsed < max(w.Start, 0) {
			continue
		}
		if end, ok := s.end(i); ok && elapsed >= end {
			continue
		}
		out = append(out, i)
	}
	return out
}

// Transitions lists every injection and revert in the order to perform
// them: by time; at the same time reverts first (so back-to-back faults
// never overlap), reverts in the reverse order of their injections, and
// injections in index order. Open-ended windows have no revert here: they
// are reverted when the run stops.
func (s Schedule) Transitions() []Transition {
	out := make([]Transition, 0, 2*len(s))
	for i, w := range s {
		out = append(out, Transition{At: max(w.Start, 0), Index: i, Inject: true})
		if end, ok := s.end(i); ok {
			out = append(out, Transition{At: end, Index: i})
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		x, y := out[a], out[b]
		if x.At != y.At {
			return x.At < y.At
		}
		if x.Inject != y.Inject {
			return !x.Inject
		}
		if x.Inject {
			return x.Index < y.Index
		}
		// Reverts: the later-injected first.
		sx, sy := max(s[x.Index].Start, 0), max(s[y.Index].Start, 0)
		if sx != sy {
			return sx > sy
		}
		return x.Index > y.Index
	})
	return out
}
