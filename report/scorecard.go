package report

import (
	"slices"
	"strings"
	"time"
)

// ScoreEntry lays one injected fault beside what the analysis detected
// while it was in force.
type ScoreEntry struct {
	Fault    int // index into Report.Faults
	Kind     string
	Path     string
	Start    time.Duration
	End      time.Duration
	Expected []string // causes this fault should be detected as
	Detected string   // the cause of the degraded windows it covers, reached as the run's is
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

// scoreGrace is how long after a revert a fault's effects still count as
// its own (in-flight requests, pools refilling).
const scoreGrace = 2 * time.Second

// expectedCauses maps a fault kind (and a network fault's path) to the
// causes a correct analysis detects for it.
func expectedCauses(f Fault) []string {
	switch {
	case f.Kind == "db.conn_limit" || f.Kind == "db.hog":
		return []string{CauseDBConnections}
	case f.Kind == "db.lock":
		return []string{CauseDBQueries}
	case f.Kind == "db.terminate": // sessions the database ended: a drill that detects nothing has not matched
		return []string{CauseDBConnections}
	case strings.HasPrefix(f.Kind, "net.") && f.Path == "db":
		return []string{CauseNetDB}
	case strings.HasPrefix(f.Kind, "net."):
		return []string{CauseNetClient}
	}
	return nil
}

// scorecard lays each injected fault beside the cause detected while it
// was in force (causeOf its degraded windows): match, time to impact and
// recovery time.
func scorecard(wins []Window, faults []Fault, causeOf func([]*Window) string) []ScoreEntry {
	out := make([]ScoreEntry, 0, len(faults))
	for i, f := range faults {
		s := ScoreEntry{Fault: i, Kind: f.Kind, Path: f.Path, Start: f.Start, End: f.End, Expected: expectedCauses(f)}
		var degraded []*Window
		for j := range wins {
			w := &wins[j]
			if w.Traffic && !w.SLOMet && w.Start+w.Length > f.Start && w.Start < f.End+scoreGrace {
				degraded = append(degraded, w)
			}
		}
		s.DegradedWindows = len(degraded)
		if len(degraded) > 0 {
			d := max(0, degraded[0].Start-f.Start)
			s.TimeToImpact = &d
		}
		s.Detected = causeOf(degraded)
		counts := windowCauses(degraded)
		s.Match = slices.Contains(s.Expected, s.Detected)
		switch {
		case !f.OK:
			s.Note = "the injection failed: " + f.Error
		case s.Expected == nil:
			s.Note = "no expected cause for this kind"
		case s.DegradedWindows == 0:
			s.Note = "no window missed the SLO while it was in force"
		case len(counts) > 1:
			s.Note = "windows by cause: " + CauseCounts(counts)
		}
		if s.DegradedWindows == 0 {
			s.Recovered = true
		} else if f.Reverted {
			for j := range wins {
				w := &wins[j]
				if w.Traffic && w.SLOMet && w.Start+w.Length > f.End {
					d := max(0, w.Start-f.End)
					s.Recovery, s.Recovered = &d, true
					break
				}
			}
		}
		out = append(out, s)
	}
	return out
}
