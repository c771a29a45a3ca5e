package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/fixtures"
	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/engine"
	"github.com/stampede-load/stampede/scenarios/evidence"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// runSetup is what a run stands on: the target (the bundled fixture or the
// user's service), the proxies that network faults act on, the fault
// environment and the evidence sources. close undoes all of it.
type runSetup struct {
	e        *env
	f        *runFlags
	sc       *scenarios.Scenario
	manifest *rundir.Manifest

	target   *url.URL
	dir      string
	seed     int64
	creds    []engine.Credential
	stack    *fixtures.Stack
	network  chaos.Network
	chaosEnv *chaos.Env
	evidence *evidence.Evidence
	shard    *shardPlan // nil for a run on one agent
}

// prepare resolves the target and starts what the run needs. paths are the
// network paths ("client", "db") that the scenario's faults act on.
func (s *runSetup) prepare(ctx context.Context, paths map[string]bool) error {
	sc, f := s.sc, s.f
	targetStr := firstNonEmpty(f.target, sc.Target)
	if targetStr != "" {
		var err error
		if s.target, err = checkTarget(targetStr, f.allowRemote || sc.AllowRemote); err != nil {
			return err
		}
	}
	s.seed = f.seed
	if s.seed == 0 {
		s.seed = sc.Seed
	}
	if s.seed == 0 {
		s.seed = time.Now().UnixNano()
	}
	s.dir = firstNonEmpty(f.out, sc.Output.Dir, filepath.Join("runs", time.Now().Format("20060102-150405")+"-"+sc.Name))
	// A run directory is the unit of record: never mix two runs in one
	// (nor hide an earlier run's unrestored fault journal).
	if _, err := os.Stat(filepath.Join(s.dir, rundir.ResultsFile)); err == nil {
		return usageErr("run directory %s already holds a run; choose another --out (or remove it; if it was interrupted, run 'stampede chaos restore %s' first)", s.dir, s.dir)
	}
	if sc.Credentials.File != "" {
		var err error
		if s.creds, err = engine.LoadCredentials(sc.Credentials.File); err != nil {
			return usageErr("%v", err)
		}
	}
	if s.shard != nil {
		if err := s.prepareShard(ctx, paths); err != nil || s.shard.sendsOnly() {
			return err
		}
	}
	if len(paths) > 0 {
		if sc.Network.Toxiproxy != "" && s.target != nil {
			s.network = chaos.NewRemoteNetwork(sc.Network.Toxiproxy)
		} else {
			s.network = chaos.NewNetwork()
		}
	}
	var evcfg evidence.EvidenceConfig
	var err error
	if s.target == nil {
		evcfg, err = s.prepareFixture(ctx, paths)
	} else {
		evcfg, err = s.prepareExternal(ctx, paths)
	}
	if err != nil {
		return err
	}
	evcfg.ServiceAddr = hostPort(s.target)
	if p := nullPath(sc.Evidence.NullPath); p != "" {
		evcfg.NullURL = s.target.JoinPath(p).String()
	}
	if s.evidence, err = evidence.StartEvidence(ctx, evcfg); err != nil {
		return infraErr(err)
	}
	return nil
}

func (s *runSetup) prepareFixture(ctx context.Context, paths map[string]bool) (evidence.EvidenceConfig, error) {
	opts := fixtureOptions(s.e, s.sc, s.f)
	if c := opts.HashCost; c != 0 && (c < bcrypt.MinCost || c > bcrypt.MaxCost) {
		return evidence.EvidenceConfig{}, usageErr("fixture hash cost must be 0 (off) or %d..%d, got %d", bcrypt.MinCost, bcrypt.MaxCost, c)
	}
	var dbPathAddr string
	if paths[chaos.PathDB] {
		// The service reaches its database through the db proxy; evidence
		// and faults go straight to the database, and the path probe
		// through the proxy.
		opts.ServiceDBAddr = func(dbAddr string) (string, error) {
			addr, err := s.network.AddProxy(ctx, chaos.PathDB, "127.0.0.1:0", dbAddr)
			dbPathAddr = addr
			return addr, err
		}
	}
	stack, err := startFixture(ctx, s.e, opts)
	if err != nil {
		return evidence.EvidenceConfig{}, err
	}
	s.stack = stack
	s.target, _ = url.Parse(stack.URL)
	ownAddr := hostPort(s.target) // the fixture's own listener, around any proxy
	if paths[chaos.PathClient] {
		addr, err := s.network.AddProxy(ctx, chaos.PathClient, "127.0.0.1:0", hostPort(s.target))
		if err != nil {
			return evidence.EvidenceConfig{}, infraErr(fmt.Errorf("client-path proxy: %w", err))
		}
		s.target.Host = addr
	}
	o := stack.Options
	s.manifest.TargetKind = "bundled fixture"
	s.manifest.Fixture = &rundir.Fixture{DBPool: o.DBPool, DBHold: rundir.Duration(o.DBHold),
		DBHoldMS: float64(o.DBHold) / 1e6, MaxConnections: o.MaxConnections, Users: o.Users,
		Role: fixtures.AppRole, ServerTiming: !o.HideServerTiming, Shape: o.Shape.String()}
	s.manifest.NetworkPaths = sortedKeys(paths) // written even when empty
	if s.creds == nil {
		if s.creds, err = engine.LoadCredentials(stack.CredentialsPath); err != nil {
			return evidence.EvidenceConfig{}, infraErr(err)
		}
	}
	// The admin DSN names the server's maintenance database; the service's
	// tables (db.lock's) are in the fixture's own.
	s.chaosEnv = &chaos.Env{AdminDSN: stack.AdminDSN, Role: fixtures.AppRole, Database: fixtures.Database,
		Ephemeral: stack.PG != nil, Network: s.network}
	ev := evidence.EvidenceConfig{AdminDSN: stack.AdminDSN, Role: fixtures.AppRole, DBAddr: stack.DBAddr,
		HealthURL: s.target.JoinPath("/healthz").String(), DBPathAddr: dbPathAddr,
		DirectAddr: ownAddr, TargetAddr: ownAddr}
	// A fixture without a pool, or told to hide it, serves no pool endpoint.
	if !o.ConnPerLogin && !o.NoPoolEndpoint {
		ev.PoolURL = strings.TrimRight(stack.URL, "/") + "/debug/pool"
	}
	return ev, nil
}

