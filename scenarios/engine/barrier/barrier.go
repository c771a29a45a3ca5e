// Package barrier releases the N shards of a sharded run at one instant.
//
// Shard 0 is the leader: it listens on a TCP address and every other shard
// (a follower) dials it. The wire protocol is JSON, one object per line:
//
//	follower → leader   {"index":2,"count":3,"hash":"9f86d0…"}
//	leader → follower   {"start":"2026-11-30T07:01:02.5Z"}     released
//	leader → follower   {"error":"shard 2: scenario hash …"}   the run is off
//
// A follower sends its check-in once connected and then waits for one
// answer line. Once every index 1..count-1 has checked in with the
// leader's count and hash, the leader answers all of them with the same
// start instant, now plus a margin long enough for the answer to arrive;
// each shard then sleeps until that instant on its own clock (the skew
// between the shards' clocks is what stampede merge measures afterwards).
//
// A mismatched hash or count, an index out of range, or an index checked
// in twice fails the run: the leader answers every follower connected,
// and each that connects later until its timeout, with the error, and
// returns it. A follower that never comes makes the leader give up at its
// timeout naming the indexes that are missing; followers retry their dial
// until their own timeout, so that they may start before the leader.
package barrier

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// ErrRefused is wrapped by the error of every shard of a run whose shards
// do not agree (hash, count, index): a mistake in how they were started,
// not a failure of the network.
var ErrRefused = errors.New("the shards do not agree")

// Defaults of Config.
const (
	// DefaultTimeout is how long a shard waits for the others.
	DefaultTimeout = 5 * time.Minute
	// DefaultMargin is how far ahead of the release the start instant is:
	// ample for one line over a LAN or a cluster network.
	DefaultMargin = time.Second
	// redialEvery is a follower's pause between dials that failed.
	redialEvery = 200 * time.Millisecond
	// maxLine bounds a line read from the other side.
	maxLine = 4 << 10
)

// Config is one shard's view of the barrier.
type Config struct {
	// Addr is the leader's host:port: where the leader listens (see
	// ListenAddr) and the followers dial.
	Addr  string
	Index int // this shard's index; the leader is 0
	Count int // shards in the run
	// Hash identifies what the shards run (see Hash); all must agree.
	Hash    string
	Timeout time.Duration // default DefaultTimeout
	Margin  time.Duration // leader only; default DefaultMargin
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Margin <= 0 {
		c.Margin = DefaultMargin
	}
	return c
}

// checkIn is a follower's line.
type checkIn struct {
	Index int    `json:"index"`
	Count int    `json:"count"`
	Hash  string `json:"hash"`
}

// answer is the leader's line: Start, or Error.
type answer struct {
	Start time.Time `json:"start,omitzero"`
	Error string    `json:"error,omitempty"`
}

// Hash is the hex SHA-256 of the scenario's bytes and the run's flags that
// every shard must share, each part length-prefixed so that no two lists
// hash alike.
func Hash(scenario []byte, flags ...string) string {
	h := sha256.New()
	for _, p := range append([]string{string(scenario)}, flags...) {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ListenAddr is where a leader for addr listens: addr itself when its host
// resolves to loopback addresses only (shards on one machine), else every
// interface on addr's port (the host is this machine's name in a cluster,
// which may not resolve yet when the leader starts).
func ListenAddr(ctx context.Context, addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("barrier: address %q: %w", addr, err)
	}
	if host == "" {
		return addr, nil
	}
	var r net.Resolver
	ips, err := r.LookupIPAddr(ctx, host)
	if err != nil || len(ips) == 0 {
		return net.JoinHostPort("", port), nil
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return net.JoinHostPort("", port), nil
		}
	}
	return addr, nil
}

