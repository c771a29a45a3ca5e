// Package report analyses a recorded run directory: per-second windows from
// one streaming pass over the results, the capacity limit, the cause of every
// degraded window (from evidence only), a scorecard of injected faults against
// detected causes, recommendations, and renderers (text, JSON, JUnit,
// post-mortem Markdown, self-contained HTML).
//
// It imports neither scenarios nor chaos: the record types it reads are its
// own, defined in this file from the run directory's formats.
package report

import (
	"encoding/json"
	"fmt"
	"time"
)

// Files of a run directory, read and written here.
const (
	ResultsFile  = "results.bin"
	TimelineFile = "timeline.jsonl"
	ManifestFile = "manifest.json"
	ScenarioFile = "scenario.yaml"

	JSONFile       = "report.json"
	TextFile       = "report.txt"
	JUnitFile      = "junit.xml"
	PostmortemFile = "postmortem.md"
	HTMLFile       = "report.html"
)

// Headers stampede adds to each recorded result.
const (
	HeaderStage      = "Stampede-Stage"
	HeaderIntent     = "Stampede-Intent"
	HeaderOutcome    = "Stampede-Outcome"
	HeaderSendLag    = "Stampede-Send-Lag"
	HeaderConn       = "Stampede-Conn"
	HeaderErrorClass = "Stampede-Error-Class"
	HeaderTiming     = "Server-Timing"
)

// Outcomes of one hit, as the runner judged it.
const (
	OutcomeOK             = "ok"
	OutcomeExpectedReject = "expected_reject"
	OutcomeFailed         = "failed"
)

// Timeline event types.
const (
	EventRunStart    = "run_start"
	EventStage       = "stage"
	EventGenerator   = "generator"
	EventInterrupt   = "interrupt"
	EventRunEnd      = "run_end"
	EventFaultInject = "fault_inject"
	EventFaultRevert = "fault_revert"
	EventDBSample    = "db_sample"
	EventTCPProbe    = "tcp_probe"
	EventPoolSample  = "pool_sample" // the service's pool stats alone, without a database connection
)

// EventHeader is what every timeline line carries.
type EventHeader struct {
	Type string    `json:"type"`
	Time time.Time `json:"time"`
	// T is seconds since the run's start; nil when the line has none.
	T *float64 `json:"t"`
}

// RunStartEvent opens the timeline.
type RunStartEvent struct {
	Scenario         string  `json:"scenario"`
	Seed             int64   `json:"seed"`
	PlannedDurationS float64 `json:"planned_duration_s"`
	Target           string  `json:"target"`
}

// StageEvent marks a planned stage boundary.
type StageEvent struct {
	Index         int     `json:"index"`
	Name          string  `json:"name"`
	Kind          string  `json:"kind"`
	PlannedStartS float64 `json:"planned_start_s"`
	DurationS     float64 `json:"duration_s"`
	RateStart     float64 `json:"rate_start"`
	RateEnd       float64 `json:"rate_end"`
}

// GeneratorEvent reports one second in which the load generator sent late
// or failed locally.
type GeneratorEvent struct {
	Second           time.Time        `json:"second"`
	Hits             int64            `json:"hits"`
	Late             int64            `json:"late"`
	MaxLagMS         float64          `json:"max_lag_ms"`
	InflightMax      int64            `json:"inflight_max"`
	MaxWorkers       uint64           `json:"max_workers"`
	WorkersSaturated bool             `json:"workers_saturated"`
	BehindOwnFault   bool             `json:"behind_own_fault"`
	LocalErrors      map[string]int64 `json:"local_errors"`
}

// FaultEvent is a fault_inject or fault_revert line (chaos.Runner's
// fields): Index pairs an injection with its revert; StartS and EndS are
// the planned window, the line's own t the moment it happened.
type FaultEvent struct {
	Index  *int           `json:"index"`
	Fault  string         `json:"fault"` // the fault's String()
	Kind   string         `json:"kind"`
	Params map[string]any `json:"params"`
	StartS *float64       `json:"start_s"`
	EndS   *float64       `json:"end_s"`
	OK     *bool          `json:"ok"`
	Error  string         `json:"error"`
	Reason string         `json:"reason"` // revert: end, cancel, stop, panic, inject_failed
}

