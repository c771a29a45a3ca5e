package render

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/format"
)

// period is a stretch of consecutive degraded windows.
type period struct {
	start, end time.Duration
	windows    int
	causes     map[string]int
	failed     int64
	worst      time.Duration // worst window p99
}

func degradedPeriods(wins []report.Window) []period {
	var out []period
	var cur *period
	for i := range wins {
		w := &wins[i]
		if !w.Traffic || w.SLOMet {
			cur = nil
			continue
		}
		if cur == nil {
			out = append(out, period{start: w.Start, causes: map[string]int{}})
			cur = &out[len(out)-1]
		}
		cur.end = w.Start + w.Length
		cur.windows++
		cur.causes[w.Cause]++
		cur.failed += w.Failed
		cur.worst = max(cur.worst, w.P99)
	}
	return out
}

// WritePostmortem writes postmortem.md: summary with duration and impact,
// timeline, root cause, resolution, corrective and preventive measures.
func WritePostmortem(w io.Writer, r *report.Report) error {
	ew := &errWriter{w: w}
	name := r.Scenario
	if name == "" {
		name = "run"
	}
	date := ""
	if !r.Start.IsZero() {
		date = " (" + r.Start.UTC().Format("2006-01-02 15:04 MST") + ")"
	}
	fmt.Fprintf(ew, "# Post-mortem: %s%s\n\n", name, date)

	periods := degradedPeriods(r.Windows)
	writePMSummary(ew, r, periods)
	writeShardsMD(ew, r)
	fmt.Fprintf(ew, "\n## Timeline\n\n| t | event |\n|---|---|\n")
	for _, ev := range postmortemTimeline(r, periods) {
		fmt.Fprintf(ew, "| %s | %s |\n", format.Sec(ev.at), mdCell(ev.what))
	}
	writePMRootCause(ew, r.Cause)
	writePMResolution(ew, r, periods)
	writePMMeasures(ew, r)
	if c := r.Baseline; c != nil {
		fmt.Fprintf(ew, "\n## Against the baseline\n\nBaseline: %s\n\n", mdCell(c.Old.String()))
		writeComparisonTableMD(ew, c)
	}
	if len(r.Checks) > 0 {
		fmt.Fprintf(ew, "\n## Checks\n\n| check | result | detail |\n|---|---|---|\n")
		for _, ch := range r.Checks {
			fmt.Fprintf(ew, "| %s | %s | %s |\n", ch.Name, checkResult(ch), mdCell(ch.Detail))
		}
	}
	return ew.err
}

func writePMSummary(w io.Writer, r *report.Report, periods []period) {
	var impacted time.Duration
	for _, p := range periods {
		impacted += p.end - p.start
	}
	if p := r.RequestProblem; p != nil {
		fmt.Fprintf(w, "> **Request problem:** %s. %d of %d logins got %d; likely fix: %s.\n\n", p.Message, p.Failed, p.Logins, p.Status, p.Fix)
	}
	fmt.Fprintf(w, "## Summary\n\n")
	fmt.Fprintf(w, "- **Verdict:** %s\n", r.Summary)
	fmt.Fprintf(w, "- **Duration:** planned %s, ran %s (%s, seed %d)\n", format.Sec(r.Planned), format.Sec(r.Elapsed), r.Status, r.Seed)
	t := r.Totals
	if len(periods) == 0 {
		fmt.Fprintf(w, "- **Impact:** none: the SLO (%s) held in every window; %d logins, %s succeeded or were rejected as expected\n",
			format.SLO(r.SLO), t.Sent, format.Pct(t.SuccessRatio))
	} else {
		fmt.Fprintf(w, "- **Impact:** the SLO (%s) was missed for %s in %d period(s), first at %s; %d of %d logins failed (%s success), worst window p99 %s\n",
			format.SLO(r.SLO), format.Sec(impacted), len(periods), format.Sec(periods[0].start), t.Failed, t.Sent, format.Pct(t.SuccessRatio), format.MS(worstP99(periods)))
	}
	l := r.Limit
	fmt.Fprintf(w, "- **Limit:** sustainable %s, breaking point %s, max goodput %s/s\n",
		format.RPS(l.SustainableRPS), format.RPSOr(l.BreakingRPS, "never reached"), format.Num(format.Round(l.MaxGoodputRPS, 1)))
	if r.Cause.Primary != report.CauseNone {
		fmt.Fprintf(w, "- **Root cause:** `%s` (confidence %s)\n", r.Cause.Primary, r.Cause.Confidence)
	}
}

func writePMRootCause(w io.Writer, c report.Cause) {
	fmt.Fprintf(w, "\n## Root cause\n\n")
	if c.Primary == report.CauseNone {
		fmt.Fprintf(w, "None: nothing degraded.\n")
		return
	}
	fmt.Fprintf(w, "**%s** (confidence %s). %s.\n\n", c.Primary, c.Confidence, c.Scope)
	if b := c.Binding(); b != "" {
		fmt.Fprintf(w, "Binding constraint: %s.\n\n", b)
	}
	mdList(w, "Evidence", c.Evidence)
	mdList(w, "Chain of symptoms", c.Chain)
	mdList(w, "Ruled out", c.RuledOut)
	mdList(w, "Not checked (no data)", c.NotChecked)
}

