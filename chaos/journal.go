package chaos

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// JournalFile is the journal's name inside a run directory.
const JournalFile = "journal.json"

// JournalEntry is what undoes one injection. Restore acts on the fields
// that are set, not on Kind, so a fault kind of the caller's own can use
// the same vocabulary. It holds no secret: no DSN, no password.
type JournalEntry struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Fault      string     `json:"fault"` // the fault's String()
	RecordedAt time.Time  `json:"recorded_at"`
	Done       bool       `json:"done"`
	DoneAt     *time.Time `json:"done_at,omitempty"`

	// Database side: where (host:port/database, no credentials), and what.
	DB        string `json:"db,omitempty"`
	Ephemeral bool   `json:"ephemeral,omitempty"` // a throwaway database that ends with its run
	Role      string `json:"role,omitempty"`
	// ConnLimit is Role's rolconnlimit before the injection (-1: none).
	ConnLimit *int `json:"conn_limit,omitempty"`
	// DropRole is a role stampede created and drops (after terminating its
	// sessions).
	DropRole string `json:"drop_role,omitempty"`
	// AppName: terminate the sessions with this application_name.
	AppName string `json:"application_name,omitempty"`

	// Network side: a toxic to remove, or a proxy to enable again.
	Proxy       string `json:"proxy,omitempty"`
	Toxic       string `json:"toxic,omitempty"`
	EnableProxy bool   `json:"enable_proxy,omitempty"`
	// ToxiproxyURL is the external Toxiproxy API; empty for stampede's
	// in-process proxies, which end with the process that ran them.
	ToxiproxyURL string `json:"toxiproxy_url,omitempty"`
}

func (e JournalEntry) database() bool {
	return e.ConnLimit != nil || e.DropRole != "" || e.AppName != ""
}

type journalFile struct {
	Version int            `json:"version"`
	Entries []JournalEntry `json:"entries"`
}

// Journal is journal.json in a run directory. Every change is written to
// a temporary file, synced and renamed over the old one, so that a crash
// leaves either the old or the new journal, never half of one. It is safe
// for concurrent use.
type Journal struct {
	path string

	mu      sync.Mutex
	entries []JournalEntry
	next    int
}

// OpenJournal opens dir's journal, creating dir and an empty journal if
// there is none, and keeping the entries of one that exists.
func OpenJournal(dir string) (*Journal, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("chaos: create run directory for the journal: %w", err)
	}
	j := &Journal{path: filepath.Join(dir, JournalFile)}
	f, err := readJournal(j.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := j.writeLocked(); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		j.entries = f.Entries
	}
	for _, e := range j.entries {
		if n, err := strconv.Atoi(e.ID); err == nil && n > j.next {
			j.next = n
		}
	}
	return j, nil
}

// Path is the journal file's path.
func (j *Journal) Path() string { return j.path }

// Record writes entry (its ID, RecordedAt and Done are set here) before
// the injection it undoes, and returns its id.
func (j *Journal) Record(entry JournalEntry) (string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.next++
	entry.ID = strconv.Itoa(j.next)
	entry.RecordedAt = time.Now().UTC()
	entry.Done, entry.DoneAt = false, nil
	j.entries = append(j.entries, entry)
	if err := j.writeLocked(); err != nil {
		j.entries = j.entries[:len(j.entries)-1]
		return "", err
	}
	return entry.ID, nil
}

// Done marks an entry undone-with, after a successful revert.
func (j *Journal) Done(id string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i := range j.entries {
		if j.entries[i].ID == id {
			if j.entries[i].Done {
				return nil
			}
			now := time.Now().UTC()
			j.entries[i].Done, j.entries[i].DoneAt = true, &now
			return j.writeLocked()
		}
	}
	return fmt.Errorf("chaos: journal %s has no entry %q", j.path, id)
}

// Entries returns a copy of every entry.
func (j *Journal) Entries() []JournalEntry {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]JournalEntry(nil), j.entries...)
}

// Pending returns the entries not yet marked done.
func (j *Journal) Pending() []JournalEntry {
	var out []JournalEntry
	for _, e := range j.Entries() {
		if !e.Done {
			out = append(out, e)
		}
	}
	return out
}

func readJournal(path string) (*journalFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f journalFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("chaos: read journal %s: %w", path, err)
	}
	return &f, nil
}

// writeLocked rewrites the journal atomically: temporary file, fsync,
// rename, fsync of the directory.
func (j *Journal) writeLocked() error {
	b, err := json.MarshalIndent(journalFile{Version: 1, Entries: j.entries}, "", "  ")
	if err != nil {
		return fmt.Errorf("chaos: encode journal: %w", err)
	}
	b = append(b, '\n')
	dir := filepath.Dir(j.path)
	tmp, err := os.CreateTemp(dir, ".journal-*.tmp")
	if err != nil {
		return fmt.Errorf("chaos: write journal: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename: nothing there
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("chaos: write journal: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("chaos: sync journal: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("chaos: write journal: %w", err)
	}
	if err := os.Rename(tmp.Name(), j.path); err != nil {
		return fmt.Errorf("chaos: replace journal: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // the rename itself; not every filesystem supports it
		d.Close()
	}
	return nil
}

// record journals e through env's journal, if any, filling the database
// target. It returns "" without a journal.
func (env *Env) record(e JournalEntry) (string, error) {
	if env == nil || env.Journal == nil {
		return "", nil
	}
	if e.database() && e.DB == "" {
		e.DB = dbTarget(env.AdminDSN, env.Database)
		e.Ephemeral = env.Ephemeral
	}
	id, err := env.Journal.Record(e)
	if err != nil {
		return "", fmt.Errorf("journal %s before injecting it: %w", e.Fault, err)
	}
	return id, nil
}

// done marks a journal entry done; "" is no entry.
func (env *Env) done(id string) error {
	if id == "" || env == nil || env.Journal == nil {
		return nil
	}
	return env.Journal.Done(id)
}
