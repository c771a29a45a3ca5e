package report

import (
	"fmt"
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
	start := -1
	for i, w := range wins {
		if w.Traffic && w.DB != nil && w.DB.RoleBackends >= n-0.5 {
			start = i
			break
		}
	}
	if start < 0 {
		return nil
	}
	p := &plateau{n: n, start: start, fromRPS: wins[start].OfferedRPS, p99From: wins[start].P99}
	var at, total, degraded int
	var active, good float64
	for _, w := range wins[start:] {
		if !w.Traffic {
			continue
		}
		total++
		if !w.SLOMet {
			degraded++
		}
		p.toRPS = max(p.toRPS, w.OfferedRPS)
		if w.DB != nil && w.DB.RoleBackends >= n-0.5 {
			at++
			active += w.DB.RoleActive
			good += w.GoodputRPS
			p.p99To = max(p.p99To, w.P99)
		}
	}
	if at == 0 || float64(at) < plateauHeld*float64(total) || degraded == 0 {
		return nil
	}
	p.active, p.goodput = active/float64(at), good/float64(at)
	if p.toRPS < plateauRise*p.fromRPS || p.p99To < time.Duration(plateauSlower*float64(p.p99From)) {
		return nil
	}
	p.busy = p.active >= plateauBusy*n
	return p
}
