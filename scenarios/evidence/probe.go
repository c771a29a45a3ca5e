package evidence

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stampede-load/stampede/internal/secret"
	"github.com/stampede-load/stampede/scenarios/engine"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// EvidenceConfig says where the run's evidence comes from besides the
// results: the database (samples over a reserved connection), TCP connect
// probes to the service and the database, the service's health endpoint and
// its pool statistics. Empty fields turn that source off.
type EvidenceConfig struct {
	// AdminDSN reaches the service's database with enough privilege to read
	// pg_stat_activity (superuser, pg_monitor or pg_read_all_stats). Secret.
	AdminDSN string
	// Role is the service's database role, whose backends and limit are watched.
	Role string
	// ServiceAddr and DBAddr are host:port for the TCP connect probes.
	ServiceAddr, DBAddr string
	// HealthURL is fetched with each service probe (e.g. /healthz).
	HealthURL string
	// PoolURL serves the service's pool statistics as JSON (e.g. /debug/pool).
	PoolURL string
	// SampleEvery and ProbeEvery default to 1s and 500ms.
	SampleEvery, ProbeEvery time.Duration
}

// Evidence collects samples into the timeline until Stop.
type Evidence struct {
	cfg      EvidenceConfig
	conn     *pgx.Conn
	client   *http.Client
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	stopOnce sync.Once
}

// StartEvidence opens the database connection now, before the first
// request, so that sampling keeps working while a connection cap bites.
func StartEvidence(ctx context.Context, cfg EvidenceConfig) (*Evidence, error) {
	if cfg.SampleEvery <= 0 {
		cfg.SampleEvery = time.Second
	}
	if cfg.ProbeEvery <= 0 {
		cfg.ProbeEvery = 500 * time.Millisecond
	}
	ev := &Evidence{cfg: cfg, client: &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
	}}
	if cfg.AdminDSN != "" {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(cctx, cfg.AdminDSN)
		if err != nil {
			return nil, fmt.Errorf("evidence: reserve a database connection for sampling: %w", secret.Err(err))
		}
		if _, err := conn.Exec(cctx, "SET application_name = 'stampede-sampler'"); err != nil {
			conn.Close(ctx)
			return nil, fmt.Errorf("evidence: %w", secret.Err(err))
		}
		ev.conn = conn
	}
	return ev, nil
}

// Start begins sampling into sink (the run's timeline); it is a Hook.
func (ev *Evidence) Start(ctx context.Context, sink engine.Sink, _ time.Time) error {
	ev.Run(ctx, sink)
	return nil
}

// Run samples until ctx ends or Stop is called, writing to sink.
func (ev *Evidence) Run(ctx context.Context, sink engine.Sink) {
	ctx, ev.cancel = context.WithCancel(ctx)
	if ev.conn != nil {
		ev.wg.Add(1)
		go func() {
			defer ev.wg.Done()
			s := &dbSampler{conn: ev.conn, role: ev.cfg.Role}
			every(ctx, ev.cfg.SampleEvery, sink, func() rundir.Event {
				sample := s.sample(ctx)
				if ev.cfg.PoolURL != "" {
					sample.Pool = ev.fetchPool(ctx, ev.cfg.PoolURL)
				}
				return sample
			})
		}()
	} else if ev.cfg.PoolURL != "" {
		ev.wg.Add(1)
		go func() {
			defer ev.wg.Done()
			every(ctx, ev.cfg.SampleEvery, sink, func() rundir.Event {
				if pool := ev.fetchPool(ctx, ev.cfg.PoolURL); pool != nil {
					return rundir.DBSample{Type: rundir.EventPoolSample, Pool: pool}
				}
				return nil
			})
		}()
	}
	for _, p := range []struct{ path, addr, health string }{
		{"service", ev.cfg.ServiceAddr, ev.cfg.HealthURL}, {"db", ev.cfg.DBAddr, ""},
	} {
		if p.addr == "" {
			continue
		}
		ev.wg.Add(1)
		go func() {
			defer ev.wg.Done()
			every(ctx, ev.cfg.ProbeEvery, sink, func() rundir.Event {
				return ev.probe(ctx, p.path, p.addr, p.health)
			})
		}()
	}
}

// Stop ends sampling and closes the reserved connection; it is safe to call twice.
func (ev *Evidence) Stop(context.Context) error {
	ev.stopOnce.Do(ev.stop)
	return nil
}

func (ev *Evidence) stop() {
	if ev.cancel != nil {
		ev.cancel()
	}
	ev.wg.Wait()
	if ev.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		ev.conn.Close(ctx)
	}
}

// every calls f on each tick until ctx ends; f's event is recorded only if
// ctx was still live when f finished, so Stop never records a torn sample.
func every(ctx context.Context, d time.Duration, sink engine.Sink, f func() rundir.Event) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			ev := f()
			if ev == nil || ctx.Err() != nil {
				continue
			}
			sink.Record(ev, now)
		}
	}
}

func (ev *Evidence) probe(ctx context.Context, path, addr, health string) rundir.Event {
	p := rundir.TCPProbe{Path: path}
	d := net.Dialer{Timeout: 2 * time.Second}
	begin := time.Now()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		p.Error = engine.ClassifyDialError(err)
		return p
	}
	p.ConnectMS = millis(time.Since(begin))
	c.Close()
	if health != "" {
		begin = time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, health, nil)
		resp, err := ev.client.Do(req)
		if err != nil {
			p.HealthError = err.Error()
			return p
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		p.HealthMS = millis(time.Since(begin))
		p.HealthStatus = &resp.StatusCode
	}
	return p
}

// fetchPool reads the service's pool statistics; nil when it cannot.
func (ev *Evidence) fetchPool(ctx context.Context, u string) *rundir.PoolStat {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := ev.client.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var p rundir.PoolStat
	if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&p) != nil {
		return nil
	}
	return &p
}

// dbSampler reads the database's own view of its connections.
type dbSampler struct {
	conn        *pgx.Conn
	role        string
	lastCommits int64
	lastAt      time.Time
}

const statesSQL = `
SELECT coalesce(state, 'unknown'), count(*)::int FROM pg_stat_activity
WHERE backend_type = 'client backend' GROUP BY 1`

const rolesSQL = `
SELECT coalesce(usename, ''), count(*)::int FROM pg_stat_activity
WHERE backend_type = 'client backend' GROUP BY 1`

func (s *dbSampler) sample(ctx context.Context) rundir.DBSample {
	ctx, cancel := context.WithTimeout(ctx, 900*time.Millisecond)
	defer cancel()
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
	return m
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

func num(n int) *float64 { return ptr(float64(n)) }

func ptr(v float64) *float64 { return &v }

func millis(d time.Duration) *float64 { return ptr(math.Round(float64(d)/1e3) / 1e3) }
