package report

import "time"

// ScoreEntry lays one injected fault beside what the analysis detected
// while it was in force.
type ScoreEntry struct {
	Fault    int // index into Report.Faults
	Kind     string
	Path     string
	Start    time.Duration
	End      time.Duration
	Expected []string // causes this fault should be detected as
	Detected string   // the most frequent cause among the degraded windows it covers
	Match    bool
	// DegradedWindows is the count of windows that missed the SLO while the
	// fault was in force (and its grace period after).
	DegradedWindows int
	// TimeToImpact is from injection to the first degraded window; nil if
	// none was degraded.
	TimeToImpact *time.Duration
	// Recovery is from the revert to the first window meeting the SLO
	// again; nil with Recovered false when it did not recover.
	Recovery  *time.Duration
	Recovered bool
	Note      string
}
