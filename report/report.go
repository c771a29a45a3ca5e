package report

import (
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// Options tune an analysis; the zero value reads everything from the run
// directory.
type Options struct {
	// SLO overrides the scenario's SLO field by field (zero fields keep the
	// scenario's, then the defaults: 0.99, p99, 500ms).
	SLO rundir.SLO
	// Window is the width of a window (default 1s).
	Window time.Duration
	// TargetRPS is the rate the recommendations size for (default: the
	// plan's peak rate).
	TargetRPS float64
	// Baseline is an earlier run's report (LoadBaseline) to compare with:
	// the report's Baseline comparison and the max_regression_pct gate.
	Baseline *Report
	// AllowPartial passes the shards check of a merged run that is missing
	// a shard or holds one that did not finish (it is still marked partial).
	AllowPartial bool
}

// Report is the analysis of one run directory.
type Report struct {
	Dir        string
	Scenario   string
	Seed       int64
	Status     string // completed, interrupted, ... (from run_end or the manifest)
	TargetKind string
	Start      time.Time
	// Planned is the plan's length; Elapsed is run_end's time, else the last result's.
	Planned, Elapsed time.Duration
	Window           time.Duration
	SLO              rundir.SLO
	Gates            Gates
	Fixture          *FixtureInfo

	// RequestProblem: every login failed the same way from the start (the
	// request is wrong, not the capacity); nil otherwise. Rendered first.
	RequestProblem *RequestProblem

	Totals  Figures
	Stages  []StageSummary
	Windows []Window
	Limit   Limit
	Cause   Cause
	Faults  []Fault
	// Scorecard lays each injected fault beside the causes detected.
	Scorecard []ScoreEntry
	Recommend Recommendations
	// Noise is the window-to-window variation inside this run.
	Noise Noise
	// Baseline compares Options.Baseline with this run; nil without one.
	Baseline *Comparison
	// Checks are the SLO checks and the gates, in that order.
	Checks  []Check
	Verdict string // "pass" or "fail"
	Summary string // one line: the verdict in words
	// Notes are caveats about the data (truncated results, missing files).
	Notes []string
	// Search is an adaptive search's trials and bracket (search.go); nil for a run of stages.
	Search *Search
	// Shards are a merged run's shards (shards.go); nil for a run of one agent.
	Shards *Shards

	histSets int           // histogram sets the streaming pass allocated: its memory bound
	requests *requestTally // decode's tally of valid logins, for requestProblem
	atRate   *rateLatency  // the max_p99 gate's windows at its stated rate, merged
}

// Figures are the outcome and latency of the hits of one window, or of
// the whole run (Report.Totals).
type Figures struct {
	Sent, OK, ExpectedRejects, Failed int64
	SuccessRatio                      float64
	P50, P90, P99, Max                time.Duration
	// LatencyAtSLO is the SLO's percentile of the latency from the planned
	// send time (send lag + latency: no coordinated omission).
	LatencyAtSLO time.Duration
	SendLagP99   time.Duration
	Errors       ErrorCounts
	Details      map[string]int64
}

// StageSummary is one stage's outcome; hits belong to the stage their
// planned send time fell in. Its figures are the contract's, as the engine
// summarises a stage, with the plan's rates and the report's error counts.
type StageSummary struct {
	rundir.StageSummary
	RateStart float64
	RateEnd   float64
	Errors    ErrorCounts
}

// Window is one time window of the run (1s by default).
type Window struct {
	Index  int
	Start  time.Duration
	Length time.Duration
	// Stage is the stage in force at the window's middle, -1 outside the plan.
	Stage int
	// Full: the window lies inside the plan. Steady: inside one
	// constant-rate part of a stage (a constant stage, one step, a spike's
	// base or peak); only steady windows measure the limit.
	Full, Steady bool
	Ramp         bool // inside a ramp

	OfferedRPS, AchievedRPS, GoodputRPS float64
	// ServedRPS is the successful logins that completed in the window, per
	// second, wherever they were sent (the other rates count hits by send
	// time): the service's throughput once a queue builds.
	ServedRPS float64
	Figures
	Timing      *TimingMeans // nil without Server-Timing
	Connect     ConnectStats
	DB          *DBWindow // nil without database samples
	Probes      ProbeWindow
	Generator   *GeneratorWindow // nil when the generator reported nothing
	CPU         *CPUWindow       // nil without cpu samples
	Faults      []string         // faults in force (for display only: never read by the cause)
	LateRecords int64            // results that arrived after the window closed (counted, not in percentiles)

	// Traffic: something was planned or sent. SLOMet: the SLO held.
	Traffic, SLOMet bool
	// Cause is "none" when the SLO held, else the diagnosis.
	Cause     string
	Diagnosis *Cause

	c     counts               // raw sums, for merging windows
	walls map[resource]float64 // resources this window's evidence shows at their wall
}

// TimingMeans are a window's Server-Timing means, in milliseconds of the
// header's own unit, as durations.
type TimingMeans struct {
	N                    int64
	Pool, DB, App, Hash  time.Duration
	PoolMax              time.Duration
	AppNet               time.Duration // app - pool - db: the service's own time
	Unexplained          time.Duration // client latency - app: the network and queues
	NetworkShareOfClient float64
}

// ConnectStats are the client's new TCP connections in a window.
type ConnectStats struct {
	New        int64
	Mean, P99  time.Duration
	HaveTiming bool
}

// DBWindow joins the database samples that fell in a window.
type DBWindow struct {
	Samples           int
	BackendsTotal     float64 // max
	MaxConnections    float64
	SuperuserReserved float64
	RoleBackends      float64 // max
	RoleLimit         float64 // <= 0: none
	Active            float64 // max backends in state active
	IdleInTx          float64
	LockWaiters       float64 // max
	CommitsPerS       float64 // mean
	ProbeRTT          time.Duration
	HaveProbeRTT      bool
	PoolAcquired      float64 // max, from the service's pool stats
	PoolMax           float64
	PoolWaits         float64 // empty acquires during the window
	PoolTimeouts      float64
	// PoolAcquires are the acquires during the window; PoolWaitTime the
	// time acquires spent waiting for a connection during it (both from
	// the service's pool counters, when it reports them).
	PoolAcquires float64
	PoolWaitTime time.Duration
	HavePool     bool
	// HaveBackends: the samples carried pg_stat_activity counts (not only
	// the service's pool stats).
	HaveBackends bool
	RoleActive   float64 // max role backends in state active
	// RoleActiveShare is the mean over the window's samples of the role's
	// backends in state active as a share of its backends (0 when none
	// were sampled): their typical state, where RoleActive is a peak.
	RoleActiveShare float64
	Errors          int

	// The service's role alone (when the sampler reports it): its backends
	// idle in transaction and active waiting on a lock (maxima), backends
	// that vanished and appeared between samples, and the database's
	// count of sessions it killed or that ended fatally (deltas).
	HaveRoleStates bool
	RoleIdleInTx   float64
	RoleLockWaits  float64
	RoleGone       float64
	RoleNew        float64
	SessionsKilled float64
	SessionsFatal  float64
	// SessionsAbandoned: sessions whose client vanished without saying
	// goodbye (a connection dropped on the way).
	SessionsAbandoned float64
	HaveSessionStats  bool
	// PathProbeRTT is the probe query through the path from the service
	// to the database (max), beside ProbeRTT straight to it.
	PathProbeRTT    time.Duration
	HavePathProbe   bool
	PathProbeErrors int
}

// CPUWindow is CPU use in a window, from the cpu samples (means).
type CPUWindow struct {
	Samples         int
	Cores           int
	HostBusy        float64 // share of all cores busy, 0..1
	GeneratorCores  float64 // this process (the load generator; the fixture too when in-process)
	TargetCores     float64
	HaveTarget      bool
	TargetInProcess bool
	DBCores         float64
	HaveDB          bool
}

// ProbeWindow joins the TCP connect probes of a window, and the health
// checks sent with the service's.
type ProbeWindow struct {
	ServiceN, DBN           int
	ServiceConnect          time.Duration // mean
	DBConnect               time.Duration
	ServiceErrors, DBErrors int
	// HealthN health checks answered, in Health on average; HealthErrors
	// failed before any answer (reset, refused, timeout).
	HealthN      int
	Health       time.Duration
	HealthErrors int

	// Cheap HTTP requests (http_probe): the null request and the health
	// check, each through the client path and straight to the service.
	NullPath, NullDirect     ProbeStat
	HealthPath, HealthDirect ProbeStat
}

// ProbeStat is one kind of HTTP probe in a window: answered ones' mean
// time and TCP connect time, and failures before any answer.
type ProbeStat struct {
	N, Errors int
	Mean      time.Duration
	Connect   time.Duration
}

func (p *ProbeStat) add(ms, connectMS *float64, failed bool) {
	if failed || ms == nil {
		p.Errors++
		return
	}
	p.Mean = runningMean(p.Mean, p.N, msDur(*ms))
	if connectMS != nil {
		p.Connect = runningMean(p.Connect, p.N, msDur(*connectMS))
	}
	p.N++
}

// GeneratorWindow is what the load generator said about its own sends.
type GeneratorWindow struct {
	Hits, Late       int64
	MaxLag           time.Duration
	InflightMax      int64
	MaxWorkers       uint64
	WorkersSaturated bool
	BehindOwnFault   bool
	LocalErrors      map[string]int64
}

// FixtureInfo is the bundled fixture's tuning, when the run used it: the
// part of the manifest's fixture block the report shows.
type FixtureInfo struct {
	DBPool         int
	DBHold         time.Duration
	MaxConnections int
}

// fixtureOf reads the manifest's fixture block.
func fixtureOf(m *rundir.Manifest) *FixtureInfo {
	if m.Fixture == nil {
		return nil
	}
	return &FixtureInfo{DBPool: m.Fixture.DBPool, DBHold: time.Duration(m.Fixture.DBHold), MaxConnections: m.Fixture.MaxConnections}
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