func writePMResolution(w io.Writer, r *report.Report, periods []period) {
	fmt.Fprintf(w, "\n## Resolution\n\n")
	switch {
	case len(r.Scorecard) > 0:
		for _, s := range r.Scorecard {
			fmt.Fprintf(w, "- %s\n", resolutionLine(s, r.Faults[s.Fault]))
		}
	case len(periods) > 0 && r.Limit.BreakingRPS != nil:
		fmt.Fprintf(w, "The load ended at %s; the SLO stayed failed from %s/s on, so the service did not recover under that load.\n",
			format.Sec(r.Planned), format.Num(format.Round(*r.Limit.BreakingRPS, 1)))
	case len(periods) > 0:
		last := periods[len(periods)-1]
		fmt.Fprintf(w, "The SLO was met again from %s.\n", format.Sec(last.end))
	default:
		fmt.Fprintf(w, "Nothing to resolve.\n")
	}
}

// resolutionLine is one injected fault's line: when it went in and out,
// its impact and recovery, and whether the cause detected was expected.
func resolutionLine(s report.ScoreEntry, f report.Fault) string {
	if !f.OK {
		return fmt.Sprintf("`%s` failed to inject at %s: %s", s.Kind, format.Sec(f.Start), f.Error)
	}
	line := fmt.Sprintf("`%s` injected at %s", s.Kind, format.Sec(f.Start))
	if f.Reverted {
		line += ", reverted at " + format.Sec(f.End)
	} else {
		line += ", not reverted"
	}
	switch {
	case s.DegradedWindows == 0:
		line += ": no impact"
	case s.Recovered && s.Recovery != nil:
		line += fmt.Sprintf(": impact after %s, SLO met again %s after the revert", durOr(s.TimeToImpact, "-"), format.Sec(*s.Recovery))
	default:
		line += fmt.Sprintf(": impact after %s, did not recover", durOr(s.TimeToImpact, "-"))
	}
	return line + fmt.Sprintf("; detected %s, expected %s (%s)", s.Detected, format.Dash(strings.Join(s.Expected, " or ")), matchWord(s.Match))
}

func writePMMeasures(w io.Writer, r *report.Report) {
	fmt.Fprintf(w, "\n## Corrective and preventive measures\n\n")
	measures := append([]string(nil), r.Recommend.Lines...)
	if len(r.Cause.NotChecked) > 0 {
		measures = append(measures, "Instrument what could not be checked, so the next incident is decided in minutes: "+
			"Server-Timing (pool, db, app) on the login service and database samples over a reserved connection")
	}
	if len(measures) == 0 {
		measures = []string{"None needed from this run."}
	}
	for _, m := range measures {
		fmt.Fprintf(w, "- [ ] %s\n", m)
	}
}

type pmEvent struct {
	at   time.Duration
	what string
	ord  int
}

// postmortemTimeline merges stages, faults, degraded periods and the limit
// markers in time order.
func postmortemTimeline(r *report.Report, periods []period) []pmEvent {
	var evs []pmEvent
	add := func(at time.Duration, ord int, format string, args ...any) {
		evs = append(evs, pmEvent{at, fmt.Sprintf(format, args...), ord})
	}
	add(0, 0, "run starts (%s)", r.Scenario)
	for _, s := range r.Stages {
		rate := format.Num(format.Round(s.RateStart, 1)) + "/s"
		if s.RateEnd != s.RateStart {
			rate += " → " + format.Num(format.Round(s.RateEnd, 1)) + "/s"
		}
		add(s.Start, 1, "stage %s starts: %s %s for %s", s.Name, s.Kind, rate, format.Sec(s.Duration))
	}
	for _, f := range r.Faults {
		if f.OK {
			add(f.Start, 2, "fault `%s` injected%s", f.Kind, pathSuffix(f.Path))
		} else {
			add(f.Start, 2, "fault `%s` failed to inject: %s", f.Kind, f.Error)
			continue
		}
		if f.Reverted {
			add(f.End, 2, "fault `%s` reverted", f.Kind)
		}
	}
	if k := r.Limit.KneeRPS; k != nil {
		add(r.Limit.KneeAt, 3, "latency turns upward at %s/s (the knee)", format.Num(format.Round(*k, 1)))
	}
	for _, p := range periods {
		add(p.start, 4, "SLO missed (%s) until %s: %d failed logins, worst p99 %s", report.CauseCounts(p.causes), format.Sec(p.end), p.failed, format.MS(p.worst))
	}
	if b := r.Limit.BreakingRPS; b != nil {
		add(r.Limit.BreakingAt, 5, "breaking point: %s/s, failed from here on", format.Num(format.Round(*b, 1)))
	}
	add(r.Elapsed, 9, "run ends (%s)", r.Status)
	sort.SliceStable(evs, func(i, j int) bool {
		if evs[i].at != evs[j].at {
			return evs[i].at < evs[j].at
		}
		return evs[i].ord < evs[j].ord
	})
	return evs
}

func worstP99(ps []period) time.Duration {
	var w time.Duration
	for _, p := range ps {
		w = max(w, p.worst)
	}
	return w
}

func pathSuffix(p string) string {
	if p == "" {
		return ""
	}
	return " on path " + p
}

func matchWord(ok bool) string {
	if ok {
		return "match"
	}
	return "mismatch"
}

func mdList(w io.Writer, title string, lines []string) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "%s:\n\n", title)
	for _, l := range lines {
		fmt.Fprintf(w, "- %s\n", l)
	}
	fmt.Fprintln(w)
}

// mdCell keeps a table cell on one line and its pipes literal.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
