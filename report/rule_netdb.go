package report

import (
	"fmt"

	"github.com/stampede-load/stampede/report/format"
)

// network.db: the path between the service and the database.
const (
	// pathFactor, pathFloorMS, pathNoBaseMS: the probe query sent through
	// the database path must double and grow by 5 ms (20 ms without a
	// healthy level) while the direct one does not: only then is the time
	// the path's.
	pathFactor   = 2
	pathFloorMS  = 5
	pathNoBaseMS = 20
	// dbConnectFactor, dbConnectFloorMS, dbConnectNoBaseMS: TCP connects
	// to the database slowing.
	dbConnectFactor   = 3
	dbConnectFloorMS  = 5
	dbConnectNoBaseMS = 50
	// atWorkShare: the service's sessions count as at work (slow in their
	// statements, not waiting between them) when they are active at least
	// half the time. A slow path keeps them mostly idle: a login spends
	// each round trip's added latency between statements.
	atWorkShare = 0.5
)

// pathSlow reports the database path measurably slow: the probe through
// it risen, the direct one not.
func pathSlow(e *evidence, b *baseline) bool {
	if !e.havePath {
		return false
	}
	direct := e.haveRTT && b.rtt.rises(format.Millis(e.rtt), probeFactor, probeFloorMS, probeNoBaseMS)
	return !direct && b.pathRTT.rises(format.Millis(e.pathRTT), pathFactor, pathFloorMS, pathNoBaseMS)
}

func ruleNetDB(e *evidence, b *baseline, fs *findings) {
	det := &e.c.det
	ended := det[dSQL57P01] > 0 || e.sessionsKilled > 0 // then resets are the sessions' end, not the path
	if n := det[dDBReset] + det[dDBEOF]; n > 0 && !ended {
		fs.add(resDBPath, srcResponses, wProve, true, "%d logins failed on a database connection reset or closed mid-request", n)
	}
	if n := det[dDBRefused]; n > 0 {
		fs.add(resDBPath, srcResponses, wShow, false, "%d logins failed on a database connection refused (TCP)", n)
	}
	if n := det[dDBConnTimeout]; n > 0 && !e.roleCapped && !e.serverCapped {
		fs.add(resDBPath, srcResponses, wSuggest, false, "%d logins failed opening a database connection in time, with no cap reached", n)
	}
	if pathSlow(e, b) {
		fs.add(resDBPath, srcProbes, wProve, true, "the probe query through the database path took %s against %s while straight to the database it took %s",
			format.MS(e.pathRTT), b.pathRTT.ms(), format.MS(e.rtt))
		if t, ok := e.timing(); ok && b.dbReached.rises(t.dbReached, holdFactor, holdFloorMS, holdNoBaseMS) {
			fs.add(resDBPath, srcTiming, wShow, true, "Server-Timing: db %s per login against %s", fmtMS(t.dbReached), b.dbReached.ms())
		}
	}
	if e.pathErrors > b.ev.pathErrors {
		fs.add(resDBPath, srcProbes, wShow, true, "%d probe queries through the database path failed", e.pathErrors)
	}
	if e.haveDBProbe && b.dbConnect.rises(format.Millis(e.dbConnect), dbConnectFactor, dbConnectFloorMS, dbConnectNoBaseMS) {
		w, wall := e.strength(wShow)
		if format.Millis(e.dbConnect) < dbConnectNoBaseMS {
			// A few ms more is a busy machine's (a core to wake on); a
			// path slow enough to be the wall adds tens of ms to every
			// round trip, and the probe through the path says it better.
			w, wall = wSuggest, false
		}
		fs.add(resDBPath, srcProbes, w, wall, "TCP connect to the database %s against %s", format.MS(e.dbConnect), b.dbConnect.ms())
	}
	if e.dbErrors > b.ev.dbErrors {
		fs.add(resDBPath, srcProbes, wShow, true, "%d TCP probes to the database failed", e.dbErrors)
	}
	timedHold(e, b, fs)
}

// timedHold reads a white box: the service's own db time up while the
// database answers its own probe fast, no session waits on a lock and the
// service's sessions are not at work (idle, or idle in transaction: the
// database waits for the next statement). The service timed that wait
// around its queries, so it was not busy itself: the time goes between
// the service and the database. A probe through the path that stayed fast
// contradicts it. On a starved host the inference fails: a service waiting
// for a core between its statements times that wait as db time too, so
// then it only suggests the path.
func timedHold(e *evidence, b *baseline, fs *findings) {
	t, ok := e.timing()
	if !ok || !e.haveRTT || !e.haveDB || !b.dbReached.rises(t.dbReached, holdFactor, holdFloorMS, holdNoBaseMS) {
		return
	}
	if b.rtt.rises(format.Millis(e.rtt), probeFactor, probeFloorMS, probeNoBaseMS) || max(e.lockWaiters, e.roleLockWait) > 0 || sessionsAtWork(e) {
		return
	}
	if e.havePath && !pathSlow(e, b) {
		return
	}
	idle := fmt.Sprintf("the role's %s backends active %.0f%% of the time", format.Num(e.roleBackends), 100*medianF(e.roleActiveShares))
	if idleTx := max(e.roleIdleInTx, e.idleInTx); idleTx > 0 {
		idle = fmt.Sprintf("%s of the service's %s database sessions idle in transaction", format.Num(idleTx), format.Num(e.roleBackends))
	}
	w, wall := e.strength(wShow)
	fs.add(resDBPath, srcTiming, w, wall, "the service's db time is %s per login against %s while the database's own probe answered in %s, with no lock waiters and %s: the time goes between the service and the database",
		fmtMS(t.dbReached), b.dbReached.ms(), format.MS(e.rtt), idle)
}

// sessionsAtWork reports the service's database sessions mostly active
// (running a statement), as slow queries keep them; unknown without
// samples. It reads their typical state, the median over the windows of
// each window's mean active share, not the peak: logins released together
// when a slow path recovers are all in their statements at once for a
// moment (8 of 10 active in one sample) while the path kept them idle the
// rest of the time.
func sessionsAtWork(e *evidence) bool {
	return e.roleBackends <= 0 || medianF(e.roleActiveShares) >= atWorkShare
}
