package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/format"
)

// maxTextWindows: with more rows than this (after merging like windows),
// the text report lists only the degraded ones (the JSON and HTML keep
// every window).
const maxTextWindows = 60

// newTable is a tablewriter table that keeps headers as written.
func newTable(w io.Writer) *tablewriter.Table {
	return tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
}

// WriteText renders the report for a terminal: its sections in order.
func WriteText(w io.Writer, r *report.Report) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "stampede report: %s\n", heading(r))
	if p := r.RequestProblem; p != nil {
		fmt.Fprintf(ew, "REQUEST PROBLEM: %s\n  %d of %d logins got %d; likely fix: %s\n", p.Message, p.Failed, p.Logins, p.Status, p.Fix)
	}
	fmt.Fprintf(ew, "SLO: %s per %s window\n", format.SLO(r.SLO), r.Window)
	fmt.Fprintf(ew, "Verdict: %s\n", r.Summary)
	writeSearchText(ew, r)
	writeStagesText(ew, r)
	writeShardsText(ew, r)
	writeLimitText(ew, r.Limit)
	section(ew, "Cause")
	writeCauseText(ew, r.Cause)
	writeWindowsText(ew, r)
	writeScorecardText(ew, r)
	writeListText(ew, "Recommendations", r.Recommend.Lines)
	if c := r.Baseline; c != nil {
		section(ew, "Against the baseline "+c.Old.String())
		writeComparisonTableText(ew, c)
	}
	writeChecksText(ew, r.Checks)
	writeListText(ew, "Notes", r.Notes)
	return ew.err
}

func writeStagesText(w io.Writer, r *report.Report) {
	section(w, "Stages")
	t := newTable(w)
	t.Header("stage", "kind", "start", "for", "offered/s", "achieved/s", "sent", "success", "p50", "p99", "errors")
	for _, s := range r.Stages {
		_ = t.Append(s.Name, s.Kind, format.Sec(s.Start), format.Sec(s.Duration), format.Num(format.Round(s.OfferedRPS, 1)),
			format.Num(format.Round(s.AchievedRPS, 1)), fmt.Sprint(s.Sent), format.Pct(s.SuccessRatio), fmsShort(s.P50), fmsShort(s.P99),
			s.Errors.Short())
	}
	_ = t.Render()
}

func writeLimitText(w io.Writer, l report.Limit) {
	section(w, "Limit")
	t := newTable(w)
	t.Header("measure", "value", "note")
	_ = t.Append("sustainable", format.RPS(l.SustainableRPS), "highest offered rate held with the SLO met (a ramp's corrected for its queue)")
	brk := "never broke"
	if l.BreakingRPS != nil {
		brk = "failed from " + format.Sec(l.BreakingAt) + " on"
	}
	_ = t.Append("breaking point", format.RPS(l.BreakingRPS), brk)
	_ = t.Append("max goodput", format.Num(format.Round(l.MaxGoodputRPS, 1))+"/s", "successful logins, at "+format.Sec(l.MaxGoodputAt))
	knee := "no rising load, or latency never turned"
	if l.KneeRPS != nil {
		knee = "latency turned upward at " + format.Sec(l.KneeAt)
	}
	_ = t.Append("knee", format.RPS(l.KneeRPS), knee)
	_ = t.Append("precision", format.RPS(l.PrecisionRPS), l.Precision)
	_ = t.Render()
	if l.Method != "" {
		fmt.Fprintf(w, "Measured on %s.\n", l.Method)
	}
}

