package chaos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Application names that mark stampede's own sessions, so that Restore can
// find them after a crash.
const (
	appChaos = "stampede-chaos" // short-lived admin sessions
	appHog   = "stampede-hog"   // db.hog's held connections
	appLock  = "stampede-lock"  // db.lock's lock holder
)

// connectTimeout bounds every connection this package opens.
const connectTimeout = 10 * time.Second

// errBadDSN is what a DSN that does not parse becomes: pgx's own error
// quotes the string, and its password masking is best-effort.
var errBadDSN = errors.New("the admin DSN does not parse (not shown: it may hold a password)")

// adminConfig parses the admin DSN and points it at database (when set)
// under the given application_name.
func adminConfig(dsn, database, app string) (*pgx.ConnConfig, error) {
	if dsn == "" {
		return nil, errors.New("no admin DSN given (--dsn or STAMPEDE_DSN)")
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errBadDSN
	}
	if database != "" {
		cfg.Database = database
	}
	cfg.RuntimeParams["application_name"] = app
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > connectTimeout {
		cfg.ConnectTimeout = connectTimeout
	}
	return cfg, nil
}

// connectAdmin opens a short-lived admin session.
func connectAdmin(ctx context.Context, env *Env, app string) (*pgx.Conn, error) {
	cfg, err := adminConfig(env.AdminDSN, env.Database, app)
	if err != nil {
		return nil, err
	}
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to the database as admin: %w", err)
	}
	return c, nil
}

// dbTarget names a database for the journal and for messages: host, port
// and database name; no user, no password.
func dbTarget(dsn, database string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	if database == "" {
		database = cfg.Database
	}
	host := cfg.Host
	if strings.HasPrefix(host, "/") {
		return host + "/" + database // unix socket directory
	}
	return net.JoinHostPort(host, strconv.Itoa(int(cfg.Port))) + "/" + database
}

// ident quotes a role or table name; "schema.table" is split at the dot.
func ident(name string) string {
	return pgx.Identifier(strings.Split(name, ".")).Sanitize()
}

// sqlState returns err's SQLSTATE, or "".
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// closeQuietly closes a session on a context that the caller's
// cancellation cannot cancel, with a timeout of its own: closing must
// happen even when the caller's context is done.
func closeQuietly(ctx context.Context, c *pgx.Conn) {
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = c.Close(ctx)
}

// terminateWhere terminates client backends matching a condition on
// pg_stat_activity (never this session) and returns how many it signalled.
// wait, when positive, waits up to that long for each to exit (PG 14+).
func terminateWhere(ctx context.Context, c *pgx.Conn, cond string, wait time.Duration, args ...any) (int, error) {
	term := "pg_terminate_backend(pid)"
	if wait > 0 {
		term = fmt.Sprintf("pg_terminate_backend(pid, %d)", wait.Milliseconds())
	}
	q := `SELECT count(*) FILTER (WHERE ` + term + `) FROM pg_stat_activity
		WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND (` + cond + `)`
	var n int
	err := c.QueryRow(ctx, q, args...).Scan(&n)
	return n, err
}

// unreachable says whether err is a failure to reach the server at all
// (dial refused, no route, timeout) rather than one the server returned.
func unreachable(err error) bool {
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		return false
	}
	var pe *pgconn.PgError
	return !errors.As(err, &pe)
}
