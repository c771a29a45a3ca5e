package chaos

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// PreflightError names what a run's faults need and cannot have: a
// privilege, a role, a table, a proxy or an address. The CLI exits 3 on it.
type PreflightError struct {
	What string // e.g. `privilege to ALTER ROLE "app" (superuser or CREATEROLE), for db.conn_limit`
	Err  error
}

func (e *PreflightError) Error() string { return "chaos: preflight: " + e.What + ": " + e.Err.Error() }
func (e *PreflightError) Unwrap() error { return e.Err }

// needs is what one fault requires of the database and the network.
type needs struct {
	kind       string
	db         bool   // an admin session
	alterRole  string // ALTER ROLE on this role
	readStats  bool   // other roles' rows in pg_stat_activity
	signalRole string // pg_terminate_backend on this role's sessions
	signalAny  bool   // … on any non-superuser's sessions
	createRole bool
	lockTable  string
	lockMode   string
	proxy      string // this proxy must exist ("" with network: any)
	network    bool
}

type needer interface{ needs() needs }

// preflightKinds checks, before anything is sent or injected, that faults of
// the given kinds can be applied with their default params: the admin
// session, each privilege, the service's role, the default table, the
// network proxies. Unknown kinds are skipped. A failure is a
// *PreflightError.
func preflightKinds(ctx context.Context, env *Env, kinds []string) error {
	var all []needs
	for _, k := range kinds {
		n, ok := kindNeeds(env, k)
		if ok {
			all = append(all, n)
		}
	}
	return preflight(ctx, env, all)
}

// PreflightFaults is preflightKinds for built faults, with their own params
// (role, table, lock mode, proxy path).
func PreflightFaults(ctx context.Context, env *Env, faults []Fault) error {
	var all []needs
	for _, f := range faults {
		nd, ok := f.(needer)
		if !ok {
			continue
		}
		n := nd.needs()
		if d, ok := f.(Described); ok {
			n.kind = d.Kind()
		}
		all = append(all, n)
	}
	return preflight(ctx, env, all)
}

func kindNeeds(env *Env, kind string) (needs, bool) {
	role := envRole(env)
	var n needs
	switch kind {
	case "db.conn_limit":
		n = needs{db: true, alterRole: role, readStats: true, signalRole: role}
	case "db.hog":
		n = needs{db: true, createRole: true, readStats: true, signalAny: true}
	case "db.terminate":
		n = needs{db: true, readStats: true, signalRole: role}
	case "db.lock":
		n = needs{db: true, lockTable: "sessions", lockMode: "ACCESS EXCLUSIVE"}
	default:
		if !strings.HasPrefix(kind, "net.") {
			return n, false
		}
		n = needs{network: true}
	}
	n.kind = kind
	return n, true
}

// self is what the admin session may do.
type self struct {
	user                             string
	super, createRole, stats, signal bool
	version                          int
}

func preflight(ctx context.Context, env *Env, all []needs) error {
	if env == nil {
		env = &Env{}
	}
	for _, n := range all {
		if n.proxy != "" || n.network {
			if err := preflightProxy(ctx, env, n); err != nil {
				return err
			}
		}
	}
	var anyDB bool
	for _, n := range all {
		anyDB = anyDB || n.db
	}
	if !anyDB {
		return nil
	}
	target := "the database"
	if env.AdminDSN != "" {
		target = "the database at " + dbTarget(env.AdminDSN, env.Database)
	}
	c, err := connectAdmin(ctx, env, appChaos)
	if err != nil {
		return &PreflightError{What: target + " (admin session for database faults)", Err: err}
	}
	defer closeQuietly(ctx, c)
	var me self
	err = c.QueryRow(ctx, `SELECT current_user, rolsuper, rolcreaterole,
		pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'),
		pg_has_role(current_user, 'pg_signal_backend', 'USAGE'),
		current_setting('server_version_num')::int
		FROM pg_roles WHERE rolname = current_user`).Scan(&me.user, &me.super, &me.createRole, &me.stats, &me.signal, &me.version)
	if err != nil {
		return &PreflightError{What: target + ": read the admin role's privileges", Err: err}
	}
	for _, n := range all {
		if err := checkDB(ctx, c, me, n); err != nil {
			return err
		}
	}
	return nil
}

