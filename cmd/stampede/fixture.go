package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/stampede-load/stampede/fixtures"
	"github.com/stampede-load/stampede/internal/secret"
)

// cmdFixture runs the bundled login service and its database until the
// first signal, then removes every trace of them.
func cmdFixture(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("fixture", "[flags]", e)
	dsn := fs.String("dsn", "", "an existing PostgreSQL to use instead of a throwaway one (a superuser DSN; creates role stampede_app and database stampede); default $STAMPEDE_DSN")
	dbPool := fs.Int("db-pool", fixtures.DefaultDBPool, "the service's database connection pool size")
	dbHold := fs.Duration("db-hold", 0, "minimum time each login holds its database connection (pg_sleep in its transaction), e.g. 50ms")
	acquireTimeout := fs.Duration("acquire-timeout", fixtures.DefaultAcquireTimeout, "how long a request waits for a pooled connection before 503 pool_timeout")
	maxConns := fs.Int("max-connections", fixtures.DefaultMaxConnections, "max_connections of the throwaway PostgreSQL")
	users := fs.Int("users", fixtures.DefaultUsers, "users to seed")
	cost := fs.Int("bcrypt-cost", bcrypt.MinCost, "bcrypt cost of the seeded password hashes")
	hide := fs.Bool("hide-server-timing", false, "leave out the Server-Timing header (a black-box service)")
	var shape fixtures.Shape
	fs.BoolVar(&shape.ConnPerLogin, "conn-per-login", false, "no pool: every request opens its own database connection and closes it after (/debug/pool answers 404)")
	fs.BoolVar(&shape.HotRow, "hot-row", false, "every login also bumps one shared counter row in its transaction, so logins queue on its row lock")
	fs.IntVar(&shape.HashCost, "hash-cost", 0, "bcrypt cost of each login's password verification, e.g. 10 (seeding stays at --bcrypt-cost; a hash made once at this cost is compared too); 0: off")
	fs.BoolVar(&shape.OpaqueErrors, "opaque-errors", false, "answer database failures with a bare 500: no body, no cause, no Server-Timing")
	fs.BoolVar(&shape.NoPoolEndpoint, "no-pool-endpoint", false, "leave out GET /debug/pool (404)")
	fs.BoolVar(&shape.EventLoop, "event-loop", false, "serve as a single-threaded event loop: every request is dispatched on one loop and each login's hashing holds it (waits on the database do not), so with --hash-cost the loop saturates at one core and every request, health checks included, answers late")
	fs.StringVar(&shape.TokenClientID, "token-client-id", "", "POST /token requires this client id by HTTP Basic (with --token-client-secret)")
	fs.StringVar(&shape.TokenClientSecret, "token-client-secret", "", "the client secret POST /token requires with --token-client-id")
	dbAddr := fs.String("db-addr", "", "host:port the service's logins reach the database through instead of its own address, e.g. a network proxy (a scenario's network.db listen) that may not listen yet: the pool connects lazily, and setup and seeding still use the database directly")
	listen := fs.String("listen", "127.0.0.1:0", "HTTP listen address (port 0: the kernel picks one)")
	allowRemote := fs.Bool("allow-remote", false, "allow --listen on a non-loopback address")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("fixture takes no arguments, got %q", fs.Args())
	}
	if *dsn == "" && e.getenv != nil {
		*dsn = e.getenv("STAMPEDE_DSN")
	}
	switch {
	case *dbPool < 1:
		return usageErr("--db-pool must be at least 1, got %d", *dbPool)
	case *dbHold < 0:
		return usageErr("--db-hold must not be negative, got %v", *dbHold)
	case *acquireTimeout <= 0:
		return usageErr("--acquire-timeout must be positive, got %v", *acquireTimeout)
	case *maxConns < 1:
		return usageErr("--max-connections must be at least 1, got %d", *maxConns)
	case *users < 1:
		return usageErr("--users must be at least 1, got %d", *users)
	case *cost < bcrypt.MinCost || *cost > bcrypt.MaxCost:
		return usageErr("--bcrypt-cost must be %d..%d, got %d", bcrypt.MinCost, bcrypt.MaxCost, *cost)
	case *dsn != "" && fs.Changed("max-connections"):
		return usageErr("--max-connections applies to the throwaway PostgreSQL only, not with --dsn")
	case shape.HashCost != 0 && (shape.HashCost < bcrypt.MinCost || shape.HashCost > bcrypt.MaxCost):
		return usageErr("--hash-cost must be 0 (off) or %d..%d, got %d", bcrypt.MinCost, bcrypt.MaxCost, shape.HashCost)
	case shape.ConnPerLogin && fs.Changed("db-pool"):
		return usageErr("--db-pool sizes a pool, and --conn-per-login has none")
	case shape.TokenClientSecret != "" && shape.TokenClientID == "":
		return usageErr("--token-client-secret needs --token-client-id")
	}
	if err := checkListen(*listen, *allowRemote); err != nil {
		return err
	}
	if err := checkDBAddr(*dbAddr); err != nil {
		return err
	}

	opts := fixtures.StackOptions{
		DSN: *dsn, DBPool: *dbPool, DBHold: *dbHold, AcquireTimeout: *acquireTimeout,
		Users: *users, BcryptCost: *cost, HideServerTiming: *hide, Listen: *listen, Shape: shape,
	}
	if *dbAddr != "" {
		// Only the service's connections take this way; nothing dials it
		// before the first login, so it may start listening later.
		opts.ServiceDBAddr = func(string) (string, error) { return *dbAddr, nil }
	}
	if *dsn == "" {
		opts.MaxConnections = *maxConns
		fmt.Fprintf(e.stderr, "stampede fixture: starting a throwaway PostgreSQL and seeding %d users...\n", *users)
	} else {
		fmt.Fprintf(e.stderr, "stampede fixture: preparing %s and seeding %d users...\n", secret.DSN(*dsn), *users)
	}

	// A signal during start-up cancels it; StartStack then cleans up.
	startCtx, cancelStart := context.WithCancel(ctx)
	defer cancelStart()
	started := make(chan struct{})
	interrupted := make(chan os.Signal, 1)
	go func() {
		select {
		case s := <-e.signals:
			interrupted <- s
			cancelStart()
		case <-started:
		}
	}()
	began := time.Now()
	stack, err := fixtures.StartStack(startCtx, opts)
	close(started)
	if err != nil {
		select {
		case s := <-interrupted:
			return &exitError{code: exitInterrupted, err: fmt.Errorf("fixture: %v during start-up; nothing left running", s)}
		default:
		}
		if ctx.Err() != nil {
			return &exitError{code: exitInterrupted, err: fmt.Errorf("fixture: start-up cancelled: %w", err)}
		}
		return infraErr(fmt.Errorf("start the fixture: %w", err))
	}
	printFixture(e, stack, time.Since(began))

	select {
	case s := <-interrupted:
		fmt.Fprintf(e.stderr, "stampede fixture: %v, stopping\n", s)
	case s := <-e.signals:
		fmt.Fprintf(e.stderr, "stampede fixture: %v, stopping\n", s)
	case <-ctx.Done():
		fmt.Fprintf(e.stderr, "stampede fixture: %v, stopping\n", ctx.Err())
	}
	if err := stack.Close(); err != nil {
		return infraErr(fmt.Errorf("fixture: clean up: %w", err))
	}
	fmt.Fprintf(e.stderr, "stampede fixture: stopped; nothing left behind\n")
	return nil
}

