package report

import (
	"github.com/stampede-load/stampede/report/format"
)

// baseline is the healthy windows' evidence: merged (for counts such as
// lock waiters or sessions idle in transaction), and each figure's level
// over the windows one by one (its median and noise), against which a
// degraded window's figures count as risen or not.
type baseline struct {
	ev evidence

	p50, p99, connP99, lagP99     level // ms
	svcConnect, dbConnect, health level // ms
	nullPath, nullDirect, nullGap level // ms; nullGap is path − direct
	healthPath, healthDirect      level // ms
	healthGap                     level // ms
	rtt, pathRTT                  level // ms
	pool, db, dbReached, app      level // Server-Timing, ms
	appNet, hash, gap             level
	hostBusy, genCores, target    level // CPU: share, cores, cores
	hold                          level // ms a login holds a connection, by Little's law (busy backends / goodput)
	roleGone                      level // vanished backends per window
}

// baselineOf measures the healthy windows; nil when there are none.
func baselineOf(wins []*Window) *baseline {
	if len(wins) == 0 {
		return nil
	}
	b := &baseline{ev: gather(wins, wins)}
	type col struct {
		l *level
		v []float64
	}
	cols := map[string]*col{}
	put := func(l *level, name string, ok bool, v float64) {
		if !ok {
			return
		}
		c := cols[name]
		if c == nil {
			c = &col{l: l}
			cols[name] = c
		}
		c.v = append(c.v, v)
	}
	for _, w := range wins {
		one := []*Window{w}
		e := gather(one, one)
		t, haveT := e.timing()
		put(&b.p50, "p50", w.Sent > 0, format.Millis(e.p50))
		put(&b.p99, "p99", w.Sent > 0, format.Millis(e.p99))
		put(&b.connP99, "conn", e.haveConn, format.Millis(e.connP99))
		put(&b.lagP99, "lag", w.Sent > 0, format.Millis(e.lagP99))
		put(&b.svcConnect, "svc", e.haveSvc, format.Millis(e.svcConnect))
		put(&b.dbConnect, "dbc", e.haveDBProbe, format.Millis(e.dbConnect))
		put(&b.health, "health", e.haveHealth, format.Millis(e.health))
		put(&b.nullPath, "np", e.nullPath.have, e.nullPath.ms)
		put(&b.nullDirect, "nd", e.nullDirect.have, e.nullDirect.ms)
		put(&b.nullGap, "ngap", e.nullPath.have && e.nullDirect.have, e.nullPath.ms-e.nullDirect.ms)
		put(&b.healthPath, "hp", e.healthPath.have, e.healthPath.ms)
		put(&b.healthDirect, "hd", e.healthDirect.have, e.healthDirect.ms)
		put(&b.healthGap, "hgap", e.healthPath.have && e.healthDirect.have, e.healthPath.ms-e.healthDirect.ms)
		put(&b.rtt, "rtt", e.haveRTT, format.Millis(e.rtt))
		put(&b.pathRTT, "prtt", e.havePath, format.Millis(e.pathRTT))
		put(&b.pool, "pool", haveT, t.pool)
		put(&b.db, "db", haveT, t.db)
		put(&b.dbReached, "dbr", haveT && t.dbReached > 0, t.dbReached)
		put(&b.app, "app", haveT, t.app)
		put(&b.appNet, "appnet", haveT, t.appNet)
		put(&b.hash, "hash", haveT, t.hash)
		put(&b.gap, "gap", haveT, t.gap)
		put(&b.hostBusy, "host", e.haveCPU, e.hostBusy)
		put(&b.genCores, "gen", e.haveCPU, e.genCores)
		put(&b.target, "target", e.haveTarget, e.targetCores)
		hold, ok := e.holdMS()
		put(&b.hold, "hold", ok, hold)
		put(&b.roleGone, "gone", e.haveRoleStates, e.roleGone)
	}
	for _, c := range cols {
		*c.l = levelOf(c.v)
	}
	return b
}

// holdMS is how long each successful login held a database connection,
// by Little's law: the role's busy backends over the rate of logins. It
// needs database samples and logins; busy counts active sessions and those
// idle in a transaction (held, not free).
func (e *evidence) holdMS() (float64, bool) {
	if !e.haveDB || e.goodput <= 0 || !e.haveRoleStates {
		return 0, false
	}
	busy := e.roleActive + e.roleIdleInTx
	if busy <= 0 {
		return 0, false
	}
	return busy / e.goodput * 1000, true
}
