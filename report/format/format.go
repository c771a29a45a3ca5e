// Package format is how the report prints numbers, durations and rates,
// once for the analysis (its evidence lines and check details) and the
// renderers alike.
package format

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// Num prints a number with at most one decimal, and none when whole.
func Num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// Pct prints a ratio as a percentage: 0.9912 → "99.12%".
func Pct(r float64) string {
	return strconv.FormatFloat(100*r, 'f', 2, 64) + "%"
}

// MS prints a duration in milliseconds for evidence lines: "0.4 ms",
// "812.4 ms", "3.20 s".
func MS(d time.Duration) string {
	m := Millis(d)
	switch {
	case m >= 10000:
		return strconv.FormatFloat(m/1000, 'f', 1, 64) + " s"
	case m >= 1000:
		return strconv.FormatFloat(m/1000, 'f', 2, 64) + " s"
	case m >= 100:
		return strconv.FormatFloat(m, 'f', 0, 64) + " ms"
	case m >= 1:
		return strconv.FormatFloat(m, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(m, 'f', 2, 64) + " ms"
}

// Sec prints seconds since the run's start: "12s", "12.5s".
func Sec(d time.Duration) string { return Num(Round(d.Seconds(), 1)) + "s" }

// RPS prints a rate rounded to a tenth, "-" for none: "412.5/s".
func RPS(v *float64) string { return RPSOr(v, "-") }

// RPSOr prints a rate as RPS does, none for none.
func RPSOr(v *float64, none string) string {
	if v == nil {
		return none
	}
	return Num(Round(*v, 1)) + "/s"
}

// Dash is s, or "-" when empty.
func Dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// SLO prints an SLO: "success ≥ 99.00%, p99 ≤ 500ms".
func SLO(s rundir.SLO) string {
	return fmt.Sprintf("success ≥ %s, p%s ≤ %s", Pct(s.SuccessRatio), Num(s.Percentile), s.Latency)
}

// Millis is a duration in milliseconds.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Round rounds v to digits decimals.
func Round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
