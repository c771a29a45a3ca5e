package report

import (
	"fmt"
	"time"

	"github.com/stampede-load/stampede/report/format"
)

// db.connections: a connection cap is the wall (the service's pool, the
// role's or the database's limit, the server's max_connections), or the
// database ends the service's sessions.
const (
	// capBusyShare: a cap at its limit is the wall only while its
	// connections work. A pool keeps idle connections open, so backends at
	// the limit with most of them idle is a full house, not a queue.
	capBusyShare = 0.75
	// poolWaitFactor and poolWaitFloorMS: Server-Timing's pool wait must
	// triple its healthy level and grow by 10 ms to show logins queueing
	// for connections; without a healthy level, 10 ms.
	poolWaitFactor  = 3
	poolWaitFloorMS = 10
	// poolWaitOverDB: the wait must dominate the time in queries (a wait
	// that is small beside db time is the queries' own slowness).
	poolWaitOverDB = 2
	// vanishedFactor, vanishedFloor: backends vanishing between samples
	// beyond the healthy churn (a service with a connection per login
	// churns all the time).
	vanishedFactor = 3
	vanishedFloor  = 2
	// poolLongWait: acquires waiting this long on average, most of them,
	// leave no doubt that logins queue for the pool.
	poolLongWait = 100 * time.Millisecond
	// poolQueueShare: a full pool is a queue (a wall) once at least this
	// share of its acquires waited. Past about 70% utilisation a pool of a
	// few connections has a quarter of its acquires wait (Erlang C), and
	// the share climbs towards all of them at its wall; fewer is a pool
	// that filled for a moment, as when a burst released by a slow network
	// arrives at once, with no queue behind it.
	poolQueueShare = 0.25
)

func durationOf(v float64) time.Duration { return time.Duration(v) }

func ruleDBConnections(e *evidence, b *baseline, fs *findings) {
	det := &e.c.det
	capRes := resRoleCap
	if e.serverCapped && !e.roleCapped {
		capRes = resServerCap
	}
	if n := det[dSQL53300]; n > 0 {
		fs.add(capRes, srcResponses, wProve, true, "%d responses with SQLSTATE 53300 (too many connections: server, role or database limit)", n)
	}
	if n := det[dPoolTimeout]; n > 0 {
		fs.add(resPool, srcResponses, wProve, true, "%d pool timeouts: the service gave up waiting for a pooled connection", n)
	}
	if n := det[dSQL57P01]; n > 0 {
		fs.add(resSessions, srcResponses, wProve, true, "%d responses with SQLSTATE 57P01: database sessions terminated", n)
	}
	if n := det[dSQL57P03]; n > 0 {
		fs.add(resSessions, srcResponses, wShow, true, "%d responses with SQLSTATE 57P03: the database was not accepting connections", n)
	}
	if e.sessionsKilled > 0 {
		fs.add(resSessions, srcDB, wProve, true, "the database killed %s sessions (pg_stat_database sessions_killed)", format.Num(e.sessionsKilled))
	}
	// The database counts every session that did not end by its client's
	// goodbye (PostgreSQL 14+): when it counted none, the vanished backends
	// were closed by the service itself (a connection per request, a pool
	// retiring its connections), not ended under it.
	closedByClient := e.haveSessions && e.sessionsKilled+e.sessFatal+e.sessAbandoned == 0
	if e.haveRoleStates && !closedByClient && b.roleGone.rises(e.roleGone, vanishedFactor, vanishedFloor, vanishedFloor) && e.roleNew > 0 {
		// A driver closes a connection whose query it cancelled (pgx on a
		// timed-out context): with timeouts or lock waits about, vanished
		// backends are their symptom, not the database ending sessions.
		cancelled := det[dPoolTimeout]+det[dDBTimeout]+e.c.cls[clsClientTimeout] > 0 || max(e.lockWaiters, e.roleLockWait) > 0
		w, wall := wShow, true
		if cancelled {
			w, wall = wSuggest, false
		}
		fs.add(resSessions, srcDB, w, wall, "%s of the service's database sessions vanished between samples and %s new ones appeared (%s a window at baseline): sessions ended under it",
			format.Num(e.roleGone), format.Num(e.roleNew), format.Num(b.roleGone.med))
	}
	poolWaitRule(e, b, fs)
	capRules(e, fs)
	poolStatsRule(e, fs)
	if p := e.plateau; p != nil && p.busy && p.holds(e) && !e.roleCapped && !e.serverCapped { // a cap at the plateau says it better
		fs.add(resPool, srcDB, wShow, true, "%s", p.text())
	}
	if n := det[dDBConnTimeout]; n > 0 && (e.roleCapped || e.serverCapped) {
		fs.add(capRes, srcResponses, wShow, true, "%d logins failed opening a database connection in time while the cap was reached: connection attempts queued behind it", n)
	}
}

