package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/stampede-load/stampede/report"
)

// CompareFormat is one rendering of a comparison.
type CompareFormat struct {
	Name  string // text, json, markdown
	Write func(io.Writer, *report.Comparison) error
}

// CompareFormats lists the comparison's renderers.
func CompareFormats() []CompareFormat {
	return []CompareFormat{
		{"text", WriteComparisonText},
		{"json", WriteComparisonJSON},
		{"markdown", WriteComparisonMarkdown},
	}
}

// CompareFormatByName finds a comparison renderer.
func CompareFormatByName(name string) (CompareFormat, bool) {
	for _, f := range CompareFormats() {
		if f.Name == name {
			return f, true
		}
	}
	return CompareFormat{}, false
}

// verdictText is the row's verdict column.
func verdictText(d report.Delta) string {
	if d.Regression {
		return "REGRESSION"
	}
	return d.Change
}

// conclusion is the comparison's last line.
func conclusion(c *report.Comparison) string {
	regs := c.Regressions()
	if len(regs) == 0 {
		return "No regression beyond the noise (sustainable rate, p99)."
	}
	var parts []string
	for _, d := range regs {
		parts = append(parts, fmt.Sprintf("%s %s → %s: %s, noise %s", d.Metric, d.OldText, d.NewText, d.DeltaText(), d.NoiseText()))
	}
	return "Regression beyond the noise: " + strings.Join(parts, "; ") + "."
}

// WriteComparisonText renders a comparison for a terminal.
func WriteComparisonText(w io.Writer, c *report.Comparison) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "stampede compare\nold: %s\nnew: %s\n\n", c.Old, c.New)
	writeComparisonTableText(ew, c)
	return ew.err
}

// writeComparisonTableText is the table, its notes and its conclusion.
func writeComparisonTableText(ew io.Writer, c *report.Comparison) {
	t := newTable(ew)
	t.Header("metric", "old", "new", "change", "noise", "verdict")
	for _, d := range c.Rows {
		_ = t.Append(d.Metric, d.OldText, d.NewText, d.DeltaText(), d.NoiseText(), verdictText(d))
	}
	_ = t.Render()
	fmt.Fprintf(ew, "Beyond the noise: |change| > noise; noise = %d× the runs' own window-to-window σ (latency, goodput), the stepping precision (limits), %d binomial standard errors (errors).\n",
		report.NoiseK, report.NoiseK)
	for _, n := range c.Notes {
		fmt.Fprintf(ew, "Note: %s\n", n)
	}
	fmt.Fprintln(ew, conclusion(c))
}

// WriteComparisonMarkdown renders a comparison as a Markdown table.
func WriteComparisonMarkdown(w io.Writer, c *report.Comparison) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "## stampede compare\n\n- **old:** %s\n- **new:** %s\n\n", mdCell(c.Old.String()), mdCell(c.New.String()))
	writeComparisonTableMD(ew, c)
	return ew.err
}

// writeComparisonTableMD is the table, its notes and its conclusion.
func writeComparisonTableMD(w io.Writer, c *report.Comparison) {
	fmt.Fprintf(w, "| metric | old | new | change | noise | verdict |\n|---|---:|---:|---:|---:|---|\n")
	for _, d := range c.Rows {
		v := verdictText(d)
		if d.Regression {
			v = "**" + v + "**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", mdCell(d.Metric), mdCell(d.OldText), mdCell(d.NewText),
			mdCell(d.DeltaText()), mdCell(d.NoiseText()), v)
	}
	fmt.Fprintln(w)
	for _, n := range c.Notes {
		fmt.Fprintf(w, "> %s\n", mdCell(n))
	}
	if len(c.Notes) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%s\n", conclusion(c))
}
