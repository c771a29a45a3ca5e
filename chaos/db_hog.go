package chaos

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stampede-load/stampede/internal/secret"
)

// hog is db.hog: it opens and holds connections until only `leave` of the
// slots a non-superuser may use (max_connections − superuser_reserved_connections
// − reserved_connections) are free, counting the sessions already there.
// The server does the counting: the hog opens connections until it is
// refused with 53300, then closes `leave` of them and waits for their
// sessions to end, so that exactly `leave` slots are free when Inject
// returns.
//
// The connections belong to a login role made for the purpose
// (stampede_hog_<random>): superusers would take reserved slots instead, and
// the service's role may have a limit of its own. Revert closes them,
// terminates any left on the server and drops the role.
type hog struct {
	described
	env   *Env
	leave int

	role      string
	journalID string
	conns     []*pgconn.PgConn
	held      int
}

const (
	// hogParallel bounds concurrent connection attempts: each costs a
	// SCRAM exchange on both sides.
	hogParallel = 4
	// A refusal is believed after hogRefusals tries hogRetry apart:
	// sessions that are ending still hold their slot for a moment.
	hogRefusals = 3
	hogRetry    = 50 * time.Millisecond
	// hogWaitGone bounds the wait for closed sessions to end.
	hogWaitGone = 2 * time.Second
)

// params: leave (int, default 0).
func buildHog(env *Env, raw map[string]any) (Fault, error) {
	p := newParams("db.hog", raw)
	leave := p.Int("leave", 0, false)
	p.check(leave < 0, "leave", "must be 0 or more, got %d", leave)
	if err := p.Done(); err != nil {
		return nil, err
	}
	return &hog{described: p.out, env: env, leave: leave}, nil
}

// Held is how many connections the hog holds now.
func (f *hog) Held() int { return f.held }

func (f *hog) Inject(ctx context.Context) error {
	if f.role != "" {
		return fmt.Errorf("chaos: %s is already in force", f)
	}
	c, err := connectAdmin(ctx, f.env, appChaos)
	if err != nil {
		return fmt.Errorf("chaos: hog connections: %w", err)
	}
	defer func() { closeQuietly(ctx, c) }() // c is closed early below

	role := "stampede_hog_" + secret.Hex(4)
	password := secret.Hex(16) // hex: safe inside a literal; never journaled
	id, err := f.env.record(JournalEntry{Kind: f.kind, Fault: f.String(), DropRole: role, AppName: appHog})
	if err != nil {
		return fmt.Errorf("chaos: hog connections: %w", err)
	}
	f.role, f.journalID = role, id
	if _, err := c.Exec(ctx, "CREATE ROLE "+ident(role)+" LOGIN CONNECTION LIMIT -1 PASSWORD '"+password+"'"); err != nil {
		return fmt.Errorf("chaos: create hog role %q: %w", role, err)
	}
	var maxConns int
	if err := c.QueryRow(ctx, "SELECT current_setting('max_connections')::int").Scan(&maxConns); err != nil {
		return fmt.Errorf("chaos: read max_connections: %w", err)
	}
	adminPID := c.PgConn().PID()
	closeQuietly(ctx, c) // its slot is to be counted free
	c = nil

	cfg, err := adminConfig(f.env.AdminDSN, f.env.Database, appHog)
	if err != nil {
		return fmt.Errorf("chaos: hog connections: %w", err)
	}
	hc := cfg.Config.Copy()
	hc.User, hc.Password = role, password

	first, err := pgconn.ConnectConfig(ctx, hc)
	if sqlState(err) == "53300" {
		return nil // not one slot free: nothing to take
	}
	if err != nil {
		return fmt.Errorf("chaos: open hog connection: %w", err)
	}
	f.conns = append(f.conns, first)
	defer func() { f.held = len(f.conns) }()
	// The first connection watches: the admin session's slot first.
	if err := waitGone(ctx, first, []uint32{adminPID}); err != nil {
		return err
	}
	if err := f.fill(ctx, hc, maxConns); err != nil {
		return err
	}
	if f.leave == 0 {
		return nil
	}
	k := min(f.leave, len(f.conns))
	release := f.conns[len(f.conns)-k:]
	f.conns = f.conns[:len(f.conns)-k]
	pids := make([]uint32, 0, k)
	for _, pc := range release {
		pids = append(pids, pc.PID())
		closeConn(ctx, pc)
	}
	if len(f.conns) == 0 {
		return nil
	}
	return waitGone(ctx, f.conns[0], pids)
}

