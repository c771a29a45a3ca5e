package chaos

import (
	"context"
	"fmt"
)

// down is net.down: the proxy is disabled (its connections closed, its
// port no longer listening: clients get "connection refused") until
// Revert enables it again on the same address.
// params: path.
type down struct {
	described
	env  *Env
	path string

	net       Network
	journalID string
}

func buildDown(env *Env, raw map[string]any) (Fault, error) {
	p := newParams("net.down", raw)
	path, _ := readPath(p, false)
	if err := p.Done(); err != nil {
		return nil, err
	}
	return &down{described: p.out, env: env, path: path}, nil
}

func (f *down) Inject(ctx context.Context) error {
	if f.net != nil {
		return fmt.Errorf("chaos: %s is already in force", f)
	}
	n, err := envNetwork(f.env)
	if err != nil {
		return fmt.Errorf("chaos: %s: %w", f, err)
	}
	id, err := f.env.record(JournalEntry{Kind: f.kind, Fault: f.String(), Proxy: f.path, EnableProxy: true, ToxiproxyURL: n.URL()})
	if err != nil {
		return fmt.Errorf("chaos: disable proxy %q: %w", f.path, err)
	}
	f.journalID = id
	if err := setDown(ctx, n, f.path, true); err != nil {
		return fmt.Errorf("chaos: disable proxy %q: %w", f.path, err)
	}
	f.net = n
	return nil
}

func (f *down) Revert(ctx context.Context) error {
	if f.net != nil {
		if err := setDown(ctx, f.net, f.path, false); err != nil {
			return fmt.Errorf("chaos: enable proxy %q again: %w", f.path, err)
		}
		f.net = nil
	}
	if err := f.env.done(f.journalID); err != nil {
		return err
	}
	f.journalID = ""
	return nil
}

func (f *down) needs() needs { return needs{proxy: f.path} }
