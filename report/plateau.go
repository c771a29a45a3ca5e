package report

import (
	"fmt"
	"math"
	"time"

	"github.com/stampede-load/stampede/report/format"
)

// A black-box service's pool, seen from the database: its backends
// plateau at N, busy, while the offered rate keeps rising and latency
// climbs. That is a pool of N at its wall, with no error to show for it.
const (
	// plateauMinBackends: a plateau of one backend is a single connection,
	// not a pool.
	plateauMinBackends = 2
	// plateauHeld: the share of windows from the plateau's start on in
	// which the backends stay at it.
	plateauHeld = 0.7
	// plateauRise: the offered rate after the plateau began must rise by
	// this factor over the rate at its start (the load kept coming), and
	// p99 by plateauSlower (the logins queued behind the plateau).
	plateauRise   = 1.2
	plateauSlower = 1.5
	// plateauBusy: the share of the plateau's backends at work (active);
	// below it the backends are a pool's idle connections, or sessions idle
	// in transaction whose holder is the service or the path (a hold cause).
	plateauBusy = 0.5
)

// plateau is a black-box pool at its wall.
type plateau struct {
	n              float64 // backends
	active         float64 // mean active over the plateau
	busy           bool
	start          int // window index where it began
	fromRPS, toRPS float64
	p99From, p99To time.Duration
	goodput        float64 // mean successful logins per second over it
}

func (p *plateau) text() string {
	return fmt.Sprintf("the service's database sessions plateau at %s (%s of them active on average) from %s/s offered while the offered rate rose to %s/s and p99 went from %s to %s: a pool of %s connections at its wall, serving %s logins/s (by Little's law, %s per login)",
		format.Num(p.n), format.Num(format.Round(p.active, 1)), format.Num(format.Round(p.fromRPS, 1)), format.Num(format.Round(p.toRPS, 1)),
		format.MS(p.p99From), format.MS(p.p99To), format.Num(p.n), format.Num(format.Round(p.goodput, 1)),
		format.MS(time.Duration(p.n/max(p.goodput, 1e-9)*float64(time.Second))))
}

// holds reports these windows' own sessions at the plateau and at work:
// the run's plateau says a pool of N walled the service once the load
// rose, not that every window after its start was at that wall (a pool
// keeps its N connections open, idle, long before).
func (p *plateau) holds(e *evidence) bool {
	return e.roleBackends >= p.n-0.5 && e.roleActive >= plateauBusy*p.n
}

// findPlateau looks for the service's backends plateauing under rising
// load, from the database samples alone; nil when there is none.
func findPlateau(wins []Window) *plateau {
	var n float64
	for _, w := range wins {
		if w.Traffic && w.DB != nil && w.DB.HaveBackends {
			n = max(n, w.DB.RoleBackends)
		}
	}
	if n < plateauMinBackends {
		return nil
	}
	sp := spanAt(wins, func(w Window) bool { return w.DB != nil && w.DB.RoleBackends >= n-0.5 })
	if !sp.held(plateauHeld) {
		return nil
	}
	p := &plateau{n: n, start: sp.start, fromRPS: sp.fromRPS, toRPS: sp.toRPS, p99From: sp.p99From, p99To: sp.p99To}
	for _, w := range sp.at {
		p.active += w.DB.RoleActive / float64(len(sp.at))
		p.goodput += w.GoodputRPS / float64(len(sp.at))
	}
	if !sp.rose() {
		return nil
	}
	p.busy = p.active >= plateauBusy*n
	return p
}

// plateaus are the run's plateaus under rising load: a black-box pool's
// and a service's CPU's (nil for none).
type plateaus struct {
	pool *plateau
	cpu  *cpuPlateau
}

// findPlateaus looks for both.
func findPlateaus(wins []Window) *plateaus {
	return &plateaus{pool: findPlateau(wins), cpu: findCPUPlateau(wins)}
}

// A service's CPU at its wall while the host has cores to spare: its
// process holds a whole number of cores flat out (one for a single thread
// or an event loop, N for N threads), no more as the offered rate keeps
// rising and latency climbs. A process's CPU follows its throughput, so a
// flat CPU alone only says the throughput is flat; a flat CPU at a whole
// number of cores, with the host not saturated, is a process that cannot
// use another core. On a saturated host the CPU rules compare the service
// with the generator and the rest instead (rule_app.go).
const (
	// cpuWholeCores: within this of a whole number of cores (and at least
	// one) is a process's threads all flat out; the sampler's one-second
	// figures wander by a few hundredths.
	cpuWholeCores = 0.12
	// cpuPlateauHeld: the share of windows from the plateau's start on in
	// which the process stays at it.
	cpuPlateauHeld = 0.7
	// cpuPlateauHost: the host's busy share below which it still had a
	// core to give.
	cpuPlateauHost = 0.85
)

