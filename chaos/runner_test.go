package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// runSchedule starts a Runner and returns its Stop.
func runSchedule(ctx context.Context, start time.Time, items []Scheduled, events EventSink) (stop func(ctx context.Context) error) {
	return StartSchedule(ctx, start, items, events).Stop
}

// probe is a fault that only records its calls.
type probe struct {
	described
	log         *callLog
	injectErr   error
	injectPanic bool
	revertPanic bool
}

type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(s string) {
	l.mu.Lock()
	l.calls = append(l.calls, s)
	l.mu.Unlock()
}

func (l *callLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

func newProbe(log *callLog, name string) *probe {
	return &probe{described: described{kind: "test.probe", params: []param{{"name", name}}}, log: log}
}

func (p *probe) name() string { return p.params[0].value.(string) }

func (p *probe) Inject(ctx context.Context) error {
	p.log.add("inject " + p.name())
	if p.injectPanic {
		panic("probe exploded")
	}
	return p.injectErr
}

func (p *probe) Revert(ctx context.Context) error {
	if ctx.Err() != nil {
		return fmt.Errorf("revert got a done context: %w", ctx.Err())
	}
	p.log.add("revert " + p.name())
	if p.revertPanic {
		panic("probe revert exploded")
	}
	return nil
}

func TestRunScheduleInjectsAndRevertsInOrder(t *testing.T) {
	log := &callLog{}
	a, b, c := newProbe(log, "a"), newProbe(log, "b"), newProbe(log, "c")
	ev := &events{}
	start := time.Now()
	r := StartSchedule(context.Background(), start, []Scheduled{
		{Fault: a, Start: 0, Duration: 150 * ms},
		{Fault: b, Start: 50 * ms, Duration: 50 * ms},
		{Fault: c, Start: 100 * ms}, // until stopped
	}, ev)
	deadline := time.Now().Add(5 * time.Second)
	for len(log.get()) < 5 && time.Now().Before(deadline) {
		time.Sleep(10 * ms)
	}
	if got := r.ActiveNames(); !slices.Equal(got, []string{"test.probe{name=c}"}) {
		t.Errorf("ActiveNames() = %v, want only c", got)
	}
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(context.Background()); err != nil { // twice is harmless
		t.Fatal(err)
	}
	want := []string{"inject a", "inject b", "revert b", "inject c", "revert a", "revert c"}
	if got := log.get(); !slices.Equal(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
	if got := r.ActiveNames(); len(got) != 0 {
		t.Errorf("ActiveNames() after stop = %v", got)
	}

	all := ev.all()
	if len(all) != 6 {
		t.Fatalf("%d events, want 6:\n%s", len(all), ev)
	}
	// The planned times, and the actual ones no earlier than planned (and
	// not absurdly late: generous bounds, this is a shared machine).
	for i, e := range all {
		kind := strings.Fields(want[i])[0]
		if (kind == "inject") != (e.typ == EventInject) {
			t.Errorf("event %d is %s, want a %s", i, e.typ, kind)
		}
		if e.fields["ok"] != true || e.fields["kind"] != "test.probe" {
			t.Errorf("event %d: %v", i, e.fields)
		}
		if i > 0 && e.at.Before(all[i-1].at) {
			t.Errorf("event %d is earlier than event %d", i, i-1)
		}
	}
	planned := []time.Duration{0, 50 * ms, 100 * ms, 100 * ms, 150 * ms}
	for i, p := range planned {
		got := all[i].at.Sub(start)
		if got < p || got > p+time.Second {
			t.Errorf("event %d (%s) at %s, planned at %s", i, want[i], got, p)
		}
	}
	if all[4].fields["reason"] != ReasonEnd || all[5].fields["reason"] != ReasonStop {
		t.Errorf("revert reasons: %v, %v", all[4].fields["reason"], all[5].fields["reason"])
	}
	if all[0].fields["start_s"] != 0.0 || all[0].fields["end_s"] != 0.15 {
		t.Errorf("start_s/end_s of a: %v %v", all[0].fields["start_s"], all[0].fields["end_s"])
	}
	if _, ok := all[3].fields["end_s"]; ok {
		t.Errorf("open-ended c has an end_s")
	}
}

func TestRunScheduleRevertsFailedAndPanickingInjections(t *testing.T) {
	log := &callLog{}
	bad, boom, good := newProbe(log, "bad"), newProbe(log, "boom"), newProbe(log, "good")
	bad.injectErr = errors.New("no can do")
	boom.injectPanic = true
	ev := &events{}
	stop := runSchedule(context.Background(), time.Now(), []Scheduled{
		{Fault: bad, Duration: time.Hour},
		{Fault: boom, Duration: time.Hour},
		{Fault: good, Start: 20 * ms, Duration: 20 * ms},
	}, ev)
	time.Sleep(150 * ms)
	if err := stop(context.Background()); err != nil {
		t.Fatalf("stop: %v", err)
	}
	want := []string{"inject bad", "revert bad", "inject boom", "revert boom", "inject good", "revert good"}
	if got := log.get(); !slices.Equal(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
	all := ev.all()
	if all[0].fields["ok"] != false || all[0].fields["error"] != "no can do" {
		t.Errorf("failed inject event: %v", all[0].fields)
	}
	if all[1].fields["reason"] != ReasonInjectFailed {
		t.Errorf("revert after a failed inject: reason %v", all[1].fields["reason"])
	}
	if e, _ := all[2].fields["error"].(string); !strings.Contains(e, "probe exploded") {
		t.Errorf("panicking inject event: %v", all[2].fields)
	}
}

func TestRunScheduleReportsFailedReverts(t *testing.T) {
	log := &callLog{}
	p := newProbe(log, "p")
	p.revertPanic = true
	stop := runSchedule(context.Background(), time.Now(), []Scheduled{{Fault: p}}, nil)
	time.Sleep(20 * ms)
	err := stop(context.Background())
	if err == nil || !strings.Contains(err.Error(), "probe revert exploded") {
		t.Errorf("stop = %v, want the revert's panic", err)
	}
}

func TestRunScheduleCancelRevertsARealFault(t *testing.T) {
	newRole(t, "run_cancel", "CONNECTION LIMIT 7")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := &events{}
	f := build(t, testEnv("run_cancel"), "db.conn_limit", map[string]any{"limit": 1})
	r := StartSchedule(ctx, time.Now(), []Scheduled{{Fault: f, Duration: time.Minute}}, ev)
	deadline := time.Now().Add(10 * time.Second)
	for len(r.ActiveNames()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * ms)
	}
	if got := connLimitOf(t, "run_cancel"); got != 1 {
		t.Fatalf("limit while in force = %d, want 1\n%s", got, ev)
	}
	cancel() // the run is interrupted mid-fault
	select {
	case <-r.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("runner did not finish after cancel")
	}
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := connLimitOf(t, "run_cancel"); got != 7 {
		t.Errorf("limit after cancel = %d, want the original 7", got)
	}
	all := ev.all()
	if len(all) != 2 || all[1].typ != EventRevert || all[1].fields["reason"] != ReasonCancel || all[1].fields["ok"] != true {
		t.Errorf("events:\n%s", ev)
	}
}

func TestRunScheduleSameKindTwice(t *testing.T) {
	newRole(t, "run_twice", "")
	env := testEnv("run_twice")
	ev := &events{}
	r := StartSchedule(context.Background(), time.Now(), []Scheduled{
		{Fault: build(t, env, "db.conn_limit", map[string]any{"limit": 3}), Duration: 60 * ms},
		{Fault: build(t, env, "db.conn_limit", map[string]any{"limit": 4}), Start: 100 * ms, Duration: 60 * ms},
	}, ev)
	select {
	case <-r.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("runner did not finish")
	}
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range ev.all() {
		if e.fields["ok"] != true {
			t.Errorf("%s failed: %v", e.typ, e.fields["error"])
		}
		types = append(types, e.typ)
	}
	if !slices.Equal(types, []string{EventInject, EventRevert, EventInject, EventRevert}) {
		t.Errorf("events: %v", types)
	}
	if got := connLimitOf(t, "run_twice"); got != -1 {
		t.Errorf("limit after both = %d, want -1", got)
	}
}

// badName panics in String, which the runner calls outside Inject and
// Revert.
type badName struct{ *probe }

func (badName) String() string { panic("no name") }

// panicSink panics on its second event.
type panicSink struct{ events }

func (s *panicSink) Event(typ string, at time.Time, fields map[string]any) {
	s.events.Event(typ, at, fields)
	if len(s.all()) == 2 {
		panic("sink exploded")
	}
}

func TestRunSchedulePanicsElsewhereStillRevert(t *testing.T) {
	log := &callLog{}
	a, b := newProbe(log, "a"), badName{newProbe(log, "b")}
	ev := &panicSink{}
	r := StartSchedule(context.Background(), time.Now(), []Scheduled{
		{Fault: a, Duration: time.Hour},
		{Fault: b, Start: 20 * ms, Duration: time.Hour},
	}, ev)
	time.Sleep(100 * ms)
	if got := r.ActiveNames(); len(got) != 2 || !strings.Contains(got[1], "String panicked") {
		t.Errorf("ActiveNames() = %v", got)
	}
	err := r.Stop(context.Background())
	if err == nil || !strings.Contains(err.Error(), "sink exploded") {
		t.Errorf("stop = %v, want the sink's panic", err)
	}
	if got, want := log.get(), []string{"inject a", "inject b", "revert b", "revert a"}; !slices.Equal(got, want) {
		t.Errorf("calls = %v, want %v", got, want)
	}
	if n := len(ev.all()); n != 4 {
		t.Errorf("%d events, want 4:\n%s", n, &ev.events)
	}
}

// stuck is a fault whose Inject waits until its context is done, as
// db.lock waits behind someone else's lock.
type stuck struct {
	described
	entered  chan struct{}
	reverted chan struct{}
}

func (s *stuck) Inject(ctx context.Context) error {
	close(s.entered)
	<-ctx.Done()
	return ctx.Err()
}

func (s *stuck) Revert(context.Context) error {
	select {
	case <-s.reverted:
	default:
		close(s.reverted)
	}
	return nil
}

// TestStopCancelsAnInjectionInProgress: Stop (Ctrl-C) during a slow
// Inject cancels it and undoes what it did, rather than waiting up to
// InjectTimeout for it to finish before reverting.
func TestStopCancelsAnInjectionInProgress(t *testing.T) {
	f := &stuck{described: described{kind: "test.stuck"}, entered: make(chan struct{}), reverted: make(chan struct{})}
	ev := &events{}
	r := StartSchedule(context.Background(), time.Now(), []Scheduled{{Fault: f, Duration: time.Minute}}, ev)
	select {
	case <-f.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("Inject never started")
	}
	// Far below InjectTimeout (30s), far above what a cancellation takes.
	ctx, cancel := context.WithTimeout(context.Background(), InjectTimeout/3)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatalf("Stop during an injection: %v\n%s", err, ev)
	}
	select {
	case <-f.reverted:
	default:
		t.Error("the cancelled injection was not reverted")
	}
	all := ev.all()
	if len(all) != 2 || all[0].typ != EventInject || all[0].fields["ok"] != false ||
		all[1].typ != EventRevert || all[1].fields["reason"] != ReasonInjectFailed {
		t.Errorf("events:\n%s", ev)
	}
}
