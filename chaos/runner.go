package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Scheduled is one fault on the run's clock: in force from Start for
// Duration (0: until the run stops).
type Scheduled struct {
	Fault           Fault
	Start, Duration time.Duration
}

// EventSink receives the runner's events: fault_inject, fault_revert and
// fault_repeat, each with its exact time.
type EventSink interface {
	Event(typ string, at time.Time, fields map[string]any)
}

// Event types.
const (
	EventInject = "fault_inject"
	EventRevert = "fault_revert"
	EventRepeat = "fault_repeat" // a Repeating fault applied again
)

// Revert reasons, in the fault_revert event's "reason" field.
const (
	ReasonEnd          = "end"           // its window ended
	ReasonCancel       = "cancel"        // the run's context was cancelled
	ReasonStop         = "stop"          // Stop was called
	ReasonPanic        = "panic"         // the runner panicked
	ReasonInjectFailed = "inject_failed" // Inject failed: undo what it did
)

// Time limits: a revert runs on a context the run's cancellation cannot
// cancel, with a timeout of its own.
const (
	RevertTimeout = 10 * time.Second
	InjectTimeout = 30 * time.Second
)

// Runner applies scheduled faults on the run's clock and reverts every
// one it injected: at the end of its window, when the context is
// cancelled, on Stop, and when the runner panics. A panic in a fault's
// methods or in the event sink is an error of that call; the runner goes
// on and still reverts.
type Runner struct {
	items  []Scheduled
	sched  Schedule
	events EventSink
	start  time.Time

	stopCh   chan struct{}
	stopOnce sync.Once
	done     chan struct{}

	mu     sync.Mutex
	active []int // indices in force, in injection order
	errs   []error
}

// StartSchedule starts applying items, timed from start (the run's start),
// in a goroutine of its own. events may be nil.
func StartSchedule(ctx context.Context, start time.Time, items []Scheduled, events EventSink) *Runner {
	r := &Runner{
		items:  slices.Clone(items),
		events: events,
		start:  start,
		stopCh: make(chan struct{}),
		done:   make(chan struct{}),
	}
	r.sched = make(Schedule, len(items))
	for i, it := range items {
		r.sched[i] = Window{Start: it.Start, Duration: it.Duration}
	}
	go r.run(ctx)
	return r
}

// Stop reverts every fault in force and waits for the runner to end (or
// for ctx). It returns the reverts' errors, and is safe to call more than
// once and after the context was cancelled.
func (r *Runner) Stop(ctx context.Context) error {
	r.stopOnce.Do(func() { close(r.stopCh) })
	select {
	case <-r.done:
	case <-ctx.Done():
		return fmt.Errorf("chaos: stop: reverts still running: %w", ctx.Err())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.Join(r.errs...)
}

// Done is closed when the runner has nothing left to do: every fault was
// applied and reverted, or the run stopped and everything was reverted.
func (r *Runner) Done() <-chan struct{} { return r.done }

// ActiveNames returns the faults in force now, in injection order, for a
// live display.
func (r *Runner) ActiveNames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, len(r.active))
	for k, i := range r.active {
		names[k] = faultName(r.items[i].Fault)
	}
	return names
}

func (r *Runner) run(ctx context.Context) {
	defer close(r.done)
	// Injections run on a context that Stop also cancels: a slow Inject
	// (a lock waited for, connections still being opened) must not hold
	// up the reverts that Stop asks for. Reverts have contexts of their own.
	ictx, cancelInjects := context.WithCancel(ctx)
	defer cancelInjects()
	go func() {
		select {
		case <-r.stopCh:
			cancelInjects()
		case <-ictx.Done():
		}
	}()
	defer func() {
		if p := recover(); p != nil {
			r.addErr(fmt.Errorf("chaos: fault runner panicked: %v", p))
			r.revertAll(ctx, ReasonPanic)
		}
	}()

	trans := r.sched.Transitions()
	next := 0
	repeatAt := make([]time.Duration, len(r.items)) // 0: not repeating
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		// The next thing due: a transition, or a repetition (a transition
		// at the same time goes first).
		at, repeat := time.Duration(0), -1
		has := next < len(trans)
		if has {
			at = trans[next].At
		}
		for i, due := range repeatAt {
			if due > 0 && (!has || due < at) {
				at, repeat, has = due, i, true
			}
		}
		if !has {
			if len(r.activeNow()) == 0 {
				return // everything applied and reverted
			}
			select { // open-ended faults: in force until the run stops
			case <-ctx.Done():
				r.revertAll(ctx, ReasonCancel)
			case <-r.stopCh:
				r.revertAll(ctx, ReasonStop)
			}
			return
		}
		timer.Reset(time.Until(r.start.Add(at)))
		select {
		case <-ctx.Done():
			r.revertAll(ctx, ReasonCancel)
			return
		case <-r.stopCh:
			r.revertAll(ctx, ReasonStop)
			return
		case <-timer.C:
		}

		if repeat >= 0 {
			r.repeat(ictx, repeat)
			// Skip repetitions missed while this one ran, rather than
			// firing them back to back.
			every := r.items[repeat].Fault.(Repeating).Interval()
			repeatAt[repeat] = max(at+every, time.Since(r.start)+every)
			continue
		}
		tr := trans[next]
		next++
		if !tr.Inject {
			if slices.Contains(r.activeNow(), tr.Index) {
				r.revert(ctx, tr.Index, ReasonEnd)
			}
			repeatAt[tr.Index] = 0
			continue
		}
		if r.inject(ictx, tr.Index) {
			if rp, ok := r.items[tr.Index].Fault.(Repeating); ok && rp.Interval() > 0 {
				repeatAt[tr.Index] = max(tr.At, 0) + rp.Interval()
			}
		}
	}
}

