package report

import (
	"fmt"
	"sort"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
	"gopkg.in/yaml.v3"
)

// scenarioFile is the part of scenario.yaml the report needs; every other
// key is tolerated and ignored. The scenario was validated before the run,
// so this reads leniently.
type scenarioFile struct {
	Name   string      `yaml:"name"`
	SLO    yamlSLO     `yaml:"slo"`
	Gates  yamlGates   `yaml:"gates"`
	Stages []yamlStage `yaml:"stages"`
	Client struct {
		Timeout yamlDuration `yaml:"timeout"`
	} `yaml:"client"`
	Fixture struct {
		DBPool         int          `yaml:"db_pool"`
		DBHold         yamlDuration `yaml:"db_hold"`
		MaxConnections int          `yaml:"max_connections"`
	} `yaml:"fixture"`
}

type yamlSLO struct {
	SuccessRatio float64      `yaml:"success_ratio"`
	Percentile   float64      `yaml:"percentile"`
	Latency      yamlDuration `yaml:"latency"`
}

type yamlGates struct {
	MinSustainableRPS *float64     `yaml:"min_sustainable_rps"`
	MaxP99            yamlDuration `yaml:"max_p99"`
	MaxP99AtRPS       float64      `yaml:"max_p99_at_rps"`
	MaxErrorRatio     *float64     `yaml:"max_error_ratio"`
	MaxRegressionPct  *float64     `yaml:"max_regression_pct"`
	ExpectCause       string       `yaml:"expect_cause"`
}

// yamlDuration reads "10s"-style durations.
type yamlDuration time.Duration

func (d *yamlDuration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = yamlDuration(v)
	return nil
}

// yamlStage is a one-key map: the key is the stage's kind.
type yamlStage struct{ rundir.StageSpec }

func (s *yamlStage) UnmarshalYAML(n *yaml.Node) error {
	var m map[string]struct {
		Name     string       `yaml:"name"`
		Rate     float64      `yaml:"rate"`
		From     float64      `yaml:"from"`
		To       float64      `yaml:"to"`
		Step     float64      `yaml:"step"`
		Base     float64      `yaml:"base"`
		Peak     float64      `yaml:"peak"`
		For      yamlDuration `yaml:"for"`
		Hold     yamlDuration `yaml:"hold"`
		At       yamlDuration `yaml:"at"`
		SpikeFor yamlDuration `yaml:"spike_for"`
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

// parseScenario reads the keys the report needs from scenario.yaml, one
// key at a time, so that a key it cannot read costs only that key (noted).
func parseScenario(b []byte) (*scenarioFile, []string, error) {
	var top map[string]yaml.Node
	if err := yaml.Unmarshal(b, &top); err != nil {
		return nil, nil, fmt.Errorf("scenario.yaml: %w", err)
	}
	var sf scenarioFile
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

func (sf *scenarioFile) slo() rundir.SLO {
	return rundir.SLO{SuccessRatio: sf.SLO.SuccessRatio, Percentile: sf.SLO.Percentile,
		Latency: time.Duration(sf.SLO.Latency)}.WithDefaults()
}

func (sf *scenarioFile) gates() Gates {
	g := sf.Gates
	return Gates{MinSustainableRPS: g.MinSustainableRPS, MaxP99: time.Duration(g.MaxP99),
		MaxP99AtRPS: g.MaxP99AtRPS, MaxErrorRatio: g.MaxErrorRatio,
		MaxRegressionPct: g.MaxRegressionPct, ExpectCause: g.ExpectCause}
}

func (sf *scenarioFile) planStages() []rundir.StageSpec {
	out := make([]rundir.StageSpec, len(sf.Stages))
	for i, s := range sf.Stages {
		out[i] = s.StageSpec
	}
	return out
}
