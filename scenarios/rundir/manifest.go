package rundir

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Manifest is manifest.json: what ran, against what, and how it ended. The
// engine writes it at the start (status running) and again at the end; the
// report reads it.
type Manifest struct {
	StampedeVersion  string         `json:"stampede_version,omitempty"`
	StampedeCommit   string         `json:"stampede_commit,omitempty"`
	Scenario         string         `json:"scenario"`
	ScenarioPath     string         `json:"scenario_path,omitempty"`
	Seed             int64          `json:"seed"`
	Scale            float64        `json:"scale"`
	Target           string         `json:"target"` // redacted
	TargetKind       string         `json:"target_kind,omitempty"`
	Host             string         `json:"host,omitempty"`
	Status           string         `json:"status"`
	GoVersion        string         `json:"go_version,omitempty"`
	VegetaVersion    string         `json:"vegeta_version,omitempty"`
	PlannedDurationS float64        `json:"planned_duration_s"`
	Pacer            string         `json:"pacer,omitempty"`
	Mode             string         `json:"mode,omitempty"`
	Search           *SearchConfig  `json:"search,omitempty"`
	Abort            *AbortRule     `json:"abort,omitempty"`
	Fixture          *Fixture       `json:"fixture,omitempty"`
	NetworkPaths     []string       `json:"network_paths,omitzero"` // set (maybe empty) with the bundled fixture
	Start            time.Time      `json:"start,omitzero"`
	End              time.Time      `json:"end,omitzero"`
	Stages           []StageSummary `json:"stages,omitempty"`
	FollowUps        *FollowUpStats `json:"follow_ups,omitempty"`
	SearchResult     *SearchOutcome `json:"search_result,omitempty"`
	// Shard is this run's place in a sharded run (stampede run --shard I/N);
	// nil for a run on one agent.
	Shard *Shard `json:"shard,omitempty"`
	// Shards lists the shards a merged run directory was made from
	// (stampede merge); nil otherwise.
	Shards []MergedShard `json:"shards,omitempty"`
	// Partial marks a merged run missing a shard or holding one that did
	// not complete; PartialReason names them.
	Partial       bool   `json:"partial,omitempty"`
	PartialReason string `json:"partial_reason,omitempty"`
	// MaxSkewMS is a merged run's largest clock skew between two of its
	// shards (MergedShard.SkewMS runs from 0 to it).
	MaxSkewMS float64 `json:"max_skew_ms,omitempty"`
}

// Shard is one agent's share of a sharded run: shard Index of Count offers
// 1/Count of every stage's rate and uses its own slice of the credentials;
// shard 0 alone injects faults and samples the database and the network.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
	// StartAt is the shared instant every shard started sending at (from
	// --start-at, or released by the start barrier).
	StartAt time.Time `json:"start_at,omitzero"`
	Barrier string    `json:"barrier,omitempty"` // the barrier's address, when one released it
}

// MergedShard is one shard of a merged run, as stampede merge found it.
type MergedShard struct {
	Index   int       `json:"index"`
	Dir     string    `json:"dir,omitempty"`  // where it was read from
	Status  string    `json:"status"`         // the shard's own status, or StatusMissing
	Records int64     `json:"records"`        // results merged from it
	Start   time.Time `json:"start,omitzero"` // its run_start
	SkewMS  float64   `json:"skew_ms"`        // its send times against the plan, relative to the other shards
	Note    string    `json:"note,omitempty"` // why it is missing or failed
}

// Fixture is the bundled fixture's tuning, when the run used it.
type Fixture struct {
	DBPool         int      `json:"db_pool"`
	DBHold         Duration `json:"db_hold"`
	DBHoldMS       float64  `json:"db_hold_ms"`
	MaxConnections int      `json:"max_connections"`
	Users          int      `json:"users,omitempty"`
	Role           string   `json:"role,omitempty"`
	ServerTiming   bool     `json:"server_timing"`
	// Shape is the kind of login service the fixture imitated, as
	// fixtures.Shape's String() names it ("default", "conn-per-login
	// hash-cost=10", ...).
	Shape string `json:"shape,omitempty"`
}

// SearchConfig is an adaptive search's settings.
type SearchConfig struct {
	From        float64 `json:"from"`
	Factor      float64 `json:"factor"`
	Precision   float64 `json:"precision"`
	BudgetS     float64 `json:"budget_s"`
	MaxRate     float64 `json:"max_rate"`
	WarmupS     float64 `json:"warmup_s"`
	HoldS       float64 `json:"hold_s"`
	MinRequests int64   `json:"min_requests"`
}

// SearchOutcome is an adaptive search's result, as the manifest keeps it.
type SearchOutcome struct {
	Lo              *float64 `json:"lo"`
	Hi              *float64 `json:"hi"`
	Precision       *float64 `json:"precision,omitempty"`
	TargetPrecision float64  `json:"target_precision"`
	Trials          int      `json:"trials"`
	ElapsedS        float64  `json:"elapsed_s"`
	Reason          string   `json:"reason"`
}

// AbortRule is the scenario's abort rule.
type AbortRule struct {
	AfterS float64 `json:"after_s"`
	Ratio  float64 `json:"ratio"`
}

// FollowUpStats counts the sampled session checks after successful logins.
type FollowUpStats struct {
	Sent, OK, Failed, Dropped int64
}

// Duration is written as Go's duration string ("20ms") and read from one
// or from a number of nanoseconds.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	var n float64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("rundir: a duration is a string or nanoseconds: %s", b)
	}
	*d = Duration(n)
	return nil
}

// ReadManifest reads a run directory's manifest.json.
func ReadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// WriteJSON writes v as indented JSON, atomically (a temporary file, then
// a rename), so a reader never sees half a file.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
