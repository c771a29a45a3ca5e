package engine

import (
	"testing"
	"time"
)

// Every request's shared deadline falls between timeout and timeout+slack
// after its start, and the requests that start within one slack share a
// context.
func TestSharedDeadlinesBounds(t *testing.T) {
	const timeout = 2 * time.Second // slack: 2 ms
	d := newSharedDeadlines(timeout)
	if d.slack != 2*time.Millisecond {
		t.Fatalf("slack %s, want 2ms", d.slack)
	}
	t0 := time.Now()
	contexts := map[any]bool{}
	for _, at := range []time.Duration{0, 500 * time.Microsecond, 2 * time.Millisecond, 2*time.Millisecond + 1, 3 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond} {
		now := t0.Add(at)
		ctx := d.context(now)
		contexts[ctx] = true
		dl, ok := ctx.Deadline()
		if !ok {
			t.Fatalf("at %s: no deadline", at)
		}
		if got := dl.Sub(now); got < timeout || got > timeout+d.slack {
			t.Errorf("at %s: deadline %s after the start, want within [%s, %s]", at, got, timeout, timeout+d.slack)
		}
	}
	// 0, 0.5 ms and 2 ms share the first; 2 ms+1ns, 3 ms the second; 10 ms the third.
	if len(contexts) != 3 {
		t.Errorf("%d contexts, want 3", len(contexts))
	}
}

func TestSharedDeadlinesSlackFloor(t *testing.T) {
	if d := newSharedDeadlines(200 * time.Millisecond); d.slack != time.Millisecond {
		t.Errorf("slack %s for a 200ms timeout, want the 1ms floor", d.slack)
	}
}