// cpuPlateau is a service's process at a whole number of cores, flat.
type cpuPlateau struct {
	cores          float64 // the whole number
	mean           float64 // the process's mean cores over the plateau
	host           float64 // the host's mean busy share over it
	start          int
	fromRPS, toRPS float64
	p99From, p99To time.Duration
	served         float64 // mean logins served per second over it
}

func (p *cpuPlateau) text() string {
	what := "one core: a single thread or event loop flat out"
	if p.cores > 1 {
		what = format.Num(p.cores) + " cores: every thread flat out"
	}
	return fmt.Sprintf("the service's process held %s cores (%s) from %s/s offered while the offered rate rose to %s/s and p99 went from %s to %s, serving %s logins/s, with the host %s busy: a core to spare it could not use",
		format.Num(format.Round(p.mean, 2)), what, format.Num(format.Round(p.fromRPS, 1)), format.Num(format.Round(p.toRPS, 1)),
		format.MS(p.p99From), format.MS(p.p99To), format.Num(format.Round(p.served, 1)), format.Pct(p.host))
}

// holds reports these windows' own process at the plateau's cores: like
// the pool's, the run's plateau does not make every window after its
// start one at the wall (a pause, a dip of the load).
func (p *cpuPlateau) holds(e *evidence) bool {
	return e.haveTarget && math.Abs(e.targetCores-p.cores) <= cpuWholeCores
}

// findCPUPlateau looks for the service's process flat at a whole number
// of cores under rising load, from the CPU samples; nil when there is
// none, or the service is not a process of this machine.
func findCPUPlateau(wins []Window) *cpuPlateau {
	var top float64
	for _, w := range wins {
		if w.Traffic && w.CPU != nil && w.CPU.HaveTarget {
			top = max(top, w.CPU.TargetCores)
		}
	}
	whole := math.Round(top)
	if whole < 1 || math.Abs(top-whole) > cpuWholeCores {
		return nil
	}
	at := func(w Window) bool {
		return w.CPU != nil && w.CPU.HaveTarget && math.Abs(w.CPU.TargetCores-whole) <= cpuWholeCores
	}
	sp := spanAt(wins, at)
	if !sp.held(cpuPlateauHeld) {
		return nil
	}
	p := &cpuPlateau{cores: whole, start: sp.start, fromRPS: sp.fromRPS, toRPS: sp.toRPS, p99From: sp.p99From, p99To: sp.p99To}
	for _, w := range sp.at {
		p.mean += w.CPU.TargetCores / float64(len(sp.at))
		p.host += w.CPU.HostBusy / float64(len(sp.at))
		p.served += w.ServedRPS / float64(len(sp.at))
	}
	if p.host >= cpuPlateauHost || !sp.rose() {
		return nil
	}
	return p
}

// span is the windows with traffic from the first at a plateau on: those
// at it, how many there were and how many missed the SLO, the offered rate
// and p99 at its start, the highest offered rate after, and the highest
// p99 at it.
type span struct {
	start           int
	at              []Window
	total, degraded int
	fromRPS, toRPS  float64
	p99From, p99To  time.Duration
}

// spanAt is the span from the first window with traffic where at holds;
// start is -1 when there is none.
func spanAt(wins []Window, at func(Window) bool) span {
	sp := span{start: -1}
	for i, w := range wins {
		if !w.Traffic {
			continue
		}
		if sp.start < 0 {
			if !at(w) {
				continue
			}
			sp.start, sp.fromRPS, sp.p99From = i, w.OfferedRPS, w.P99
		}
		sp.total++
		if !w.SLOMet {
			sp.degraded++
		}
		sp.toRPS = max(sp.toRPS, w.OfferedRPS)
		if at(w) {
			sp.at = append(sp.at, w)
			sp.p99To = max(sp.p99To, w.P99)
		}
	}
	return sp
}

// held: the plateau lasted (at it in at least share of the windows since
// its start) and the SLO failed during it.
func (sp span) held(share float64) bool {
	return len(sp.at) > 0 && float64(len(sp.at)) >= share*float64(sp.total) && sp.degraded > 0
}

// rose: the load kept coming (the offered rate rose by plateauRise after
// the start) and the logins queued (p99 by plateauSlower).
func (sp span) rose() bool {
	return sp.toRPS >= plateauRise*sp.fromRPS && sp.p99To >= time.Duration(plateauSlower*float64(sp.p99From))
}
