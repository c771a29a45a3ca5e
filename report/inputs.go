package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/stampede-load/stampede/report/scenariofile"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// inputs are the run directory's small files, read whole.
type inputs struct {
	manifest *rundir.Manifest
	scenario *scenariofile.File
	tl       *timeline
	notes    []string
}

func readInputs(dir string) (*inputs, error) {
	in := &inputs{tl: &timeline{}}
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("report: run directory: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("report: %s is not a run directory", dir)
	}
	if b, err := os.ReadFile(filepath.Join(dir, rundir.ManifestFile)); err == nil {
		var m rundir.Manifest
		if err := json.Unmarshal(b, &m); err != nil {
			in.notes = append(in.notes, fmt.Sprintf("manifest.json unreadable: %v", err))
		} else {
			in.manifest = &m
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("report: %w", err)
	} else {
		in.notes = append(in.notes, "no manifest.json")
	}
	if b, err := os.ReadFile(filepath.Join(dir, rundir.ScenarioFile)); err == nil {
		sf, notes, err := scenariofile.Parse(b)
		if err != nil {
			in.notes = append(in.notes, err.Error())
		} else {
			in.scenario = sf
			in.notes = append(in.notes, notes...)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("report: %w", err)
	} else {
		in.notes = append(in.notes, "no scenario.yaml: default SLO")
	}
	f, err := os.Open(filepath.Join(dir, rundir.TimelineFile))
	switch {
	case err == nil:
		tl, err := readTimeline(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		in.tl = tl
		if tl.badLines > 0 {
			in.notes = append(in.notes, fmt.Sprintf("timeline.jsonl: %d unreadable lines skipped", tl.badLines))
		}
	case errors.Is(err, fs.ErrNotExist):
		in.notes = append(in.notes, "no timeline.jsonl: no stages, samples or faults")
	default:
		return nil, fmt.Errorf("report: %w", err)
	}
	return in, nil
}
