package chaos

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// lock is db.lock: a session of its own (application_name stampede-lock)
// begins a transaction and takes LOCK TABLE … IN <mode> MODE, holding it
// until Revert rolls back and closes. Queries needing a conflicting lock
// wait: the database is slow inside, not short of connections.
type lock struct {
	described
	env   *Env
	table string
	mode  string

	conn      *pgx.Conn
	pid       uint32 // the holder's backend
	journalID string
}

// lockModes are PostgreSQL's table lock modes, weakest first.
var lockModes = []string{
	"ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE",
	"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE",
}

// lockWait bounds how long Inject waits for the lock itself when another
// session holds a conflicting one.
const lockWait = "10s"

// params: table (default sessions; schema.table allowed), mode (default
// ACCESS EXCLUSIVE; case and underscores are forgiven).
func buildLock(env *Env, raw map[string]any) (Fault, error) {
	p := newParams("db.lock", raw)
	table := p.String("table", "sessions", false)
	mode := p.String("mode", "ACCESS EXCLUSIVE", false)
	norm := strings.Join(strings.Fields(strings.ToUpper(strings.ReplaceAll(mode, "_", " "))), " ")
	norm = strings.TrimSuffix(norm, " MODE")
	valid := false
	for _, m := range lockModes {
		valid = valid || m == norm
	}
	p.check(!valid, "mode", "unknown lock mode %q; PostgreSQL's are %s", mode, strings.Join(lockModes, ", "))
	parts := strings.Split(table, ".")
	p.check(table == "" || len(parts) > 2 || strings.Contains(table, ".."), "table", "want a table name or schema.table, got %q", table)
	if err := p.Done(); err != nil {
		return nil, err
	}
	for i := range p.out.params {
		if p.out.params[i].key == "mode" {
			p.out.params[i].value = norm
		}
	}
	return &lock{described: p.out, env: env, table: table, mode: norm}, nil
}

func (f *lock) Inject(ctx context.Context) error {
	if f.conn != nil {
		return fmt.Errorf("chaos: %s is already in force", f)
	}
	id, err := f.env.record(JournalEntry{Kind: f.kind, Fault: f.String(), AppName: appLock})
	if err != nil {
		return fmt.Errorf("chaos: lock table %q: %w", f.table, err)
	}
	f.journalID = id
	c, err := connectAdmin(ctx, f.env, appLock)
	if err != nil {
		return fmt.Errorf("chaos: lock table %q: %w", f.table, err)
	}
	f.conn, f.pid = c, c.PgConn().PID()
	// A server-wide idle_in_transaction_session_timeout would end the
	// holder early; lock_timeout keeps Inject from waiting forever behind
	// someone else's lock.
	for _, q := range []string{
		"SET idle_in_transaction_session_timeout = 0",
		"SET statement_timeout = 0",
		"BEGIN",
		"SET LOCAL lock_timeout = '" + lockWait + "'",
		"LOCK TABLE " + ident(f.table) + " IN " + f.mode + " MODE",
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			return fmt.Errorf("chaos: lock table %q in %s mode: %w", f.table, f.mode, err)
		}
	}
	return nil
}

func (f *lock) Revert(ctx context.Context) error {
	if f.conn == nil {
		return f.env.done(f.journalID)
	}
	c := f.conn
	_, rbErr := c.Exec(ctx, "ROLLBACK")
	closeErr := c.Close(ctx)
	f.conn = nil
	if rbErr != nil || closeErr != nil {
		// The session may linger holding the lock: end it from outside.
		admin, err := connectAdmin(ctx, f.env, appChaos)
		if err != nil {
			return fmt.Errorf("chaos: release lock on table %q: %w", f.table, err)
		}
		defer closeQuietly(ctx, admin)
		if _, err := terminateWhere(ctx, admin, "pid = $1 AND application_name = $2", 0, int64(f.pid), appLock); err != nil {
			return fmt.Errorf("chaos: release lock on table %q: %w", f.table, err)
		}
	}
	if err := f.env.done(f.journalID); err != nil {
		return err
	}
	f.journalID = ""
	return nil
}

func (f *lock) needs() needs {
	return needs{db: true, lockTable: f.table, lockMode: f.mode}
}
