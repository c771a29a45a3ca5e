package rundir

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"time"
)

// Timeline event types, one per line of timeline.jsonl.
const (
	EventRunStart     = "run_start"
	EventStage        = "stage"
	EventGenerator    = "generator"
	EventInterrupt    = "interrupt"
	EventAbort        = "abort" // the scenario's abort rule stopped the surge
	EventRunEnd       = "run_end"
	EventError        = "error"
	EventFaultInject  = "fault_inject"
	EventFaultRevert  = "fault_revert"
	EventFaultRepeat  = "fault_repeat" // a repeating fault applied again
	EventCancel       = "cancel"       // the run's context ended: it stopped sending
	EventDBSample     = "db_sample"
	EventPoolSample   = "pool_sample" // the service's pool stats alone, without a database connection
	EventTCPProbe     = "tcp_probe"
	EventHTTPProbe    = "http_probe" // a cheap request to the service, through its path and around it
	EventCPUSample    = "cpu_sample" // host, generator, target and database CPU, from /proc
	EventTrial        = "trial"
	EventSearchResult = "search_result"
	// A merged run keeps each shard's own run_start and run_end as these.
	EventShardStart = "shard_start"
	EventShardEnd   = "shard_end"
)

// Event is one typed timeline event; its fields are the line's fields.
type Event interface{ EventType() string }

// Header is what every timeline line carries beside its event's fields.
type Header struct {
	Type string    `json:"type"`
	Time time.Time `json:"time"`
	// T is seconds since the run's start; nil when the line has none.
	T *float64 `json:"t"`
	// Shard is the shard the line came from, in a merged run (stampede
	// merge); nil on a run of one agent and on the merged run's own lines.
	Shard *int `json:"shard,omitempty"`
}