// Leader listens on ListenAddr(c.Addr) and releases the run once every
// other shard has checked in; it returns the start instant it sent.
func Leader(ctx context.Context, c Config) (time.Time, error) {
	listen, err := ListenAddr(ctx, c.Addr)
	if err != nil {
		return time.Time{}, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", listen)
	if err != nil {
		return time.Time{}, fmt.Errorf("barrier: listen on %s: %w", listen, err)
	}
	return Serve(ctx, ln, c)
}

// Serve is Leader on a listener of the caller's (tests listen on
// 127.0.0.1:0); it closes ln before returning.
func Serve(ctx context.Context, ln net.Listener, c Config) (time.Time, error) {
	c = c.withDefaults()
	defer ln.Close()
	if c.Count < 1 || c.Index != 0 {
		return time.Time{}, fmt.Errorf("barrier: the leader is shard 0 of at least 1, not %d of %d", c.Index, c.Count)
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	lines := make(chan arrival)
	go accept(ctx, ln, lines)

	l := &leader{c: c, heard: map[int]net.Conn{}}
	defer l.closeAll()
	for len(l.heard) < c.Count-1 {
		select {
		case <-ctx.Done():
			if l.err == nil {
				l.err = l.timeoutErr(ctx)
			}
			return time.Time{}, l.err
		case a := <-lines:
			l.take(a)
		}
	}
	if l.err != nil {
		return time.Time{}, l.err
	}
	start := time.Now().Add(c.Margin).UTC()
	var errs []error
	for _, i := range l.indexes() {
		if err := send(l.heard[i], answer{Start: start}); err != nil {
			errs = append(errs, fmt.Errorf("shard %d: %w", i, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return time.Time{}, fmt.Errorf("barrier: release: %w", err)
	}
	return start, nil
}

// leader is Serve's state: the followers heard, by index, and the error
// that failed the run, if any.
type leader struct {
	c     Config
	heard map[int]net.Conn
	extra []net.Conn // connections answered with an error but not heard
	err   error
}

// take checks one follower's check-in. Once the run has failed, every
// check-in is answered with the error at once.
func (l *leader) take(a arrival) {
	ci, c := a.in, l.c
	var bad error
	switch {
	case a.err != nil:
		a.conn.Close() // not a shard speaking the protocol: ignore it
		return
	case ci.Index < 1 || ci.Index >= c.Count:
		bad = fmt.Errorf("shard %d checked in, but the run has shards 0–%d", ci.Index, c.Count-1)
	case l.heard[ci.Index] != nil:
		bad = fmt.Errorf("shard %d checked in twice (two agents with one index)", ci.Index)
	case ci.Count != c.Count:
		bad = fmt.Errorf("shard %d runs %d shards, shard 0 runs %d", ci.Index, ci.Count, c.Count)
	case ci.Hash != c.Hash:
		bad = fmt.Errorf("shard %d runs another scenario or other flags than shard 0 (hash %.12s, shard 0's %.12s)", ci.Index, ci.Hash, c.Hash)
	}
	if bad != nil && l.err == nil {
		l.err = fmt.Errorf("barrier: %w: %w", ErrRefused, bad)
		for _, conn := range l.heard {
			_ = send(conn, answer{Error: l.err.Error()})
		}
	}
	if l.err != nil {
		_ = send(a.conn, answer{Error: l.err.Error()})
	}
	if ci.Index >= 1 && ci.Index < c.Count && l.heard[ci.Index] == nil {
		l.heard[ci.Index] = a.conn
	} else {
		l.extra = append(l.extra, a.conn)
	}
}

func (l *leader) indexes() []int {
	var is []int
	for i := range l.heard {
		is = append(is, i)
	}
	slices.Sort(is)
	return is
}

func (l *leader) timeoutErr(ctx context.Context) error {
	var missing []string
	for i := 1; i < l.c.Count; i++ {
		if l.heard[i] == nil {
			missing = append(missing, fmt.Sprint(i))
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("barrier: shards %s of %d did not check in within %s", strings.Join(missing, ", "), l.c.Count, l.c.Timeout)
	}
	return fmt.Errorf("barrier: stopped waiting for shards %s: %w", strings.Join(missing, ", "), context.Cause(ctx))
}

func (l *leader) closeAll() {
	for _, c := range l.heard {
		c.Close()
	}
	for _, c := range l.extra {
		c.Close()
	}
}

// arrival is one connection and its check-in line.
type arrival struct {
	conn net.Conn
	in   checkIn
	err  error
}

// accept reads each connection's check-in and hands it to the leader
// until ctx is done; the leader then closes ln, which ends the loop.
func accept(ctx context.Context, ln net.Listener, out chan<- arrival) {
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			a := arrival{conn: conn}
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			a.err = readLine(bufio.NewReaderSize(conn, maxLine), &a.in)
			_ = conn.SetReadDeadline(time.Time{})
			select {
			case out <- a:
			case <-ctx.Done():
				conn.Close()
			}
		}()
	}
}

// Follower checks in with the leader at c.Addr, dialling until it answers
// or c.Timeout passes, and returns the start instant the leader sent.
func Follower(ctx context.Context, c Config) (time.Time, error) {
	c = c.withDefaults()
	if c.Index < 1 || c.Index >= c.Count {
		return time.Time{}, fmt.Errorf("barrier: a follower is shard 1–%d, not %d", c.Count-1, c.Index)
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	var d net.Dialer
	var conn net.Conn
	var lastErr error
	for conn == nil {
		var err error
		if conn, err = d.DialContext(ctx, "tcp", c.Addr); err == nil {
			break
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("barrier: shard 0 at %s did not answer within %s: %w", c.Addr, c.Timeout, lastErr)
		case <-time.After(redialEvery):
		}
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := send(conn, checkIn{Index: c.Index, Count: c.Count, Hash: c.Hash}); err != nil {
		return time.Time{}, fmt.Errorf("barrier: check in with %s: %w", c.Addr, err)
	}
	var a answer
	if err := readLine(bufio.NewReaderSize(conn, maxLine), &a); err != nil {
		if ctx.Err() != nil {
			return time.Time{}, fmt.Errorf("barrier: no release from shard 0 at %s within %s", c.Addr, c.Timeout)
		}
		return time.Time{}, fmt.Errorf("barrier: wait for shard 0 at %s: %w", c.Addr, err)
	}
	if a.Error != "" {
		return time.Time{}, fmt.Errorf("barrier: shard 0 refused the run: %w", refusal(a.Error))
	}
	if a.Start.IsZero() {
		return time.Time{}, fmt.Errorf("barrier: shard 0 at %s answered without a start instant", c.Addr)
	}
	return a.Start, nil
}

func send(conn net.Conn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err = conn.Write(append(b, '\n'))
	return err
}

func readLine(r *bufio.Reader, v any) error {
	line, err := r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("a line longer than %d bytes", maxLine)
		}
		return err
	}
	return json.Unmarshal(line, v)
}

// refusal is the leader's error as a follower sees it.
func refusal(msg string) error {
	msg = strings.TrimPrefix(strings.TrimPrefix(msg, "barrier: "), ErrRefused.Error()+": ")
	return fmt.Errorf("%w: %s", ErrRefused, msg)
}
