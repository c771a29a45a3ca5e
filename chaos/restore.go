package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Restore undoes every injection that dir's journal records and does not
// mark done (a run killed mid-fault), latest first, marks each done and
// prints what it did to out. adminDSN reaches the database; it is needed
// only for database entries and is never printed. Running it twice is
// harmless: the second time there is nothing to restore.
//
// Entries on a throwaway database (the bundled fixture's), and toxics of
// stampede's in-process proxies, ended with the run that made them: they
// are marked done with a note. An unreachable database leaves its entries
// pending and says so.
func Restore(ctx context.Context, dir string, adminDSN string, out io.Writer) (restored int, err error) {
	path := filepath.Join(dir, JournalFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(out, "%s has no %s: nothing to restore\n", dir, JournalFile)
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("chaos: restore: %w", err)
	}
	j, err := OpenJournal(dir)
	if err != nil {
		return 0, fmt.Errorf("chaos: restore: %w", err)
	}
	pending := j.Pending()
	if len(pending) == 0 {
		fmt.Fprintf(out, "nothing to restore: all %d entries of %s are done\n", len(j.Entries()), path)
		return 0, nil
	}
	fmt.Fprintf(out, "restoring from %s: %d of %d entries not done\n", path, len(pending), len(j.Entries()))

	r := &restorer{dsn: adminDSN}
	defer func() { closeQuietly(ctx, r.conn) }() // r.conn is opened lazily by undo
	var errs []error
	for k := len(pending) - 1; k >= 0; k-- {
		e := pending[k]
		what, undone, err := r.undo(ctx, e)
		if err != nil {
			fmt.Fprintf(out, "  NOT restored  %s: %v\n", e.Fault, err)
			errs = append(errs, fmt.Errorf("%s: %w", e.Fault, err))
			continue
		}
		if err := j.Done(e.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		if undone {
			restored++
			fmt.Fprintf(out, "  restored      %s: %s\n", e.Fault, what)
		} else {
			fmt.Fprintf(out, "  nothing left  %s: %s\n", e.Fault, what)
		}
	}
	if restored == 0 && len(errs) == 0 {
		fmt.Fprintln(out, "nothing to restore")
	}
	if len(errs) > 0 {
		return restored, fmt.Errorf("chaos: restore %s: %d of %d entries not restored: %w", dir, len(errs), len(pending), errors.Join(errs...))
	}
	return restored, nil
}

// restorer holds one admin session for all database entries.
type restorer struct {
	dsn     string
	conn    *pgx.Conn
	connErr error
}

func (r *restorer) db(ctx context.Context, target string) (*pgx.Conn, error) {
	if r.conn != nil || r.connErr != nil {
		return r.conn, r.connErr
	}
	if r.dsn == "" {
		r.connErr = fmt.Errorf("the database at %s needs an admin DSN: pass --dsn or set STAMPEDE_DSN", target)
		return nil, r.connErr
	}
	c, err := connectAdmin(ctx, &Env{AdminDSN: r.dsn}, appChaos)
	switch {
	case err != nil && unreachable(err):
		r.connErr = fmt.Errorf("database unreachable (%w); if it was a throwaway database that ended with its run "+
			"there is nothing left to restore there, otherwise run restore again once it is up", err)
	case err != nil:
		r.connErr = err
	}
	r.conn = c
	return c, r.connErr
}

// undo undoes one entry. undone is false when there was nothing left to
// undo; what says what was done, or why nothing was.
func (r *restorer) undo(ctx context.Context, e JournalEntry) (what string, undone bool, err error) {
	if e.database() {
		if e.Ephemeral {
			return "it was on the run's throwaway database (" + e.DB + "), which ended with the run", false, nil
		}
		c, err := r.db(ctx, e.DB)
		if err != nil {
			return "", false, err
		}
		return undoDB(ctx, c, e)
	}
	if e.Proxy != "" {
		if e.ToxiproxyURL == "" {
			return "its proxy ran inside the stampede process and ended with it", false, nil
		}
		return undoNet(ctx, e)
	}
	return "the entry records nothing to undo", false, nil
}

func undoDB(ctx context.Context, c *pgx.Conn, e JournalEntry) (string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, RevertTimeout)
	defer cancel()
	switch {
	case e.ConnLimit != nil:
		_, err := c.Exec(ctx, "ALTER ROLE "+ident(e.Role)+" CONNECTION LIMIT "+strconv.Itoa(*e.ConnLimit))
		if sqlState(err) == "42704" { // undefined_object
			return fmt.Sprintf("role %q no longer exists", e.Role), false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("restore connection limit of role %q: %w", e.Role, err)
		}
		return fmt.Sprintf("role %q connection limit back to %d", e.Role, *e.ConnLimit), true, nil
	case e.DropRole != "":
		n, err := terminateWhere(ctx, c, "usename = $1", 2*time.Second, e.DropRole)
		if err != nil {
			return "", false, fmt.Errorf("end sessions of role %q: %w", e.DropRole, err)
		}
		var exists bool
		if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, e.DropRole).Scan(&exists); err != nil {
			return "", false, fmt.Errorf("look up role %q: %w", e.DropRole, err)
		}
		if err := dropHogRole(ctx, c, e.DropRole); err != nil {
			return "", false, err
		}
		if !exists && n == 0 {
			return fmt.Sprintf("role %q and its sessions are already gone", e.DropRole), false, nil
		}
		return fmt.Sprintf("ended %d sessions and dropped role %q", n, e.DropRole), true, nil
	default: // AppName
		n, err := terminateWhere(ctx, c, "application_name = $1", 2*time.Second, e.AppName)
		if err != nil {
			return "", false, fmt.Errorf("end sessions named %q: %w", e.AppName, err)
		}
		if n == 0 {
			return fmt.Sprintf("no session named %q is left", e.AppName), false, nil
		}
		return fmt.Sprintf("ended %d sessions named %q", n, e.AppName), true, nil
	}
}

func undoNet(ctx context.Context, e JournalEntry) (string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, RevertTimeout)
	defer cancel()
	n := NewRemoteNetwork(e.ToxiproxyURL)
	if e.Toxic != "" {
		info, err := n.Proxy(ctx, e.Proxy)
		if isNotFound(err) {
			return fmt.Sprintf("proxy %q no longer exists on %s", e.Proxy, e.ToxiproxyURL), false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("reach Toxiproxy at %s: %w", e.ToxiproxyURL, err)
		}
		found := false
		for _, t := range info.Toxics {
			found = found || t.Name == e.Toxic
		}
		if !found {
			return fmt.Sprintf("toxic %q is no longer on proxy %q", e.Toxic, e.Proxy), false, nil
		}
		if err := n.removeToxic(ctx, e.Proxy, e.Toxic); err != nil {
			return "", false, fmt.Errorf("remove toxic %q from proxy %q at %s: %w", e.Toxic, e.Proxy, e.ToxiproxyURL, err)
		}
		return fmt.Sprintf("removed toxic %q from proxy %q at %s", e.Toxic, e.Proxy, e.ToxiproxyURL), true, nil
	}
	if e.EnableProxy {
		err := n.setEnabled(ctx, e.Proxy, true)
		if isNotFound(err) {
			return fmt.Sprintf("proxy %q no longer exists on %s", e.Proxy, e.ToxiproxyURL), false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("enable proxy %q at %s: %w", e.Proxy, e.ToxiproxyURL, err)
		}
		return fmt.Sprintf("enabled proxy %q at %s again", e.Proxy, e.ToxiproxyURL), true, nil
	}
	return "the entry records nothing to undo", false, nil
}
