package report

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// fnum prints a number with at most one decimal, and none when whole.
func fnum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// pct prints a ratio as a percentage: 0.9912 → "99.12%".
func pct(r float64) string {
	return strconv.FormatFloat(100*r, 'f', 2, 64) + "%"
}

// fms prints a duration in milliseconds for evidence lines: "0.4 ms",
// "812.4 ms", "3.20 s".
func fms(d time.Duration) string {
	m := ms(d)
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

// fsec prints seconds since the run's start: "12s", "12.5s".
func fsec(d time.Duration) string { return fnum(round(d.Seconds(), 1)) + "s" }

// msf is a duration in milliseconds rounded to the microsecond, for JSON.
func msf(d time.Duration) float64 { return round(ms(d), 3) }

func itoa(i int) string { return strconv.Itoa(i) }

// sloText prints an SLO: "success ≥ 99.00%, p99 ≤ 500ms".
func sloText(s rundir.SLO) string {
	return fmt.Sprintf("success ≥ %s, p%s ≤ %s", pct(s.SuccessRatio), fnum(s.Percentile), s.Latency)
}
