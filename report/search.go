package report

import (
	"fmt"
	"time"

	"github.com/stampede-load/stampede/report/format"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// An adaptive search (mode: search, stampede find-limit) runs trials at
// one rate each, judged live by the runner on each trial's hold, and
// records them as trial events and a search_result; its stages are the
// trials (and the pauses after failed ones), recorded as it went. The
// report shows the trials with a cause each (from its own windows'
// evidence) and takes its limit from the bracket the search found.

// Search is an adaptive search's outcome.
type Search struct {
	// Lo is the highest rate held, Hi the lowest that failed; nil for none.
	Lo, Hi *float64
	// Precision is (Hi-Lo)/Lo, nil without both; Target is the precision asked for.
	Precision *float64
	Target    float64
	Reason    string // precision, budget, max_rate, min_rate, interrupted
	Elapsed   time.Duration
	Trials    []Trial
}

// Trial is one judged trial of a search.
type Trial struct {
	Index         int
	Rate          float64
	Phase         string
	Start         time.Duration // the warmup's start
	Warmup, Hold  time.Duration
	Planned, Sent int64 // planned in the hold, and back when judged
	SuccessRatio  float64
	P99           time.Duration
	LatencyAtSLO  time.Duration // the SLO percentile
	SLOMet        bool
	// Cause is "none" when the trial held, else the most frequent cause of
	// the degraded windows inside its hold ("undetermined" without one).
	Cause string
}

// Bracketed reports whether the search found both ends.
func (s *Search) Bracketed() bool { return s != nil && s.Lo != nil && s.Hi != nil }

// searchOf is a search's trials and bracket from the timeline's trial and
// search_result events; nil for a run without them.
func searchOf(tl *timeline) *Search {
	if len(tl.trials) == 0 && tl.searchResult == nil {
		return nil
	}
	s := &Search{}
	for _, e := range tl.trials {
		s.Trials = append(s.Trials, Trial{Index: e.Index, Rate: e.Rate, Phase: e.Phase, Start: rundir.Secs(e.StartS),
			Warmup: rundir.Secs(e.WarmupS), Hold: rundir.Secs(e.HoldS), Planned: e.Planned, Sent: e.Received,
			SuccessRatio: e.SuccessRatio, P99: msDur(e.P99MS), LatencyAtSLO: msDur(e.SLOLatencyMS), SLOMet: e.SLOMet})
	}
	if e := tl.searchResult; e != nil {
		s.Lo, s.Hi, s.Precision, s.Target, s.Reason = e.Lo, e.Hi, e.Precision, e.TargetPrecision, e.Reason
		s.Elapsed = rundir.Secs(e.ElapsedS)
	}
	if s.Reason == "" {
		s.Reason = "unknown (no search_result: the run was cut short)"
	}
	return s
}

// abortNotes say where the scenario's abort rule stopped the surge.
func abortNotes(tl *timeline) []string {
	var notes []string
	for _, a := range tl.aborts {
		at, e := "", a.ev
		if a.t != nil {
			at = " at " + format.Sec(rundir.Secs(*a.t))
		}
		notes = append(notes, fmt.Sprintf("aborted%s: the SLO failed in %d of the last %d seconds (abort after %s, ratio %s); the surge was stopped, later windows are not judged",
			at, e.FailedSeconds, e.WindowSeconds, format.Sec(rundir.Secs(e.AfterS)), format.Num(e.Ratio)))
	}
	return notes
}

// applySearch gives a search's trials their causes, from the windows
// inside each hold, and makes the bracket the run's limit. It runs once
// the windows have their causes, before the run's cause and the checks.
func applySearch(r *Report) {
	s := r.Search
	if s == nil {
		return
	}
	for i := range s.Trials {
		s.Trials[i].Cause = trialCause(r.Windows, s.Trials[i])
	}
	l := &r.Limit
	l.SustainableRPS, l.BreakingRPS, l.KneeRPS = s.Lo, s.Hi, nil
	l.PrecisionRPS = nil
	if s.Hi != nil {
		for _, t := range s.Trials {
			if !t.SLOMet && t.Rate == *s.Hi {
				l.BreakingAt = t.Start + t.Warmup
			}
		}
	}
	l.Method = fmt.Sprintf("adaptive search: %d trials, each judged on its hold after a %s warmup", len(s.Trials), s.WarmupText())
	switch {
	case s.Bracketed():
		l.PrecisionRPS = fp(*s.Hi - *s.Lo)
		l.Precision = fmt.Sprintf("sustainable ≥ %s/s, broken at %s/s: a bracket of %s (target %s)",
			format.Num(format.Round(*s.Lo, 1)), format.Num(format.Round(*s.Hi, 1)), format.Pct(*s.Precision), format.Pct(s.Target))
	case s.Lo != nil:
		l.Precision = "the search never broke the SLO (" + s.Reason + "): the limit is above " + format.Num(format.Round(*s.Lo, 1)) + "/s"
	case s.Hi != nil:
		l.Precision = "no trial held (" + s.Reason + "): the limit is below " + format.Num(format.Round(*s.Hi, 1)) + "/s"
	default:
		l.Precision = "no trial was judged (" + s.Reason + ")"
	}
}

// WarmupText is the trials' warmup, "-" without trials.
func (s *Search) WarmupText() string {
	if len(s.Trials) == 0 {
		return "-"
	}
	return format.Sec(s.Trials[0].Warmup)
}

// trialCause is the most frequent cause among the degraded windows that
// lie inside the trial's hold.
func trialCause(wins []Window, t Trial) string {
	if t.SLOMet {
		return CauseNone
	}
	a, b := t.Start+t.Warmup, t.Start+t.Warmup+t.Hold
	counts := map[string]int{}
	for _, w := range wins {
		if w.Start >= a && w.Start+w.Length <= b && !w.SLOMet && w.Cause != "" {
			counts[w.Cause]++
		}
	}
	if len(counts) == 0 {
		return CauseUndetermined
	}
	return majority(counts)
}

// searchChecks judge a search run in place of the SLO checks: its trials
// break the SLO on purpose, so the check is whether it found the limit.
func searchChecks(r *Report) []Check {
	s := r.Search
	c := Check{Name: "search.bracket", Kind: "slo", Passed: s.Bracketed()}
	switch {
	case s.Bracketed():
		c.Detail = fmt.Sprintf("sustainable ≥ %s/s, broken at %s/s: bracket %s (target %s) after %d trials in %s; stopped: %s",
			format.Num(format.Round(*s.Lo, 1)), format.Num(format.Round(*s.Hi, 1)), format.Pct(*s.Precision), format.Pct(s.Target), len(s.Trials), format.Sec(s.Elapsed), s.Reason)
	case s.Lo != nil:
		c.Detail = fmt.Sprintf("no bracket: held up to %s/s and never broke (%s); raise search.max_rate (and max_rate) to find the limit", format.Num(format.Round(*s.Lo, 1)), s.Reason)
	case s.Hi != nil:
		c.Detail = fmt.Sprintf("no bracket: failed down to %s/s and never held (%s); lower search.from, or look at the cause", format.Num(format.Round(*s.Hi, 1)), s.Reason)
	default:
		c.Detail = fmt.Sprintf("no bracket: no trial was judged (%s)", s.Reason)
	}
	return []Check{c}
}

// searchSummary rewrites the verdict's line for a search: the bracket,
// not a breaking point the load stayed at.
func searchSummary(r *Report) {
	s := r.Search
	if s == nil {
		return
	}
	line := r.Verdict + ": "
	switch {
	case s.Bracketed():
		line += fmt.Sprintf("sustainable ≥ %s/s, broken at %s/s (bracket %s, %d trials)", format.Num(format.Round(*s.Lo, 1)), format.Num(format.Round(*s.Hi, 1)),
			format.Pct(*s.Precision), len(s.Trials))
	default:
		line += "no bracket found (" + s.Reason + ")"
	}
	if r.Cause.Primary != CauseNone {
		line += "; cause " + r.Cause.Primary
	}
	var failed []string
	for _, c := range r.Checks {
		if !c.Passed && !c.Skipped {
			failed = append(failed, c.Name)
		}
	}
	if len(failed) > 0 {
		line += fmt.Sprintf("; failed: %v", failed)
	}
	r.Summary = line
}
