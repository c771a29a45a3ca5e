package report

import (
	"github.com/stampede-load/stampede/report/format"
)

// db.queries: the work inside the database is slow or blocked.
const (
	// manyLockWaiters: sessions waiting on locks at which the lock is
	// beyond doubt the wall.
	manyLockWaiters = 5
	// holdFactor, holdFloorMS, holdNoBaseMS: the time each login spends in
	// the database (Server-Timing db, or the busy backends over goodput)
	// must triple and grow by 20 ms to count as risen; 100 ms without a
	// healthy level.
	holdFactor   = 3
	holdFloorMS  = 20
	holdNoBaseMS = 100
	// probeFactor, probeFloorMS, probeNoBaseMS: the database's own probe
	// query (SELECT 1 over a reserved connection) slowing: the database
	// itself is slow.
	probeFactor   = 3
	probeFloorMS  = 5
	probeNoBaseMS = 20
)

func ruleDBQueries(e *evidence, b *baseline, fs *findings) {
	det := &e.c.det
	waiters := max(e.lockWaiters, e.roleLockWait)
	if e.haveDB && waiters > max(b.ev.lockWaiters, b.ev.roleLockWait) {
		w := wShow
		if waiters >= manyLockWaiters {
			w = wProve
		}
		fs.add(resDBWork, srcDB, w, true, "%s sessions waiting on locks (pg_stat_activity wait_event_type Lock; %s at baseline)", format.Num(waiters), format.Num(b.ev.lockWaiters))
	}
	for _, q := range []struct {
		det  detail
		what string
	}{{dSQL57014, "57014 (statement timeout)"}, {dSQL55P03, "55P03 (lock timeout)"}, {dSQL40P01, "40P01 (deadlock)"}} {
		if n := det[q.det]; n > 0 {
			fs.add(resDBWork, srcResponses, wProve, true, "%d responses with SQLSTATE %s", n, q.what)
		}
	}
	if n := det[dDBTimeout]; n > 0 {
		fs.add(resDBWork, srcResponses, wShow, false, "%d db_timeout responses: database work did not finish in time", n)
	}
	if e.haveRTT && b.rtt.rises(format.Millis(e.rtt), probeFactor, probeFloorMS, probeNoBaseMS) {
		w, wall := e.strength(wShow)
		fs.add(resDBWork, srcDB, w, wall, "the database's own probe query took %s against %s", format.MS(e.rtt), b.rtt.ms())
	}
	// The time in the database rose while the database's own probe stayed
	// fast and no session waits on a lock: slow queries, or the path to the
	// database. The sessions' states tell them apart: at work (active) is
	// the queries; idle in transaction between statements is the path or
	// the service (rule_netdb.go, rule_app.go).
	if t, ok := e.timing(); ok && b.dbReached.rises(t.dbReached, holdFactor, holdFloorMS, holdNoBaseMS) {
		active := sessionsAtWork(e)
		switch {
		case waiters > 0:
			fs.add(resDBWork, srcTiming, wShow, true, "Server-Timing: db %s per login against %s", fmtMS(t.dbReached), b.dbReached.ms())
		case e.haveRTT && b.rtt.rises(format.Millis(e.rtt), probeFactor, probeFloorMS, probeNoBaseMS):
			w, wall := e.strength(wShow)
			fs.add(resDBWork, srcTiming, w, wall, "Server-Timing: db %s per login against %s, the database's own probe slow too", fmtMS(t.dbReached), b.dbReached.ms())
		case active && !pathSlow(e, b):
			fs.add(resDBWork, srcTiming, wSuggest, false, "Server-Timing: db %s per login against %s, with the database's sessions at work", fmtMS(t.dbReached), b.dbReached.ms())
		}
	}
}
