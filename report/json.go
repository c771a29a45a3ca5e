package report

import (
	"time"

	"github.com/stampede-load/stampede/report/format"
)

// The JSON shape of report.json. Durations are numbers with their unit in
// the name (_ms, _s); a value that does not exist is null, never 0.

// JSON is report.json: the report's JSON form, written by the renderer
// (report/render) and read back by ReadJSON, for comparisons.
type JSON struct {
	Scenario        string              `json:"scenario"`
	Seed            int64               `json:"seed"`
	Status          string              `json:"status"`
	TargetKind      string              `json:"target_kind,omitempty"`
	Start           string              `json:"start,omitempty"`
	PlannedS        float64             `json:"planned_s"`
	ElapsedS        float64             `json:"elapsed_s"`
	WindowS         float64             `json:"window_s"`
	SLO             jsonSLO             `json:"slo"`
	Fixture         *jsonFixture        `json:"fixture,omitempty"`
	RequestProblem  *RequestProblemJSON `json:"request_problem,omitempty"`
	Verdict         string              `json:"verdict"`
	Summary         string              `json:"summary"`
	Partial         bool                `json:"partial,omitempty"` // partial, partial_reason, max_skew_ms, shards: a merged run only
	PartialReason   string              `json:"partial_reason,omitempty"`
	MaxSkewMS       *float64            `json:"max_skew_ms,omitempty"`
	Shards          []jsonShard         `json:"shards,omitempty"`
	Limit           jsonLimit           `json:"limit"`
	Cause           jsonCause           `json:"cause"`
	Totals          jsonTotals          `json:"totals"`
	Stages          []jsonStage         `json:"stages"`
	Faults          []jsonFault         `json:"faults"`
	Scorecard       []jsonScore         `json:"scorecard"`
	Recommendations jsonRecommendation  `json:"recommendations"`
	Checks          []jsonCheck         `json:"checks"`
	Noise           jsonNoise           `json:"noise"`
	Baseline        *ComparisonJSON     `json:"baseline,omitempty"`
	Search          *jsonSearch         `json:"search,omitempty"`
	Windows         []jsonWindow        `json:"windows"`
	Notes           []string            `json:"notes"`
}

type jsonSLO struct {
	SuccessRatio float64 `json:"success_ratio"`
	Percentile   float64 `json:"percentile"`
	LatencyMS    float64 `json:"latency_ms"`
}

type jsonFixture struct {
	DBPool         int     `json:"db_pool"`
	DBHoldMS       float64 `json:"db_hold_ms"`
	MaxConnections int     `json:"max_connections"`
}

type jsonLimit struct {
	SustainableRPS *float64 `json:"sustainable_rps"`
	BreakingRPS    *float64 `json:"breaking_rps"`
	BreakingAtS    *float64 `json:"breaking_at_s"`
	MaxGoodputRPS  float64  `json:"max_goodput_rps"`
	MaxGoodputAtS  float64  `json:"max_goodput_at_s"`
	KneeRPS        *float64 `json:"knee_rps"`
	KneeAtS        *float64 `json:"knee_at_s"`
	PrecisionRPS   *float64 `json:"precision_rps"`
	Precision      string   `json:"precision"`
	Method         string   `json:"method"`
}

type jsonCause struct {
	Primary    string `json:"primary"`
	Confidence string `json:"confidence,omitempty"`
	// Binding is the resource that was the wall, when and at what offered
	// rate it saturated; Chain what followed downstream of it.
	Binding    *jsonBinding `json:"binding,omitempty"`
	Chain      []string     `json:"chain,omitempty"`
	Sources    []string     `json:"sources"`
	Evidence   []string     `json:"evidence"`
	RuledOut   []string     `json:"ruled_out"`
	NotChecked []string     `json:"not_checked"`
	Scope      string       `json:"scope,omitempty"`
	Windows    int          `json:"windows"`
	FromS      *float64     `json:"from_s"`
}

