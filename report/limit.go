package report

import "time"

// Limit is where the run found the service's capacity (DESIGN.md "Capacity").
type Limit struct {
	// SustainableRPS is the highest offered rate held for a whole steady
	// window with the SLO met; nil if none.
	SustainableRPS *float64
	// BreakingRPS is the first offered rate where the SLO failed and stayed
	// failed; nil if it never broke.
	BreakingRPS *float64
	BreakingAt  time.Duration
	// MaxGoodputRPS is the most successful logins in one window, per second.
	MaxGoodputRPS float64
	MaxGoodputAt  time.Duration
	// KneeRPS is the offered rate where latency turned upward on a rising
	// load; nil without one.
	KneeRPS *float64
	KneeAt  time.Duration
	// PrecisionRPS is how finely the stages resolve the limit (the step, the
	// ramp's change per window, or the gap between sustainable and breaking).
	PrecisionRPS *float64
	Precision    string
	// Method says which windows measured the limit.
	Method string
}
