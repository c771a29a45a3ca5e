package report

import (
	"sort"
	"time"

	"github.com/stampede-load/stampede/report/format"
)

// evidence is what the classifier reads: one window, or several merged
// (sums of counts, medians of per-window figures, maxima of gauges).
type evidence struct {
	windows int
	c       counts
	p50     time.Duration
	p99     time.Duration // median of the windows' p99

	haveConn bool
	connP99  time.Duration
	lagP99   time.Duration

	// database samples
	haveDB, haveRTT, havePool bool
	backends, maxConns        float64
	reserved                  float64
	roleBackends, roleLimit   float64
	roleActive                float64
	roleActiveShares          []float64 // per window: the mean active share
	// roleCapped: in some window the role's backends reached its limit
	// (capBackends of capLimit); serverCapped: the server's backends
	// reached max_connections less the reserved slots (capServer of them).
	roleCapped, serverCapped bool
	capBackends, capLimit    float64
	capActive                float64
	capServer                float64
	idleInTx                 float64 // max client backends idle in transaction
	lockWaiters              float64
	rtt                      time.Duration
	poolAcquired, poolMax    float64
	poolWaits, poolTimeouts  float64
	poolAcquires             float64
	poolWaitTime             time.Duration

	// per-window Server-Timing means, for a baseline robust to a few
	// windows where a queue was already building
	winTiming []timingMS

	// TCP probes and the health checks sent with the service's
	haveSvc, haveDBProbe  bool
	svcConnect, dbConnect time.Duration
	svcErrors, dbErrors   int
	haveHealth            bool
	health                time.Duration
	healthErrors          int

	// the role's own view, vanished sessions, the database path probe
	haveRoleStates             bool
	roleIdleInTx, roleLockWait float64 // maxima
	roleGone, roleNew          float64 // sums
	haveSessions               bool
	sessionsKilled, sessFatal  float64 // sums of deltas
	sessAbandoned              float64
	havePath                   bool
	pathRTT                    time.Duration // median of the windows' maxima
	pathErrors                 int

	// cheap HTTP requests through the client path and straight to the service
	nullPath, nullDirect, healthPath, healthDirect probeFigure

	// CPU (medians of the windows' means)
	haveCPU, haveTarget, targetInProc bool
	cores                             int
	hostBusy, genCores, targetCores   float64
	haveDBCPU                         bool
	dbCores                           float64

	// plateau is a black-box pool at its wall, when the windows are at or
	// after its start (plateau.go)
	plateau *plateau
	// cpuPlateau is the service's process flat at a whole number of cores
	// while the host had more, when the windows are at or after its start
	// (plateau.go).
	cpuPlateau *cpuPlateau

	// the load: mean offered and achieved rates, successful logins per second
	offered, achieved, goodput float64

	// generator reports
	genHits, genLate  int64
	genMaxLag         time.Duration
	genBehind, genSat bool // sends late with workers free; every worker busy
	genInflight       int64
	genMaxWorkers     uint64
	genLocal          map[string]int64
	haveGen           bool
}

// maxSpan bounds how far past a window's end its logins are followed.
const maxSpan = 10 * time.Second

