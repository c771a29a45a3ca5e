package report

import (
	"sort"
	"time"
)

// evidence is what the classifier reads: one window, or several merged
// (sums of counts, medians of per-window figures, maxima of gauges).
type evidence struct {
	windows int
	c       counts
	p50     time.Duration

	haveConn bool
	connP99  time.Duration
	lagP99   time.Duration

	// database samples
	haveDB, haveRTT, havePool bool
	backends, maxConns        float64
	reserved                  float64
	roleBackends, roleLimit   float64
	roleActive                float64
	lockWaiters               float64
	rtt                       time.Duration
	poolAcquired, poolMax     float64
	poolWaits, poolTimeouts   float64

	// per-window Server-Timing means, for a baseline robust to a few
	// windows where a queue was already building
	winTiming []timingMS

	// TCP probes
	haveSvc, haveDBProbe  bool
	svcConnect, dbConnect time.Duration
	svcErrors, dbErrors   int

	// generator reports
	genHits, genLate    int64
	genMaxLag           time.Duration
	genOwnFault, genSat bool
	genInflight         int64
	genMaxWorkers       uint64
	genLocal            map[string]int64
	haveGen             bool
}

// gather merges windows into one body of evidence.
func gather(wins []*Window) evidence {
	e := evidence{windows: len(wins), roleLimit: -1}
	var p50, conn, lag, rtt, svc, dbp []time.Duration
	for _, w := range wins {
		e.c.merge(&w.c)
		if w.Sent > 0 {
			p50 = append(p50, w.P50)
			lag = append(lag, w.SendLagP99)
		}
		if t := w.c.timing(); t.n > 0 {
			e.winTiming = append(e.winTiming, t)
		}
		if w.Connect.HaveTiming {
			conn = append(conn, w.Connect.P99)
		}
		if d := w.DB; d != nil {
			if d.HaveBackends {
				e.haveDB = true
				e.backends = max(e.backends, d.BackendsTotal)
				e.maxConns = max(e.maxConns, d.MaxConnections)
				e.reserved = max(e.reserved, d.SuperuserReserved)
				e.roleBackends = max(e.roleBackends, d.RoleBackends)
				e.roleActive = max(e.roleActive, d.RoleActive)
				e.roleLimit = max(e.roleLimit, d.RoleLimit)
				e.lockWaiters = max(e.lockWaiters, d.LockWaiters)
			}
			if d.HaveProbeRTT {
				e.haveRTT = true
				rtt = append(rtt, d.ProbeRTT)
			}
			if d.HavePool {
				e.havePool = true
				e.poolAcquired = max(e.poolAcquired, d.PoolAcquired)
				e.poolMax = max(e.poolMax, d.PoolMax)
				e.poolWaits += d.PoolWaits
				e.poolTimeouts += d.PoolTimeouts
			}
		}
		p := w.Probes
		if p.ServiceN > 0 {
			svc = append(svc, p.ServiceConnect)
		}
		if p.DBN > 0 {
			dbp = append(dbp, p.DBConnect)
		}
		e.svcErrors += p.ServiceErrors
		e.dbErrors += p.DBErrors
		if g := w.Generator; g != nil {
			e.haveGen = true
			e.genHits += g.Hits
			e.genLate += g.Late
			e.genMaxLag = max(e.genMaxLag, g.MaxLag)
			e.genOwnFault = e.genOwnFault || (g.BehindOwnFault && !g.WorkersSaturated) || len(g.LocalErrors) > 0
			e.genSat = e.genSat || g.WorkersSaturated
			e.genInflight = max(e.genInflight, g.InflightMax)
			e.genMaxWorkers = max(e.genMaxWorkers, g.MaxWorkers)
			for k, v := range g.LocalErrors {
				if e.genLocal == nil {
					e.genLocal = map[string]int64{}
				}
				e.genLocal[k] += v
			}
		}
	}
	e.p50 = medianDur(p50)
	e.lagP99 = medianDur(lag)
	e.haveConn, e.connP99 = len(conn) > 0, medianDur(conn)
	e.rtt = medianDur(rtt)
	e.haveSvc, e.svcConnect = len(svc) > 0, medianDur(svc)
	e.haveDBProbe, e.dbConnect = len(dbp) > 0, medianDur(dbp)
	return e
}

// timingMS are Server-Timing means, in ms.
type timingMS struct {
	n                                int64
	pool, db, app, hash, appNet, gap float64
}

func (c *counts) timing() timingMS {
	if c.timingN == 0 {
		return timingMS{}
	}
	n := float64(c.timingN)
	return timingMS{n: c.timingN, pool: c.pool / n, db: c.db / n, app: c.app / n, hash: c.hash / n,
		appNet: c.appNet / n, gap: c.gap / n}
}

// timing is the Server-Timing means over all the evidence's logins; ok
// is false without the header.
func (e *evidence) timing() (timingMS, bool) {
	t := e.c.timing()
	return t, t.n > 0
}

// baseTiming is the median over windows of each Server-Timing mean: the
// baseline, robust to the few windows where a queue was already building.
func (e *evidence) baseTiming() (timingMS, bool) {
	if len(e.winTiming) == 0 {
		return timingMS{}, false
	}
	med := func(f func(t timingMS) float64) float64 {
		v := make([]float64, len(e.winTiming))
		for i, t := range e.winTiming {
			v[i] = f(t)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	return timingMS{n: e.c.timingN,
		pool: med(func(t timingMS) float64 { return t.pool }), db: med(func(t timingMS) float64 { return t.db }),
		app: med(func(t timingMS) float64 { return t.app }), hash: med(func(t timingMS) float64 { return t.hash }),
		appNet: med(func(t timingMS) float64 { return t.appNet }), gap: med(func(t timingMS) float64 { return t.gap })}, true
}

// baselineWindows are the healthy windows the degraded ones are compared
// with: those that met the SLO before the first degraded window, else
// every healthy window.
func baselineWindows(wins []Window) []*Window {
	var before, all []*Window
	seenBad := false
	for i := range wins {
		w := &wins[i]
		if !w.Traffic {
			continue
		}
		if !w.SLOMet {
			seenBad = true
			continue
		}
		all = append(all, w)
		if !seenBad {
			before = append(before, w)
		}
	}
	if len(before) >= 2 {
		return before
	}
	return all
}

// sortedKeys lists a count map's keys, largest count first.
func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}