func writeWindowsText(w io.Writer, r *report.Report) {
	section(w, "Windows")
	rows := windowRows(r.Windows)
	fmt.Fprintf(w, "%s in %s: consecutive windows alike in stage, SLO verdict, cause and faults in force share a row (rates as ranges, lowest success, highest latencies, errors summed; report.json and report.html keep every window)\n",
		plural(len(r.Windows), "window"), plural(len(rows), "row"))
	if len(rows) > maxTextWindows {
		var bad []windowRow
		for _, row := range rows {
			if !row.first.SLOMet {
				bad = append(bad, row)
			}
		}
		rows = bad
		fmt.Fprintf(w, "The %d rows that missed the SLO:\n", len(rows))
	}
	t := newTable(w)
	head := []any{"t", "stage", "offered/s", "achieved/s", "goodput/s", "success", "p99", "p" + format.Num(r.SLO.Percentile) + " intended", "lag p99", "errors", "cause"}
	if len(r.Faults) > 0 {
		head = append(head, "faults in force")
	}
	t.Header(head...)
	for _, row := range rows {
		win := row.first
		stage := "-"
		if win.Stage >= 0 {
			stage = fmt.Sprint(win.Stage + 1)
		}
		span := format.Sec(win.Start)
		if row.last != row.first {
			span += "–" + format.Sec(row.last.Start)
		}
		line := []any{span, stage, row.offered.String(), row.achieved.String(), row.goodput.String(),
			format.Pct(row.success), fmsShort(row.p99), fmsShort(row.atSLO), fmsShort(row.lag), row.errors.Short(), win.Cause}
		if len(r.Faults) > 0 {
			line = append(line, format.Dash(strings.Join(win.Faults, ", ")))
		}
		_ = t.Append(line...)
	}
	_ = t.Render()
}

func writeScorecardText(w io.Writer, r *report.Report) {
	if len(r.Faults) == 0 {
		return
	}
	section(w, "Faults scorecard (injected vs detected)")
	t := newTable(w)
	t.Header("fault", "path", "from", "to", "reverted", "expected", "detected", "match", "impact after", "recovered after", "note")
	for _, s := range r.Scorecard {
		_ = t.Append(s.Kind, format.Dash(s.Path), format.Sec(s.Start), format.Sec(s.End), yesNo(r.Faults[s.Fault].Reverted),
			format.Dash(strings.Join(s.Expected, " or ")), s.Detected, yesNo(s.Match), durOr(s.TimeToImpact, "no impact"),
			recoveryText(s), format.Dash(s.Note))
	}
	_ = t.Render()
}

func writeChecksText(w io.Writer, checks []report.Check) {
	if len(checks) == 0 {
		return
	}
	section(w, "Checks")
	t := newTable(w)
	t.Header("check", "result", "detail")
	for _, c := range checks {
		_ = t.Append(c.Name, checkResult(c), c.Detail)
	}
	_ = t.Render()
}

// writeListText is a section of bullet lines; nothing when there are none.
func writeListText(w io.Writer, title string, lines []string) {
	if len(lines) == 0 {
		return
	}
	section(w, title)
	for _, line := range lines {
		fmt.Fprintf(w, "- %s\n", line)
	}
}

func writeCauseText(w io.Writer, c report.Cause) {
	conf := ""
	if c.Confidence != "" {
		conf = " (confidence " + c.Confidence + ")"
	}
	fmt.Fprintf(w, "Primary cause: %s%s\n", c.Primary, conf)
	if b := c.Binding(); b != "" {
		fmt.Fprintf(w, "Binding constraint: %s\n", b)
	}
	if len(c.Sources) > 0 {
		fmt.Fprintf(w, "Sources: %s\n", strings.Join(c.Sources, ", "))
	}
	if c.Scope != "" {
		fmt.Fprintf(w, "Scope: %s\n", c.Scope)
	}
	for _, part := range []struct {
		title string
		lines []string
	}{{"Evidence", c.Evidence}, {"Chain of symptoms", c.Chain}, {"Ruled out", c.RuledOut}, {"Not checked", c.NotChecked}} {
		if len(part.lines) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s:\n", part.title)
		for _, l := range part.lines {
			fmt.Fprintf(w, "  - %s\n", l)
		}
	}
}

