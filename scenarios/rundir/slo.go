package rundir

import "time"

// SLO defaults: what a scenario that leaves a field out is held to. The
// engine's live judgement (abort, search) and the report apply the same.
const (
	DefaultSuccessRatio = 0.99
	DefaultPercentile   = 99
	DefaultLatency      = 500 * time.Millisecond
)

// SLO is what a window must meet to count as healthy.
type SLO struct {
	SuccessRatio float64       // share of hits that succeeded or were expected rejections
	Percentile   float64       // e.g. 99 for p99
	Latency      time.Duration // the percentile's bound
}

// WithDefaults fills what the scenario left out.
func (s SLO) WithDefaults() SLO {
	if s.SuccessRatio <= 0 {
		s.SuccessRatio = DefaultSuccessRatio
	}
	if s.Percentile <= 0 {
		s.Percentile = DefaultPercentile
	}
	if s.Latency <= 0 {
		s.Latency = DefaultLatency
	}
	return s
}

// StageSummary is one stage's outcome, bucketed by actual send time, as
// the engine writes it into the manifest.
type StageSummary struct {
	Index           int            `json:"index"`
	Name            string         `json:"name"`
	Kind            string         `json:"kind"`
	Start           time.Duration  `json:"start_ns"`
	Duration        time.Duration  `json:"duration_ns"`
	PlannedHits     float64        `json:"planned_hits"`
	OfferedRPS      float64        `json:"offered_rps"`
	Sent            int64          `json:"sent"`
	AchievedRPS     float64        `json:"achieved_rps"`
	OK              int64          `json:"ok"`
	ExpectedRejects int64          `json:"expected_rejects"`
	Failed          int64          `json:"failed"`
	SuccessRatio    float64        `json:"success_ratio"`
	P50             time.Duration  `json:"p50_ns"`
	P99             time.Duration  `json:"p99_ns"`
	ErrorClasses    map[string]int `json:"error_classes,omitempty"`
}