// PoolStat is the service's /debug/pool JSON, when a db_sample carries it.
type PoolStat struct {
	AcquireCount       *float64 `json:"acquire_count"`
	AcquiredConns      *float64 `json:"acquired_conns"`
	MaxConns           *float64 `json:"max_conns"`
	TotalConns         *float64 `json:"total_conns"`
	EmptyAcquireCount  *float64 `json:"empty_acquire_count"`
	EmptyAcquireWaitMS *float64 `json:"empty_acquire_wait_ms"`
	PoolTimeouts       *float64 `json:"pool_timeouts"`
}

// DBSample is the database's own view, once a second, over a connection
// reserved before the run. Absent fields stay nil.
type DBSample struct {
	BackendsTotal     *float64           `json:"backends_total"`
	ByState           map[string]float64 `json:"by_state"`
	ByRole            map[string]float64 `json:"by_role"`
	RoleBackends      *float64           `json:"role_backends"`
	RoleActive        *float64           `json:"role_active"`
	RoleLimit         *float64           `json:"role_limit"`
	MaxConnections    *float64           `json:"max_connections"`
	SuperuserReserved *float64           `json:"superuser_reserved"`
	LockWaiters       *float64           `json:"lock_waiters"`
	CommitsPerS       *float64           `json:"commits_per_s"`
	ProbeRTTMS        *float64           `json:"probe_rtt_ms"`
	Pool              *PoolStat          `json:"pool"`
	Error             string             `json:"error"`
}

// TCPProbe is one TCP connect probe to the service or to the database;
// a service probe may also carry a health check (a GET of the service's
// health path, sent the way the load goes: through the client-path proxy
// when there is one).
type TCPProbe struct {
	Path      string   `json:"path"`
	ConnectMS *float64 `json:"connect_ms"`
	Error     string   `json:"error"`
	// HealthMS is the health check's round trip; HealthError its transport
	// failure (an HTTP status, even a 5xx, is an answer: HealthStatus).
	HealthMS     *float64 `json:"health_ms"`
	HealthStatus *int     `json:"health_status"`
	HealthError  string   `json:"health_error"`
}

// Manifest is the part of manifest.json the report reads.
type Manifest struct {
	Scenario   string    `json:"scenario"`
	Seed       int64     `json:"seed"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Status     string    `json:"status"`
	TargetKind string    `json:"target_kind"`
	Target     string    `json:"target"`
	Scale      float64   `json:"scale"`
	Fixture    *struct {
		DBPool         int             `json:"db_pool"`
		DBHold         json.RawMessage `json:"db_hold"`
		MaxConnections int             `json:"max_connections"`
	} `json:"fixture"`
	PlannedDurationS float64 `json:"planned_duration_s"`
}

// FixtureInfo is the bundled fixture's tuning, when the run used it.
type FixtureInfo struct {
	DBPool         int
	DBHold         time.Duration
	MaxConnections int
}

// fixture reads the manifest's fixture block; db_hold may be a duration
// string ("20ms") or nanoseconds.
func (m *Manifest) fixture() *FixtureInfo {
	if m.Fixture == nil {
		return nil
	}
	f := &FixtureInfo{DBPool: m.Fixture.DBPool, MaxConnections: m.Fixture.MaxConnections}
	if raw := m.Fixture.DBHold; len(raw) > 0 {
		var s string
		var n float64
		switch {
		case json.Unmarshal(raw, &s) == nil:
			f.DBHold, _ = time.ParseDuration(s)
		case json.Unmarshal(raw, &n) == nil:
			f.DBHold = time.Duration(n)
		}
	}
	return f
}

// SLO is what a window must meet to count as healthy.
type SLO struct {
	SuccessRatio float64       // default 0.99
	Percentile   float64       // default 99
	Latency      time.Duration // default 500ms
}

// withDefaults fills what the scenario left out with the format's defaults:
// success ratio 0.99, percentile 99, latency 500ms.
func (s SLO) withDefaults() SLO {
	if s.SuccessRatio <= 0 {
		s.SuccessRatio = 0.99
	}
	if s.Percentile <= 0 {
		s.Percentile = 99
	}
	if s.Latency <= 0 {
		s.Latency = 500 * time.Millisecond
	}
	return s
}

func (s SLO) String() string {
	return fmt.Sprintf("success ≥ %s, p%s ≤ %s", pct(s.SuccessRatio), fnum(s.Percentile), s.Latency)
}

// Gates are the scenario's CI rules, evaluated on the report.
type Gates struct {
	MinSustainableRPS *float64
	MaxP99            time.Duration
	MaxP99AtRPS       float64
	MaxErrorRatio     *float64
	MaxRegressionPct  *float64
	ExpectCause       string
}
