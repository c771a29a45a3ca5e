package report

import (
	"fmt"
	"math"
	"time"
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
	capConns, capName := connectionCap(r, base)
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
		rec.HoldSource = fmt.Sprintf("estimated: %s of %s connections / a capacity of %s/s (Little's law)", capName, fnum(capConns), fnum(round(capacity, 1)))
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
			rec.Lines = append(rec.Lines, fmt.Sprintf("At %s/s, logins holding a connection %s each keep %s connections busy on average (Little's law: L = λ·W); provision %d (%.0f%% headroom)",
				fnum(round(s.RPS, 1)), fms(rec.HoldTime), fnum(round(s.Busy, 1)), s.Connections, (headroom-1)*100))
		}
		if capConns > 0 {
			predicted := capConns / hold
			line := fmt.Sprintf("The tightest connection cap seen, %s of %s, supports about %s/s at that hold time (measured: sustainable %s, breaking %s)",
				capName, fnum(capConns), fnum(round(predicted, 0)), rpsOrDash(r.Limit.SustainableRPS), rpsOrNever(r.Limit.BreakingRPS))
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

// connectionCap is the tightest connection cap on healthy windows: the
// service's pool, the role's limit or the server's usable slots (the
// fixture's pool size when nothing was sampled).
func connectionCap(r *Report, base []*Window) (float64, string) {
	best, name := 0.0, ""
	consider := func(v float64, what string) {
		if v > 0 && (best == 0 || v < best) {
			best, name = v, what
		}
	}
	for _, w := range base {
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
	if best == 0 && r.Fixture != nil {
		consider(float64(r.Fixture.DBPool), "the fixture's pool")
	}
	return best, name
}

// alerts place thresholds on connection utilisation: warn where latency
// turned upward (the knee, else the first degraded window), page where
// errors began.
func alerts(r *Report) []Alert {
	util := func(w *Window) (float64, string, bool) {
		if w == nil {
			return 0, "", false
		}
		return w.DB.utilisation()
	}
	var kneeWin, errWin, firstBad *Window
	for i := range r.Windows {
		w := &r.Windows[i]
		if r.Limit.KneeRPS != nil && w.Start == r.Limit.KneeAt {
			kneeWin = w
		}
		if errWin == nil && w.Errors.Total() > w.Errors.Generator && w.Cause != CauseGenerator && w.DB != nil {
			errWin = w
		}
		if firstBad == nil && !w.SLOMet && w.Cause != CauseGenerator && w.DB != nil {
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
		why := fmt.Sprintf("latency turned upward at %s utilisation (%s, %s/s offered)", pct0(wu), fsec(kneeWin.Start), fnum(round(kneeWin.OfferedRPS, 1)))
		if pok && wu >= pu { // latency and errors turned together: warn before the page
			wu, wm = pu*0.8, pm
			why = fmt.Sprintf("80%% of where errors began (latency turned at the same point, %s)", fsec(kneeWin.Start))
		}
		out = append(out, Alert{Name: "warn", Metric: wm, Utilisation: floor5(wu), Why: why})
	}
	if pok {
		out = append(out, Alert{Name: "page", Metric: pm, Utilisation: floor5(pu),
			Why: fmt.Sprintf("errors began at %s utilisation (%s, %s/s offered)", pct0(pu), fsec(errWin.Start), fnum(round(errWin.OfferedRPS, 1)))})
	}
	return out
}

// floor5 rounds a utilisation down to 5%.
func floor5(u float64) float64 { return math.Floor(u*20+1e-9) / 20 }

func pct0(u float64) string { return fnum(math.Round(u*100)) + "%" }

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
