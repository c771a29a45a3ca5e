package chaos

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// toxicFault is a network fault made of one Toxiproxy toxic on one proxy.
// Each net.* kind is a builder in a file of its own that reads its
// attributes and hands them here.
type toxicFault struct {
	described
	env       *Env
	toxicType string // Toxiproxy's name: latency, bandwidth, …
	path      string // proxy name: client or db
	stream    string // upstream or downstream
	toxicity  float64
	attrs     map[string]int64

	net       Network // where it was injected
	name      string  // the toxic's name while in force
	journalID string
}

// readPath reads the params every network fault has first: path, and
// with a stream, direction.
func readPath(p *paramReader, withDirection bool) (path, stream string) {
	path = p.String("path", "", true)
	p.check(path != "" && strings.ContainsAny(path, "/ "), "path", "want a proxy name such as %s or %s, got %q", PathClient, PathDB, path)
	if !withDirection {
		return path, ""
	}
	stream = p.String("direction", "downstream", false)
	p.check(stream != "upstream" && stream != "downstream", "direction",
		"want upstream (towards the server) or downstream (towards the client), got %q", stream)
	return path, stream
}

// newToxic reads toxicity, checks every param and builds the fault.
func newToxic(p *paramReader, env *Env, toxicType, path, stream string, attrs map[string]int64) (Fault, error) {
	toxicity := p.Float("toxicity", 1)
	p.check(toxicity < 0 || toxicity > 1, "toxicity", "want a share of connections from 0 to 1, got %v", toxicity)
	if err := p.Done(); err != nil {
		return nil, err
	}
	return &toxicFault{described: p.out, env: env, toxicType: toxicType, path: path, stream: stream,
		toxicity: toxicity, attrs: attrs}, nil
}

// millis converts a duration to Toxiproxy's whole milliseconds.
func millis(p *paramReader, key string, d time.Duration) int64 {
	p.check(d%time.Millisecond != 0, key, "Toxiproxy counts in whole milliseconds, got %s", d)
	return d.Milliseconds()
}

func envNetwork(env *Env) (Network, error) {
	if env == nil || env.Network == nil {
		return nil, errors.New("no network proxies set up: network faults need Env.Network")
	}
	return env.Network, nil
}

func (f *toxicFault) Inject(ctx context.Context) error {
	if f.name != "" {
		return fmt.Errorf("chaos: %s is already in force", f)
	}
	n, err := envNetwork(f.env)
	if err != nil {
		return fmt.Errorf("chaos: %s: %w", f, err)
	}
	name := n.state().toxicName(strings.TrimPrefix(f.kind, "net."))
	id, err := f.env.record(JournalEntry{Kind: f.kind, Fault: f.String(), Proxy: f.path, Toxic: name, ToxiproxyURL: n.URL()})
	if err != nil {
		return fmt.Errorf("chaos: add %s toxic to proxy %q: %w", f.toxicType, f.path, err)
	}
	f.net, f.name, f.journalID = n, name, id
	t := toxic{Name: name, Type: f.toxicType, Stream: f.stream, Toxicity: f.toxicity, Attributes: f.attrs}
	if err := n.addToxic(ctx, f.path, t); err != nil {
		return fmt.Errorf("chaos: add %s toxic %q to proxy %q: %w", f.toxicType, name, f.path, err)
	}
	return nil
}

func (f *toxicFault) Revert(ctx context.Context) error {
	if f.name == "" {
		return nil
	}
	if err := f.net.removeToxic(ctx, f.path, f.name); err != nil {
		return fmt.Errorf("chaos: remove toxic %q from proxy %q: %w", f.name, f.path, err)
	}
	if err := f.env.done(f.journalID); err != nil {
		return err
	}
	f.name, f.journalID = "", ""
	return nil
}

func (f *toxicFault) needs() needs { return needs{proxy: f.path} }
