package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// CompareFormat is one rendering of a comparison.
type CompareFormat struct {
	Name  string // text, json, markdown
	Write func(io.Writer, *Comparison) error
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

func (ref RunRef) String() string {
	parts := []string{dash(ref.Scenario)}
	if !ref.Start.IsZero() {
		parts = append(parts, ref.Start.UTC().Format("2006-01-02 15:04"))
	}
	if ref.Verdict != "" {
		parts = append(parts, ref.Verdict)
	}
	s := strings.Join(parts, ", ")
	if ref.Path != "" {
		s = ref.Path + " (" + s + ")"
	}
	return s
}

// verdictText is the row's verdict column.
func (d Delta) verdictText() string {
	if d.Regression {
		return "REGRESSION"
	}
	return d.Change
}

// conclusion is the comparison's last line.
func (c *Comparison) conclusion() string {
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
func WriteComparisonText(w io.Writer, c *Comparison) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "stampede compare\nold: %s\nnew: %s\n\n", c.Old, c.New)
	writeComparisonTableText(ew, c)
	return ew.err
}

// writeComparisonTableText is the table, its notes and its conclusion.
func writeComparisonTableText(ew io.Writer, c *Comparison) {
	t := newTable(ew)
	t.Header("metric", "old", "new", "change", "noise", "verdict")
	for _, d := range c.Rows {
		_ = t.Append(d.Metric, d.OldText, d.NewText, d.DeltaText(), d.NoiseText(), d.verdictText())
	}
	_ = t.Render()
	fmt.Fprintf(ew, "Beyond the noise: |change| > noise; noise = %d× the runs' own window-to-window σ (latency, goodput), the stepping precision (limits), %d binomial standard errors (errors).\n",
		noiseK, noiseK)
	for _, n := range c.Notes {
		fmt.Fprintf(ew, "Note: %s\n", n)
	}
	fmt.Fprintln(ew, c.conclusion())
}

// WriteComparisonMarkdown renders a comparison as a Markdown table.
func WriteComparisonMarkdown(w io.Writer, c *Comparison) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "## stampede compare\n\n- **old:** %s\n- **new:** %s\n\n", mdCell(c.Old.String()), mdCell(c.New.String()))
	writeComparisonTableMD(ew, c)
	return ew.err
}

// writeComparisonTableMD is the table, its notes and its conclusion.
func writeComparisonTableMD(w io.Writer, c *Comparison) {
	fmt.Fprintf(w, "| metric | old | new | change | noise | verdict |\n|---|---:|---:|---:|---:|---|\n")
	for _, d := range c.Rows {
		v := d.verdictText()
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
	fmt.Fprintf(w, "%s\n", c.conclusion())
}

type jsonComparison struct {
	Old       jsonRunRef  `json:"old"`
	New       jsonRunRef  `json:"new"`
	Regressed bool        `json:"regressed"`
	Rows      []jsonDelta `json:"rows"`
	Notes     []string    `json:"notes"`
}

type jsonRunRef struct {
	Path     string    `json:"path"`
	Scenario string    `json:"scenario"`
	Start    string    `json:"start,omitempty"`
	Verdict  string    `json:"verdict"`
	Noise    jsonNoise `json:"noise"`
}

type jsonNoise struct {
	P50MS      float64 `json:"p50_ms"`
	P99MS      float64 `json:"p99_ms"`
	GoodputRPS float64 `json:"goodput_rps"`
	Pairs      int     `json:"pairs"`
	Known      bool    `json:"known"`
}

type jsonDelta struct {
	Group       string   `json:"group"`
	Metric      string   `json:"metric"`
	Unit        string   `json:"unit,omitempty"`
	Old         *float64 `json:"old"`
	New         *float64 `json:"new"`
	OldText     string   `json:"old_text"`
	NewText     string   `json:"new_text"`
	Delta       *float64 `json:"delta"`
	DeltaPct    *float64 `json:"delta_pct"`
	Noise       float64  `json:"noise"`
	NoiseBasis  string   `json:"noise_basis"`
	BeyondNoise bool     `json:"beyond_noise"`
	Change      string   `json:"change"`
	Gating      bool     `json:"gating"`
	Regression  bool     `json:"regression"`
}

func toJSONNoise(n Noise) jsonNoise {
	return jsonNoise{P50MS: msf(n.P50), P99MS: msf(n.P99), GoodputRPS: n.GoodputRPS, Pairs: n.Pairs, Known: n.Known}
}

func fromJSONNoise(j jsonNoise) Noise {
	return Noise{P50: msDur(j.P50MS), P99: msDur(j.P99MS), GoodputRPS: j.GoodputRPS, Pairs: j.Pairs, Known: j.Known}
}

func toJSONRunRef(r RunRef) jsonRunRef {
	j := jsonRunRef{Path: r.Path, Scenario: r.Scenario, Verdict: r.Verdict, Noise: toJSONNoise(r.Noise)}
	if !r.Start.IsZero() {
		j.Start = r.Start.UTC().Format(time.RFC3339Nano)
	}
	return j
}

func toJSONComparison(c *Comparison) *jsonComparison {
	j := &jsonComparison{Old: toJSONRunRef(c.Old), New: toJSONRunRef(c.New), Regressed: c.Regressed,
		Rows: []jsonDelta{}, Notes: nonNil(c.Notes)}
	for _, d := range c.Rows {
		j.Rows = append(j.Rows, jsonDelta{Group: d.Group, Metric: d.Metric, Unit: d.Unit, Old: d.Old, New: d.New,
			OldText: d.OldText, NewText: d.NewText, Delta: d.Abs, DeltaPct: d.Pct, Noise: d.Noise,
			NoiseBasis: d.NoiseBasis, BeyondNoise: d.Beyond, Change: d.Change, Gating: d.Gating, Regression: d.Regression})
	}
	return j
}

// WriteComparisonJSON writes a comparison as JSON.
func WriteComparisonJSON(w io.Writer, c *Comparison) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(toJSONComparison(c))
}
