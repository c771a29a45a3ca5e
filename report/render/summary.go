package render

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/format"
)

// AppendStepSummary appends a Markdown summary of the run to path (the
// file GitHub Actions names in GITHUB_STEP_SUMMARY): the verdict, the
// limit, the cause, the checks and gates, and the comparison with a
// baseline when there is one (cmp, else the report's own Baseline). It
// appends (other steps write there too) and creates the file if needed.
func AppendStepSummary(path string, r *report.Report, cmp *report.Comparison) error {
	var buf bytes.Buffer
	if err := WriteStepSummary(&buf, r, cmp); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("report: step summary: %w", err)
	}
	// One write: a summary is never left half-appended by a short write
	// in the middle of it.
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("report: step summary: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("report: step summary: %w", err)
	}
	return nil
}

// WriteStepSummary writes the Markdown that AppendStepSummary appends.
func WriteStepSummary(w io.Writer, r *report.Report, cmp *report.Comparison) error {
	if cmp == nil {
		cmp = r.Baseline
	}
	ew := &errWriter{w: w}
	name := r.Scenario
	if name == "" {
		name = "run"
	}
	fmt.Fprintf(ew, "### stampede: %s: %s\n\n", mdCell(name), strings.ToUpper(format.Dash(r.Verdict)))
	fmt.Fprintf(ew, "%s\n\n", mdCell(r.Summary))
	if line := r.FailureLine(); line != "" {
		fmt.Fprintf(ew, "**FAIL %s**\n\n", mdCell(line))
	}

	l := r.Limit
	fmt.Fprintf(ew, "| limit | value |\n|---|---|\n")
	fmt.Fprintf(ew, "| sustainable | %s |\n", format.RPSOr(l.SustainableRPS, "none"))
	fmt.Fprintf(ew, "| breaking point | %s |\n", format.RPSOr(l.BreakingRPS, "never reached"))
	fmt.Fprintf(ew, "| max goodput | %s/s |\n", format.Num(format.Round(l.MaxGoodputRPS, 1)))
	if l.Precision != "" {
		fmt.Fprintf(ew, "| precision | %s |\n", mdCell(l.Precision))
	}
	fmt.Fprintln(ew)

	c := r.Cause
	fmt.Fprintf(ew, "**Cause:** `%s`", c.Primary)
	if c.Confidence != "" {
		fmt.Fprintf(ew, " (confidence %s)", c.Confidence)
	}
	fmt.Fprintln(ew)
	for i, e := range c.Evidence {
		if i == 3 {
			fmt.Fprintf(ew, "- … %d more in the report\n", len(c.Evidence)-3)
			break
		}
		fmt.Fprintf(ew, "- %s\n", mdCell(e))
	}
	fmt.Fprintln(ew)

	if len(r.Checks) > 0 {
		fmt.Fprintf(ew, "| check | result | detail |\n|---|---|---|\n")
		for _, ch := range r.Checks {
			res := checkResult(ch)
			if res == "FAIL" {
				res = "**FAIL**"
			}
			fmt.Fprintf(ew, "| %s | %s | %s |\n", ch.Name, res, mdCell(ch.Detail))
		}
		fmt.Fprintln(ew)
	}

	if cmp != nil {
		fmt.Fprintf(ew, "#### Against the baseline\n\nold: %s  \nnew: %s\n\n", mdCell(cmp.Old.String()), mdCell(cmp.New.String()))
		writeComparisonTableMD(ew, cmp)
		fmt.Fprintln(ew)
	}
	return ew.err
}
