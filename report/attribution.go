package report

import (
	"fmt"
	"sort"
	"time"

	"github.com/stampede-load/stampede/report/format"
)

// The run's cause at its breaking point is the binding constraint: the
// resource that saturated first as load rose (at or before the knee) and
// stayed saturated. What saturated after it is the chain of symptoms.
const (
	// bindingPresence: a resource must be at its wall in at least this
	// share of the degraded windows to be the run's constraint.
	bindingPresence = 0.5
	// bindingStays: from the window it first saturated in to the last
	// degraded window, it must stay at its wall in this share of windows
	// (a blip that recovered is not the constraint).
	bindingStays = 0.6
	// symptomPresence: a resource at its wall in this share of the degraded
	// windows is listed in the chain of symptoms.
	symptomPresence = 0.3
	// sameTime: resources that saturated within this many windows of each
	// other saturated together as far as one-second samples can tell (a
	// login's samples span the windows it was in flight over); between them
	// the arbiter decides, by what holds whose connections.
	sameTime = 2
)

// attribute is the analysis' attribution step: it diagnoses the run at
// its breaking point when it broke, else over every degraded window.
func attribute(r *Report, base *baseline, pl *plateaus) Cause {
	degraded, from := degradedWindows(r)
	if len(degraded) == 0 {
		n := 0
		for _, w := range r.Windows {
			if w.Traffic {
				n++
			}
		}
		return Cause{Primary: CauseNone, Evidence: []string{fmt.Sprintf("the SLO (%s) held in all %d windows with traffic", format.SLO(r.SLO), n)}}
	}
	counts := windowCauses(degraded)
	sats := bindingOf(r.Windows, degraded, base, pl)
	var c Cause
	var group []*Window
	if len(sats) > 0 {
		bind := sats[0]
		group = wallWindows(degraded, bind.res)
		c = diagnoseAs(windowEvidence(group, r.Windows, pl), base, bind.res)
		at, rps := r.Windows[bind.first].Start, r.Windows[bind.first].OfferedRPS
		c.SaturatedAt, c.SaturatedRPS = &at, &rps
		c.Chain = symptoms(r, sats[1:], degraded, base, pl)
	} else { // no resource stayed at its wall: the most frequent window cause
		label := majority(counts)
		for _, w := range degraded {
			if w.Cause == label {
				group = append(group, w)
			}
		}
		c = diagnose(windowEvidence(group, r.Windows, pl), base)
	}
	c.Windows, c.From = len(group), group[0].Start
	if r.Limit.BreakingRPS != nil {
		c.Scope = fmt.Sprintf("at the breaking point: %d degraded windows from %s (%s/s) on", len(degraded), format.Sec(from), format.Num(format.Round(*r.Limit.BreakingRPS, 1)))
	} else {
		c.Scope = fmt.Sprintf("%d degraded windows (the run did not stay broken)", len(degraded))
	}
	c.Scope += "; by cause: " + CauseCounts(counts)
	return c
}

// bindingOf lists the resources that saturated and stayed through the
// degraded windows, the binding constraint first (ties settled by the
// arbiter on their evidence).
func bindingOf(all []Window, degraded []*Window, base *baseline, pl *plateaus) []saturation {
	return settleTies(saturations(all, degraded), windowEvidence(degraded, all, pl), base)
}

// causeOf is the cause of a set of degraded windows as the run's own is
// reached: the binding constraint's, else the most frequent window cause.
// The scorecard reads each fault's windows with it, so that a queue a
// fault left behind (logins sent while it was in force, served after)
// does not outvote the resource that saturated first.
func causeOf(all []Window, degraded []*Window, base *baseline, pl *plateaus) string {
	if len(degraded) == 0 {
		return CauseNone
	}
	if sats := bindingOf(all, degraded, base, pl); len(sats) > 0 {
		return sats[0].res.cause()
	}
	return majority(windowCauses(degraded))
}

// windowCauses counts the windows by their own cause.
func windowCauses(wins []*Window) map[string]int {
	counts := map[string]int{}
	for _, w := range wins {
		counts[w.Cause]++
	}
	return counts
}

// degradedWindows are the windows that missed the SLO, from the breaking
// point on when the run broke.
func degradedWindows(r *Report) ([]*Window, time.Duration) {
	from := time.Duration(-1)
	if r.Limit.BreakingRPS != nil {
		from = r.Limit.BreakingAt
	}
	var out []*Window
	for i := range r.Windows {
		if w := &r.Windows[i]; w.Traffic && !w.SLOMet && w.Start >= from {
			out = append(out, w)
		}
	}
	return out, from
}

// saturation is one resource that stayed at its wall through the degraded
// windows: the window it first saturated in, and in how many degraded
// windows it was at its wall.
type saturation struct {
	res   resource
	first int
	n     int
}

