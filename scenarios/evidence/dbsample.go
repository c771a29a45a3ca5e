package evidence

import (
	"context"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stampede-load/stampede/internal/secret"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// dbSampler reads the database's own view of its connections.
type dbSampler struct {
	conn *pgx.Conn
	role string
	// path, when set, times the probe query through the database path.
	path        *pathProbe
	lastCommits int64
	lastAt      time.Time
	// versionNum is server_version_num, read once; 0 until then.
	versionNum int
	// lastPids are the role's backends at the previous sample; nil
	// before the first, so that the first sample counts nothing as new.
	lastPids map[int32]bool
}

// sessionCountersSince is the first server version whose pg_stat_database
// counts sessions killed, fatal and abandoned (PostgreSQL 14).
const sessionCountersSince = 140000

const statesSQL = `
SELECT coalesce(state, 'unknown'), count(*)::int FROM pg_stat_activity
WHERE backend_type = 'client backend' GROUP BY 1`

const rolesSQL = `
SELECT coalesce(usename, ''), count(*)::int FROM pg_stat_activity
WHERE backend_type = 'client backend' GROUP BY 1`

// roleBackendsSQL lists the role's client backends, one row each: their
// pids tell vanished and new sessions apart, their states and wait event
// types are counted here rather than in one more query.
const roleBackendsSQL = `
SELECT pid, coalesce(state, 'unknown'), coalesce(wait_event_type, 'none') FROM pg_stat_activity
WHERE backend_type = 'client backend' AND usename = $1 AND pid <> pg_backend_pid()`

// The database-wide counters, summed over databases: deadlocks on every
// server, the session counters from PostgreSQL 14.
const (
	countersSQL   = `SELECT ARRAY[coalesce(sum(deadlocks), 0)]::float8[] FROM pg_stat_database`
	countersSQL14 = `SELECT ARRAY[coalesce(sum(deadlocks), 0), coalesce(sum(sessions_killed), 0),
  coalesce(sum(sessions_fatal), 0), coalesce(sum(sessions_abandoned), 0)]::float8[] FROM pg_stat_database`
)

func (s *dbSampler) sample(ctx context.Context) rundir.DBSample {
	ctx, cancel := context.WithTimeout(ctx, 900*time.Millisecond)
	defer cancel()
	// The path probe runs beside the direct reads: a slow path must not
	// delay them, nor they it.
	var pathRTT *float64
	var pathErr string
	done := make(chan struct{})
	go func() {
		defer close(done)
		if s.path != nil {
			pathRTT, pathErr = s.path.probe(ctx)
		}
	}()
	m := s.direct(ctx)
	<-done
	m.PathProbeRTTMS, m.PathProbeError = pathRTT, pathErr
	return m
}

// direct is the sample over the reserved connection.
func (s *dbSampler) direct(ctx context.Context) rundir.DBSample {
	var m rundir.DBSample
	begin := time.Now()
	if _, err := s.conn.Exec(ctx, "SELECT 1"); err != nil {
		m.Error = secret.Err(err).Error()
		return m
	}
	m.ProbeRTTMS = millis(time.Since(begin))

	var total, roleN, roleActive, lockWaiters, roleLimit, maxConns, reserved int
	var commits int64
	err := s.conn.QueryRow(ctx, `
SELECT
  count(*) FILTER (WHERE backend_type = 'client backend'),
  count(*) FILTER (WHERE backend_type = 'client backend' AND usename = $1),
  count(*) FILTER (WHERE backend_type = 'client backend' AND usename = $1 AND state = 'active'),
  count(*) FILTER (WHERE wait_event_type = 'Lock'),
  coalesce((SELECT rolconnlimit FROM pg_roles WHERE rolname = $1), -1),
  current_setting('max_connections')::int,
  current_setting('superuser_reserved_connections')::int,
  (SELECT coalesce(sum(xact_commit), 0)::bigint FROM pg_stat_database)
FROM pg_stat_activity`, s.role).Scan(&total, &roleN, &roleActive, &lockWaiters, &roleLimit, &maxConns, &reserved, &commits)
	if err != nil {
		m.Error = secret.Err(err).Error()
		return m
	}
	now := time.Now()
	m.BackendsTotal, m.RoleBackends, m.RoleActive = num(total), num(roleN), num(roleActive)
	m.LockWaiters, m.RoleLimit = num(lockWaiters), num(roleLimit)
	m.MaxConnections, m.SuperuserReserved = num(maxConns), num(reserved)
	if !s.lastAt.IsZero() {
		m.CommitsPerS = ptr(math.Round(float64(commits-s.lastCommits)/now.Sub(s.lastAt).Seconds()*10) / 10)
	}
	s.lastCommits, s.lastAt = commits, now
	m.ByState = s.counts(ctx, statesSQL)
	m.ByRole = s.counts(ctx, rolesSQL)
	if s.role != "" {
		s.roleBackends(ctx, &m)
	}
	s.counters(ctx, &m)
	return m
}

// roleBackends fills the role's backends by state and by wait, and the
// backends vanished and new since the previous sample.
func (s *dbSampler) roleBackends(ctx context.Context, m *rundir.DBSample) {
	rows, err := s.conn.Query(ctx, roleBackendsSQL, s.role)
	if err != nil {
		return
	}
	defer rows.Close()
	byState, waits, pids := map[string]float64{}, map[string]float64{}, map[int32]bool{}
	for rows.Next() {
		var pid int32
		var state, wait string
		if rows.Scan(&pid, &state, &wait) != nil {
			return
		}
		pids[pid] = true
		byState[state]++
		if state == "active" {
			waits[wait]++
		}
	}
	if rows.Err() != nil {
		return
	}
	m.RoleByState, m.RoleWaits = byState, waits
	if s.lastPids != nil {
		var gone, added int
		for pid := range s.lastPids {
			if !pids[pid] {
				gone++
			}
		}
		for pid := range pids {
			if !s.lastPids[pid] {
				added++
			}
		}
		m.RoleGone, m.RoleNew = num(gone), num(added)
	}
	s.lastPids = pids
}

// counters fills pg_stat_database's deadlocks and, on PostgreSQL 14 and
// later, its session counters; older servers leave those nil.
func (s *dbSampler) counters(ctx context.Context, m *rundir.DBSample) {
	if s.versionNum == 0 {
		if s.conn.QueryRow(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&s.versionNum) != nil {
			return
		}
	}
	sql := countersSQL
	if s.versionNum >= sessionCountersSince {
		sql = countersSQL14
	}
	var v []float64
	if s.conn.QueryRow(ctx, sql).Scan(&v) != nil || len(v) == 0 {
		return
	}
	m.Deadlocks = ptr(v[0])
	if len(v) == 4 {
		m.SessionsKilled, m.SessionsFatal, m.SessionsAbandoned = ptr(v[1]), ptr(v[2]), ptr(v[3])
	}
}

func (s *dbSampler) counts(ctx context.Context, sql string) map[string]float64 {
	out := map[string]float64{}
	rows, err := s.conn.Query(ctx, sql)
	if err != nil {
		return out
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if rows.Scan(&k, &n) == nil {
			out[k] = float64(n)
		}
	}
	return out
}
