package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/deploy/k8s"
	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/engine"
	"github.com/stampede-load/stampede/scenarios/engine/barrier"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// shardFlags are run's flags for one shard of a sharded run.
type shardFlags struct {
	shard          string // "I/N"
	shards         int    // N, with I from $JOB_COMPLETION_INDEX
	startAt        string // RFC 3339
	barrier        string // host:port of shard 0
	barrierTimeout time.Duration
}

func (f *shardFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.shard, "shard", "", "run shard I of N (I/N, I from 0): 1/N of every stage's rate, every N-th credential from the I-th; shard 0 alone injects faults and samples evidence (needs --target, and --start-at or --barrier)")
	fs.IntVar(&f.shards, "shards", 0, "run one of N shards, its index from $"+k8s.IndexEnv+" (an Indexed Job's pod)")
	fs.StringVar(&f.startAt, "start-at", "", "sharded run: start sending at this instant (RFC 3339, in the future), on this machine's clock")
	fs.StringVar(&f.barrier, "barrier", "", "sharded run: start when every shard has checked in with shard 0 at HOST:PORT (shard 0 listens there)")
	fs.DurationVar(&f.barrierTimeout, "barrier-timeout", barrier.DefaultTimeout, "sharded run: how long to wait at the barrier for the other shards")
}

// shardPlan is one shard's place in a sharded run, as its flags give it.
type shardPlan struct {
	rundir.Shard
	timeout time.Duration
}

// resolve checks the shard flags; nil without sharding.
func (f *shardFlags) resolve(e *env) (*shardPlan, error) {
	if f.shard == "" && f.shards == 0 {
		if f.startAt != "" || f.barrier != "" {
			return nil, usageErr("--start-at and --barrier start the shards of a sharded run together: add --shard I/N or --shards N")
		}
		return nil, nil
	}
	p := &shardPlan{timeout: f.barrierTimeout}
	var err error
	switch {
	case f.shard != "" && f.shards != 0:
		return nil, usageErr("--shard I/N and --shards N: give one")
	case f.shard != "":
		i, n, ok := strings.Cut(f.shard, "/")
		if p.Index, p.Count, err = shardNumbers(i, n); !ok || err != nil {
			return nil, usageErr("--shard %q: want I/N, as 0/3 (shard 0 of 3)", f.shard)
		}
	default:
		idx := e.getenv(k8s.IndexEnv)
		if idx == "" {
			return nil, usageErr("--shards %d: $%s, this shard's index, is not set (it is set in an Indexed Job's pods; elsewhere use --shard I/N)", f.shards, k8s.IndexEnv)
		}
		if p.Index, p.Count, err = shardNumbers(idx, strconv.Itoa(f.shards)); err != nil {
			return nil, usageErr("--shards %d: $%s=%q is not a shard index", f.shards, k8s.IndexEnv, idx)
		}
	}
	if p.Count < 1 {
		return nil, usageErr("a sharded run has at least 1 shard, not %d", p.Count)
	}
	if p.Index < 0 || p.Index >= p.Count {
		return nil, usageErr("shard %d of %d: the index runs from 0 to %d", p.Index, p.Count, p.Count-1)
	}
	switch {
	case f.startAt != "" && f.barrier != "":
		return nil, usageErr("--start-at and --barrier: give one")
	case f.startAt != "":
		if p.StartAt, err = time.Parse(time.RFC3339Nano, f.startAt); err != nil {
			return nil, usageErr("--start-at %q: not an RFC 3339 time (2026-11-30T07:00:00Z)", f.startAt)
		}
		if !p.StartAt.After(time.Now()) {
			return nil, usageErr("--start-at %s is in the past", f.startAt)
		}
	case f.barrier != "":
		if _, _, err := splitPort(f.barrier); err != nil {
			return nil, usageErr("--barrier %q: want HOST:PORT: %v", f.barrier, err)
		}
		p.Barrier = f.barrier
	default:
		return nil, usageErr("a sharded run starts all its shards at one instant: add --barrier HOST:PORT (shard 0's) or --start-at TIME")
	}
	if p.timeout <= 0 {
		return nil, usageErr("--barrier-timeout must be above 0, got %s", p.timeout)
	}
	return p, nil
}

func shardNumbers(i, n string) (int, int, error) {
	index, err := strconv.Atoi(strings.TrimSpace(i))
	if err != nil {
		return 0, 0, err
	}
	count, err := strconv.Atoi(strings.TrimSpace(n))
	return index, count, err
}

func splitPort(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("port %q", port)
	}
	return host, n, nil
}