type jsonBinding struct {
	Resource     string   `json:"resource"`
	SaturatedAtS *float64 `json:"saturated_at_s,omitempty"`
	SaturatedRPS *float64 `json:"saturated_rps,omitempty"`
	Summary      string   `json:"summary"`
}

// jsonFigures are a window's or the run's Figures (but their details).
type jsonFigures struct {
	Sent            int64       `json:"sent"`
	OK              int64       `json:"ok"`
	ExpectedRejects int64       `json:"expected_rejects"`
	Failed          int64       `json:"failed"`
	SuccessRatio    float64     `json:"success_ratio"`
	P50MS           float64     `json:"p50_ms"`
	P90MS           float64     `json:"p90_ms"`
	P99MS           float64     `json:"p99_ms"`
	MaxMS           float64     `json:"max_ms"`
	SLOLatencyMS    float64     `json:"slo_latency_ms"`
	SendLagP99MS    float64     `json:"send_lag_p99_ms"`
	Errors          ErrorCounts `json:"errors"`
}

type jsonTotals struct {
	jsonFigures
	Details map[string]int64 `json:"details"`
}

type jsonStage struct {
	Index           int         `json:"index"`
	Name            string      `json:"name"`
	Kind            string      `json:"kind"`
	StartS          float64     `json:"start_s"`
	DurationS       float64     `json:"duration_s"`
	RateStart       float64     `json:"rate_start"`
	RateEnd         float64     `json:"rate_end"`
	OfferedRPS      float64     `json:"offered_rps"`
	AchievedRPS     float64     `json:"achieved_rps"`
	Sent            int64       `json:"sent"`
	OK              int64       `json:"ok"`
	ExpectedRejects int64       `json:"expected_rejects"`
	Failed          int64       `json:"failed"`
	SuccessRatio    float64     `json:"success_ratio"`
	P50MS           float64     `json:"p50_ms"`
	P99MS           float64     `json:"p99_ms"`
	Errors          ErrorCounts `json:"errors"`
}

// jsonShard is one shard of a merged run.
type jsonShard struct {
	Index        int      `json:"index"`
	Status       string   `json:"status"`
	Records      int64    `json:"records"`
	OfferedRPS   float64  `json:"offered_rps"`
	AchievedRPS  float64  `json:"achieved_rps"`
	SuccessRatio *float64 `json:"success_ratio"` // null without records
	P99MS        *float64 `json:"p99_ms"`
	SkewMS       *float64 `json:"skew_ms"` // null for a missing shard
	Note         string   `json:"note,omitempty"`
}

type jsonWindow struct {
	Index       int     `json:"index"`
	StartS      float64 `json:"start_s"`
	LengthS     float64 `json:"length_s"`
	Stage       int     `json:"stage"`
	Full        bool    `json:"full"`
	Steady      bool    `json:"steady"`
	OfferedRPS  float64 `json:"offered_rps"`
	AchievedRPS float64 `json:"achieved_rps"`
	GoodputRPS  float64 `json:"goodput_rps"`
	ServedRPS   float64 `json:"served_rps"`
	jsonFigures
	Details      map[string]int64 `json:"details,omitempty"`
	ServerTiming *jsonTiming      `json:"server_timing"`
	Connect      jsonConnect      `json:"connect"`
	DB           *jsonDB          `json:"db"`
	Probes       jsonProbes       `json:"probes"`
	Generator    *jsonGenerator   `json:"generator"`
	Faults       []string         `json:"faults,omitempty"`
	LateRecords  int64            `json:"late_records,omitempty"`
	SLOMet       bool             `json:"slo_met"`
	Cause        string           `json:"cause"`
	Diagnosis    *jsonCause       `json:"diagnosis,omitempty"`
}