func (r *Runner) activeNow() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.active)
}

func (r *Runner) addErr(err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
}

// fields describes item i for an event; no secret is in any of them.
func (r *Runner) fields(i int) map[string]any {
	it := r.items[i]
	f := map[string]any{
		"index":   i,
		"fault":   faultName(it.Fault),
		"start_s": it.Start.Seconds(),
	}
	if end, ok := r.sched.end(i); ok {
		f["end_s"] = end.Seconds()
	}
	if d, ok := it.Fault.(Described); ok {
		_ = guard(func() error {
			f["kind"], f["params"] = d.Kind(), d.Params()
			return nil
		})
	}
	return f
}

func (r *Runner) emit(typ string, fields map[string]any, began time.Time, err error) {
	at := time.Now()
	fields["elapsed_s"] = at.Sub(r.start).Seconds()
	fields["took_ms"] = float64(at.Sub(began).Microseconds()) / 1000
	fields["ok"] = err == nil
	if err != nil {
		fields["error"] = err.Error()
	}
	if r.events == nil {
		return
	}
	if err := guard(func() error { r.events.Event(typ, at, fields); return nil }); err != nil {
		r.addErr(fmt.Errorf("chaos: event sink: %w", err))
	}
}

// inject applies item i; on failure it reverts at once and reports false.
func (r *Runner) inject(ctx context.Context, i int) bool {
	ictx, cancel := context.WithTimeout(ctx, InjectTimeout)
	defer cancel()
	began := time.Now()
	err := guard(func() error { return r.items[i].Fault.Inject(ictx) })
	if err == nil {
		r.mu.Lock() // in force from here: whatever happens next reverts it
		r.active = append(r.active, i)
		r.mu.Unlock()
	}
	r.emit(EventInject, r.fields(i), began, err)
	if err != nil {
		r.revertOne(ctx, i, ReasonInjectFailed)
		return false
	}
	return true
}

func (r *Runner) repeat(ctx context.Context, i int) {
	ictx, cancel := context.WithTimeout(ctx, InjectTimeout)
	defer cancel()
	began := time.Now()
	err := guard(func() error { return r.items[i].Fault.Inject(ictx) })
	r.emit(EventRepeat, r.fields(i), began, err)
}

// revert takes item i out of force.
func (r *Runner) revert(ctx context.Context, i int, reason string) {
	r.revertOne(ctx, i, reason)
	r.mu.Lock()
	r.active = slices.DeleteFunc(r.active, func(k int) bool { return k == i })
	r.mu.Unlock()
}

func (r *Runner) revertOne(ctx context.Context, i int, reason string) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RevertTimeout)
	defer cancel()
	began := time.Now()
	err := guard(func() error { return r.items[i].Fault.Revert(rctx) })
	fields := r.fields(i)
	fields["reason"] = reason
	r.emit(EventRevert, fields, began, err)
	if err != nil {
		r.addErr(fmt.Errorf("chaos: revert %s: %w", faultName(r.items[i].Fault), err))
	}
}

// revertAll reverts every fault in force, the latest injected first.
func (r *Runner) revertAll(ctx context.Context, reason string) {
	active := r.activeNow()
	for k := len(active) - 1; k >= 0; k-- {
		r.revert(ctx, active[k], reason)
	}
}

// faultName is f.String(), even when that panics.
func faultName(f Fault) (name string) {
	defer func() {
		if p := recover(); p != nil {
			name = fmt.Sprintf("%T (String panicked: %v)", f, p)
		}
	}()
	return f.String()
}

// guard runs f, turning a panic into an error.
func guard(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return f()
}
