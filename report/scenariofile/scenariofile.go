// Package scenariofile is the report's reading of a run directory's
// scenario.yaml, the scenario as it ran: its name, SLO, gates, stages,
// client timeout and fixture. It reads leniently, key by key (the scenario
// was validated before the run), and imports neither the scenario format
// nor the engine. The report reads it; so do the report's test builders
// (report/reporttest), which plan traffic from a scenario's stages.
package scenariofile

import (
	"fmt"
	"sort"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
	"gopkg.in/yaml.v3"
)

// File is the part of scenario.yaml the report needs; every other key is
// tolerated and ignored.
type File struct {
	Name   string  `yaml:"name"`
	SLO    SLO     `yaml:"slo"`
	Gates  Gates   `yaml:"gates"`
	Stages []Stage `yaml:"stages"`
	Client struct {
		Timeout Duration `yaml:"timeout"`
	} `yaml:"client"`
	Fixture struct {
		DBPool         int      `yaml:"db_pool"`
		DBHold         Duration `yaml:"db_hold"`
		MaxConnections int      `yaml:"max_connections"`
	} `yaml:"fixture"`
}

// SLO is the scenario's slo block, as written.
type SLO struct {
	SuccessRatio float64  `yaml:"success_ratio"`
	Percentile   float64  `yaml:"percentile"`
	Latency      Duration `yaml:"latency"`
}

// Gates is the scenario's gates block, as written.
type Gates struct {
	MinSustainableRPS *float64 `yaml:"min_sustainable_rps"`
	MaxP99            Duration `yaml:"max_p99"`
	MaxP99AtRPS       float64  `yaml:"max_p99_at_rps"`
	MaxErrorRatio     *float64 `yaml:"max_error_ratio"`
	MaxRegressionPct  *float64 `yaml:"max_regression_pct"`
	ExpectCause       string   `yaml:"expect_cause"`
}

// Duration reads "10s"-style durations.
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// Stage is one stage: a one-key map whose key is the stage's kind.
type Stage struct{ rundir.StageSpec }

func (s *Stage) UnmarshalYAML(n *yaml.Node) error {
	var m map[string]struct {
		Name     string   `yaml:"name"`
		Rate     float64  `yaml:"rate"`
		From     float64  `yaml:"from"`
		To       float64  `yaml:"to"`
		Step     float64  `yaml:"step"`
		Base     float64  `yaml:"base"`
		Peak     float64  `yaml:"peak"`
		For      Duration `yaml:"for"`
		Hold     Duration `yaml:"hold"`
		At       Duration `yaml:"at"`
		SpikeFor Duration `yaml:"spike_for"`
	}
	if err := n.Decode(&m); err != nil {
		return err
	}
	if len(m) != 1 {
		return fmt.Errorf("line %d: a stage is a map with one key, its kind", n.Line)
	}
	for kind, v := range m {
		s.StageSpec = rundir.StageSpec{Name: v.Name, Kind: kind, Rate: v.Rate, From: v.From, To: v.To,
			Step: v.Step, Base: v.Base, Peak: v.Peak, Duration: time.Duration(v.For),
			Hold: time.Duration(v.Hold), At: time.Duration(v.At), SpikeFor: time.Duration(v.SpikeFor)}
	}
	return nil
}

// Parse reads the keys the report needs from scenario.yaml, one
// key at a time, so that a key it cannot read costs only that key (noted).
func Parse(b []byte) (*File, []string, error) {
	var top map[string]yaml.Node
	if err := yaml.Unmarshal(b, &top); err != nil {
		return nil, nil, fmt.Errorf("scenario.yaml: %w", err)
	}
	var sf File
	var notes []string
	for key, dst := range map[string]any{"name": &sf.Name, "slo": &sf.SLO, "gates": &sf.Gates,
		"stages": &sf.Stages, "client": &sf.Client, "fixture": &sf.Fixture} {
		n, ok := top[key]
		if !ok {
			continue
		}
		if err := n.Decode(dst); err != nil {
			notes = append(notes, fmt.Sprintf("scenario.yaml: %s ignored: %v", key, err))
			if key == "stages" {
				sf.Stages = nil // never a partial plan
			}
		}
	}
	sort.Strings(notes)
	return &sf, notes, nil
}

// RunSLO is the SLO the scenario sets, with the contract's defaults for
// what it leaves out.
func (sf *File) RunSLO() rundir.SLO {
	return rundir.SLO{SuccessRatio: sf.SLO.SuccessRatio, Percentile: sf.SLO.Percentile,
		Latency: time.Duration(sf.SLO.Latency)}.WithDefaults()
}

// PlanStages are the scenario's stages, for rundir.FromStages.
func (sf *File) PlanStages() []rundir.StageSpec {
	out := make([]rundir.StageSpec, len(sf.Stages))
	for i, s := range sf.Stages {
		out[i] = s.StageSpec
	}
	return out
}
