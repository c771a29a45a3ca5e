package report

import (
	"sort"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// joinTimeline is the analysis' timeline step: it attaches database
// samples, TCP probes and generator reports to the windows they fell in,
// and lays the injected faults on the run's clock.
func joinTimeline(r *Report, tl *timeline) {
	at := windowIndex(r.Windows, r.Window)
	joinDB(r.Windows, tl.dbSamples, at)
	joinProbes(r.Windows, tl.probes, at)
	joinHTTPProbes(r.Windows, tl.httpProbes, at)
	joinCPU(r.Windows, tl.cpu, at)
	joinGenerator(r.Windows, tl.generator, at)
	r.Faults = buildFaults(tl, r.Elapsed)
	markFaults(r.Windows, r.Faults)
}

// windowIndex maps a time since the start to its window; -1 outside them.
func windowIndex(wins []Window, width time.Duration) func(time.Duration) int {
	return func(at time.Duration) int {
		if at < 0 {
			return -1
		}
		i := int(at / width)
		if i >= len(wins) {
			return -1
		}
		return i
	}
}

// joinDB takes, per window, the maxima of the database's gauges and the
// deltas of the service pool's counters.
func joinDB(wins []Window, samples []timed[rundir.DBSample], idx func(time.Duration) int) {
	type sums struct {
		rtt, commits float64
		share        float64 // role active / role backends, summed over samples
		shareN       int
	}
	acc := make(map[int]*sums)
	var prevEmpty, prevTimeouts, prevAcquires, prevWaitMS *float64
	var prevSessions sessionCounters
	for _, s := range samples {
		e := s.ev
		var waits, timeouts, acquires, waitMS float64
		if p := e.Pool; p != nil {
			waits = delta(prevEmpty, p.EmptyAcquireCount)
			timeouts = delta(prevTimeouts, p.PoolTimeouts)
			acquires = delta(prevAcquires, p.AcquireCount)
			waitMS = delta(prevWaitMS, p.EmptyAcquireWaitMS)
			for _, c := range []struct {
				prev **float64
				cur  *float64
			}{
				{&prevEmpty, p.EmptyAcquireCount}, {&prevTimeouts, p.PoolTimeouts},
				{&prevAcquires, p.AcquireCount}, {&prevWaitMS, p.EmptyAcquireWaitMS},
			} {
				if c.cur != nil {
					*c.prev = c.cur
				}
			}
		}
		i := idx(s.at)
		if i < 0 {
			continue
		}
		w := &wins[i]
		if w.DB == nil {
			w.DB = &DBWindow{RoleLimit: -1}
			acc[i] = &sums{}
		}
		d, a := w.DB, acc[i]
		d.Samples++
		if e.Error != "" {
			d.Errors++
		}
		if e.BackendsTotal != nil {
			d.HaveBackends = true
		}
		d.BackendsTotal = maxp(d.BackendsTotal, e.BackendsTotal)
		d.RoleActive = maxp(d.RoleActive, e.RoleActive)
		d.RoleBackends = maxp(d.RoleBackends, e.RoleBackends)
		if e.RoleActive != nil && e.RoleBackends != nil && *e.RoleBackends > 0 {
			a.share += *e.RoleActive / *e.RoleBackends
			a.shareN++
			d.RoleActiveShare = a.share / float64(a.shareN)
		}
		d.LockWaiters = maxp(d.LockWaiters, e.LockWaiters)
		if e.MaxConnections != nil {
			d.MaxConnections = *e.MaxConnections
		}
		if e.SuperuserReserved != nil {
			d.SuperuserReserved = *e.SuperuserReserved
		}
		if e.RoleLimit != nil {
			d.RoleLimit = *e.RoleLimit
		}
		d.Active = max(d.Active, e.ByState["active"])
		d.IdleInTx = max(d.IdleInTx, e.ByState["idle in transaction"])
		joinRoleSample(d, e, &prevSessions)
		if e.CommitsPerS != nil {
			a.commits += *e.CommitsPerS
		}
		if e.ProbeRTTMS != nil {
			d.HaveProbeRTT = true
			a.rtt = max(a.rtt, *e.ProbeRTTMS)
			d.ProbeRTT = msDur(a.rtt)
		}
		d.CommitsPerS = a.commits / float64(d.Samples)
		if p := e.Pool; p != nil {
			d.HavePool = true
			d.PoolAcquired = maxp(d.PoolAcquired, p.AcquiredConns)
			d.PoolMax = maxp(d.PoolMax, p.MaxConns)
			d.PoolWaits += waits
			d.PoolTimeouts += timeouts
			d.PoolAcquires += acquires
			d.PoolWaitTime += msDur(waitMS)
		}
	}
}

// joinProbes takes, per window, the mean connect time per path and the
// service's health checks.
func joinProbes(wins []Window, probes []timed[rundir.TCPProbe], idx func(time.Duration) int) {
	for _, s := range probes {
		i := idx(s.at)
		if i < 0 {
			continue
		}
		p := &wins[i].Probes
		ok := s.ev.Error == "" && s.ev.ConnectMS != nil
		switch s.ev.Path {
		case "service", "client":
			if !ok {
				p.ServiceErrors++
				continue
			}
			p.ServiceConnect = runningMean(p.ServiceConnect, p.ServiceN, msDur(*s.ev.ConnectMS))
			p.ServiceN++
			switch {
			case s.ev.HealthError != "":
				p.HealthErrors++
			case s.ev.HealthMS != nil:
				p.Health = runningMean(p.Health, p.HealthN, msDur(*s.ev.HealthMS))
				p.HealthN++
			}
		case "db":
			if !ok {
				p.DBErrors++
				continue
			}
			p.DBConnect = runningMean(p.DBConnect, p.DBN, msDur(*s.ev.ConnectMS))
			p.DBN++
		}
	}
}

// joinGenerator sums the load generator's reports per window.
func joinGenerator(wins []Window, reports []timed[rundir.GeneratorEvent], idx func(time.Duration) int) {
	for _, s := range reports {
		i := idx(s.at)
		if i < 0 {
			continue
		}
		w := &wins[i]
		if w.Generator == nil {
			w.Generator = &GeneratorWindow{}
		}
		g, e := w.Generator, s.ev
		g.Hits += e.Hits
		g.Late += e.Late
		g.MaxLag = max(g.MaxLag, msDur(e.MaxLagMS))
		g.InflightMax = max(g.InflightMax, e.InflightMax)
		g.MaxWorkers = max(g.MaxWorkers, e.MaxWorkers)
		g.WorkersSaturated = g.WorkersSaturated || e.WorkersSaturated
		g.BehindOwnFault = g.BehindOwnFault || e.BehindOwnFault
		for k, v := range e.LocalErrors {
			if g.LocalErrors == nil {
				g.LocalErrors = map[string]int64{}
			}
			g.LocalErrors[k] += v
		}
	}
}

func delta(prev, cur *float64) float64 {
	if prev == nil || cur == nil || *cur < *prev {
		return 0
	}
	return *cur - *prev
}

func maxp(cur float64, v *float64) float64 {
	if v == nil {
		return cur
	}
	return max(cur, *v)
}

func runningMean(mean time.Duration, n int, v time.Duration) time.Duration {
	return (mean*time.Duration(n) + v) / time.Duration(n+1)
}

// Fault is one injected fault, as the timeline recorded it.
type Fault struct {
	Kind   string
	Name   string // the fault's own description
	Params map[string]any
	// Path is where a network fault sits: "client" (load → service) or
	// "db" (service → database); empty for database faults.
	Path string
	// Start is when the injection was recorded; End when the revert was,
	// else the planned end, else the run's end.
	Start, End time.Duration
	Reverted   bool
	OK         bool // the injection succeeded
	Error      string
}

// buildFaults pairs fault_inject with fault_revert events: by the
// schedule's index, else by kind, in order.
func buildFaults(tl *timeline, runEnd time.Duration) []Fault {
	used := make([]bool, len(tl.reverts))
	var out []Fault
	for _, fi := range tl.faults {
		e := fi.ev
		f := Fault{Kind: e.Kind, Name: e.Fault, Params: e.Params, Start: fi.at, OK: e.OK == nil || *e.OK,
			Error: e.Error, Path: faultPath(e), End: runEnd}
		if e.EndS != nil && rundir.Secs(*e.EndS) < runEnd {
			f.End = rundir.Secs(*e.EndS)
		}
		for j, rv := range tl.reverts {
			if used[j] || rv.at < fi.at {
				continue
			}
			same := rv.ev.Kind == e.Kind
			if e.Index != nil && rv.ev.Index != nil {
				same = *e.Index == *rv.ev.Index
			}
			if same {
				used[j] = true
				f.Reverted = rv.ev.OK == nil || *rv.ev.OK
				f.End = rv.at
				break
			}
		}
		f.End = max(f.End, f.Start)
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// faultPath finds a network fault's path in its parameters.
func faultPath(e rundir.FaultEvent) string {
	if len(e.Kind) < 4 || e.Kind[:4] != "net." {
		return ""
	}
	for _, k := range []string{"path", "target", "proxy", "link"} {
		if v, ok := e.Params[k].(string); ok && v != "" {
			switch v {
			case "db", "database", "postgres", "service-db", "service_db":
				return "db"
			}
			return "client"
		}
	}
	return "client"
}

// markFaults notes, per window, the faults in force: for display only.
func markFaults(wins []Window, faults []Fault) {
	for _, f := range faults {
		for i := range wins {
			w := &wins[i]
			if w.Start < f.End && w.Start+w.Length > f.Start {
				w.Faults = append(w.Faults, f.Kind)
			}
		}
	}
}

// utilisation is the tightest connection cap's use, 0..1: the role's
// limit, the server's usable slots, or the service's pool. which names it.
func (d *DBWindow) utilisation() (u float64, which string, ok bool) {
	if d == nil {
		return 0, "", false
	}
	consider := func(used, limit float64, name string) {
		if limit > 0 {
			if v := used / limit; !ok || v > u {
				u, which, ok = v, name, true
			}
		}
	}
	consider(d.RoleBackends, d.RoleLimit, "role backends / role connection limit")
	if d.MaxConnections > 0 {
		consider(d.BackendsTotal, d.MaxConnections-d.SuperuserReserved, "server backends / usable max_connections")
	}
	if d.HavePool {
		consider(d.PoolAcquired, d.PoolMax, "service pool in use / pool size")
	}
	return u, which, ok
}
