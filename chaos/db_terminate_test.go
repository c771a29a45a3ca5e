package chaos

import (
	"context"
	"testing"
	"time"
)

func TestTerminateEndsTheRolesSessions(t *testing.T) {
	ctx := context.Background()
	newRole(t, "term_app", "")
	c := connectAs(t, "term_app")
	f := build(t, testEnv("term_app"), "db.terminate", nil)
	inject(t, f)
	if n := f.(*terminate).terminated; n != 1 {
		t.Errorf("terminated %d sessions, want 1", n)
	}
	_, err := c.Exec(ctx, "SELECT 1")
	wantSQLState(t, err, "57P01")
	revert(t, f)
	c2 := connectAs(t, "term_app")
	if _, err := c2.Exec(ctx, "SELECT 1"); err != nil {
		t.Errorf("a new session after terminate: %v", err)
	}
}

func TestTerminateEveryRepeatsUnderTheRunner(t *testing.T) {
	newRole(t, "term_rep", "")
	f := build(t, testEnv("term_rep"), "db.terminate", map[string]any{"every": "100ms"})
	if got := f.(Repeating).Interval(); got != 100*time.Millisecond {
		t.Fatalf("Interval() = %s", got)
	}
	ev := &events{}
	r := StartSchedule(context.Background(), time.Now(), []Scheduled{{Fault: f, Duration: 550 * time.Millisecond}}, ev)
	<-r.Done()
	var injects, repeats, reverts int
	for _, e := range ev.all() {
		switch e.typ {
		case EventInject:
			injects++
		case EventRepeat:
			repeats++
			if e.fields["ok"] != true {
				t.Errorf("repeat failed: %v", e.fields["error"])
			}
		case EventRevert:
			reverts++
		}
	}
	// Nominally 5 repeats in 550ms; allow for a slow machine.
	if injects != 1 || reverts != 1 || repeats < 2 || repeats > 5 {
		t.Errorf("injects=%d repeats=%d reverts=%d, want 1, 2..5, 1\n%s", injects, repeats, reverts, ev)
	}
}