// saturations lists the resources at their wall through the degraded
// windows, the binding constraint first: the earliest to saturate; at the
// same window, the arbiter's order (a cap before the chain, unless what
// holds its connections is also at its wall).
func saturations(all []Window, degraded []*Window) []saturation {
	last := degraded[len(degraded)-1].Index
	var out []saturation
	for r := resource(0); r < nResources; r++ {
		n := 0
		for _, w := range degraded {
			if _, ok := w.walls[r]; ok {
				n++
			}
		}
		if float64(n) < bindingPresence*float64(len(degraded)) {
			continue
		}
		if first := firstStaying(all, r, last); first >= 0 {
			out = append(out, saturation{res: r, first: first, n: n})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].first != out[j].first {
			return out[i].first < out[j].first
		}
		return precedence(out[i].res) < precedence(out[j].res)
	})
	return out
}

// settleTies lets the arbiter choose among the resources that saturated
// first at about the same time, on the degraded windows' evidence: a pool
// that filled the moment each login began to hold its connection longer
// is the holder's symptom.
func settleTies(sats []saturation, e evidence, base *baseline) []saturation {
	n := 0
	for n < len(sats) && sats[n].first-sats[0].first <= sameTime {
		n++
	}
	if n < 2 {
		return sats
	}
	var fs findings
	for _, f := range findingsOf(&e, base) {
		for _, s := range sats[:n] {
			if f.res == s.res || !f.wall {
				fs = append(fs, f)
				break
			}
		}
	}
	v := arbitrate(fs, &e, orEmpty(base))
	for i, s := range sats[:n] {
		if v.binding != nil && s.res == *v.binding {
			out := append([]saturation{s}, sats[:i]...)
			return append(out, sats[i+1:]...)
		}
	}
	return sats
}

// firstStaying is the earliest window (with traffic, up to last) from
// which r stays at its wall in bindingStays of the windows through last.
func firstStaying(all []Window, r resource, last int) int {
	for i := 0; i <= last && i < len(all); i++ {
		if _, ok := all[i].walls[r]; !ok || !all[i].Traffic {
			continue
		}
		at, n := 0, 0
		for j := i; j <= last; j++ {
			if !all[j].Traffic {
				continue
			}
			n++
			if _, ok := all[j].walls[r]; ok {
				at++
			}
		}
		if float64(at) >= bindingStays*float64(n) {
			return i
		}
	}
	return -1
}

// precedence orders resources that saturated in the same window: the
// work inside the database and the path to it hold connections (so they
// come before the caps they fill), then the caps, then the rest of the chain.
func precedence(r resource) int {
	order := []resource{resDBWork, resDBPath, resSessions, resServerCap, resRoleCap, resPool, resService, resClientPath, resGenerator}
	for i, o := range order {
		if o == r {
			return i
		}
	}
	return len(order)
}

// wallWindows are the degraded windows in which r was at its wall.
func wallWindows(degraded []*Window, r resource) []*Window {
	var out []*Window
	for _, w := range degraded {
		if _, ok := w.walls[r]; ok {
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		return degraded
	}
	return out
}

// symptoms describes what saturated downstream of the binding constraint,
// in the order it did, each with its strongest finding.
func symptoms(r *Report, rest []saturation, degraded []*Window, base *baseline, pl *plateaus) []string {
	var out []string
	for _, s := range rest {
		if float64(s.n) < symptomPresence*float64(len(degraded)) {
			continue
		}
		w := r.Windows[s.first]
		line := fmt.Sprintf("%s from %s (%s/s offered)", s.res, format.Sec(w.Start), format.Num(format.Round(w.OfferedRPS, 1)))
		if f, ok := strongest(windowEvidence(wallWindows(degraded, s.res), r.Windows, pl), base, s.res); ok {
			line += ": " + f
		}
		out = append(out, line)
	}
	return out
}

// strongest is the strongest wall finding about r in e.
func strongest(e evidence, base *baseline, r resource) (string, bool) {
	fs := findingsOf(&e, base)
	best := -1
	for i, f := range fs {
		if f.res == r && f.wall && (best < 0 || f.weight > fs[best].weight) {
			best = i
		}
	}
	if best < 0 {
		return "", false
	}
	return fs[best].text, true
}

// majority is the most frequent cause; ties go by the taxonomy's order,
// undetermined last.
func majority(counts map[string]int) string {
	best, n := CauseUndetermined, -1
	order := causeOrder()
	for _, k := range append(order[:], CauseUndetermined) {
		if counts[k] > n {
			best, n = k, counts[k]
		}
	}
	return best
}

// CauseCounts lists causes by count, most frequent first: "db.connections 12, app 2".
func CauseCounts(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", k, counts[k])
	}
	return s
}