// printFixture tells the operator how to reach the service. Database
// passwords are redacted; the example login reads the user's password from
// the credentials file rather than printing it.
func printFixture(e *env, st *fixtures.Stack, took time.Duration) {
	w := e.stdout
	o := st.Options
	fmt.Fprintf(w, "stampede fixture: login service ready in %v\n", took.Round(time.Millisecond))
	fmt.Fprintf(w, "  url:          %s\n", st.URL)
	fmt.Fprintf(w, "  login:        POST %s/login   (JSON or form: username, password)\n", st.URL)
	client := ""
	if o.TokenClientID != "" {
		client = ", client " + o.TokenClientID + " by HTTP Basic"
	}
	fmt.Fprintf(w, "  token:        POST %s/token   (OAuth2 password grant: grant_type=password in the query or form%s)\n", st.URL, client)
	fmt.Fprintf(w, "  form:         %s%s   (HTML: GET for the csrftoken cookie, POST csrfmiddlewaretoken, username, password)\n",
		st.URL, fixtures.FormLoginPath)
	also := "/me, /healthz, /debug/pool"
	if o.ConnPerLogin || o.NoPoolEndpoint {
		also = "/me, /healthz"
	}
	fmt.Fprintf(w, "  also:         GET %s%s\n", st.URL, also)
	fmt.Fprintf(w, "  database:     %s\n", secret.DSN(st.AppDSN))
	if st.ServiceDBAddr != "" {
		fmt.Fprintf(w, "  db path:      the service's logins connect through %s (setup went direct to %s)\n", st.ServiceDBAddr, st.DBAddr)
	}
	if st.PG != nil {
		fmt.Fprintf(w, "  postgres:     throwaway, %s, max_connections=%d, data in %s (removed on exit)\n",
			st.DBAddr, o.MaxConnections, st.PG.Dir())
	} else {
		fmt.Fprintf(w, "  postgres:     existing, %s (admin %s)\n", st.DBAddr, secret.DSN(st.AdminDSN))
	}
	fmt.Fprintf(w, "  service:      db-pool=%d db-hold=%v acquire-timeout=%v query-timeout=%v server-timing=%v\n",
		o.DBPool, o.DBHold, o.AcquireTimeout, o.QueryTimeout, !o.HideServerTiming)
	fmt.Fprintf(w, "  shape:        %v\n", o.Shape)
	fmt.Fprintf(w, "  credentials:  %s (%d users, CSV username,password)\n", st.CredentialsPath, o.Users)
	fmt.Fprintf(w, "  try:\n    curl -i %s/login --data-urlencode username=%s \\\n      --data-urlencode \"password=$(sed -n 2p %s | cut -d, -f2)\"\n",
		st.URL, fixtures.SeedUsername(1), shellQuote(st.CredentialsPath))
	fmt.Fprintf(w, "Ctrl-C (SIGINT) or SIGTERM stops it and removes everything.\n")
}

// checkListen refuses a non-loopback listen address unless allowed.
func checkListen(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageErr("--listen %q: %v", addr, err)
	}
	if allowRemote {
		return nil
	}
	ip := net.ParseIP(host)
	if host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	what := "a non-loopback address"
	if host == "" || (ip != nil && ip.IsUnspecified()) {
		what = "every interface"
	}
	return usageErr("--listen %s is %s: the fixture is for local tests; pass --allow-remote to expose it", addr, what)
}

// checkDBAddr refuses a --db-addr that is not host:port with a numeric port.
func checkDBAddr(addr string) error {
	if addr == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usageErr("--db-addr %q: %v", addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return usageErr("--db-addr %q: the port must be 1..65535", addr)
	}
	return nil
}

// shellQuote quotes a path for a POSIX shell when it needs it.
func shellQuote(s string) string {
	for _, r := range s {
		if !(r == '/' || r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}