// fill opens connections until the server refuses them (53300) for good,
// or max are open: hogParallel at a time until the first refusal, then one
// at a time, hogRetry apart, until hogRefusals refusals in a row.
func (f *hog) fill(ctx context.Context, cfg *pgconn.Config, max int) error {
	var (
		mu       sync.Mutex
		firstErr error
		full     bool
		wg       sync.WaitGroup
	)
	next := make(chan struct{})
	go func() {
		defer close(next)
		for i := len(f.conns); i < max; i++ {
			mu.Lock()
			stop := full || firstErr != nil
			mu.Unlock()
			if stop {
				return
			}
			select {
			case next <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	}()
	for w := 0; w < hogParallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				pc, err := pgconn.ConnectConfig(ctx, cfg)
				mu.Lock()
				switch {
				case err == nil:
					f.conns = append(f.conns, pc)
				case sqlState(err) == "53300":
					full = true
				case firstErr == nil:
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("chaos: open hog connection %d: %w", len(f.conns)+1, firstErr)
	}
	for refusals := 0; refusals < hogRefusals && len(f.conns) < max; {
		select {
		case <-ctx.Done():
			return fmt.Errorf("chaos: open hog connections (%d open): %w", len(f.conns), ctx.Err())
		case <-time.After(hogRetry):
		}
		pc, err := pgconn.ConnectConfig(ctx, cfg)
		switch {
		case err == nil:
			f.conns = append(f.conns, pc)
			refusals = 0
		case sqlState(err) == "53300":
			refusals++
		default:
			return fmt.Errorf("chaos: open hog connection %d: %w", len(f.conns)+1, err)
		}
	}
	return nil
}

// waitGone waits, watching through pc, until the sessions pids have ended
// and their slots are free.
func waitGone(ctx context.Context, pc *pgconn.PgConn, pids []uint32) error {
	if len(pids) == 0 {
		return nil
	}
	list := make([]string, len(pids))
	for i, p := range pids {
		list[i] = strconv.FormatUint(uint64(p), 10)
	}
	q := "SELECT count(*) FROM pg_stat_activity WHERE pid IN (" + strings.Join(list, ",") + ")"
	deadline := time.Now().Add(hogWaitGone)
	for {
		res, err := pc.Exec(ctx, q).ReadAll()
		if err != nil {
			return fmt.Errorf("chaos: watch hog slots: %w", err)
		}
		if len(res) == 1 && len(res[0].Rows) == 1 && string(res[0].Rows[0][0]) == "0" {
			return nil
		}
		if time.Now().After(deadline) {
			return nil // counted as taken; the next moment frees it anyway
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("chaos: watch hog slots: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func closeConn(ctx context.Context, pc *pgconn.PgConn) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	_ = pc.Close(cctx) // the server notices the closed socket either way
}

func (f *hog) Revert(ctx context.Context) error {
	if f.role == "" {
		return nil
	}
	for _, pc := range f.conns {
		closeConn(ctx, pc)
	}
	f.conns, f.held = nil, 0
	c, err := connectAdmin(ctx, f.env, appChaos)
	if err != nil {
		return fmt.Errorf("chaos: drop hog role %q: %w", f.role, err)
	}
	defer closeQuietly(ctx, c)
	if err := dropHogRole(ctx, c, f.role); err != nil {
		return err
	}
	if err := f.env.done(f.journalID); err != nil {
		return err
	}
	f.role, f.journalID = "", ""
	return nil
}

// dropHogRole ends the role's sessions, waiting for them to go, and drops it.
func dropHogRole(ctx context.Context, c *pgx.Conn, role string) error {
	if _, err := terminateWhere(ctx, c, "usename = $1", 2*time.Second, role); err != nil {
		return fmt.Errorf("chaos: end sessions of hog role %q: %w", role, err)
	}
	if _, err := c.Exec(ctx, "DROP ROLE IF EXISTS "+ident(role)); err != nil {
		return fmt.Errorf("chaos: drop hog role %q: %w", role, err)
	}
	return nil
}

func (f *hog) needs() needs {
	return needs{db: true, createRole: true, readStats: true, signalAny: true}
}