func (s *runSetup) prepareExternal(ctx context.Context, paths map[string]bool) (evidence.EvidenceConfig, error) {
	sc := s.sc
	if s.creds == nil {
		return evidence.EvidenceConfig{}, usageErr("%s: the target %s needs credentials: set credentials.file in the scenario", sc.Path, s.target.Redacted())
	}
	dsn := firstNonEmpty(s.f.dsn, s.e.getenv("STAMPEDE_DSN"))
	for _, k := range faultKinds(sc) {
		if strings.HasPrefix(k, "db.") && dsn == "" {
			return evidence.EvidenceConfig{}, usageErr("%s: the %s fault needs the service's database: pass --dsn or set STAMPEDE_DSN", sc.Path, k)
		}
	}
	// directAddr is the service's own address around the client-path
	// proxy; dbPathAddr the db proxy's, for the path probe.
	var directAddr, dbPathAddr string
	if sc.Network.Toxiproxy == "" {
		proxies := sc.Network.Proxies()
		for _, name := range sortedKeys(proxies) {
			p := proxies[name]
			addr, err := s.network.AddProxy(ctx, name, p.Listen, p.Upstream)
			if err != nil {
				return evidence.EvidenceConfig{}, infraErr(fmt.Errorf("proxy %s (%s → %s): %w", name, p.Listen, p.Upstream, err))
			}
			switch name {
			case chaos.PathClient:
				s.target.Host = addr // the load goes through the client-path proxy
				directAddr = p.Upstream
			case chaos.PathDB:
				dbPathAddr = addr
			}
		}
	} else {
		if paths[chaos.PathClient] {
			p, err := s.network.Proxy(ctx, chaos.PathClient)
			if err != nil {
				return evidence.EvidenceConfig{}, infraErr(fmt.Errorf("toxiproxy %s: %w", sc.Network.Toxiproxy, err))
			}
			s.target.Host, directAddr = p.Listen, p.Upstream
		}
		if paths[chaos.PathDB] {
			if p, err := s.network.Proxy(ctx, chaos.PathDB); err == nil {
				dbPathAddr = p.Listen
			}
		}
	}
	for p := range paths {
		if _, ok := sc.Network.Proxies()[p]; !ok && sc.Network.Toxiproxy == "" {
			return evidence.EvidenceConfig{}, usageErr("%s: a net.* fault acts on path %q, but network.proxies declares no %q proxy (listen and upstream addresses) and no network.toxiproxy server is named", sc.Path, p, p)
		}
	}
	if err := reachable(ctx, s.target); err != nil {
		return evidence.EvidenceConfig{}, infraErr(err)
	}
	s.manifest.TargetKind = "external"
	s.chaosEnv = &chaos.Env{AdminDSN: dsn, Role: sc.Evidence.Role, Network: s.network}
	ev := evidence.EvidenceConfig{AdminDSN: dsn, Role: sc.Evidence.Role,
		DirectAddr: directAddr, TargetAddr: firstNonEmpty(directAddr, hostPort(s.target))}
	if dsn != "" {
		ev.DBAddr = dsnAddr(dsn)
		ev.DBPathAddr = dbPathAddr
	}
	if sc.Evidence.HealthPath != "" {
		ev.HealthURL = s.target.JoinPath(sc.Evidence.HealthPath).String()
	}
	if sc.Evidence.PoolPath != "" {
		ev.PoolURL = s.target.JoinPath(sc.Evidence.PoolPath).String()
	}
	return ev, nil
}

// nullPath is the null probe's path: the scenario's, its default when
// unset (a scenario built in code), "" when turned off.
func nullPath(p string) string {
	switch p {
	case "off":
		return ""
	case "":
		return scenarios.DefaultNullPath
	}
	return p
}

// close stops evidence, proxies and the fixture, in that order.
func (s *runSetup) close() {
	if s.evidence != nil {
		_ = s.evidence.Stop(context.Background())
	}
	if s.stack != nil {
		_ = s.stack.Close()
	}
	if s.network != nil {
		_ = s.network.Close(context.Background())
	}
}

func faultKinds(sc *scenarios.Scenario) []string {
	var ks []string
	for _, f := range sc.Faults {
		ks = append(ks, f.Kind)
	}
	return ks
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