// Line encodes ev as one timeline line (without the newline): its type,
// its time (RFC 3339 and, when start is known, seconds since the start)
// and its own fields, in one JSON object.
func Line(ev Event, at, start time.Time) ([]byte, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	if len(body) < 2 || body[0] != '{' {
		return nil, errors.New("rundir: an event must encode as a JSON object")
	}
	h := struct {
		Type string   `json:"type"`
		Time string   `json:"time"`
		T    *float64 `json:"t,omitempty"`
	}{Type: ev.EventType(), Time: at.UTC().Format(time.RFC3339Nano)}
	if !start.IsZero() {
		t := math.Round(at.Sub(start).Seconds()*1e6) / 1e6
		h.T = &t
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(hb[:len(hb)-1])
	if len(body) > 2 {
		b.WriteByte(',')
		b.Write(body[1:])
	} else {
		b.WriteByte('}')
	}
	return b.Bytes(), nil
}

// Secs turns a timeline's seconds into a Duration, rounded to the nanosecond.
func Secs(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// RunStartEvent opens the timeline.
type RunStartEvent struct {
	Scenario         string  `json:"scenario"`
	Seed             int64   `json:"seed"`
	PlannedDurationS float64 `json:"planned_duration_s"`
	Target           string  `json:"target"`
}

// RunEndEvent closes it.
type RunEndEvent struct {
	Status string `json:"status"`
}

// ShardStartEvent is one shard's run_start, kept in a merged run's
// timeline (the merged run has one run_start of its own).
type ShardStartEvent struct {
	Index int    `json:"index"`
	Count int    `json:"count"`
	Host  string `json:"host,omitempty"`
	Seed  int64  `json:"seed"`
}

// ShardEndEvent is one shard's run_end, kept in a merged run's timeline.
type ShardEndEvent struct {
	Index  int    `json:"index"`
	Status string `json:"status"`
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
	BehindOwnFault   bool             `json:"behind_own_fault"` // late while workers were free, or local failures
	LocalErrors      map[string]int64 `json:"local_errors"`
}

// InterruptEvent is a signal received during the run.
type InterruptEvent struct {
	Signal    string `json:"signal"`
	Immediate bool   `json:"immediate"`
}

// AbortEvent is the scenario's abort rule stopping the surge.
type AbortEvent struct {
	AfterS        float64 `json:"after_s"`
	Ratio         float64 `json:"ratio"`
	WindowSeconds int     `json:"window_seconds"`
	FailedSeconds int     `json:"failed_seconds"`
	// Seconds are the window's judged seconds, oldest first.
	Seconds []AbortSecond `json:"seconds"`
	SLO     AbortSLO      `json:"slo"`
}

// AbortSecond is one judged second of planned send time in an abort's window.
type AbortSecond struct {
	SecondS      int64   `json:"second_s"`
	Planned      int64   `json:"planned"`
	Received     int64   `json:"received"`
	Missing      int64   `json:"missing"`
	SuccessRatio float64 `json:"success_ratio"`
	P99MS        float64 `json:"p99_ms"`
	SLOLatencyMS float64 `json:"slo_latency_ms"`
	SLOMet       bool    `json:"slo_met"`
}

// AbortSLO is the SLO an abort judged by.
type AbortSLO struct {
	SuccessRatio float64 `json:"success_ratio"`
	Percentile   float64 `json:"percentile"`
	LatencyMS    float64 `json:"latency_ms"`
}

// CancelEvent: the run's context ended, and the run stopped sending.
type CancelEvent struct {
	Error string `json:"error"`
}

// ErrorEvent is an error the run met and went on past.
type ErrorEvent struct {
	Error string `json:"error"`
}

// FaultEvent is a fault_inject or fault_revert line: Index pairs an
// injection with its revert; StartS and EndS are the planned window, the
// line's own t the moment it happened.
type FaultEvent struct {
	Type   string         `json:"-"` // EventFaultInject, EventFaultRevert or EventFaultRepeat
	Index  *int           `json:"index"`
	Fault  string         `json:"fault"` // the fault's String()
	Kind   string         `json:"kind,omitempty"`
	Params map[string]any `json:"params,omitzero"` // a described fault's, even when it has none
	StartS *float64       `json:"start_s,omitempty"`
	EndS   *float64       `json:"end_s,omitempty"`
	OK     *bool          `json:"ok,omitempty"`
	Error  string         `json:"error,omitempty"`
	Reason string         `json:"reason,omitempty"` // revert: end, cancel, stop, panic, inject_failed
	// ElapsedS is when the event happened on the run's clock; TookMS how
	// long the injection or revert took.
	ElapsedS float64 `json:"elapsed_s"`
	TookMS   float64 `json:"took_ms"`
}

// PoolStat is the service's pool statistics (its pool endpoint's JSON).
type PoolStat struct {
	AcquireCount       *float64 `json:"acquire_count,omitempty"`
	AcquiredConns      *float64 `json:"acquired_conns,omitempty"`
	MaxConns           *float64 `json:"max_conns,omitempty"`
	TotalConns         *float64 `json:"total_conns,omitempty"`
	EmptyAcquireCount  *float64 `json:"empty_acquire_count,omitempty"`
	EmptyAcquireWaitMS *float64 `json:"empty_acquire_wait_ms,omitempty"`
	PoolTimeouts       *float64 `json:"pool_timeouts,omitempty"`
	// The rest of what the bundled fixture's pool endpoint serves.
	IdleConns            *float64 `json:"idle_conns,omitempty"`
	CanceledAcquireCount *float64 `json:"canceled_acquire_count,omitempty"`
	AcquireDurationMS    *float64 `json:"acquire_duration_ms,omitempty"`
	ConstructingConns    *float64 `json:"constructing_conns,omitempty"`
	NewConnsCount        *float64 `json:"new_conns_count,omitempty"`
}

// DBSample is the database's own view, once a second, over a connection
// reserved before the run (a db_sample), or the service's pool alone (a
// pool_sample). Absent fields stay nil.
type DBSample struct {
	Type              string             `json:"-"` // EventDBSample or EventPoolSample
	BackendsTotal     *float64           `json:"backends_total,omitempty"`
	ByState           map[string]float64 `json:"by_state,omitzero"` // written (maybe empty) whenever the counts were read
	ByRole            map[string]float64 `json:"by_role,omitzero"`
	RoleBackends      *float64           `json:"role_backends,omitempty"`
	RoleActive        *float64           `json:"role_active,omitempty"`
	RoleLimit         *float64           `json:"role_limit,omitempty"`
	MaxConnections    *float64           `json:"max_connections,omitempty"`
	SuperuserReserved *float64           `json:"superuser_reserved,omitempty"`
	LockWaiters       *float64           `json:"lock_waiters,omitempty"`
	CommitsPerS       *float64           `json:"commits_per_s,omitempty"`
	ProbeRTTMS        *float64           `json:"probe_rtt_ms,omitempty"`
	Pool              *PoolStat          `json:"pool,omitempty"`
	Error             string             `json:"error,omitempty"`

	// The service's role alone: its client backends by state (active,
	// idle, idle in transaction, ...) and its active backends by wait
	// event type (Lock, IO, LWLock, Client, ...; "none" when not waiting).
	RoleByState map[string]float64 `json:"role_by_state,omitempty"`
	RoleWaits   map[string]float64 `json:"role_waits,omitempty"`
	// RoleGone and RoleNew count the role's backends (by pid) that vanished
	// since the previous sample, and that appeared: sessions ended by the
	// database show up as vanished backends, and reconnects as new ones.
	RoleGone *float64 `json:"role_gone,omitempty"`
	RoleNew  *float64 `json:"role_new,omitempty"`
	// Database-wide session counters from pg_stat_database (PostgreSQL 14+),
	// cumulative: the report takes their deltas.
	SessionsKilled    *float64 `json:"sessions_killed,omitempty"`
	SessionsFatal     *float64 `json:"sessions_fatal,omitempty"`
	SessionsAbandoned *float64 `json:"sessions_abandoned,omitempty"`
	Deadlocks         *float64 `json:"deadlocks,omitempty"`
	// PathProbeRTTMS is the same probe query sent through the path from the
	// service to the database (the db proxy), on a connection of its own;
	// ProbeRTTMS is the direct one. PathProbeError is its failure.
	PathProbeRTTMS *float64 `json:"path_probe_rtt_ms,omitempty"`
	PathProbeError string   `json:"path_probe_error,omitempty"`
}

// TCPProbe is one TCP connect probe to the service or to the database; a
// service probe may also carry a health check (a GET of the service's
// health path, sent the way the load goes: through the client-path proxy
// when there is one).
type TCPProbe struct {
	Path      string   `json:"path"`
	ConnectMS *float64 `json:"connect_ms,omitempty"`
	Error     string   `json:"error,omitempty"`
	// HealthMS is the health check's round trip; HealthError its transport
	// failure (an HTTP status, even a 5xx, is an answer: HealthStatus).
	HealthMS     *float64 `json:"health_ms,omitempty"`
	HealthStatus *int     `json:"health_status,omitempty"`
	HealthError  string   `json:"health_error,omitempty"`
}

// HTTPProbe is one cheap request to the service: its health path, or the
// cheapest request it answers without the database (a GET of an unused
// path: any status is an answer). Via says how it went: "path", the way
// the load goes (through the client-path proxy when there is one), or
// "direct", straight to the service's own address. What the path adds is
// the difference between the two; a service too busy to answer slows both.
type HTTPProbe struct {
	Kind      string   `json:"kind"` // health or null
	Via       string   `json:"via"`  // path or direct
	ConnectMS *float64 `json:"connect_ms,omitempty"`
	MS        *float64 `json:"ms,omitempty"` // the whole request, connect included
	Status    *int     `json:"status,omitempty"`
	Error     string   `json:"error,omitempty"` // a transport failure's class
}

// CPUSample is CPU use over the last interval, from /proc: the host's
// share of all its cores busy, and the cores (1.0 = one core fully busy)
// used by the load generator (this process), the target's process when it
// runs on this machine, and PostgreSQL's processes when they do.
type CPUSample struct {
	Cores          int      `json:"cores"`
	HostBusy       float64  `json:"host_busy"`
	GeneratorCores float64  `json:"generator_cores"`
	TargetCores    *float64 `json:"target_cores,omitempty"`
	// TargetInProcess is true when the target is served by this very
	// process (the bundled fixture run in-process): its CPU is inside
	// GeneratorCores and cannot be told apart.
	TargetInProcess bool     `json:"target_in_process,omitempty"`
	TargetPID       int      `json:"target_pid,omitempty"`
	DBCores         *float64 `json:"db_cores,omitempty"`
}

// TrialEvent is one judged trial of an adaptive search.
type TrialEvent struct {
	Index        int      `json:"index"`
	Rate         float64  `json:"rate"`
	Phase        string   `json:"phase"`
	StartS       float64  `json:"start_s"`
	WarmupS      float64  `json:"warmup_s"`
	HoldS        float64  `json:"hold_s"`
	Planned      int64    `json:"planned"`
	Received     int64    `json:"received"`
	Missing      int64    `json:"missing"`
	SuccessRatio float64  `json:"success_ratio"`
	P99MS        float64  `json:"p99_ms"`
	SLOLatencyMS float64  `json:"slo_latency_ms"`
	MaxMS        float64  `json:"max_ms"`
	SLOMet       bool     `json:"slo_met"`
	Lo           *float64 `json:"lo"`
	Hi           *float64 `json:"hi"`
}

// SearchResultEvent is an adaptive search's outcome.
type SearchResultEvent struct {
	Lo              *float64 `json:"lo"`
	Hi              *float64 `json:"hi"`
	Precision       *float64 `json:"precision"`
	TargetPrecision float64  `json:"target_precision"`
	Trials          int      `json:"trials"`
	ElapsedS        float64  `json:"elapsed_s"`
	Reason          string   `json:"reason"`
}

func (RunStartEvent) EventType() string     { return EventRunStart }
func (RunEndEvent) EventType() string       { return EventRunEnd }
func (StageEvent) EventType() string        { return EventStage }
func (GeneratorEvent) EventType() string    { return EventGenerator }
func (InterruptEvent) EventType() string    { return EventInterrupt }
func (AbortEvent) EventType() string        { return EventAbort }
func (CancelEvent) EventType() string       { return EventCancel }
func (ErrorEvent) EventType() string        { return EventError }
func (TCPProbe) EventType() string          { return EventTCPProbe }
func (HTTPProbe) EventType() string         { return EventHTTPProbe }
func (CPUSample) EventType() string         { return EventCPUSample }
func (TrialEvent) EventType() string        { return EventTrial }
func (SearchResultEvent) EventType() string { return EventSearchResult }
func (ShardStartEvent) EventType() string   { return EventShardStart }
func (ShardEndEvent) EventType() string     { return EventShardEnd }

// EventType is fault_inject or fault_revert, as Type says (inject when unset).
func (e FaultEvent) EventType() string {
	if e.Type == "" {
		return EventFaultInject
	}
	return e.Type
}

// EventType is db_sample or pool_sample, as Type says (db_sample when unset).
func (e DBSample) EventType() string {
	if e.Type == "" {
		return EventDBSample
	}
	return e.Type
}
