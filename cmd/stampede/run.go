package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-isatty"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/pflag"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/fixtures"
	"github.com/stampede-load/stampede/fixtures/pg"
	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/render"
	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/engine"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

type runFlags struct {
	target, dsn, out string
	baseline         string
	scale            float64
	seed             int64
	allowRemote      bool
	quiet            bool
	skipSmoke        bool
	metricsAddr      string
	fixture          fixtureTuning
	shard            shardFlags
}

// fixtureTuning is what `run` passes through to the bundled fixture.
type fixtureTuning struct {
	dbPool, maxConns, users int
	dbHold                  time.Duration
	dbHoldSet               bool // --fixture-db-hold given (0 is a real value)
	hideServerTiming        bool
	shape                   fixtureShape // run_fixture_shape.go
}

func (f *fixtureTuning) register(fs *pflag.FlagSet, prefix string) {
	fs.IntVar(&f.dbPool, prefix+"db-pool", 0, fmt.Sprintf("bundled fixture: the service's database pool size (default %d)", fixtures.DefaultDBPool))
	fs.DurationVar(&f.dbHold, prefix+"db-hold", 0, "bundled fixture: minimum time each login holds its database connection (e.g. 50ms; default: the scenario's fixture.db_hold, else 0)")
	fs.IntVar(&f.maxConns, prefix+"max-connections", 0, fmt.Sprintf("bundled fixture: PostgreSQL max_connections (default %d)", fixtures.DefaultMaxConnections))
	fs.IntVar(&f.users, prefix+"users", 0, fmt.Sprintf("bundled fixture: users to seed (default %d)", fixtures.DefaultUsers))
	fs.BoolVar(&f.hideServerTiming, prefix+"hide-server-timing", false, "bundled fixture: leave out the Server-Timing header (a black box)")
	f.shape.register(fs, prefix)
}

func cmdRun(ctx context.Context, e *env, args []string) error {
	return runScenario(ctx, e, args, runVariant{name: "run"})
}

// runVariant is what sets a command that runs a scenario apart from run
// (find-limit): its name, flags of its own, and a change to the scenario
// once loaded, before anything starts.
type runVariant struct {
	name   string
	flags  func(fs *pflag.FlagSet)
	adjust func(sc *scenarios.Scenario) error
}

