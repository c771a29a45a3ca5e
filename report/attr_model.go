package report

import (
	"fmt"
	"math"
	"sort"

	"github.com/stampede-load/stampede/report/format"
)

// The attribution model (DESIGN.md, "How a verdict is reached: the binding
// constraint"). A login crosses a chain of resources; each rule file turns
// the evidence about one cause into findings, each finding naming the
// resource it is about, its source, its strength, and whether it shows the
// resource at its wall (saturated) or only strained. The arbiter
// (arbiter.go) orders the walls by the chain; the run's attribution
// (attribution.go) picks the resource that saturated first as load rose
// and stayed saturated: the binding constraint. Everything downstream of
// it is a symptom.

// resource is one link of the login's chain.
type resource uint8

const (
	resGenerator  resource = iota // the load generator: workers, send times, its CPU
	resClientPath                 // the path from the generator to the service
	resService                    // the service itself: its CPU, its handlers
	resPool                       // the service's own connection pool (or a pooler in front)
	resRoleCap                    // the role's (or database's) connection limit
	resServerCap                  // the server's max_connections
	resSessions                   // sessions the database itself ended
	resDBWork                     // the work inside the database: locks, slow queries
	resDBPath                     // the path from the service to the database
	nResources
)

var resourceNames = [nResources]string{
	"the load generator", "the client path", "the service", "the service's connection pool",
	"the role's connection limit", "the server's max_connections", "database sessions",
	"the work inside the database", "the path to the database",
}

func (r resource) String() string { return resourceNames[r] }

// cause is the taxonomy's name for a resource being the wall.
func (r resource) cause() string {
	switch r {
	case resGenerator:
		return CauseGenerator
	case resClientPath:
		return CauseNetClient
	case resService:
		return CauseApp
	case resDBWork:
		return CauseDBQueries
	case resDBPath:
		return CauseNetDB
	}
	return CauseDBConnections
}

// finding is one rule's reading of the evidence: what it shows, about
// which resource, from which source, how strongly (1 suggestive, 2 clear,
// 3 decisive), and whether it shows that resource at its wall.
type finding struct {
	res    resource
	src    string
	weight float64
	wall   bool
	text   string
}

// Finding strengths.
const (
	wSuggest = 1.0 // suggestive: consistent with the cause, also with others
	wShow    = 2.0 // the cause's signature in one source
	wProve   = 3.0 // only this cause produces it
)

// findings collects one window group's findings.
type findings []finding

func (fs *findings) add(res resource, src string, weight float64, wall bool, format string, args ...any) {
	*fs = append(*fs, finding{res: res, src: src, weight: weight, wall: wall, text: fmt.Sprintf(format, args...)})
}

// score is a cause's strength: for each independent source the strongest
// finding, summed, so one source counted twice does not add up.
func (fs findings) score(cause string) (float64, []string) {
	best := map[string]float64{}
	for _, f := range fs {
		if f.res.cause() == cause && f.weight > best[f.src] {
			best[f.src] = f.weight
		}
	}
	var sum float64
	var srcs []string
	for _, s := range sourceOrder() {
		if w, ok := best[s]; ok {
			sum += w
			srcs = append(srcs, s)
		}
	}
	return sum, srcs
}

// walls are the resources some finding shows at their wall, with the
// strongest such finding's weight.
func (fs findings) walls() map[resource]float64 {
	m := map[resource]float64{}
	for _, f := range fs {
		if f.wall && f.weight >= wShow {
			m[f.res] = max(m[f.res], f.weight)
		}
	}
	return m
}

// Noise scaling. A figure counts as risen only when it clears its healthy
// windows' level by a factor, by an absolute floor, and by noiseK of their
// window-to-window spread: a figure that wanders on a busy machine needs
// a larger rise to count, so a verdict does not flip with noise.
const (
	// noiseK spreads (MAD × 1.4826, about one standard deviation for normal
	// noise) above the healthy median: below 1 in 1,000 by chance.
	noiseK = 4.0
	// minBaselineWindows below which the spread is not trusted and the
	// factor and floor alone decide.
	minBaselineWindows = 3
)

// level is one figure over the healthy windows: its median and the robust
// spread of its per-window values.
type level struct {
	med, spread float64
	n           int
}

func levelOf(v []float64) level {
	if len(v) == 0 {
		return level{}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	med := s[len(s)/2]
	dev := make([]float64, len(s))
	for i, x := range s {
		dev[i] = math.Abs(x - med)
	}
	sort.Float64s(dev)
	return level{med: med, spread: 1.4826 * dev[len(dev)/2], n: len(s)}
}

// have reports a level measured in healthy windows.
func (l level) have() bool { return l.n > 0 }

// rises reports cur above the level by factor, by floor, and beyond the
// noise; without a level, cur must reach noBase.
func (l level) rises(cur, factor, floor, noBase float64) bool {
	if !l.have() {
		return cur >= noBase
	}
	need := max(l.med*factor, l.med+floor)
	if l.n >= minBaselineWindows {
		need = max(need, l.med+noiseK*l.spread)
	}
	return cur >= need
}

// ms prints a level of milliseconds as a baseline for an evidence line.
func (l level) ms() string {
	if !l.have() {
		return "no healthy baseline"
	}
	return "a " + fmtMS(l.med) + " baseline"
}

func fmtMS(v float64) string { return format.MS(msDur(v)) }

// starved reports the host's CPU saturated. Then every time this process
// measures on its own (a connect, a probe query) is inflated by waiting
// for a core, and so is the database's work when it shares the host: only
// comparisons made under the same starvation (through a path against
// around it) still tell the path from the rest, and only by a margin: a
// path through a proxy on this host waits for cores at its own hops.
func (e *evidence) starved() bool { return e.haveCPU && e.hostBusy >= hostSaturated }

// strength is w, or a mere suggestion (no wall) while the host is starved.
func (e *evidence) strength(w float64) (float64, bool) {
	if e.starved() {
		return wSuggest, false
	}
	return w, true
}