// check refuses what a sharded run of this scenario cannot do, before
// anything starts.
func (p *shardPlan) check(sc *scenarios.Scenario, f *runFlags, paths map[string]bool) error {
	if sc.Mode == scenarios.ModeSearch {
		return usageErr("%s: a search cannot be sharded: each shard would search on its own", sc.Path)
	}
	if firstNonEmpty(f.target, sc.Target) == "" {
		return usageErr("a sharded run needs --target (or the scenario's target): without one every shard would start and load its own bundled fixture; start one with 'stampede fixture' and point every shard at it")
	}
	if paths[chaos.PathClient] && sc.Network.Toxiproxy == "" {
		return usageErr("%s: a net.* fault on the client path of a sharded run needs a proxy that every shard sends through: name a network.toxiproxy server (an in-process proxy of shard 0 carries shard 0's load only)", sc.Path)
	}
	return nil
}

// sendsOnly: shards other than 0 only send, with no proxies, evidence or
// faults of their own.
func (p *shardPlan) sendsOnly() bool { return p != nil && p.Index > 0 }

// hash is what every shard must agree on: the scenario's bytes, the count,
// the whole run's scale and the target as given.
func (p *shardPlan) hash(sc *scenarios.Scenario, f *runFlags) string {
	return barrier.Hash(sc.Raw, "count="+strconv.Itoa(p.Count),
		"scale="+strconv.FormatFloat(f.scale, 'g', -1, 64), "target="+firstNonEmpty(f.target, sc.Target))
}

// credentials are this shard's slice: every Count-th credential from the
// Index-th, so that no two shards ever log in the same user.
func (p *shardPlan) credentials(all []engine.Credential) ([]engine.Credential, error) {
	if len(all) < p.Count {
		return nil, usageErr("%d credentials for %d shards: each shard needs users of its own", len(all), p.Count)
	}
	var mine []engine.Credential
	for i := p.Index; i < len(all); i += p.Count {
		mine = append(mine, all[i])
	}
	return mine, nil
}

// waitForStart is the shared start instant: --start-at's, or the one the
// barrier releases. A signal while waiting gives up.
func (p *shardPlan) waitForStart(ctx context.Context, e *env, hash string) (time.Time, error) {
	if p.Barrier == "" {
		if !p.StartAt.After(time.Now()) {
			return time.Time{}, usageErr("--start-at %s passed while the run was being prepared", p.StartAt.Format(time.RFC3339Nano))
		}
		return p.StartAt, nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case sig := <-e.signals:
			cancel(fmt.Errorf("interrupted by %s", sig))
		case <-done:
		}
	}()
	c := barrier.Config{Addr: p.Barrier, Index: p.Index, Count: p.Count, Hash: hash, Timeout: p.timeout}
	role := barrier.Follower
	if p.Index == 0 {
		role = barrier.Leader
		fmt.Fprintf(e.stderr, "stampede: shard 0 of %d: waiting at %s for the other shards to check in...\n", p.Count, p.Barrier)
	} else {
		fmt.Fprintf(e.stderr, "stampede: shard %d of %d: checking in with shard 0 at %s...\n", p.Index, p.Count, p.Barrier)
	}
	start, err := role(ctx, c)
	switch {
	case errors.Is(err, barrier.ErrRefused):
		return time.Time{}, usageErr("%v", err)
	case err != nil:
		return time.Time{}, infraErr(err)
	}
	fmt.Fprintf(e.stderr, "stampede: released; starting at %s\n", start.Format(time.RFC3339Nano))
	return start, nil
}

// prepareShard takes this shard's slice of the credentials; a shard other
// than 0 then prepares to send and nothing more (prepareSender).
func (s *runSetup) prepareShard(ctx context.Context, paths map[string]bool) error {
	if s.creds == nil {
		return usageErr("%s: the target %s needs credentials: set credentials.file in the scenario", s.sc.Path, s.target.Redacted())
	}
	var err error
	if s.creds, err = s.shard.credentials(s.creds); err != nil {
		return err
	}
	if s.shard.sendsOnly() {
		return s.prepareSender(ctx, paths)
	}
	return nil
}

// prepareSender is prepare for a shard other than 0: the target, checked
// and reached, and nothing else (shard 0 holds the proxies, the evidence
// and the faults). Through a Toxiproxy server it sends where shard 0 does.
func (s *runSetup) prepareSender(ctx context.Context, paths map[string]bool) error {
	sc := s.sc
	if sc.Network.Toxiproxy != "" && paths[chaos.PathClient] {
		s.network = chaos.NewRemoteNetwork(sc.Network.Toxiproxy)
		px, err := s.network.Proxy(ctx, chaos.PathClient)
		if err != nil {
			return infraErr(fmt.Errorf("toxiproxy %s: %w", sc.Network.Toxiproxy, err))
		}
		s.target.Host = px.Listen
	}
	if err := reachable(ctx, s.target); err != nil {
		return infraErr(err)
	}
	s.manifest.TargetKind = "external"
	return os.MkdirAll(s.dir, 0o755)
}
