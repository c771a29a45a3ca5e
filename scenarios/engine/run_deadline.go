package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// sharedDeadlines gives the load's requests their timeout without a
// context and a timer of their own: the requests that start within the
// same slack share one context, which ends timeout+slack after the first
// of them started. A request's timeout is thus between timeout and
// timeout+slack, slack being a thousandth of it (at least a millisecond).
//
// A context of its own per request cost ten allocations and two locked
// timer operations (context.WithTimeout, the children map net/http's own
// context adds to it, the cancel at the end), about 1.5 µs of CPU per
// request, a twentieth of the generator's CPU at full load.
//
// The shared context is never cancelled but by its deadline: by then, the
// only requests it still bounds are those that have run out of time.
// net/http's per-request context, derived from it, is cancelled (and
// removed from it) as each request ends.
type sharedDeadlines struct {
	timeout, slack time.Duration
	cur            atomic.Pointer[deadlineCtx]
	mu             sync.Mutex // held to replace cur
}

type deadlineCtx struct {
	ctx    context.Context
	end    time.Time
	cancel context.CancelFunc // kept, never called: see sharedDeadlines
}

func newSharedDeadlines(timeout time.Duration) *sharedDeadlines {
	return &sharedDeadlines{timeout: timeout, slack: max(timeout/1000, time.Millisecond)}
}

// context returns a context that ends between timeout and timeout+slack
// after now.
func (d *sharedDeadlines) context(now time.Time) context.Context {
	due := now.Add(d.timeout)
	if c := d.cur.Load(); c != nil && !c.end.Before(due) {
		return c.ctx
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.cur.Load(); c != nil && !c.end.Before(due) {
		return c.ctx
	}
	c := &deadlineCtx{end: due.Add(d.slack)}
	c.ctx, c.cancel = context.WithDeadline(context.Background(), c.end)
	d.cur.Store(c)
	return c.ctx
}
