// Package render writes a report.Report out: text for the terminal,
// report.json (the report's JSON form), JUnit XML for CI, the post-mortem in
// Markdown, the self-contained HTML page (charts from report/chart), a
// comparison of two runs, and the GitHub step summary. It reads the
// analysis; it decides nothing.
package render

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// Format is one rendering of a report.
type Format struct {
	Name  string // text, json, junit, markdown, html
	File  string // its file in the run directory
	Write func(io.Writer, *report.Report) error
}

// Formats lists the renderers, in the order WriteAll writes them.
func Formats() []Format {
	return []Format{
		{"text", rundir.TextFile, WriteText},
		{"json", rundir.JSONFile, WriteJSON},
		{"junit", rundir.JUnitFile, WriteJUnit},
		{"markdown", rundir.PostmortemFile, WritePostmortem},
		{"html", rundir.HTMLFile, WriteHTML},
	}
}

// FormatByName finds a renderer.
func FormatByName(name string) (Format, bool) {
	for _, f := range Formats() {
		if f.Name == name {
			return f, true
		}
	}
	return Format{}, false
}

// WriteAll writes every rendering into the run directory, each file
// atomically (a temporary file renamed into place).
func WriteAll(dir string, r *report.Report) error {
	for _, f := range Formats() {
		var buf bytes.Buffer
		if err := f.Write(&buf, r); err != nil {
			return fmt.Errorf("report: render %s: %w", f.Name, err)
		}
		if err := writeFileAtomic(filepath.Join(dir, f.File), buf.Bytes()); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	return nil
}

func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