// poolWaitRule reads Server-Timing's pool wait.
func poolWaitRule(e *evidence, b *baseline, fs *findings) {
	t, ok := e.timing()
	if !ok || t.pool < poolWaitOverDB*t.db {
		return
	}
	if b.pool.rises(t.pool, poolWaitFactor, poolWaitFloorMS, poolWaitFloorMS) {
		fs.add(resPool, srcTiming, wShow, true, "Server-Timing: %s waiting for a pooled connection per login against %s in the database (%s for the wait): logins queue for connections",
			fmtMS(t.pool), fmtMS(t.db), b.pool.ms())
	}
}

// capRules reads the database's samples for caps at their limit.
func capRules(e *evidence, fs *findings) {
	// Refused connections show as 53300 or connect timeouts; a black box
	// shows them as bare 5xx, which at a cap reached mean the same: a
	// service that cannot open the connection it needs.
	refused := e.c.det[dSQL53300] > 0 || e.c.det[dDBConnTimeout] > 0 || e.c.det[dHTTP5xx]+e.c.det[dDBUnavailable] > 0
	if e.haveDB && e.roleCapped {
		busy := e.capActive + e.roleIdleInTx
		switch {
		case busy >= capBusyShare*e.capBackends || e.c.det[dSQL53300] > 0:
			fs.add(resRoleCap, srcDB, wProve, true, "the role's backends at its connection limit: %s of %s (%s active)", format.Num(e.capBackends), format.Num(e.capLimit), format.Num(e.capActive))
		case refused:
			fs.add(resRoleCap, srcDB, wShow, true, "the role's backends at its connection limit, %s of %s, while %d logins failed with a server error: the service could not open the connections it needed",
				format.Num(e.capBackends), format.Num(e.capLimit), e.c.det[dHTTP5xx]+e.c.det[dDBUnavailable]+e.c.det[dDBConnTimeout])
		default:
			fs.add(resRoleCap, srcDB, wSuggest, false, "the role's backends at its connection limit, %s of %s, but only %s at work: idle connections held by a pool", format.Num(e.capBackends), format.Num(e.capLimit), format.Num(busy))
		}
	}
	if e.haveDB && e.serverCapped {
		w := wShow
		if refused || e.c.det[dPoolTimeout] > 0 {
			w = wProve
		}
		fs.add(resServerCap, srcDB, w, true, "server backends at max_connections: %s of %s (%s reserved for superusers)", format.Num(e.capServer), format.Num(e.maxConns), format.Num(e.reserved))
	}
}

// poolStatsRule reads the service's own pool counters.
func poolStatsRule(e *evidence, fs *findings) {
	if !e.havePool || e.poolMax <= 0 || e.poolWaits <= 0 {
		return
	}
	mostWaited := e.poolAcquires > 0 && 2*e.poolWaits >= e.poolAcquires
	if e.poolAcquired < e.poolMax && !mostWaited {
		return
	}
	line := fmt.Sprintf("the service's pool full: %s of %s connections in use, %s acquires had to wait", format.Num(e.poolAcquired), format.Num(e.poolMax), format.Num(e.poolWaits))
	if e.poolAcquires > 0 {
		line += fmt.Sprintf(" (of %s)", format.Num(e.poolAcquires))
	}
	w, wall := wShow, true
	if e.poolAcquires > 0 && e.poolWaits < poolQueueShare*e.poolAcquires {
		w, wall = wSuggest, false
	}
	if e.poolWaitTime > 0 {
		wait := e.poolWaitTime / durationOf(e.poolWaits)
		line += ", " + format.MS(wait) + " each on average"
		if mostWaited && wait >= poolLongWait {
			w = wProve
		}
	}
	fs.add(resPool, srcPool, w, wall, "%s", line)
	// The database's side of a full pool: every pooled connection a backend
	// doing its normal work.
	if e.haveDB && !e.roleCapped && e.roleBackends >= e.poolMax && 2*e.roleActive >= e.roleBackends {
		fs.add(resPool, srcDB, wShow, true, "the database sees the whole pool busy: %s of the role's backends (%s active) for a pool of %s",
			format.Num(e.roleBackends), format.Num(e.roleActive), format.Num(e.poolMax))
	}
}