type jsonTiming struct {
	N             int64   `json:"n"`
	PoolMS        float64 `json:"pool_ms"`
	DBMS          float64 `json:"db_ms"`
	AppMS         float64 `json:"app_ms"`
	HashMS        float64 `json:"hash_ms"`
	PoolMaxMS     float64 `json:"pool_max_ms"`
	AppNetMS      float64 `json:"app_net_ms"`
	UnexplainedMS float64 `json:"unexplained_ms"`
}

type jsonConnect struct {
	New    int64    `json:"new"`
	MeanMS *float64 `json:"mean_ms"`
	P99MS  *float64 `json:"p99_ms"`
}

type jsonDB struct {
	Samples           int      `json:"samples"`
	BackendsTotal     float64  `json:"backends_total"`
	MaxConnections    float64  `json:"max_connections"`
	SuperuserReserved float64  `json:"superuser_reserved"`
	RoleBackends      float64  `json:"role_backends"`
	RoleActive        float64  `json:"role_active"`
	RoleLimit         *float64 `json:"role_limit"`
	Active            float64  `json:"active"`
	IdleInTx          float64  `json:"idle_in_transaction"`
	LockWaiters       float64  `json:"lock_waiters"`
	CommitsPerS       float64  `json:"commits_per_s"`
	ProbeRTTMS        *float64 `json:"probe_rtt_ms"`
	PoolAcquired      *float64 `json:"pool_acquired"`
	PoolMax           *float64 `json:"pool_max"`
	PoolWaits         *float64 `json:"pool_waits"`
	PoolTimeouts      *float64 `json:"pool_timeouts"`
	PoolAcquires      *float64 `json:"pool_acquires"`
	PoolWaitMS        *float64 `json:"pool_wait_ms"`
	Utilisation       *float64 `json:"utilisation"`
	Errors            int      `json:"errors,omitempty"`
}

type jsonProbes struct {
	ServiceN         int      `json:"service_n"`
	ServiceConnectMS *float64 `json:"service_connect_ms"`
	ServiceErrors    int      `json:"service_errors"`
	DBN              int      `json:"db_n"`
	DBConnectMS      *float64 `json:"db_connect_ms"`
	DBErrors         int      `json:"db_errors"`
	HealthN          int      `json:"health_n"`
	HealthMS         *float64 `json:"health_ms"`
	HealthErrors     int      `json:"health_errors"`
}

type jsonGenerator struct {
	Hits             int64            `json:"hits"`
	Late             int64            `json:"late"`
	MaxLagMS         float64          `json:"max_lag_ms"`
	InflightMax      int64            `json:"inflight_max"`
	MaxWorkers       uint64           `json:"max_workers"`
	WorkersSaturated bool             `json:"workers_saturated"`
	BehindOwnFault   bool             `json:"behind_own_fault"`
	LocalErrors      map[string]int64 `json:"local_errors,omitempty"`
}

type jsonFault struct {
	Kind     string         `json:"kind"`
	Name     string         `json:"name,omitempty"`
	Path     string         `json:"path,omitempty"`
	Params   map[string]any `json:"params,omitempty"`
	StartS   float64        `json:"start_s"`
	EndS     float64        `json:"end_s"`
	Reverted bool           `json:"reverted"`
	OK       bool           `json:"ok"`
	Error    string         `json:"error,omitempty"`
}

type jsonScore struct {
	Fault           int      `json:"fault"`
	Kind            string   `json:"kind"`
	Path            string   `json:"path,omitempty"`
	StartS          float64  `json:"start_s"`
	EndS            float64  `json:"end_s"`
	Expected        []string `json:"expected"`
	Detected        string   `json:"detected"`
	Match           bool     `json:"match"`
	DegradedWindows int      `json:"degraded_windows"`
	TimeToImpactS   *float64 `json:"time_to_impact_s"`
	RecoveryS       *float64 `json:"recovery_s"`
	Recovered       bool     `json:"recovered"`
	Note            string   `json:"note,omitempty"`
}