func heading(r *report.Report) string {
	name := r.Scenario
	if name == "" {
		name = "(unnamed scenario)"
	}
	return fmt.Sprintf("%s (seed %d, %s, planned %s, elapsed %s)", name, r.Seed, r.Status, format.Sec(r.Planned), format.Sec(r.Elapsed))
}

func checkResult(c report.Check) string {
	switch {
	case c.Skipped:
		return "skipped"
	case c.Passed:
		return "pass"
	}
	return "FAIL"
}

func section(w io.Writer, title string) { fmt.Fprintf(w, "\n%s\n", title) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func durOr(d *time.Duration, none string) string {
	if d == nil {
		return none
	}
	return format.Sec(*d)
}

func recoveryText(s report.ScoreEntry) string {
	switch {
	case s.Recovered && s.Recovery != nil:
		return format.Sec(*s.Recovery)
	case s.DegradedWindows == 0:
		return "-"
	}
	return "did not recover"
}

// fmsShort prints a latency for tables: "-" when there is none.
func fmsShort(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return format.MS(d)
}

// errWriter keeps the first write error so renderers can write freely.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// windowRow is one row of the text report's Windows table: a run of
// consecutive windows with the same stage, SLO verdict, cause and faults
// in force, so a steady stretch takes one row and every change its own.
type windowRow struct {
	first, last                *report.Window
	offered, achieved, goodput rateRange
	success                    float64            // lowest
	p99, atSLO, lag            time.Duration      // highest
	errors                     report.ErrorCounts // summed
}

// rateRange is the lowest and highest of a rate over a row's windows.
type rateRange struct{ lo, hi float64 }

func (rr *rateRange) add(v float64) {
	rr.lo, rr.hi = min(rr.lo, v), max(rr.hi, v)
}

func (rr rateRange) String() string {
	lo, hi := format.Num(format.Round(rr.lo, 1)), format.Num(format.Round(rr.hi, 1))
	if lo == hi {
		return lo
	}
	return lo + "–" + hi
}

// windowRows merges consecutive like windows for the text report.
func windowRows(wins []report.Window) []windowRow {
	var rows []windowRow
	for i := range wins {
		w := &wins[i]
		if n := len(rows); n > 0 && sameRow(rows[n-1].last, w) {
			row := &rows[n-1]
			row.last = w
			row.offered.add(w.OfferedRPS)
			row.achieved.add(w.AchievedRPS)
			row.goodput.add(w.GoodputRPS)
			row.success = min(row.success, w.SuccessRatio)
			row.p99, row.atSLO, row.lag = max(row.p99, w.P99), max(row.atSLO, w.LatencyAtSLO), max(row.lag, w.SendLagP99)
			e := &row.errors
			e.Transport += w.Errors.Transport
			e.ClientTimeout += w.Errors.ClientTimeout
			e.DB += w.Errors.DB
			e.AuthExpected += w.Errors.AuthExpected
			e.ServerOther += w.Errors.ServerOther
			e.Generator += w.Errors.Generator
			e.Other += w.Errors.Other
			continue
		}
		rows = append(rows, windowRow{first: w, last: w,
			offered:  rateRange{w.OfferedRPS, w.OfferedRPS},
			achieved: rateRange{w.AchievedRPS, w.AchievedRPS},
			goodput:  rateRange{w.GoodputRPS, w.GoodputRPS},
			success:  w.SuccessRatio, p99: w.P99, atSLO: w.LatencyAtSLO, lag: w.SendLagP99, errors: w.Errors})
	}
	return rows
}

// sameRow: two windows share a text row when their stage, SLO verdict,
// cause and faults in force are the same.
func sameRow(a, b *report.Window) bool {
	if a.Stage != b.Stage || a.SLOMet != b.SLOMet || a.Cause != b.Cause || len(a.Faults) != len(b.Faults) {
		return false
	}
	for i := range a.Faults {
		if a.Faults[i] != b.Faults[i] {
			return false
		}
	}
	return true
}

// plural is "1 row", "2 rows".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
