package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// connLimit is db.conn_limit: ALTER ROLE … CONNECTION LIMIT n, and with
// terminate the role's newest sessions above n are ended so the cap bites
// at once. Revert restores the role's original limit exactly.
//
// Overlapping conn_limit faults on one role stack: the newest in force
// wins, and the original comes back when the last one ends, whatever the
// order they end in.
type connLimit struct {
	described
	env       *Env
	role      string
	limit     int
	terminate bool

	journalID string
}

// roleLimits is a role's original limit and the conn_limit faults in force
// on it, oldest first.
type roleLimits struct {
	original int
	active   []*connLimit
}

// params: limit (int, required), role (default Env.Role), terminate (default true).
func buildConnLimit(env *Env, raw map[string]any) (Fault, error) {
	p := newParams("db.conn_limit", raw)
	role := p.String("role", envRole(env), false)
	limit := p.Int("limit", 0, true)
	terminate := p.Bool("terminate", true)
	p.check(limit < 0, "limit", "must be 0 or more, got %d", limit)
	p.check(env != nil && role == "", "role", "required: no role given and Env.Role is empty")
	if err := p.Done(); err != nil {
		return nil, err
	}
	return &connLimit{described: p.out, env: env, role: role, limit: limit, terminate: terminate}, nil
}

func envRole(env *Env) string {
	if env == nil {
		return ""
	}
	return env.Role
}

func (f *connLimit) Inject(ctx context.Context) error {
	c, err := connectAdmin(ctx, f.env, appChaos)
	if err != nil {
		return fmt.Errorf("chaos: set connection limit on role %q: %w", f.role, err)
	}
	defer closeQuietly(ctx, c)

	f.env.mu.Lock()
	defer f.env.mu.Unlock()
	if f.env.limits == nil {
		f.env.limits = map[string]*roleLimits{}
	}
	st := f.env.limits[f.role]
	if st == nil {
		var orig int
		var super bool
		err := c.QueryRow(ctx, `SELECT rolconnlimit, rolsuper FROM pg_roles WHERE rolname = $1`, f.role).Scan(&orig, &super)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("chaos: set connection limit on role %q: no such role", f.role)
		}
		if err != nil {
			return fmt.Errorf("chaos: read connection limit of role %q: %w", f.role, err)
		}
		if super {
			return fmt.Errorf("chaos: set connection limit on role %q: it is a superuser, and superusers ignore connection limits", f.role)
		}
		st = &roleLimits{original: orig}
	}
	orig := st.original
	id, err := f.env.record(JournalEntry{Kind: f.kind, Fault: f.String(), Role: f.role, ConnLimit: &orig})
	if err != nil {
		return fmt.Errorf("chaos: set connection limit on role %q: %w", f.role, err)
	}
	f.journalID = id
	f.env.limits[f.role] = st
	st.active = append(st.active, f)

	if _, err := c.Exec(ctx, "ALTER ROLE "+ident(f.role)+" CONNECTION LIMIT "+strconv.Itoa(f.limit)); err != nil {
		return fmt.Errorf("chaos: set connection limit on role %q: %w", f.role, err)
	}
	if !f.terminate {
		return nil
	}
	// Keep the oldest `limit` sessions, end the newer ones and wait for
	// them to go, so that the count is at the cap when Inject returns.
	_, err = terminateWhere(ctx, c, `pid IN (
		SELECT pid FROM pg_stat_activity
		WHERE usename = $1 AND backend_type = 'client backend'
		ORDER BY backend_start, pid OFFSET $2)`, 2*time.Second, f.role, f.limit)
	if err != nil {
		return fmt.Errorf("chaos: end sessions of role %q above its new limit %d: %w", f.role, f.limit, err)
	}
	return nil
}

func (f *connLimit) Revert(ctx context.Context) error {
	f.env.mu.Lock()
	defer f.env.mu.Unlock()
	st := f.env.limits[f.role]
	if st == nil {
		return nil
	}
	i := slices.Index(st.active, f)
	if i < 0 {
		return nil // not in force: never injected, or already reverted
	}
	rest := slices.Delete(slices.Clone(st.active), i, i+1)
	target := st.original
	if len(rest) > 0 {
		target = rest[len(rest)-1].limit
	}
	c, err := connectAdmin(ctx, f.env, appChaos)
	if err != nil {
		return fmt.Errorf("chaos: restore connection limit %d on role %q: %w", target, f.role, err)
	}
	defer closeQuietly(ctx, c)
	if _, err := c.Exec(ctx, "ALTER ROLE "+ident(f.role)+" CONNECTION LIMIT "+strconv.Itoa(target)); err != nil {
		return fmt.Errorf("chaos: restore connection limit %d on role %q: %w", target, f.role, err)
	}
	st.active = rest
	if len(rest) == 0 {
		delete(f.env.limits, f.role)
	}
	if err := f.env.done(f.journalID); err != nil {
		return err
	}
	f.journalID = ""
	return nil
}

func (f *connLimit) needs() needs {
	return needs{db: true, alterRole: f.role, readStats: f.terminate, signalRole: terminateRole(f.terminate, f.role)}
}

func terminateRole(on bool, role string) string {
	if on {
		return role
	}
	return ""
}
