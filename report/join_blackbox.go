package report

import (
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// sessionCounters are pg_stat_database's cumulative session counters as
// last seen, for their deltas.
type sessionCounters struct{ killed, fatal, abandoned *float64 }

// advance is a cumulative counter's delta since *last, which it then
// moves to cur when cur was reported.
func advance(last **float64, cur *float64) float64 {
	d := delta(*last, cur)
	if cur != nil {
		*last = cur
	}
	return d
}

// joinRoleSample takes in the role's own view from one database sample:
// its states and waits (maxima), vanished and new backends and the
// database's session counters (sums of deltas).
func joinRoleSample(d *DBWindow, e rundir.DBSample, prev *sessionCounters) {
	if e.RoleByState != nil {
		d.HaveRoleStates = true
		d.RoleIdleInTx = max(d.RoleIdleInTx, e.RoleByState["idle in transaction"]+e.RoleByState["idle in transaction (aborted)"])
	}
	if e.RoleWaits != nil {
		d.RoleLockWaits = max(d.RoleLockWaits, e.RoleWaits["Lock"])
	}
	if e.RoleGone != nil {
		d.RoleGone += *e.RoleGone
	}
	if e.RoleNew != nil {
		d.RoleNew += *e.RoleNew
	}
	if e.SessionsKilled != nil || e.SessionsFatal != nil {
		d.HaveSessionStats = true
		d.SessionsKilled += advance(&prev.killed, e.SessionsKilled)
		d.SessionsFatal += advance(&prev.fatal, e.SessionsFatal)
		d.SessionsAbandoned += advance(&prev.abandoned, e.SessionsAbandoned)
	}
	switch {
	case e.PathProbeError != "":
		d.PathProbeErrors++
	case e.PathProbeRTTMS != nil:
		d.HavePathProbe = true
		d.PathProbeRTT = max(d.PathProbeRTT, msDur(*e.PathProbeRTTMS))
	}
}

// joinHTTPProbes files the cheap requests to the service by kind and way.
func joinHTTPProbes(wins []Window, probes []timed[rundir.HTTPProbe], idx func(time.Duration) int) {
	for _, s := range probes {
		i := idx(s.at)
		if i < 0 {
			continue
		}
		p := &wins[i].Probes
		var st *ProbeStat
		switch {
		case s.ev.Kind == "null" && s.ev.Via == "path":
			st = &p.NullPath
		case s.ev.Kind == "null" && s.ev.Via == "direct":
			st = &p.NullDirect
		case s.ev.Kind == "health" && s.ev.Via == "path":
			st = &p.HealthPath
		case s.ev.Kind == "health" && s.ev.Via == "direct":
			st = &p.HealthDirect
		default:
			continue
		}
		st.add(s.ev.MS, s.ev.ConnectMS, s.ev.Error != "")
	}
}

// joinCPU averages the cpu samples of each window.
func joinCPU(wins []Window, samples []timed[rundir.CPUSample], idx func(time.Duration) int) {
	for _, s := range samples {
		i := idx(s.at)
		if i < 0 {
			continue
		}
		w := &wins[i]
		if w.CPU == nil {
			w.CPU = &CPUWindow{}
		}
		c, e, n := w.CPU, s.ev, float64(w.CPU.Samples)
		mean := func(old, v float64) float64 { return (old*n + v) / (n + 1) }
		c.Cores = max(c.Cores, e.Cores)
		c.HostBusy = mean(c.HostBusy, e.HostBusy)
		c.GeneratorCores = mean(c.GeneratorCores, e.GeneratorCores)
		c.TargetInProcess = c.TargetInProcess || e.TargetInProcess
		if e.TargetCores != nil {
			c.HaveTarget = true
			c.TargetCores = mean(c.TargetCores, *e.TargetCores)
		}
		if e.DBCores != nil {
			c.HaveDB = true
			c.DBCores = mean(c.DBCores, *e.DBCores)
		}
		c.Samples++
	}
}
