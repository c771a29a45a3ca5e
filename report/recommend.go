package report

import (
	"fmt"
	"math"
	"time"

	"github.com/stampede-load/stampede/report/format"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// Recommendations size the database connections and set alert thresholds
// from what the run measured.
type Recommendations struct {
	// HoldTime is how long one login holds a database connection; HoldSource
	// says where it came from.
	HoldTime   time.Duration
	HoldSource string
	Sizing     []Sizing
	Alerts     []Alert
	// Lines are the recommendations in words.
	Lines []string
}

// Sizing is Little's law for one rate: connections = rate × hold, plus headroom.
type Sizing struct {
	RPS         float64
	Connections int // with headroom
	Busy        float64
	Headroom    float64
}

// Alert is a threshold on connection utilisation.
type Alert struct {
	Name        string // warn, page
	Metric      string
	Utilisation float64 // 0..1
	Why         string
}

// headroom is the margin sizing adds above Little's law's average.
const headroom = 1.3

// targetRPS is the rate the recommendations size for: the options', else
// the plan's peak.
func targetRPS(opts Options, p *rundir.Plan) float64 {
	if opts.TargetRPS > 0 {
		return opts.TargetRPS
	}
	return p.Peak()
}

// recommend sizes connections for target rates by Little's law from the
// measured hold time, and proposes alert thresholds on connection
// utilisation where latency turned and where errors began.
func recommend(r *Report, base []*Window, targetRPS float64) Recommendations {
	var rec Recommendations

	// How long one login holds a database connection: its db time, from
	// Server-Timing on healthy windows; else from the pool size and the limit.
	var c counts
	for _, w := range base {
		c.merge(&w.c)
	}
	cp := connectionCap(r, base)
	capConns, capName := cp.conns, cp.name
	switch {
	case c.timingN > 0 && c.db > 0:
		rec.HoldTime = msDur(c.db / float64(c.timingN))
		rec.HoldSource = fmt.Sprintf("Server-Timing db, mean over %d logins in %d healthy windows", c.timingN, len(base))
	case capConns > 0 && r.Limit.SustainableRPS != nil && *r.Limit.SustainableRPS > 0:
		capacity := *r.Limit.SustainableRPS
		if b := r.Limit.BreakingRPS; b != nil && *b > capacity {
			capacity = (capacity + *b) / 2
		}
		rec.HoldTime = time.Duration(float64(capConns) / capacity * float64(time.Second))
		where := ""
		if cp.where != "seen" {
			where = " (" + cp.where + ")"
		}
		rec.HoldSource = fmt.Sprintf("estimated: %s of %s connections%s / a capacity of %s/s (Little's law)", capName, format.Num(capConns), where, format.Num(format.Round(capacity, 1)))
	}

	if rec.HoldTime > 0 {
		hold := rec.HoldTime.Seconds()
		rates := []float64{}
		if targetRPS > 0 {
			rates = append(rates, targetRPS)
		}
		if b := r.Limit.BreakingRPS; b != nil && !containsRate(rates, *b) {
			rates = append(rates, *b)
		}
		for _, rate := range rates {
			busy := rate * hold
			rec.Sizing = append(rec.Sizing, Sizing{RPS: rate, Busy: busy, Headroom: headroom,
				Connections: max(1, int(math.Ceil(busy*headroom)))})
		}
		for _, s := range rec.Sizing {
			line := fmt.Sprintf("At %s/s, logins holding a connection %s each keep %s connections busy on average (Little's law: L = λ·W); provision %d (%.0f%% headroom)",
				format.Num(format.Round(s.RPS, 1)), format.MS(rec.HoldTime), format.Num(format.Round(s.Busy, 1)), s.Connections, (headroom-1)*100)
			if capConns > 0 && capConns < float64(s.Connections) {
				where := cp.where
				if where == "seen" {
					where = "(the tightest seen)"
				}
				line += fmt.Sprintf(": more than %s of %s %s, so raise it (and any cap below %d)", capName, format.Num(capConns), where, s.Connections)
			}
			rec.Lines = append(rec.Lines, line)
		}
		if capConns > 0 {
			predicted := capConns / hold
			line := fmt.Sprintf("The tightest connection cap %s, %s of %s, supports about %s/s at that hold time (measured: sustainable %s, breaking %s)",
				cp.where, capName, format.Num(capConns), format.Num(format.Round(predicted, 0)), format.RPS(r.Limit.SustainableRPS), format.RPSOr(r.Limit.BreakingRPS, "never reached"))
			if b := r.Limit.BreakingRPS; b != nil && *b < predicted/2 && r.Cause.Primary == CauseDBConnections {
				line += "; the cap bit far below that: connections are held longer than their db time (idle in transaction, pool churn) or another cap binds first"
			}
			rec.Lines = append(rec.Lines, line)
		}
	} else {
		rec.Lines = append(rec.Lines, "No hold time: without Server-Timing (db) or a known pool size and limit, connections cannot be sized by Little's law")
	}

	rec.Alerts = alerts(r)
	for _, a := range rec.Alerts {
		rec.Lines = append(rec.Lines, fmt.Sprintf("Alert (%s) when %s exceeds %s: %s", a.Name, a.Metric, pct0(a.Utilisation), a.Why))
	}
	if len(rec.Alerts) == 0 && r.Cause.Primary != CauseNone {
		rec.Lines = append(rec.Lines, "No connection-utilisation thresholds: they need database samples (pg_stat_activity, the pool) at the knee and where errors began")
	}
	if m := causeMeasure(r.Cause.Primary); m != "" {
		rec.Lines = append(rec.Lines, m)
	}
	return rec
}

// connCap is a connection cap: how many connections, which cap, and where
// it was read.
type connCap struct {
	conns float64
	name  string // "the role's connection limit"
	where string // "in force at the breaking point (150/s, from 35s)"
}

// connectionCap is the tightest connection cap that bound the run: the
// service's pool, the role's limit or the server's usable slots. It is
// read where the limit was measured: the degraded db.connections windows
// from the breaking point on, else any degraded db.connections windows,
// else the degraded windows from the breaking point on; only when none of
// those carry a cap, the healthy windows (and last the fixture's pool
// size when nothing was sampled). A cap on healthy windows can be looser
// than one imposed later in the run.
func connectionCap(r *Report, base []*Window) connCap {
	var atBreak, atBreakConn, conn []*Window
	for i := range r.Windows {
		w := &r.Windows[i]
		if w.SLOMet {
			continue
		}
		broke := r.Limit.BreakingRPS != nil && w.Start >= r.Limit.BreakingAt
		if broke {
			atBreak = append(atBreak, w)
		}
		if w.Cause == CauseDBConnections {
			conn = append(conn, w)
			if broke {
				atBreakConn = append(atBreakConn, w)
			}
		}
	}
	brk := ""
	if b := r.Limit.BreakingRPS; b != nil {
		brk = fmt.Sprintf("in force at the breaking point (%s/s, from %s)", format.Num(format.Round(*b, 1)), format.Sec(r.Limit.BreakingAt))
	}
	for _, c := range []struct {
		wins  []*Window
		where string
	}{
		{atBreakConn, brk},
		{conn, "in force while the cause was db.connections"},
		{atBreak, brk},
		{base, "seen"},
	} {
		if cp := tightestCap(c.wins); cp.conns > 0 {
			cp.where = c.where
			return cp
		}
	}
	if r.Fixture != nil && r.Fixture.DBPool > 0 {
		return connCap{conns: float64(r.Fixture.DBPool), name: "the fixture's pool", where: "seen"}
	}
	return connCap{}
}

// tightestCap is the smallest connection cap the windows' database
// samples show.
func tightestCap(wins []*Window) connCap {
	var best connCap
	consider := func(v float64, what string) {
		if v > 0 && (best.conns == 0 || v < best.conns) {
			best = connCap{conns: v, name: what}
		}
	}
	for _, w := range wins {
		if d := w.DB; d != nil {
			if d.HavePool {
				consider(d.PoolMax, "the service's pool")
			}
			if d.HaveBackends {
				consider(d.RoleLimit, "the role's connection limit")
				if d.MaxConnections > 0 {
					consider(d.MaxConnections-d.SuperuserReserved, "the server's usable max_connections")
				}
			}
		}
	}
	return best
}

// alerts place thresholds on connection utilisation: warn where latency
// turned upward (the knee, else the first degraded window), page where
// errors began. Only windows whose cause is db.connections count (a knee
// that met the SLO is diagnosed on its own evidence): a latency turn or
// errors with another cause, a network blip say, say nothing about
// connection utilisation.
func alerts(r *Report) []Alert {
	util := func(w *Window) (float64, string, bool) {
		if w == nil {
			return 0, "", false
		}
		return w.DB.utilisation()
	}
	connCause := func(w *Window) bool {
		if w.DB == nil {
			return false
		}
		if !w.SLOMet {
			return w.Cause == CauseDBConnections
		}
		for _, c := range caps { // a healthy window: its own findings showed a cap at its wall
			if _, ok := w.walls[c]; ok {
				return true
			}
		}
		return false
	}
	var kneeWin, errWin, firstBad *Window
	for i := range r.Windows {
		w := &r.Windows[i]
		if r.Limit.KneeRPS != nil && w.Start == r.Limit.KneeAt && connCause(w) {
			kneeWin = w
		}
		if errWin == nil && w.Errors.Total() > w.Errors.Generator && w.Cause != CauseGenerator && connCause(w) {
			errWin = w
		}
		if firstBad == nil && !w.SLOMet && w.Cause == CauseDBConnections && w.DB != nil {
			firstBad = w
		}
	}
	if kneeWin == nil {
		kneeWin = firstBad
	}
	var out []Alert
	pu, pm, pok := util(errWin)
	wu, wm, wok := util(kneeWin)
	if wok {
		why := fmt.Sprintf("latency turned upward at %s utilisation (%s, %s/s offered)", pct0(wu), format.Sec(kneeWin.Start), format.Num(format.Round(kneeWin.OfferedRPS, 1)))
		if pok && wu >= pu { // latency and errors turned together: warn before the page
			wu, wm = pu*0.8, pm
			why = fmt.Sprintf("80%% of where errors began (latency turned at the same point, %s)", format.Sec(kneeWin.Start))
		}
		out = append(out, Alert{Name: "warn", Metric: wm, Utilisation: floor5(wu), Why: why})
	}
	if pok {
		out = append(out, Alert{Name: "page", Metric: pm, Utilisation: floor5(pu),
			Why: fmt.Sprintf("errors began at %s utilisation (%s, %s/s offered)", pct0(pu), format.Sec(errWin.Start), format.Num(format.Round(errWin.OfferedRPS, 1)))})
	}
	return out
}

// floor5 rounds a utilisation down to 5%.
func floor5(u float64) float64 { return math.Floor(u*20+1e-9) / 20 }

func pct0(u float64) string { return format.Num(math.Round(u*100)) + "%" }

func containsRate(rates []float64, v float64) bool {
	for _, r := range rates {
		if math.Abs(r-v) < 1e-9 {
			return true
		}
	}
	return false
}

// causeMeasure is the standard corrective measure for a cause.
func causeMeasure(cause string) string {
	switch cause {
	case CauseDBConnections:
		return "Connection cap: size the pool and the role/server limits from the figures above (or cut the hold time); alert on utilisation, not on latency, which turns late"
	case CauseDBQueries:
		return "Queries: find the blockers (pg_blocking_pids, pg_locks), shorten transactions, set lock_timeout and statement_timeout below the login SLO"
	case CauseNetClient:
		return "Client network: check the path to the service (proxies, load balancer, TCP resets, SYN backlog) before the database"
	case CauseNetDB:
		return "Service-to-database network: check the path to the database (proxy, latency, resets); the database itself answered normally"
	case CauseApp:
		return "Service CPU: profile the login handler (password hashing cost, CPU limits) before scaling the database"
	case CauseGenerator:
		return "Load generator: the run could not offer its load (raise max_workers, ulimit -n, ephemeral ports, or shard the load); its figures are not the target's"
	case CauseUndetermined:
		return "Undetermined: add Server-Timing (pool, db, app) to the login service and database samples to the run, so the next one can decide"
	}
	return ""
}
