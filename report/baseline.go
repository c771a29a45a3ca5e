package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// LoadBaseline reads an earlier run to compare with: a run directory
// (re-analysed from its results; one without results.bin but with a
// report.json is read from that) or a report.json file.
func LoadBaseline(path string) (*Report, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("report: baseline: %w", err)
	}
	if st.IsDir() {
		_, err := os.Stat(filepath.Join(path, rundir.ResultsFile))
		switch {
		case err == nil:
			r, err := Analyze(path, Options{})
			if err != nil {
				return nil, fmt.Errorf("report: baseline %s: %w", path, err)
			}
			return r, nil
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("report: baseline: %w", err)
		}
		jp := filepath.Join(path, rundir.JSONFile)
		if _, err := os.Stat(jp); err != nil {
			return nil, fmt.Errorf("report: baseline %s is not a run directory: no %s and no %s", path, rundir.ResultsFile, rundir.JSONFile)
		}
		path = jp
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("report: baseline: %w", err)
	}
	defer f.Close()
	r, err := ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("report: baseline %s: %w", path, err)
	}
	r.Dir = filepath.Dir(path)
	return r, nil
}

// ReadJSON reads a report.json back into a Report, with what comparisons
// and renderers need: the limit, cause, totals, stages, checks, windows
// (their figures; not their evidence), faults and the noise (recomputed
// from the windows when an older report.json lacks it; from steady windows
// only, as report.json does not mark ramp windows).
func ReadJSON(rd io.Reader) (*Report, error) {
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, err
	}
	var probe struct {
		Limit  *json.RawMessage `json:"limit"`
		Totals *json.RawMessage `json:"totals"`
		Noise  *json.RawMessage `json:"noise"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("not a stampede report.json: %w", err)
	}
	if probe.Limit == nil || probe.Totals == nil {
		return nil, errors.New("not a stampede report.json: no limit or totals")
	}
	var j JSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("not a stampede report.json: %w", err)
	}
	r := fromJSON(&j)
	if probe.Noise != nil {
		r.Noise = fromJSONNoise(j.Noise)
	} else {
		r.Noise = computeNoise(r.Windows)
	}
	return r, nil
}

func durOf(s float64) time.Duration { return rundir.Secs(s) }

func durPtr(s *float64) *time.Duration {
	if s == nil {
		return nil
	}
	d := rundir.Secs(*s)
	return &d
}

func fromJSONCause(j jsonCause) Cause {
	c := Cause{Primary: j.Primary, Confidence: j.Confidence, Sources: j.Sources, Evidence: j.Evidence, RuledOut: j.RuledOut,
		NotChecked: j.NotChecked, Scope: j.Scope, Windows: j.Windows}
	if j.FromS != nil {
		c.From = durOf(*j.FromS)
	}
	return c
}

func fromJSON(j *JSON) *Report {
	r := &Report{Scenario: j.Scenario, Seed: j.Seed, Status: j.Status, TargetKind: j.TargetKind,
		Planned: durOf(j.PlannedS), Elapsed: durOf(j.ElapsedS), Window: durOf(j.WindowS),
		SLO:     rundir.SLO{SuccessRatio: j.SLO.SuccessRatio, Percentile: j.SLO.Percentile, Latency: msDur(j.SLO.LatencyMS)},
		Verdict: j.Verdict, Summary: j.Summary, Cause: fromJSONCause(j.Cause), Notes: j.Notes}
	if j.Start != "" {
		r.Start, _ = time.Parse(time.RFC3339Nano, j.Start)
	}
	if f := j.Fixture; f != nil {
		r.Fixture = &FixtureInfo{DBPool: f.DBPool, DBHold: msDur(f.DBHoldMS), MaxConnections: f.MaxConnections}
	}
	l := j.Limit
	r.Limit = Limit{SustainableRPS: l.SustainableRPS, BreakingRPS: l.BreakingRPS, MaxGoodputRPS: l.MaxGoodputRPS,
		MaxGoodputAt: durOf(l.MaxGoodputAtS), KneeRPS: l.KneeRPS, PrecisionRPS: l.PrecisionRPS,
		Precision: l.Precision, Method: l.Method}
	if l.BreakingAtS != nil {
		r.Limit.BreakingAt = durOf(*l.BreakingAtS)
	}
	if l.KneeAtS != nil {
		r.Limit.KneeAt = durOf(*l.KneeAtS)
	}
	r.Totals = j.Totals.figures()
	r.Totals.Details = j.Totals.Details
	for _, s := range j.Stages {
		r.Stages = append(r.Stages, StageSummary{StageSummary: rundir.StageSummary{Index: s.Index, Name: s.Name, Kind: s.Kind,
			Start: durOf(s.StartS), Duration: durOf(s.DurationS), OfferedRPS: s.OfferedRPS, AchievedRPS: s.AchievedRPS,
			Sent: s.Sent, OK: s.OK, ExpectedRejects: s.ExpectedRejects, Failed: s.Failed, SuccessRatio: s.SuccessRatio,
			P50: msDur(s.P50MS), P99: msDur(s.P99MS)}, RateStart: s.RateStart, RateEnd: s.RateEnd, Errors: s.Errors})
	}
	for _, f := range j.Faults {
		r.Faults = append(r.Faults, Fault{Kind: f.Kind, Name: f.Name, Path: f.Path, Params: f.Params,
			Start: durOf(f.StartS), End: durOf(f.EndS), Reverted: f.Reverted, OK: f.OK, Error: f.Error})
	}
	for _, s := range j.Scorecard {
		if s.Fault < 0 || s.Fault >= len(r.Faults) {
			continue
		}
		r.Scorecard = append(r.Scorecard, ScoreEntry{Fault: s.Fault, Kind: s.Kind, Path: s.Path,
			Start: durOf(s.StartS), End: durOf(s.EndS), Expected: s.Expected, Detected: s.Detected, Match: s.Match,
			DegradedWindows: s.DegradedWindows, TimeToImpact: durPtr(s.TimeToImpactS), Recovery: durPtr(s.RecoveryS),
			Recovered: s.Recovered, Note: s.Note})
	}
	for _, c := range j.Checks {
		r.Checks = append(r.Checks, Check{Name: c.Name, Kind: c.Kind, Passed: c.Passed, Skipped: c.Skipped, Detail: c.Detail})
	}
	for _, w := range j.Windows {
		win := Window{Index: w.Index, Start: durOf(w.StartS), Length: durOf(w.LengthS), Stage: w.Stage,
			Full: w.Full, Steady: w.Steady, OfferedRPS: w.OfferedRPS, AchievedRPS: w.AchievedRPS, GoodputRPS: w.GoodputRPS, ServedRPS: w.ServedRPS,
			Figures: w.figures(), Faults: w.Faults, LateRecords: w.LateRecords, SLOMet: w.SLOMet, Cause: w.Cause}
		win.Details = w.Details
		win.Traffic = win.OfferedRPS > 0 || win.Sent > 0
		if w.Diagnosis != nil {
			d := fromJSONCause(*w.Diagnosis)
			win.Diagnosis = &d
		}
		r.Windows = append(r.Windows, win)
	}
	r.Notes = append(r.Notes, "read back from report.json: window evidence and recommendations are not restored")
	return r
}
