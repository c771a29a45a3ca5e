package barrier

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// outcome is one shard's return from the barrier.
type outcome struct {
	index int
	start time.Time
	err   error
}

// runShards runs a leader on 127.0.0.1:0 with config lead and a follower
// for each of follow, and returns every shard's outcome, the leader's first.
func runShards(t *testing.T, lead Config, follow ...Config) []outcome {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := make(chan outcome, len(follow)+1)
	go func() {
		s, err := Serve(ctx, ln, lead)
		out <- outcome{0, s, err}
	}()
	for _, c := range follow {
		c.Addr = ln.Addr().String()
		go func() {
			s, err := Follower(ctx, c)
			out <- outcome{c.Index, s, err}
		}()
	}
	res := make([]outcome, 0, len(follow)+1)
	for range len(follow) + 1 {
		res = append(res, <-out)
	}
	for i, o := range res {
		if o.index == 0 {
			res[0], res[i] = res[i], res[0]
		}
	}
	return res
}

func TestBarrierReleasesAllAtOneInstant(t *testing.T) {
	h := Hash([]byte("stages: []"), "count=3")
	before := time.Now()
	res := runShards(t, Config{Count: 3, Hash: h, Margin: 300 * time.Millisecond},
		Config{Index: 1, Count: 3, Hash: h}, Config{Index: 2, Count: 3, Hash: h})
	for _, o := range res {
		if o.err != nil {
			t.Fatalf("shard %d: %v", o.index, o.err)
		}
		if !o.start.Equal(res[0].start) {
			t.Errorf("shard %d starts at %s, shard 0 at %s", o.index, o.start, res[0].start)
		}
	}
	if d := res[0].start.Sub(before); d < 300*time.Millisecond || d > 20*time.Second {
		t.Errorf("start %s after the barrier began, want the margin (300ms) after the last check-in", d)
	}
}

func TestBarrierOneShardIsItsOwnLeader(t *testing.T) {
	res := runShards(t, Config{Count: 1, Hash: "h", Margin: time.Millisecond})
	if res[0].err != nil || res[0].start.IsZero() {
		t.Fatalf("got %v, %v", res[0].start, res[0].err)
	}
}

func TestBarrierFollowerDialsUntilTheLeaderListens(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there yet
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := make(chan error, 1)
	go func() {
		_, err := Follower(ctx, Config{Addr: addr, Index: 1, Count: 2, Hash: "h"})
		got <- err
	}()
	time.Sleep(3 * redialEvery)
	if _, err := Leader(ctx, Config{Addr: addr, Count: 2, Hash: "h", Margin: time.Millisecond}); err != nil {
		t.Fatalf("leader: %v", err)
	}
	if err := <-got; err != nil {
		t.Fatalf("follower: %v", err)
	}
}

// TestBarrierFailures: shards that do not agree all fail, each with the
// reason; a shard that never comes is named when the leader gives up.
func TestBarrierFailures(t *testing.T) {
	const short = 1500 * time.Millisecond
	for _, tc := range []struct {
		name   string
		count  int // the leader's
		follow []Config
		want   string
		refuse bool
	}{
		{"mismatched hash", 3, []Config{{Index: 1, Count: 3, Hash: "a"}, {Index: 2, Count: 3, Hash: "b"}},
			"shard 2 runs another scenario or other flags than shard 0", true},
		{"mismatched count", 3, []Config{{Index: 1, Count: 3, Hash: "a"}, {Index: 2, Count: 4, Hash: "a"}},
			"shard 2 runs 4 shards, shard 0 runs 3", true},
		// shard 3 never comes, so that the duplicate is seen before a release
		// whatever the order of arrival; the leader then waits out its
		// timeout to tell shard 3 too, and returns the duplicate.
		{"duplicate index", 4, []Config{{Index: 1, Count: 4, Hash: "a"}, {Index: 1, Count: 4, Hash: "a"}, {Index: 2, Count: 4, Hash: "a"}},
			"shard 1 checked in twice", true},
		{"missing shard", 4, []Config{{Index: 2, Count: 4, Hash: "a", Timeout: short}},
			"shards 1, 3 of 4 did not check in within 1.5s", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runShards(t, Config{Count: tc.count, Hash: "a", Timeout: short}, tc.follow...)
			if err := res[0].err; err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, ErrRefused) != tc.refuse {
				t.Errorf("leader: %v, want %q (refused: %v)", err, tc.want, tc.refuse)
			}
			for _, o := range res[1:] {
				if o.err == nil {
					t.Errorf("shard %d released", o.index)
					continue
				}
				if tc.refuse && (!errors.Is(o.err, ErrRefused) || !strings.Contains(o.err.Error(), tc.want)) {
					t.Errorf("shard %d: %v, want the leader's reason %q", o.index, o.err, tc.want)
				}
			}
		})
	}
}

func TestFollowerTimesOutWithoutALeader(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Follower(context.Background(), Config{Addr: addr, Index: 1, Count: 2, Hash: "h", Timeout: 500 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "did not answer within 500ms") {
		t.Fatalf("got %v", err)
	}
}

func TestListenAddr(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:7070":            "127.0.0.1:7070",
		"localhost:7070":            "localhost:7070",
		"[::1]:7070":                "[::1]:7070",
		":7070":                     ":7070",
		"192.0.2.10:7070":           ":7070",
		"no-such-host.invalid:7070": ":7070",
	} {
		if got, err := ListenAddr(context.Background(), in); err != nil || got != want {
			t.Errorf("ListenAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestHashSeparatesItsParts(t *testing.T) {
	if Hash([]byte("ab"), "c") == Hash([]byte("a"), "bc") {
		t.Error("moving a byte from one part to the next must change the hash")
	}
}
