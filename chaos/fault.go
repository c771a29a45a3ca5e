// Package chaos injects database and network faults and always takes them
// back out.
//
// A fault is one small value with Inject and Revert (one kind, one file:
// db_conn_limit.go, net_latency.go, …). Builders turn a scenario's kind and
// params into faults through a Registry that the caller owns. Every fault
// that changes lasting state writes what undoes it to a Journal before it
// changes anything, so that Restore can undo it after a crash; StartSchedule
// applies faults on the run's clock and reverts every one of them at its
// end, on cancellation, on stop and on panic.
package chaos

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Fault is one injectable fault.
type Fault interface {
	// Inject applies the fault. After an error the fault may be partly
	// applied; Revert must still be called and undoes whatever was done.
	Inject(ctx context.Context) error
	// Revert undoes Inject. It is safe to call after a failed Inject and
	// more than once.
	Revert(ctx context.Context) error
	// String is readable and holds no secret:
	// db.conn_limit{role=stampede_app limit=5 terminate=true}.
	String() string
}

// Described is a Fault that reports its kind and resolved params (defaults
// filled in, durations as text, no secrets). Every fault in this package
// implements it; the Runner puts both in its events.
type Described interface {
	Kind() string
	Params() map[string]any
}

// Repeating is a Fault that the Runner injects again every Interval while
// it is in force (db.terminate with every:).
type Repeating interface {
	Interval() time.Duration
}

// Env is what faults act on. Build it once per run and pass the pointer;
// do not copy it after first use.
type Env struct {
	// AdminDSN is a superuser or otherwise privileged connection string. It
	// is a secret: it is never printed, journaled or put in an event.
	AdminDSN string
	// Role is the service's database role (the bundled fixture's is
	// "stampede_app"); database faults default to it.
	Role string
	// Database is the service's database; empty means the AdminDSN's.
	Database string
	// Ephemeral says the database is a throwaway that ends with the run
	// (the bundled fixture): Restore then has nothing left to undo there.
	Ephemeral bool
	// Network holds the Toxiproxy proxies network faults act on; may be nil.
	Network Network
	// Journal records what undoes each injection; nil disables it (and with
	// it recovery after a crash).
	Journal *Journal

	mu     sync.Mutex
	limits map[string]*roleLimits // db.conn_limit faults in force, per role
}

// Builder validates params and builds a fault. It must not touch the
// database or the network. env may be nil when only validating.
type Builder func(env *Env, params map[string]any) (Fault, error)

// Registry maps fault kinds to builders. The caller owns it.
type Registry map[string]Builder

// NewRegistry returns a fresh registry with every kind of this package.
// Packet loss is left out: it needs kernel netem, which this project's
// machines lack; a netem-backed kind would be one more file and one line
// here.
func NewRegistry() Registry {
	return Registry{
		"db.conn_limit":  buildConnLimit,
		"db.hog":         buildHog,
		"db.terminate":   buildTerminate,
		"db.lock":        buildLock,
		"net.latency":    buildLatency,
		"net.bandwidth":  buildBandwidth,
		"net.timeout":    buildTimeout,
		"net.reset_peer": buildResetPeer,
		"net.slow_close": buildSlowClose,
		"net.slicer":     buildSlicer,
		"net.limit_data": buildLimitData,
		"net.down":       buildDown,
	}
}

// Kinds lists the registered kinds, sorted.
func (r Registry) Kinds() []string {
	kinds := make([]string, 0, len(r))
	for k := range r {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// Build builds a fault of the given kind.
func (r Registry) Build(env *Env, kind string, params map[string]any) (Fault, error) {
	b, ok := r[kind]
	if !ok {
		return nil, fmt.Errorf("chaos: unknown fault kind %q; known kinds: %s", kind, strings.Join(r.Kinds(), ", "))
	}
	return b(env, params)
}

// described is embedded by every fault of this package: its kind and its
// resolved params in the order the builder read them.
type described struct {
	kind   string
	params []param
}

type param struct {
	key   string
	value any // string, int, bool, float64 or time.Duration
}

func (d *described) Kind() string { return d.kind }

func (d *described) Params() map[string]any {
	m := make(map[string]any, len(d.params))
	for _, p := range d.params {
		if v, ok := p.value.(time.Duration); ok {
			m[p.key] = v.String()
			continue
		}
		m[p.key] = p.value
	}
	return m
}

func (d *described) String() string {
	var b strings.Builder
	b.WriteString(d.kind)
	b.WriteByte('{')
	for i, p := range d.params {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%v", p.key, p.value)
	}
	b.WriteByte('}')
	return b.String()
}