// spans lists, for each window in wins, the windows its logins were in
// flight over: from itself to the one where its p99 login ended (at most
// maxSpan later). The database samples and probes taken over that span are
// what those logins met; a login sent just before a lock or a cap bites
// spends its life under it.
func spans(wins []*Window, all []Window) []*Window {
	seen := map[int]bool{}
	var out []*Window
	for _, w := range wins {
		end := w.Start + w.Length + min(w.P99, maxSpan)
		for i := w.Index; i < len(all) && all[i].Start < end; i++ {
			if !seen[i] {
				seen[i] = true
				out = append(out, &all[i])
			}
		}
		if !seen[w.Index] { // a window not in all (tests): itself
			seen[w.Index] = true
			out = append(out, w)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

// gather merges windows into one body of evidence: the hits of wins, the
// database samples, probes and generator reports of samples (wins itself,
// or the windows their logins were in flight over: spans).
func gather(wins, samples []*Window) evidence {
	e := evidence{windows: len(wins), roleLimit: -1}
	e.addHits(wins)
	e.addSamples(samples)
	e.addBlackBox(samples)
	return e
}

// addHits takes in the windows' own logins: counts, latency, connects,
// Server-Timing, the generator's reports and the load.
func (e *evidence) addHits(wins []*Window) {
	var p50, p99, conn, lag []time.Duration
	var n float64
	for _, w := range wins {
		e.c.merge(&w.c)
		if w.Sent > 0 {
			p50, p99, lag = append(p50, w.P50), append(p99, w.P99), append(lag, w.SendLagP99)
		}
		if t := w.c.timing(); t.n > 0 {
			e.winTiming = append(e.winTiming, t)
		}
		if w.Connect.HaveTiming {
			conn = append(conn, w.Connect.P99)
		}
		if g := w.Generator; g != nil {
			e.addGenerator(g)
		}
		if w.Traffic {
			e.offered, e.achieved, e.goodput, n = e.offered+w.OfferedRPS, e.achieved+w.AchievedRPS, e.goodput+w.GoodputRPS, n+1
		}
	}
	if n > 0 {
		e.offered, e.achieved, e.goodput = e.offered/n, e.achieved/n, e.goodput/n
	}
	e.p50, e.p99, e.lagP99 = medianDur(p50), medianDur(p99), medianDur(lag)
	e.haveConn, e.connP99 = len(conn) > 0, medianDur(conn)
}

// addSamples takes in the database samples and the TCP probes of the
// windows the logins were in flight over.
func (e *evidence) addSamples(samples []*Window) {
	var rtt, svc, dbp, health []time.Duration
	for _, w := range samples {
		if d := w.DB; d != nil {
			if d.HaveProbeRTT {
				e.haveRTT = true
				rtt = append(rtt, d.ProbeRTT)
			}
			e.addDB(d)
		}
		p := w.Probes
		if p.ServiceN > 0 {
			svc = append(svc, p.ServiceConnect)
		}
		if p.DBN > 0 {
			dbp = append(dbp, p.DBConnect)
		}
		if p.HealthN > 0 {
			health = append(health, p.Health)
		}
		e.svcErrors += p.ServiceErrors
		e.dbErrors += p.DBErrors
		e.healthErrors += p.HealthErrors
	}
	e.rtt = medianDur(rtt)
	e.haveSvc, e.svcConnect = len(svc) > 0, medianDur(svc)
	e.haveDBProbe, e.dbConnect = len(dbp) > 0, medianDur(dbp)
	e.haveHealth, e.health = len(health) > 0, medianDur(health)
}

// addBlackBox takes in what needs nothing from the service: the role's
// own view, the probe through the database path, the cheap requests
// through and around the client path, and CPU.
func (e *evidence) addBlackBox(samples []*Window) {
	var pathRTT []time.Duration
	var host, gen, tgt, dbc []float64
	var np, nd, hp, hd []ProbeStat
	for _, w := range samples {
		p := w.Probes
		np, nd, hp, hd = append(np, p.NullPath), append(nd, p.NullDirect), append(hp, p.HealthPath), append(hd, p.HealthDirect)
		if d := w.DB; d != nil {
			e.addRole(d)
			if d.HavePathProbe {
				pathRTT = append(pathRTT, d.PathProbeRTT)
			}
		}
		if c := w.CPU; c != nil {
			e.haveCPU = true
			e.cores = max(e.cores, c.Cores)
			e.targetInProc = e.targetInProc || c.TargetInProcess
			host, gen = append(host, c.HostBusy), append(gen, c.GeneratorCores)
			if c.HaveTarget {
				tgt = append(tgt, c.TargetCores)
			}
			if c.HaveDB {
				dbc = append(dbc, c.DBCores)
			}
		}
	}
	e.havePath, e.pathRTT = len(pathRTT) > 0, medianDur(pathRTT)
	e.nullPath, e.nullDirect = probeFigureOf(np), probeFigureOf(nd)
	e.healthPath, e.healthDirect = probeFigureOf(hp), probeFigureOf(hd)
	e.hostBusy, e.genCores = medianF(host), medianF(gen)
	e.haveTarget, e.targetCores = len(tgt) > 0, medianF(tgt)
	e.haveDBCPU, e.dbCores = len(dbc) > 0, medianF(dbc)
}

// addRole takes in one window's view of the role's sessions.
func (e *evidence) addRole(d *DBWindow) {
	if d.HaveRoleStates {
		e.haveRoleStates = true
		e.roleIdleInTx = max(e.roleIdleInTx, d.RoleIdleInTx)
		e.roleLockWait = max(e.roleLockWait, d.RoleLockWaits)
	}
	e.roleGone += d.RoleGone
	e.roleNew += d.RoleNew
	if d.HaveSessionStats {
		e.haveSessions = true
		e.sessionsKilled += d.SessionsKilled
		e.sessFatal += d.SessionsFatal
		e.sessAbandoned += d.SessionsAbandoned
	}
	e.pathErrors += d.PathProbeErrors
}

// probeFigure is one kind of HTTP probe over a group of windows: the
// median of the windows' means, and the failures before any answer.
type probeFigure struct {
	have    bool
	ms      float64 // median of the windows' means
	connect float64
	errors  int
	n       int
}

func probeFigureOf(stats []ProbeStat) probeFigure {
	var ms, conn []float64
	var f probeFigure
	for _, s := range stats {
		f.errors += s.Errors
		f.n += s.N
		if s.N > 0 {
			ms = append(ms, format.Millis(s.Mean))
			conn = append(conn, format.Millis(s.Connect))
		}
	}
	f.have, f.ms, f.connect = len(ms) > 0, medianF(ms), medianF(conn)
	return f
}

func medianF(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// addGenerator takes in one window's generator report.
func (e *evidence) addGenerator(g *GeneratorWindow) {
	e.haveGen = true
	e.genHits += g.Hits
	e.genLate += g.Late
	e.genMaxLag = max(e.genMaxLag, g.MaxLag)
	e.genBehind = e.genBehind || (g.BehindOwnFault && !g.WorkersSaturated)
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

// addDB takes in one window's database samples: the gauges' maxima, the
// caps reached, the pool's counters.
func (e *evidence) addDB(d *DBWindow) {
	if d.HaveBackends {
		e.haveDB = true
		e.backends = max(e.backends, d.BackendsTotal)
		e.maxConns = max(e.maxConns, d.MaxConnections)
		e.reserved = max(e.reserved, d.SuperuserReserved)
		e.roleBackends = max(e.roleBackends, d.RoleBackends)
		e.roleActive = max(e.roleActive, d.RoleActive)
		if d.RoleBackends > 0 { // the role's sessions were sampled: their share (0 without an active count)
			e.roleActiveShares = append(e.roleActiveShares, d.RoleActiveShare)
		}
		e.roleLimit = max(e.roleLimit, d.RoleLimit)
		if d.RoleLimit > 0 && d.RoleBackends >= d.RoleLimit {
			if !e.roleCapped || d.RoleLimit < e.capLimit {
				e.capLimit = d.RoleLimit
			}
			e.roleCapped = true
			e.capBackends = max(e.capBackends, d.RoleBackends)
			e.capActive = max(e.capActive, d.RoleActive)
		}
		if d.MaxConnections > 0 && d.BackendsTotal >= d.MaxConnections-d.SuperuserReserved {
			e.serverCapped = true
			e.capServer = max(e.capServer, d.BackendsTotal)
		}
		e.idleInTx = max(e.idleInTx, d.IdleInTx)
		e.lockWaiters = max(e.lockWaiters, d.LockWaiters)
	}
	if d.HavePool {
		e.havePool = true
		e.poolAcquired = max(e.poolAcquired, d.PoolAcquired)
		e.poolMax = max(e.poolMax, d.PoolMax)
		e.poolWaits += d.PoolWaits
		e.poolTimeouts += d.PoolTimeouts
		e.poolAcquires += d.PoolAcquires
		e.poolWaitTime += d.PoolWaitTime
	}
}

// timingMS are Server-Timing means, in ms. dbReached is the db time per
// login that reached the database (pool timeouts, which never did, left
// out): the time each login held its connection.
type timingMS struct {
	n                                int64
	pool, db, app, hash, appNet, gap float64
	dbReached                        float64
}

func (c *counts) timing() timingMS {
	if c.timingN == 0 {
		return timingMS{}
	}
	n := float64(c.timingN)
	t := timingMS{n: c.timingN, pool: c.pool / n, db: c.db / n, app: c.app / n, hash: c.hash / n,
		appNet: c.appNet / n, gap: c.gap / n}
	if c.dbN > 0 {
		t.dbReached = c.db / float64(c.dbN)
	}
	return t
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
		appNet: med(func(t timingMS) float64 { return t.appNet }), gap: med(func(t timingMS) float64 { return t.gap }),
		dbReached: med(func(t timingMS) float64 { return t.dbReached })}, true
}

// diagnoseWindows is the analysis' evidence step: every window with
// traffic gets its findings (the walls it shows, for the run's binding
// constraint), and each that missed the SLO its cause, from its own
// evidence (and its neighbours' samples), against the healthy windows as
// the baseline. It returns those healthy windows, their baseline (nil
// without any) and the run's plateaus (a black-box pool's, a service's CPU's).
func diagnoseWindows(r *Report) ([]*Window, *baseline, *plateaus) {
	baseWins := baselineWindows(r.Windows)
	base := baselineOf(baseWins)
	pl := findPlateaus(r.Windows)
	for i := range r.Windows {
		w := &r.Windows[i]
		w.Cause = CauseNone
		if !w.Traffic {
			continue
		}
		d := diagnose(windowEvidence([]*Window{w}, r.Windows, pl), base)
		d.Windows, d.From = 1, w.Start
		w.walls = d.walls
		if !w.SLOMet {
			w.Cause, w.Diagnosis = d.Primary, &d
		}
	}
	return baseWins, base, pl
}

// windowEvidence gathers a group of windows' evidence (their samples
// over the span their logins were in flight), with the plateau when the
// group lies at or after its start.
func windowEvidence(group []*Window, all []Window, pl *plateaus) evidence {
	e := gather(group, spans(group, all))
	if pl == nil || len(group) == 0 {
		return e
	}
	if p := pl.pool; p != nil && group[0].Index >= p.start {
		e.plateau = p
	}
	if p := pl.cpu; p != nil && group[0].Index >= p.start {
		e.cpuPlateau = p
	}
	return e
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
