package chaos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// hog is db.hog: it opens and holds connections until only `leave` of the
// server's non-reserved slots (max_connections − superuser_reserved_connections
// − reserved_connections) are free, counting the sessions already there.
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

// hogParallel bounds concurrent connection attempts: each costs a SCRAM
// exchange on both sides.
const hogParallel = 4

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
	defer func() { closeQuietly(c) }() // c is closed early below

	role := "stampede_hog_" + randomHex(4)
	password := randomHex(16) // hex: safe inside a literal; never journaled
	id, err := f.env.record(JournalEntry{Kind: f.kind, Fault: f.String(), DropRole: role, AppName: appHog})
	if err != nil {
		return fmt.Errorf("chaos: hog connections: %w", err)
	}
	f.role, f.journalID = role, id
	if _, err := c.Exec(ctx, "CREATE ROLE "+ident(role)+" LOGIN CONNECTION LIMIT -1 PASSWORD '"+password+"'"); err != nil {
		return fmt.Errorf("chaos: create hog role %q: %w", role, err)
	}

	var maxConns, reserved, others int
	err = c.QueryRow(ctx, `SELECT current_setting('max_connections')::int,
		current_setting('superuser_reserved_connections')::int
		  + coalesce(current_setting('reserved_connections', true), '0')::int,
		(SELECT count(*) FROM pg_stat_activity
		 WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())::int`).Scan(&maxConns, &reserved, &others)
	if err != nil {
		return fmt.Errorf("chaos: count connection slots: %w", err)
	}
	want := maxConns - reserved - others - f.leave
	closeQuietly(c) // its slot counts as free from here on
	c = nil
	if want <= 0 {
		return nil
	}

	cfg, err := adminConfig(f.env.AdminDSN, f.env.Database, appHog)
	if err != nil {
		return fmt.Errorf("chaos: hog connections: %w", err)
	}
	hc := cfg.Config.Copy()
	hc.User, hc.Password = role, password
	return f.open(ctx, hc, want)
}

// open opens n connections, hogParallel at a time, and stops early without
// error when the server says it is full (53300): someone else took the
// last slots meanwhile, and the hog's job is done.
func (f *hog) open(ctx context.Context, cfg *pgconn.Config, n int) error {
	var (
		mu       sync.Mutex
		firstErr error
		full     bool
		wg       sync.WaitGroup
	)
	next := make(chan struct{})
	go func() {
		defer close(next)
		for i := 0; i < n; i++ {
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
	f.held = len(f.conns)
	if firstErr != nil {
		return fmt.Errorf("chaos: open hog connection %d of %d: %w", f.held+1, n, firstErr)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("chaos: open hog connections (%d of %d open): %w", f.held, n, err)
	}
	return nil
}

func (f *hog) Revert(ctx context.Context) error {
	if f.role == "" {
		return nil
	}
	for _, pc := range f.conns {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_ = pc.Close(cctx) // the server notices the closed socket either way
		cancel()
	}
	f.conns, f.held = nil, 0
	c, err := connectAdmin(ctx, f.env, appChaos)
	if err != nil {
		return fmt.Errorf("chaos: drop hog role %q: %w", f.role, err)
	}
	defer closeQuietly(c)
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

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