func preflightProxy(ctx context.Context, env *Env, n needs) error {
	if env.Network == nil {
		return &PreflightError{What: "network proxies, for " + n.kind, Err: errors.New("none set up (Env.Network is nil)")}
	}
	if n.proxy == "" {
		return nil
	}
	where := fmt.Sprintf("proxy %q", n.proxy)
	if u := env.Network.URL(); u != "" {
		where += " on Toxiproxy at " + u
	}
	where += ", for " + n.kind
	p, err := env.Network.Proxy(ctx, n.proxy)
	if err != nil {
		return &PreflightError{What: where, Err: err}
	}
	if !p.Enabled {
		return &PreflightError{What: where, Err: fmt.Errorf("disabled (not listening on %s)", p.Listen)}
	}
	for _, t := range p.Toxics {
		if strings.HasPrefix(t.Name, "stampede-") {
			return &PreflightError{What: where, Err: fmt.Errorf("still has toxic %q from an earlier run; run `stampede chaos restore` on that run", t.Name)}
		}
	}
	return nil
}

func checkDB(ctx context.Context, c *pgx.Conn, me self, n needs) error {
	deny := func(what string) error {
		return &PreflightError{What: what + ", for " + n.kind, Err: fmt.Errorf("role %q lacks it", me.user)}
	}
	if n.alterRole != "" {
		var super bool
		if err := c.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = $1`, n.alterRole).Scan(&super); err != nil {
			return &PreflightError{What: fmt.Sprintf("role %q, for %s", n.alterRole, n.kind), Err: noRows(err, "no such role")}
		}
		if super {
			return &PreflightError{What: fmt.Sprintf("role %q, for %s", n.alterRole, n.kind),
				Err: errors.New("is a superuser, and superusers ignore connection limits")}
		}
		ok := me.super
		if !ok && me.createRole {
			ok = me.version < 160000 // PG 16+ also wants ADMIN OPTION on the role
			if !ok {
				if err := c.QueryRow(ctx, `SELECT pg_has_role(current_user, $1, 'MEMBER WITH ADMIN OPTION')`, n.alterRole).Scan(&ok); err != nil {
					return &PreflightError{What: "check ADMIN OPTION on role " + n.alterRole, Err: err}
				}
			}
		}
		if !ok {
			return deny(fmt.Sprintf("privilege to ALTER ROLE %q (superuser, or CREATEROLE)", n.alterRole))
		}
	}
	if n.readStats && !me.super && !me.stats {
		return deny("privilege to read other roles' sessions in pg_stat_activity (pg_read_all_stats, pg_monitor or superuser)")
	}
	if n.signalRole != "" && !me.super && !me.signal {
		var member bool
		if err := c.QueryRow(ctx, `SELECT pg_has_role(current_user, $1, 'MEMBER')`, n.signalRole).Scan(&member); err != nil {
			return &PreflightError{What: fmt.Sprintf("role %q, for %s", n.signalRole, n.kind), Err: err}
		}
		if !member {
			return deny(fmt.Sprintf("privilege to terminate sessions of role %q (pg_signal_backend, membership in %q, or superuser)", n.signalRole, n.signalRole))
		}
	}
	if n.signalAny && !me.super && !me.signal {
		return deny("privilege to terminate sessions (pg_signal_backend or superuser)")
	}
	if n.createRole && !me.super && !me.createRole {
		return deny("privilege to create the hog's login role (CREATEROLE or superuser)")
	}
	if n.lockTable != "" {
		var exists bool
		if err := c.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, ident(n.lockTable)).Scan(&exists); err != nil {
			return &PreflightError{What: fmt.Sprintf("table %q, for %s", n.lockTable, n.kind), Err: err}
		}
		if !exists {
			return &PreflightError{What: fmt.Sprintf("table %q, for %s", n.lockTable, n.kind), Err: errors.New("no such table in the service's database")}
		}
		privs := "UPDATE,DELETE,TRUNCATE"
		switch n.lockMode {
		case "ACCESS SHARE":
			privs = "SELECT"
		case "ROW SHARE", "ROW EXCLUSIVE":
			privs = "INSERT,UPDATE,DELETE,TRUNCATE"
		}
		var ok bool
		if err := c.QueryRow(ctx, `SELECT has_table_privilege(to_regclass($1), $2)`, ident(n.lockTable), privs).Scan(&ok); err != nil {
			return &PreflightError{What: fmt.Sprintf("table %q, for %s", n.lockTable, n.kind), Err: err}
		}
		if !ok {
			return deny(fmt.Sprintf("privilege to LOCK TABLE %q IN %s MODE (one of %s)", n.lockTable, n.lockMode, privs))
		}
	}
	return nil
}

// noRows turns pgx.ErrNoRows into a readable error.
func noRows(err error, msg string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return errors.New(msg)
	}
	return err
}
