package chaos

import (
	"context"
	"fmt"
	"time"
)

// terminate is db.terminate: pg_terminate_backend on every session of the
// role, once at the start, or again every `every` while in force (the Runner
// re-injects Repeating faults). There is nothing to revert: the sessions
// reconnect on their own, and stopping the repetition is the Runner's.
type terminate struct {
	described
	env   *Env
	role  string
	every time.Duration

	terminated int // sessions ended by the last Inject
}

// params: role (default Env.Role), every (duration, optional).
func buildTerminate(env *Env, raw map[string]any) (Fault, error) {
	p := newParams("db.terminate", raw)
	role := p.String("role", envRole(env), false)
	every := p.Duration("every", 0, false)
	p.check(env != nil && role == "", "role", "required: no role given and Env.Role is empty")
	p.check(every > 0 && every < 10*time.Millisecond, "every", "must be at least 10ms, got %s", every)
	if err := p.Done(); err != nil {
		return nil, err
	}
	return &terminate{described: p.out, env: env, role: role, every: every}, nil
}

// Interval is the repetition period; 0 means once.
func (f *terminate) Interval() time.Duration { return f.every }

func (f *terminate) Inject(ctx context.Context) error {
	c, err := connectAdmin(ctx, f.env, appChaos)
	if err != nil {
		return fmt.Errorf("chaos: terminate sessions of role %q: %w", f.role, err)
	}
	defer closeQuietly(ctx, c)
	n, err := terminateWhere(ctx, c, "usename = $1", 0, f.role)
	if err != nil {
		return fmt.Errorf("chaos: terminate sessions of role %q: %w", f.role, err)
	}
	f.terminated = n
	return nil
}

func (f *terminate) Revert(context.Context) error { return nil }

func (f *terminate) needs() needs {
	return needs{db: true, readStats: true, signalRole: f.role}
}
