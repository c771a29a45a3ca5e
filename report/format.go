package report

import (
	"time"

	"github.com/stampede-load/stampede/report/format"
)

// msf is a duration in milliseconds rounded to the microsecond, for JSON.
func msf(d time.Duration) float64 { return format.Round(format.Millis(d), 3) }