type jsonRecommendation struct {
	HoldMS     *float64     `json:"hold_ms"`
	HoldSource string       `json:"hold_source,omitempty"`
	Sizing     []jsonSizing `json:"sizing"`
	Alerts     []jsonAlert  `json:"alerts"`
	Lines      []string     `json:"lines"`
}

type jsonSizing struct {
	RPS         float64 `json:"rps"`
	Connections int     `json:"connections"`
	Busy        float64 `json:"busy"`
	Headroom    float64 `json:"headroom"`
}

type jsonAlert struct {
	Name        string  `json:"name"`
	Metric      string  `json:"metric"`
	Utilisation float64 `json:"utilisation"`
	Why         string  `json:"why"`
}

type jsonCheck struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Passed  bool   `json:"passed"`
	Skipped bool   `json:"skipped,omitempty"`
	Detail  string `json:"detail"`
}

// msf is a duration in milliseconds rounded to the microsecond, for JSON.
func msf(d time.Duration) float64 { return format.Round(format.Millis(d), 3) }

func fp(v float64) *float64 { return &v }

func durS(d *time.Duration) *float64 {
	if d == nil {
		return nil
	}
	return fp(format.Round(d.Seconds(), 3))
}

func rps(v float64) float64 { return format.Round(v, 3) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func roundp(v *float64, digits int) *float64 {
	if v == nil {
		return nil
	}
	return fp(format.Round(*v, digits))
}

func toJSONCause(c Cause) jsonCause {
	j := jsonCause{Primary: c.Primary, Confidence: c.Confidence, Sources: nonNil(c.Sources), Evidence: nonNil(c.Evidence),
		RuledOut: nonNil(c.RuledOut), NotChecked: nonNil(c.NotChecked), Scope: c.Scope, Windows: c.Windows}
	if c.Windows > 0 {
		j.FromS = fp(format.Round(c.From.Seconds(), 3))
	}
	if c.Resource != "" {
		j.Binding = &jsonBinding{Resource: c.Resource, SaturatedRPS: roundp(c.SaturatedRPS, 1), Summary: c.Binding()}
		if c.SaturatedAt != nil {
			j.Binding.SaturatedAtS = fp(format.Round(c.SaturatedAt.Seconds(), 3))
		}
	}
	j.Chain = c.Chain
	return j
}

// JSON is the report's JSON form.
func (r *Report) JSON() JSON {
	j := JSON{Scenario: r.Scenario, Seed: r.Seed, Status: r.Status, TargetKind: r.TargetKind,
		PlannedS: format.Round(r.Planned.Seconds(), 3), ElapsedS: format.Round(r.Elapsed.Seconds(), 3), WindowS: r.Window.Seconds(),
		SLO:     jsonSLO{SuccessRatio: r.SLO.SuccessRatio, Percentile: r.SLO.Percentile, LatencyMS: msf(r.SLO.Latency)},
		Verdict: r.Verdict, Summary: r.Summary, Cause: toJSONCause(r.Cause), Notes: nonNil(r.Notes),
		Stages: []jsonStage{}, Faults: []jsonFault{}, Scorecard: []jsonScore{}, Checks: []jsonCheck{}, Windows: []jsonWindow{}}
	if p := r.RequestProblem; p != nil {
		j.RequestProblem = &RequestProblemJSON{Status: p.Status, Logins: p.Logins, Failed: p.Failed, Message: p.Message, Fix: p.Fix}
	}
	j.Search = searchJSON(r)
	if s := r.Shards; s != nil {
		j.Partial, j.PartialReason, j.MaxSkewMS = s.Partial, s.PartialReason, fp(format.Round(s.MaxSkewMS, 3))
		for _, sh := range s.List {
			js := jsonShard{Index: sh.Index, Status: sh.Status, Records: sh.Records,
				OfferedRPS: rps(sh.OfferedRPS), AchievedRPS: rps(sh.AchievedRPS), Note: sh.Note}
			if sh.Records > 0 {
				js.SuccessRatio, js.P99MS = fp(format.Round(sh.SuccessRatio, 6)), fp(msf(sh.P99))
			}
			if !sh.Missing() {
				js.SkewMS = fp(format.Round(sh.SkewMS, 3))
			}
			j.Shards = append(j.Shards, js)
		}
	}
	if !r.Start.IsZero() {
		j.Start = r.Start.UTC().Format(time.RFC3339Nano)
	}
	if f := r.Fixture; f != nil {
		j.Fixture = &jsonFixture{DBPool: f.DBPool, DBHoldMS: msf(f.DBHold), MaxConnections: f.MaxConnections}
	}
	l := r.Limit
	j.Limit = jsonLimit{SustainableRPS: roundp(l.SustainableRPS, 3), BreakingRPS: roundp(l.BreakingRPS, 3),
		MaxGoodputRPS: rps(l.MaxGoodputRPS), MaxGoodputAtS: format.Round(l.MaxGoodputAt.Seconds(), 3),
		KneeRPS: roundp(l.KneeRPS, 3), PrecisionRPS: roundp(l.PrecisionRPS, 3), Precision: l.Precision, Method: l.Method}
	if l.BreakingRPS != nil {
		j.Limit.BreakingAtS = fp(format.Round(l.BreakingAt.Seconds(), 3))
	}
	if l.KneeRPS != nil {
		j.Limit.KneeAtS = fp(format.Round(l.KneeAt.Seconds(), 3))
	}
	t := r.Totals
	j.Totals = jsonTotals{jsonFigures: figuresJSON(t), Details: t.Details}
	if j.Totals.Details == nil {
		j.Totals.Details = map[string]int64{}
	}
	for _, s := range r.Stages {
		j.Stages = append(j.Stages, jsonStage{Index: s.Index, Name: s.Name, Kind: s.Kind,
			StartS: format.Round(s.Start.Seconds(), 3), DurationS: format.Round(s.Duration.Seconds(), 3),
			RateStart: rps(s.RateStart), RateEnd: rps(s.RateEnd), OfferedRPS: rps(s.OfferedRPS), AchievedRPS: rps(s.AchievedRPS),
			Sent: s.Sent, OK: s.OK, ExpectedRejects: s.ExpectedRejects, Failed: s.Failed, SuccessRatio: format.Round(s.SuccessRatio, 6),
			P50MS: msf(s.P50), P99MS: msf(s.P99), Errors: s.Errors})
	}
	for _, f := range r.Faults {
		j.Faults = append(j.Faults, jsonFault{Kind: f.Kind, Name: f.Name, Path: f.Path, Params: f.Params,
			StartS: format.Round(f.Start.Seconds(), 3), EndS: format.Round(f.End.Seconds(), 3), Reverted: f.Reverted, OK: f.OK, Error: f.Error})
	}
	for _, s := range r.Scorecard {
		j.Scorecard = append(j.Scorecard, jsonScore{Fault: s.Fault, Kind: s.Kind, Path: s.Path,
			StartS: format.Round(s.Start.Seconds(), 3), EndS: format.Round(s.End.Seconds(), 3), Expected: nonNil(s.Expected),
			Detected: s.Detected, Match: s.Match, DegradedWindows: s.DegradedWindows,
			TimeToImpactS: durS(s.TimeToImpact), RecoveryS: durS(s.Recovery), Recovered: s.Recovered, Note: s.Note})
	}
	rec := r.Recommend
	j.Recommendations = jsonRecommendation{HoldSource: rec.HoldSource, Sizing: []jsonSizing{}, Alerts: []jsonAlert{}, Lines: nonNil(rec.Lines)}
	if rec.HoldTime > 0 {
		j.Recommendations.HoldMS = fp(msf(rec.HoldTime))
	}
	for _, s := range rec.Sizing {
		j.Recommendations.Sizing = append(j.Recommendations.Sizing, jsonSizing{RPS: rps(s.RPS),
			Connections: s.Connections, Busy: format.Round(s.Busy, 2), Headroom: s.Headroom})
	}
	for _, a := range rec.Alerts {
		j.Recommendations.Alerts = append(j.Recommendations.Alerts, jsonAlert{Name: a.Name, Metric: a.Metric,
			Utilisation: format.Round(a.Utilisation, 3), Why: a.Why})
	}
	for _, c := range r.Checks {
		j.Checks = append(j.Checks, jsonCheck{Name: c.Name, Kind: c.Kind, Passed: c.Passed, Skipped: c.Skipped, Detail: c.Detail})
	}
	j.Noise = toJSONNoise(r.Noise)
	if r.Baseline != nil {
		j.Baseline = r.Baseline.JSON()
	}
	for _, w := range r.Windows {
		j.Windows = append(j.Windows, toJSONWindow(w))
	}
	return j
}

func figuresJSON(f Figures) jsonFigures {
	return jsonFigures{Sent: f.Sent, OK: f.OK, ExpectedRejects: f.ExpectedRejects, Failed: f.Failed,
		SuccessRatio: format.Round(f.SuccessRatio, 6), P50MS: msf(f.P50), P90MS: msf(f.P90), P99MS: msf(f.P99),
		MaxMS: msf(f.Max), SLOLatencyMS: msf(f.LatencyAtSLO), SendLagP99MS: msf(f.SendLagP99), Errors: f.Errors}
}

// figures reads them back (without their details).
func (j jsonFigures) figures() Figures {
	return Figures{Sent: j.Sent, OK: j.OK, ExpectedRejects: j.ExpectedRejects, Failed: j.Failed,
		SuccessRatio: j.SuccessRatio, P50: msDur(j.P50MS), P90: msDur(j.P90MS), P99: msDur(j.P99MS), Max: msDur(j.MaxMS),
		LatencyAtSLO: msDur(j.SLOLatencyMS), SendLagP99: msDur(j.SendLagP99MS), Errors: j.Errors}
}

func toJSONWindow(w Window) jsonWindow {
	j := jsonWindow{Index: w.Index, StartS: format.Round(w.Start.Seconds(), 3), LengthS: format.Round(w.Length.Seconds(), 3),
		Stage: w.Stage, Full: w.Full, Steady: w.Steady,
		OfferedRPS: rps(w.OfferedRPS), AchievedRPS: rps(w.AchievedRPS), GoodputRPS: rps(w.GoodputRPS), ServedRPS: rps(w.ServedRPS),
		jsonFigures: figuresJSON(w.Figures), Details: w.Details, Faults: w.Faults, LateRecords: w.LateRecords,
		SLOMet: w.SLOMet, Cause: w.Cause}
	if t := w.Timing; t != nil {
		j.ServerTiming = &jsonTiming{N: t.N, PoolMS: msf(t.Pool), DBMS: msf(t.DB), AppMS: msf(t.App), HashMS: msf(t.Hash),
			PoolMaxMS: msf(t.PoolMax), AppNetMS: msf(t.AppNet), UnexplainedMS: msf(t.Unexplained)}
	}
	j.Connect.New = w.Connect.New
	if w.Connect.HaveTiming {
		j.Connect.MeanMS, j.Connect.P99MS = fp(msf(w.Connect.Mean)), fp(msf(w.Connect.P99))
	}
	if d := w.DB; d != nil {
		jd := &jsonDB{Samples: d.Samples, BackendsTotal: d.BackendsTotal, MaxConnections: d.MaxConnections,
			SuperuserReserved: d.SuperuserReserved, RoleBackends: d.RoleBackends, RoleActive: d.RoleActive, Active: d.Active, IdleInTx: d.IdleInTx,
			LockWaiters: d.LockWaiters, CommitsPerS: format.Round(d.CommitsPerS, 3), Errors: d.Errors}
		if d.RoleLimit > 0 {
			jd.RoleLimit = fp(d.RoleLimit)
		}
		if d.HaveProbeRTT {
			jd.ProbeRTTMS = fp(msf(d.ProbeRTT))
		}
		if d.HavePool {
			jd.PoolAcquired, jd.PoolMax, jd.PoolWaits, jd.PoolTimeouts = fp(d.PoolAcquired), fp(d.PoolMax), fp(d.PoolWaits), fp(d.PoolTimeouts)
			jd.PoolAcquires, jd.PoolWaitMS = fp(d.PoolAcquires), fp(msf(d.PoolWaitTime))
		}
		if u, _, ok := d.utilisation(); ok {
			jd.Utilisation = fp(format.Round(u, 3))
		}
		j.DB = jd
	}
	p := w.Probes
	j.Probes = jsonProbes{ServiceN: p.ServiceN, ServiceErrors: p.ServiceErrors, DBN: p.DBN, DBErrors: p.DBErrors,
		HealthN: p.HealthN, HealthErrors: p.HealthErrors}
	if p.HealthN > 0 {
		j.Probes.HealthMS = fp(msf(p.Health))
	}
	if p.ServiceN > 0 {
		j.Probes.ServiceConnectMS = fp(msf(p.ServiceConnect))
	}
	if p.DBN > 0 {
		j.Probes.DBConnectMS = fp(msf(p.DBConnect))
	}
	if g := w.Generator; g != nil {
		j.Generator = &jsonGenerator{Hits: g.Hits, Late: g.Late, MaxLagMS: msf(g.MaxLag), InflightMax: g.InflightMax,
			MaxWorkers: g.MaxWorkers, WorkersSaturated: g.WorkersSaturated, BehindOwnFault: g.BehindOwnFault, LocalErrors: g.LocalErrors}
	}
	if w.Diagnosis != nil {
		c := toJSONCause(*w.Diagnosis)
		j.Diagnosis = &c
	}
	return j
}

// ComparisonJSON is a comparison's JSON form.
type ComparisonJSON struct {
	Old       jsonRunRef  `json:"old"`
	New       jsonRunRef  `json:"new"`
	Regressed bool        `json:"regressed"`
	Rows      []jsonDelta `json:"rows"`
	Notes     []string    `json:"notes"`
}

type jsonRunRef struct {
	Path     string    `json:"path"`
	Scenario string    `json:"scenario"`
	Start    string    `json:"start,omitempty"`
	Verdict  string    `json:"verdict"`
	Noise    jsonNoise `json:"noise"`
}

type jsonNoise struct {
	P50MS      float64 `json:"p50_ms"`
	P99MS      float64 `json:"p99_ms"`
	GoodputRPS float64 `json:"goodput_rps"`
	Pairs      int     `json:"pairs"`
	Known      bool    `json:"known"`
}

type jsonDelta struct {
	Group       string   `json:"group"`
	Metric      string   `json:"metric"`
	Unit        string   `json:"unit,omitempty"`
	Old         *float64 `json:"old"`
	New         *float64 `json:"new"`
	OldText     string   `json:"old_text"`
	NewText     string   `json:"new_text"`
	Delta       *float64 `json:"delta"`
	DeltaPct    *float64 `json:"delta_pct"`
	Noise       float64  `json:"noise"`
	NoiseBasis  string   `json:"noise_basis"`
	BeyondNoise bool     `json:"beyond_noise"`
	Change      string   `json:"change"`
	Gating      bool     `json:"gating"`
	Regression  bool     `json:"regression"`
}

func toJSONNoise(n Noise) jsonNoise {
	return jsonNoise{P50MS: msf(n.P50), P99MS: msf(n.P99), GoodputRPS: n.GoodputRPS, Pairs: n.Pairs, Known: n.Known}
}

func fromJSONNoise(j jsonNoise) Noise {
	return Noise{P50: msDur(j.P50MS), P99: msDur(j.P99MS), GoodputRPS: j.GoodputRPS, Pairs: j.Pairs, Known: j.Known}
}

func toJSONRunRef(r RunRef) jsonRunRef {
	j := jsonRunRef{Path: r.Path, Scenario: r.Scenario, Verdict: r.Verdict, Noise: toJSONNoise(r.Noise)}
	if !r.Start.IsZero() {
		j.Start = r.Start.UTC().Format(time.RFC3339Nano)
	}
	return j
}

// JSON is the comparison's JSON form, alone or as report.json's baseline.
func (c *Comparison) JSON() *ComparisonJSON {
	j := &ComparisonJSON{Old: toJSONRunRef(c.Old), New: toJSONRunRef(c.New), Regressed: c.Regressed,
		Rows: []jsonDelta{}, Notes: nonNil(c.Notes)}
	for _, d := range c.Rows {
		j.Rows = append(j.Rows, jsonDelta{Group: d.Group, Metric: d.Metric, Unit: d.Unit, Old: d.Old, New: d.New,
			OldText: d.OldText, NewText: d.NewText, Delta: d.Abs, DeltaPct: d.Pct, Noise: d.Noise,
			NoiseBasis: d.NoiseBasis, BeyondNoise: d.Beyond, Change: d.Change, Gating: d.Gating, Regression: d.Regression})
	}
	return j
}

// jsonSearch is report.json's search block.
type jsonSearch struct {
	LoRPS           *float64    `json:"lo_rps"`
	HiRPS           *float64    `json:"hi_rps"`
	Precision       *float64    `json:"precision"`
	TargetPrecision float64     `json:"target_precision"`
	Reason          string      `json:"reason"`
	ElapsedS        float64     `json:"elapsed_s"`
	Trials          []jsonTrial `json:"trials"`
}

type jsonTrial struct {
	Index        int     `json:"index"`
	RateRPS      float64 `json:"rate_rps"`
	Phase        string  `json:"phase"`
	StartS       float64 `json:"start_s"`
	WarmupS      float64 `json:"warmup_s"`
	HoldS        float64 `json:"hold_s"`
	Planned      int64   `json:"planned"`
	Sent         int64   `json:"sent"`
	SuccessRatio float64 `json:"success_ratio"`
	P99MS        float64 `json:"p99_ms"`
	SLOLatencyMS float64 `json:"slo_latency_ms"`
	SLOMet       bool    `json:"slo_met"`
	Cause        string  `json:"cause"`
}

// searchJSON is the search block of report.json; nil for a run of stages.
func searchJSON(r *Report) *jsonSearch {
	s := r.Search
	if s == nil {
		return nil
	}
	j := &jsonSearch{LoRPS: roundp(s.Lo, 3), HiRPS: roundp(s.Hi, 3), Precision: roundp(s.Precision, 6),
		TargetPrecision: s.Target, Reason: s.Reason, ElapsedS: format.Round(s.Elapsed.Seconds(), 3), Trials: []jsonTrial{}}
	for _, t := range s.Trials {
		j.Trials = append(j.Trials, jsonTrial{Index: t.Index, RateRPS: format.Round(t.Rate, 3), Phase: t.Phase,
			StartS: format.Round(t.Start.Seconds(), 3), WarmupS: format.Round(t.Warmup.Seconds(), 3), HoldS: format.Round(t.Hold.Seconds(), 3),
			Planned: t.Planned, Sent: t.Sent, SuccessRatio: format.Round(t.SuccessRatio, 6), P99MS: msf(t.P99),
			SLOLatencyMS: msf(t.LatencyAtSLO), SLOMet: t.SLOMet, Cause: t.Cause})
	}
	return j
}
