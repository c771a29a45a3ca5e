package render

import (
	"encoding/json"
	"io"

	"github.com/stampede-load/stampede/report"
)

// WriteJSON writes report.json: the report's JSON form (report.JSON),
// indented, with <, > and & left as they are.
func WriteJSON(w io.Writer, r *report.Report) error {
	return encodeJSON(w, r.JSON())
}

// WriteComparisonJSON writes a comparison as JSON.
func WriteComparisonJSON(w io.Writer, c *report.Comparison) error {
	return encodeJSON(w, c.JSON())
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
