package engine

// Control stops a run from outside, as vegeta's Attacker.Stop does: the
// caller turns its signals (or anything else) into Stop and Abort. The
// requests are taken in the order they were made.
type Control struct {
	reqs chan interrupt
}

type interrupt struct {
	why       string // recorded in the interrupt event (e.g. the signal's name)
	immediate bool
}

// NewControl makes a Control for one run.
func NewControl() *Control { return &Control{reqs: make(chan interrupt, 4)} }

// Stop asks the run to stop gracefully: stop sending, revert its faults at
// once, let the requests in flight finish, then write the results, the
// manifest and run_end as usual. why is recorded in the timeline.
func (c *Control) Stop(why string) { c.send(interrupt{why: why}) }

// Abort asks the run to return at once: the faults are still reverted and
// the manifest written, but the requests in flight are left behind; Run
// returns ErrAbortedImmediately.
func (c *Control) Abort(why string) { c.send(interrupt{why: why, immediate: true}) }

func (c *Control) send(i interrupt) {
	select {
	case c.reqs <- i:
	default: // a full queue already asks for everything a request can
	}
}

func (c *Control) requests() <-chan interrupt {
	if c == nil {
		return nil
	}
	return c.reqs
}

// Progress receives the run's live figures about four times a second, and
// Done once the run has returned its results. It is called from the run's
// own goroutine: it must not block.
type Progress interface {
	Update(l Live)
	Done()
}
