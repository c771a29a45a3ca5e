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

	// DBPathAddr is host:port of the proxy on the path from the service to
	// its database (network.db, or the bundled fixture's db proxy). When
	// set, a second connection is reserved through it with AdminDSN's
	// credentials, and each db_sample times the probe query over it too.
	DBPathAddr string
	// NullURL is the null probe: a GET of a path the service does not use,
	// the cheapest request it answers without its database, sent the way
	// the load goes (any status is an answer). Empty: no null probes.
	NullURL string
	// DirectAddr is the service's own host:port, around the client-path
	// proxy: the null and health probes are sent there too. Empty when
	// not known.
	DirectAddr string
	// TargetAddr is host:port the service itself listens on; when it is a
	// loopback address, the CPU sampler finds the process behind it.
	TargetAddr string
}

// Evidence collects samples into the timeline until Stop.
type Evidence struct {
	cfg      EvidenceConfig
	conn     *pgx.Conn
	path     *pathProbe
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
		if cfg.DBPathAddr != "" {
			// A path probe that cannot connect yet is not fatal: it retries
			// each sample, and its failures are evidence too.
			ev.path = newPathProbe(cfg.AdminDSN, cfg.DBPathAddr)
			ev.path.connect(cctx)
		}
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
			s := &dbSampler{conn: ev.conn, role: ev.cfg.Role, path: ev.path}
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
	ev.runHTTPProbes(ctx, sink)
	ev.runCPUSampler(ctx, sink)
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
	if ev.path != nil {
		ev.path.close()
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

func num(n int) *float64 { return ptr(float64(n)) }

func ptr(v float64) *float64 { return &v }

func millis(d time.Duration) *float64 { return ptr(math.Round(float64(d)/1e3) / 1e3) }
