package report

import (
	"fmt"

	"github.com/stampede-load/stampede/report/format"
)

// network.client: the path between the load generator and the service.
const (
	// transportShare: transport errors (refused, reset, i/o timeouts)
	// beyond this share of the hits are the path's wall; fewer are a sign.
	transportShare = 0.01
	// gapFactor, gapFloorMS, gapNoBaseMS: what the client path adds to a
	// cheap request (through it minus straight to the service) must triple
	// and grow by 20 ms (50 ms without a healthy level).
	gapFactor   = 3
	gapFloorMS  = 20
	gapNoBaseMS = 50
	// connectFactor, connectFloorMS, connectNoBaseMS: TCP connect times
	// (the kernel's, unaffected by a busy service until its accept queue
	// overflows) slowing.
	connectFactor   = 3
	connectFloorMS  = 5
	connectNoBaseMS = 50
	// hostSaturated: the host's share of busy CPU at which queueing on the
	// machine itself explains time no server reports.
	hostSaturated = 0.9
	// starvedPathFactor: on a starved host the path's own hops wait for a
	// core too (the fault proxy is a process on this machine, and each
	// request through it wakes it several times), so through the path a
	// cheap request takes longer even when no network is slow: up to 1.85
	// times the request's own time straight to the service was measured
	// beside a CPU-bound service (wb-cpu, 10 runs), against at least 10
	// times for every client-path fault in the matrix. There, what the path
	// adds proves it only beyond twice the direct request's time; below,
	// it only suggests.
	starvedPathFactor = 2
)

func ruleNetClient(e *evidence, b *baseline, fs *findings) {
	c := &e.c
	if n := c.cls[clsTransport]; n > 0 {
		w, wall := wProve, true
		if float64(n)/float64(max(c.sent, 1)) < transportShare {
			w, wall = wSuggest, false
		}
		fs.add(resClientPath, srcResponses, w, wall, "%d transport errors before any response (%s)", n, transportBreakdown(&c.det))
	}
	pathProbe(e, e.nullPath, e.nullDirect, b.nullGap, srcProbes, "requests for an unused path", fs)
	pathProbe(e, e.healthPath, e.healthDirect, b.healthGap, srcHealth, "health checks", fs)
	// The load's own new connections: opened when the generator needs
	// more because logins queue, they slow with a saturated service's
	// accept queue too, so they suggest the path, never prove it alone.
	if e.haveConn && b.connP99.rises(format.Millis(e.connP99), connectFactor, connectFloorMS, connectNoBaseMS) {
		fs.add(resClientPath, srcConnect, wSuggest, false, "TCP connect p99 %s against %s (%d new connections)", format.MS(e.connP99), b.connP99.ms(), c.newConns)
	}
	if e.haveSvc && b.svcConnect.rises(format.Millis(e.svcConnect), connectFactor, connectFloorMS, connectNoBaseMS) {
		w, wall := e.strength(wShow)
		fs.add(resClientPath, srcProbes, w, wall, "TCP connect probes to the service %s against %s", format.MS(e.svcConnect), b.svcConnect.ms())
	}
	if e.svcErrors > b.ev.svcErrors {
		fs.add(resClientPath, srcProbes, wShow, true, "%d TCP probes to the service failed", e.svcErrors)
	}
	// The old health check, through the path alone: a slow answer there is
	// as much a busy service as a slow path, so it only suggests.
	if e.haveHealth && !e.healthDirect.have && b.health.rises(format.Millis(e.health), gapFactor, gapFloorMS, 2*gapNoBaseMS) {
		// Alone, a saturated service answers them late too; beside
		// Server-Timing showing the service's own time flat, the time is
		// not the service's.
		if t, ok := e.timing(); ok && !b.app.rises(t.app, appFactor, appFloorMS, appNoBaseMS) {
			fs.add(resClientPath, srcHealth, wShow, true, "health checks through the client path took %s against %s while the service's own time stayed %s", format.MS(e.health), b.health.ms(), fmtMS(t.app))
		} else {
			fs.add(resClientPath, srcHealth, wSuggest, false, "health checks through the client path took %s against %s (a saturated service answers them late too)", format.MS(e.health), b.health.ms())
		}
	}
	if e.healthErrors > b.ev.healthErrors {
		fs.add(resClientPath, srcHealth, wShow, true, "%d health checks through the client path failed before any answer", e.healthErrors)
	}
	starved := e.haveCPU && e.hostBusy >= hostSaturated
	if t, ok := e.timing(); ok && !starved && t.gap >= t.app && b.gap.rises(t.gap, gapFactor, gapFloorMS, 2*gapNoBaseMS) {
		fs.add(resClientPath, srcTiming, wShow, true, "client latency exceeds the service's own time by %s per login against %s: not explained by server time", fmtMS(t.gap), b.gap.ms())
	}
}

// pathProbe compares one kind of cheap request through the client path
// with the same request straight to the service, sent together: only what
// the path adds is the network's. Without the direct one, a slow answer is
// ambiguous. On a starved host the path's hops wait for cores too, so
// there it proves only beyond starvedPathFactor times the direct time.
func pathProbe(e *evidence, path, direct probeFigure, gapBase level, src, what string, fs *findings) {
	if !path.have {
		if path.errors > 0 && direct.have && direct.errors == 0 {
			fs.add(resClientPath, src, wProve, true, "%d %s through the client path failed before any answer while straight to the service they were answered", path.errors, what)
		}
		return
	}
	if !direct.have {
		return
	}
	gap := path.ms - direct.ms
	switch {
	case !gapBase.rises(gap, gapFactor, gapFloorMS, gapNoBaseMS):
		if path.errors > direct.errors && path.errors > 0 {
			fs.add(resClientPath, src, wShow, true, "%d %s failed through the client path, %d straight to the service", path.errors, what, direct.errors)
		}
	case e.starved() && gap < starvedPathFactor*direct.ms:
		fs.add(resClientPath, src, wSuggest, false, "%s took %s through the client path and %s straight to the service (the path adds %s against %s, with the host %s busy: its hops wait for a core too)",
			what, fmtMS(path.ms), fmtMS(direct.ms), fmtMS(gap), gapBase.ms(), format.Pct(e.hostBusy))
	default:
		fs.add(resClientPath, src, wProve, true, "%s took %s through the client path and %s straight to the service (the path adds %s against %s)",
			what, fmtMS(path.ms), fmtMS(direct.ms), fmtMS(gap), gapBase.ms())
	}
}

func transportBreakdown(det *[nDetails]int64) string {
	m := map[string]int64{}
	for _, k := range []detail{dRefused, dReset, dEOF, dConnectTimeout, dIOTimeout, dTLS, dDNS} {
		if det[k] > 0 {
			m[detailNames[k]] = det[k]
		}
	}
	return countsText(m)
}

func countsText(m map[string]int64) string {
	s := ""
	for i, k := range sortedKeys(m) {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", k, m[k])
	}
	return s
}
