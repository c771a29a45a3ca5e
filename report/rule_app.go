package report

import (
	"github.com/stampede-load/stampede/report/format"
)

// app: the service itself (its CPU, its handlers), not its pool or its database.
const (
	// appFactor, appFloorMS, appNoBaseMS: the service's own time (Server-
	// Timing app net of pool and db) must triple and grow by 20 ms (200 ms
	// without a healthy level).
	appFactor   = 3
	appFloorMS  = 20
	appNoBaseMS = 200
	// directFactor, directFloorMS, directNoBaseMS: a cheap request straight
	// to the service slowing: the service answers late whichever way it is
	// reached.
	directFactor   = 3
	directFloorMS  = 10
	directNoBaseMS = 50
	// cpuBusyCore: a process using at least this much of one core while
	// its CPU rose by cpuRise is working flat out (a single-threaded or
	// event-loop service saturates at one core).
	cpuBusyCore = 0.85
	cpuRise     = 1.5
)

func ruleApp(e *evidence, b *baseline, fs *findings) {
	if t, ok := e.timing(); ok {
		if b.appNet.rises(t.appNet, appFactor, appFloorMS, appNoBaseMS) {
			w := wShow
			if t.appNet >= t.app/2 {
				w = wProve
			}
			fs.add(resService, srcTiming, w, true, "Server-Timing: app time net of pool and db %s per login against %s", fmtMS(t.appNet), b.appNet.ms())
		}
		if b.hash.rises(t.hash, appFactor, directFloorMS, appNoBaseMS/2) {
			fs.add(resService, srcTiming, wShow, true, "Server-Timing: password hashing %s per login against %s", fmtMS(t.hash), b.hash.ms())
		}
	}
	for _, p := range []struct {
		fig  probeFigure
		base level
		src  string
		what string
	}{{e.nullDirect, b.nullDirect, srcProbes, "requests for an unused path"}, {e.healthDirect, b.healthDirect, srcHealth, "health checks"}} {
		if p.fig.have && p.base.rises(p.fig.ms, directFactor, directFloorMS, directNoBaseMS) {
			w, wall := wShow, true
			if e.starvedByOthers() {
				w, wall = wSuggest, false
			}
			fs.add(resService, p.src, w, wall, "%s straight to the service took %s against %s: the service answers late whichever way it is reached",
				p.what, fmtMS(p.fig.ms), p.base.ms())
		}
	}
	cpuRule(e, b, fs)
	// Sessions idle in transaction: the database waits for the service
	// between statements. The service is slow unless the path to the
	// database is (rule_netdb.go); never a wall by itself.
	if e.haveRoleStates && e.roleIdleInTx >= 2 && e.roleIdleInTx > e.roleActive && e.roleIdleInTx >= 2*b.ev.roleIdleInTx+2 && !pathSlow(e, b) {
		fs.add(resService, srcDB, wSuggest, false, "%s of the service's database sessions idle in transaction (%s at baseline): the database waits on the service between statements",
			format.Num(e.roleIdleInTx), format.Num(b.ev.roleIdleInTx))
	}
	if n := e.c.det[dHTTP5xx]; n > 0 {
		fs.add(resService, srcResponses, wSuggest, false, "%d 5xx responses that name no cause", n)
	}
}

// cpuRule reads the target's CPU when it runs on this machine.
func cpuRule(e *evidence, b *baseline, fs *findings) {
	if !e.haveCPU {
		return
	}
	if p := e.cpuPlateau; p != nil && p.holds(e) && !e.starved() {
		fs.add(resService, srcCPU, wShow, true, "%s", p.text())
		return
	}
	if e.haveTarget && e.targetCores >= cpuBusyCore && b.target.rises(e.targetCores, cpuRise, 0.2, cpuBusyCore) {
		fs.add(resService, srcCPU, wShow, true, "the service's process used %s cores against %s at baseline (host %s busy)",
			format.Num(format.Round(e.targetCores, 2)), format.Num(format.Round(b.target.med, 2)), format.Pct(e.hostBusy))
		return
	}
	switch {
	case e.starved() && e.haveTarget && e.targetCores >= cpuBusyCore && e.targetCores > e.genCores: // busy itself, not beside someone else's work
		fs.add(resService, srcCPU, wShow, true, "the host's CPU %s busy, the service's process the largest user (%s cores, the generator %s)",
			format.Pct(e.hostBusy), format.Num(format.Round(e.targetCores, 2)), format.Num(format.Round(e.genCores, 2)))
	case e.starved() && e.targetInProc && e.genCores >= cpuBusyCore && e.nullDirect.have && b.nullDirect.rises(e.nullDirect.ms, directFactor, directFloorMS, directNoBaseMS):
		fs.add(resService, srcCPU, wShow, true, "the host's CPU %s busy, the service (served in this process, %s cores with the generator) answering late even straight to its address",
			format.Pct(e.hostBusy), format.Num(format.Round(e.genCores, 2)))
	}
}

// starvedByOthers reports the host's CPU saturated while the service's own
// process uses less than a busy core (with the generator, when it is served
// in this process): other work on the machine starves it, and it answers
// late for want of a core, not for its own load. Unknown (false) when its
// process is not found on this machine.
func (e *evidence) starvedByOthers() bool {
	switch {
	case !e.starved():
		return false
	case e.targetInProc:
		return e.genCores < cpuBusyCore
	}
	return e.haveTarget && e.targetCores < cpuBusyCore
}