// runScenario runs a scenario and reports it, for run and find-limit.
func runScenario(ctx context.Context, e *env, args []string, v runVariant) error {
	var f runFlags
	fs := newFlagSet(v.name, "SCENARIO [flags]", e)
	fs.StringVar(&f.target, "target", "", "base URL of the login service (default: the scenario's target, else the bundled fixture)")
	fs.StringVar(&f.dsn, "dsn", "", "admin DSN of the service's database, for evidence and database faults; with the bundled fixture, an existing PostgreSQL instead of a throwaway one (also $STAMPEDE_DSN)")
	fs.StringVar(&f.out, "out", "", "run directory (default runs/<time>-<scenario>)")
	fs.StringVar(&f.baseline, "baseline", "", "an earlier report.json or run directory to compare with (regression gates)")
	fs.Float64Var(&f.scale, "scale", 1, "multiply every stage's rate by this factor")
	fs.Int64Var(&f.seed, "seed", 0, "seed for credential choice (default: the scenario's, else random; recorded in the manifest)")
	fs.BoolVar(&f.allowRemote, "allow-remote", false, "allow a target that is not a loopback address")
	fs.BoolVar(&f.quiet, "quiet", false, "no live progress display")
	fs.BoolVar(&f.skipSmoke, "skip-smoke", false, "do not send the smoke login (one valid login, one wrong one) before the run")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve live Prometheus metrics at http://ADDR/metrics during the run (e.g. 127.0.0.1:9090; port 0 picks one)")
	f.fixture.register(fs, "fixture-")
	f.shard.register(fs)
	if v.flags != nil {
		v.flags(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	f.fixture.dbHoldSet = fs.Changed("fixture-db-hold")
	if fs.NArg() != 1 {
		return usageErr("%s needs exactly one SCENARIO (a file or an example: %s)", v.name, strings.Join(scenarios.Examples(), ", "))
	}
	if f.scale <= 0 {
		return usageErr("--scale must be above 0, got %g", f.scale)
	}
	sc, err := scenarios.LoadNamed(fs.Arg(0))
	if err != nil {
		return usageErr("%v", err)
	}
	if v.adjust != nil {
		if err := v.adjust(sc); err != nil {
			return usageErr("%v", err)
		}
	}
	if sc.Mode == scenarios.ModeSearch {
		if f.scale != 1 {
			return usageErr("--scale: a search cannot be scaled (got %g): it finds one rate for one load generator", f.scale)
		}
		if _, err := sc.SearchSettings(); err != nil {
			return usageErr("%s: %v", sc.Path, err)
		}
	}
	reg := chaos.NewRegistry()
	plan, err := scenarios.BuildFaults(sc, reg, nil) // check every fault before anything starts
	if err != nil {
		return usageErr("%v", err)
	}
	shard, err := f.shard.resolve(e)
	if err != nil {
		return err
	}
	if shard != nil {
		if err := shard.check(sc, &f, plan.Paths); err != nil {
			return err
		}
	}
	var baseline *report.Report
	if f.baseline != "" {
		if baseline, err = report.LoadBaseline(f.baseline); err != nil {
			return usageErr("--baseline: %v", err)
		}
	}
	mln, err := listenMetrics(f.metricsAddr)
	if err != nil {
		return err
	}
	if mln != nil {
		defer mln.Close()
	}
	s := &runSetup{e: e, f: &f, sc: sc, manifest: &rundir.Manifest{StampedeVersion: version, StampedeCommit: commit}, shard: shard}
	defer s.close()
	if err := s.prepare(ctx, plan.Paths); err != nil {
		return err
	}

	hooks, faults, err := s.hooks(ctx, reg)
	if err != nil {
		return err
	}

	if !f.skipSmoke {
		if err := smokeLogin(ctx, e, sc, s.target, s.creds); err != nil {
			return err
		}
	}
	scale, startAt := f.scale, time.Time{}
	if shard != nil {
		if startAt, err = shard.waitForStart(ctx, e, shard.hash(sc, &f)); err != nil {
			return err
		}
		scale /= float64(shard.Count)
		s.manifest.Shard = &rundir.Shard{Index: shard.Index, Count: shard.Count, StartAt: startAt, Barrier: shard.Barrier}
	}
	obs, stopMetrics := startMetrics(e, mln, s)
	defer stopMetrics() // after the report is written

	fmt.Fprintf(e.stderr, "stampede: %s; recording to %s\n", describeRun(sc, s.target), s.dir)
	ctl := engine.NewControl()
	stopForwarding := forwardSignals(e.signals, ctl)
	res, runErr := engine.Run(ctx, engine.RunOptions{
		Scenario: sc, Target: s.target, Credentials: s.creds, Dir: s.dir, Scale: scale, Seed: s.seed,
		Control: ctl, Progress: newProgress(progressOut(e, f.quiet), isTerminal(e.stderr), plannedDuration(sc), faults),
		Manifest: s.manifest, Hooks: hooks, StartAt: startAt, Getenv: e.getenv, Observer: obs,
	})
	stopForwarding()
	if errors.Is(runErr, engine.ErrAbortedImmediately) {
		return &exitError{code: exitInterrupted, err: runErr}
	}
	if runErr != nil {
		return infraErr(runErr)
	}
	return finishRun(e, res, baseline)
}

// hooks are what runs beside the traffic: evidence sampling, and the
// fault schedule, built against the real environment, its undo journal in
// the run directory, every privilege and address checked before traffic.
// faults names the faults in force, for the live display; nil without any.
func (s *runSetup) hooks(ctx context.Context, reg chaos.Registry) (hooks []engine.Hook, faults func() string, err error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, nil, infraErr(fmt.Errorf("run dir: %w", err))
	}
	if s.shard.sendsOnly() {
		return nil, nil, nil
	}
	hooks = []engine.Hook{s.evidence}
	if len(s.sc.Faults) == 0 {
		return hooks, nil, nil
	}
	if s.chaosEnv.Journal, err = chaos.OpenJournal(s.dir); err != nil {
		return nil, nil, infraErr(err)
	}
	plan, err := scenarios.BuildFaults(s.sc, reg, s.chaosEnv)
	if err != nil {
		return nil, nil, usageErr("%v", err)
	}
	if err := chaos.PreflightFaults(ctx, s.chaosEnv, plan.Faults); err != nil {
		return nil, nil, infraErr(fmt.Errorf("preflight: %w", err))
	}
	fh := NewFaultHook(plan)
	return append(hooks, fh), fh.Status, nil
}

// forwardSignals turns the signals that arrive during a run into its
// Control until the returned stop is called: the first stops sending and
// lets the run finish (results and report still written), the next makes
// it return at once.
func forwardSignals(signals <-chan os.Signal, ctl *engine.Control) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for n := 0; ; n++ {
			select {
			case <-done:
				return
			case sig := <-signals:
				if n == 0 {
					ctl.Stop(sig.String())
				} else {
					ctl.Abort(sig.String())
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// finishRun analyses the recorded run, writes every report file into the
// run directory, prints the terminal report and decides the exit code.
func finishRun(e *env, res *engine.RunResult, baseline *report.Report) error {
	rep, err := report.Analyze(res.Dir, report.Options{Baseline: baseline})
	if err != nil {
		printStageTable(e.stdout, res.Stages)
		return infraErr(fmt.Errorf("analyse %s: %w", res.Dir, err))
	}
	if err := render.WriteText(e.stdout, rep); err != nil {
		return infraErr(err)
	}
	if err := render.WriteAll(res.Dir, rep); err != nil {
		return infraErr(err)
	}
	if p := e.getenv("GITHUB_STEP_SUMMARY"); p != "" {
		if err := render.AppendStepSummary(p, rep, rep.Baseline); err != nil {
			fmt.Fprintf(e.stderr, "stampede: GITHUB_STEP_SUMMARY: %v\n", err)
		}
	}
	fmt.Fprintf(e.stdout, "\nrun directory: %s\n  report.html:   %s\n  postmortem.md: %s\n", res.Dir,
		filepath.Join(res.Dir, "report.html"), filepath.Join(res.Dir, "postmortem.md"))
	if res.Search != nil {
		fmt.Fprintf(e.stdout, "limit: %s\n", res.Search)
	}
	if res.Interrupted {
		return &exitError{code: exitInterrupted, err: errors.New("interrupted: results and report written")}
	}
	if p := rep.RequestProblem; p != nil { // the request is wrong: no capacity verdict
		return infraErr(fmt.Errorf("%s; likely fix: %s", p.Message, p.Fix))
	}
	if rep.Failed() {
		return &exitError{code: exitGateFailed, err: fmt.Errorf("failed: %s", rep.FailureLine())}
	}
	return nil
}

// fixtureOptions are the bundled fixture's settings: flags over the
// scenario's fixture block over the defaults.
func fixtureOptions(e *env, sc *scenarios.Scenario, f *runFlags) fixtures.StackOptions {
	opts := fixtures.StackOptions{
		DSN:            firstNonEmpty(f.dsn, e.getenv("STAMPEDE_DSN")),
		DBPool:         firstPositive(f.fixture.dbPool, sc.Fixture.DBPool),
		MaxConnections: firstPositive(f.fixture.maxConns, sc.Fixture.MaxConnections),
		Users:          firstPositive(f.fixture.users, sc.Fixture.Users),
		DBHold:         sc.Fixture.DBHold,

		HideServerTiming: f.fixture.hideServerTiming || sc.Fixture.HideServerTiming,
	}
	if f.fixture.dbHoldSet {
		opts.DBHold = f.fixture.dbHold
	}
	opts.Shape = f.fixture.shape.over(sc.Fixture)
	return opts
}

// startFixture starts the bundled login service and its database.
func startFixture(ctx context.Context, e *env, opts fixtures.StackOptions) (*fixtures.Stack, error) {
	fmt.Fprintf(e.stderr, "stampede: starting the bundled fixture (login service + PostgreSQL)...\n")
	stack, err := fixtures.StartStack(ctx, opts)
	if err != nil {
		if errors.Is(err, pg.ErrNoServerBinaries) {
			return nil, infraErr(err)
		}
		return nil, infraErr(fmt.Errorf("start the bundled fixture: %w", err))
	}
	return stack, nil
}

// checkTarget parses a target URL and refuses non-loopback hosts unless allowed.
func checkTarget(s string, allowRemote bool) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageErr("target %q is not an http(s) URL with a host", s)
	}
	if !allowRemote && !isLoopback(u.Hostname()) {
		return nil, usageErr("target %s is not a loopback address: set allow_remote: true in the scenario or pass --allow-remote", u.Redacted())
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hostPort is a URL's host:port, with the scheme's default port.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// dsnAddr is a DSN's host:port, or "" when it cannot be told.
func dsnAddr(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return ""
	}
	return net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
}

// reachable dials the target once before sending anything.
func reachable(ctx context.Context, u *url.URL) error {
	d := net.Dialer{Timeout: 3 * time.Second}
	c, err := d.DialContext(ctx, "tcp", hostPort(u))
	if err != nil {
		return fmt.Errorf("preflight: target %s unreachable: %w", u.Redacted(), err)
	}
	return c.Close()
}

func printStageTable(w io.Writer, stages []rundir.StageSummary) {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("stage", "kind", "for", "offered/s", "achieved/s", "sent", "success", "p50", "p99")
	for _, s := range stages {
		_ = t.Append(s.Name, string(s.Kind), s.Duration.String(),
			fmt.Sprintf("%.1f", s.OfferedRPS), fmt.Sprintf("%.1f", s.AchievedRPS), fmt.Sprint(s.Sent),
			fmt.Sprintf("%.2f%%", 100*s.SuccessRatio), fmtDur(s.P50), fmtDur(s.P99))
	}
	_ = t.Render()
}

func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
	return fmt.Sprintf("%.1fms", float64(d)/1e6)
}

// describeRun says what a run will do, for its first line.
func describeRun(sc *scenarios.Scenario, target *url.URL) string {
	if sc.Mode == scenarios.ModeSearch {
		c, _ := sc.SearchSettings() // checked before anything started
		return fmt.Sprintf("searching for the limit of %s against %s: %s", sc.Name, target.Redacted(), c)
	}
	return fmt.Sprintf("running %s against %s for %s", sc.Name, target.Redacted(), totalDuration(sc))
}

// plannedDuration is the plan's length as a run starts: a search's budget,
// else its stages'.
func plannedDuration(sc *scenarios.Scenario) time.Duration {
	if sc.Mode == scenarios.ModeSearch {
		c, _ := sc.SearchSettings() // checked before anything started
		return c.Budget
	}
	return totalDuration(sc)
}

func totalDuration(sc *scenarios.Scenario) time.Duration {
	var d time.Duration
	for _, s := range sc.Stages {
		d += s.Duration
	}
	return d
}

func progressOut(e *env, quiet bool) io.Writer {
	if quiet {
		return nil
	}
	return e.stderr
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func firstPositive(n ...int) int {
	for _, v := range n {
		if v > 0 {
			return v
		}
	}
	return 0
}
