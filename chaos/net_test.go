package chaos

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// echoServer accepts on 127.0.0.1:0 and echoes every byte back.
func echoServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return l.Addr().String()
}

// netEnv is an in-process network with a "client" proxy in front of an
// echo server.
func netEnv(t *testing.T) (*Env, string) {
	t.Helper()
	n := NewNetwork()
	t.Cleanup(func() { n.Close(context.Background()) })
	addr, err := n.AddProxy(context.Background(), PathClient, "", echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(addr, ":0") {
		t.Fatalf("AddProxy returned %q, not the bound address", addr)
	}
	return &Env{Network: n}, addr
}

// roundTrip is the median time of a one-byte echo over one connection.
func roundTrip(t *testing.T, addr string) time.Duration {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var times []time.Duration
	buf := make([]byte, 1)
	for range 5 {
		start := time.Now()
		if _, err := c.Write([]byte{'x'}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	return times[len(times)/2]
}

func TestLatencyRaisesTheRoundTripAndRemovalRestoresIt(t *testing.T) {
	env, addr := netEnv(t)
	base := roundTrip(t, addr)
	f := build(t, env, "net.latency", map[string]any{"path": "client", "latency": "100ms"})
	inject(t, f)
	with := roundTrip(t, addr)
	revert(t, f)
	after := roundTrip(t, addr)
	t.Logf("round trip: %s before, %s with 100ms latency, %s after", base, with, after)
	if with < 100*time.Millisecond {
		t.Errorf("round trip with latency = %s, want >= 100ms", with)
	}
	if after > 50*time.Millisecond {
		t.Errorf("round trip after removal = %s, want back near %s", after, base)
	}
	if p, _ := env.Network.Proxy(context.Background(), PathClient); len(p.Toxics) != 0 {
		t.Errorf("toxics left after revert: %+v", p.Toxics)
	}
}

func TestToxicNamesAreUniquePerInjection(t *testing.T) {
	env, _ := netEnv(t)
	a := build(t, env, "net.latency", map[string]any{"path": "client", "latency": "10ms"})
	b := build(t, env, "net.latency", map[string]any{"path": "client", "latency": "20ms"})
	inject(t, a)
	inject(t, b) // same kind twice at once
	p, err := env.Network.Proxy(context.Background(), PathClient)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tx := range p.Toxics {
		names = append(names, tx.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"stampede-latency-1", "stampede-latency-2"}) {
		t.Errorf("toxics = %v", names)
	}
	revert(t, a)
	revert(t, b)
}

func TestResetPeerResetsTheClient(t *testing.T) {
	env, addr := netEnv(t)
	f := build(t, env, "net.reset_peer", map[string]any{"path": "client"})
	inject(t, f)
	defer f.Revert(context.Background())
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("hello"))
	_, err = io.ReadFull(c, make([]byte, 5))
	t.Logf("read through reset_peer: %v", err)
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) {
		t.Errorf("read through reset_peer: %v, want ECONNRESET or EOF", err)
	}
	revert(t, f)
	if rt := roundTrip(t, addr); rt > time.Second {
		t.Errorf("round trip after revert = %s", rt)
	}
}

func TestDownRefusesConnectionsUntilReverted(t *testing.T) {
	env, addr := netEnv(t)
	open, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	f := build(t, env, "net.down", map[string]any{"path": "client"})
	inject(t, f)
	defer f.Revert(context.Background())

	_, err = net.DialTimeout("tcp", addr, 2*time.Second)
	t.Logf("dial while down: %v", err)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial while down: %v, want connection refused", err)
	}
	open.SetDeadline(time.Now().Add(5 * time.Second))
	open.Write([]byte("x"))
	if _, err := io.ReadFull(open, make([]byte, 1)); err == nil {
		t.Error("a connection open before down still echoes")
	}
	revert(t, f)
	if rt := roundTrip(t, addr); rt > time.Second {
		t.Errorf("round trip after revert = %s", rt)
	}
}

func TestNetFaultWithoutNetworkFails(t *testing.T) {
	f := build(t, &Env{}, "net.latency", map[string]any{"path": "db", "latency": "1ms"})
	if err := f.Inject(context.Background()); err == nil || !strings.Contains(err.Error(), "Env.Network") {
		t.Errorf("inject without a network: %v", err)
	}
	if err := f.Revert(context.Background()); err != nil {
		t.Errorf("revert after a failed inject: %v", err)
	}
}

// remoteToxiproxy serves Toxiproxy's own HTTP API on 127.0.0.1:0, as a
// user's toxiproxy-server would.
func remoteToxiproxy(t *testing.T) string {
	t.Helper()
	api := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	hs := httptest.NewServer(api.Routes())
	t.Cleanup(func() {
		hs.Close()
		api.Collection.Clear()
	})
	return hs.URL
}

func TestRemoteNetworkInjectsAndRestoreRemovesAfterACrash(t *testing.T) {
	ctx := context.Background()
	url := remoteToxiproxy(t)
	dir := t.TempDir()
	j, err := OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := NewRemoteNetwork(url)
	addr, err := n.AddProxy(ctx, PathDB, "127.0.0.1:0", echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close(ctx)
	env := &Env{Network: n, Journal: j}
	if err := preflightKinds(ctx, env, []string{"net.latency"}); err != nil {
		t.Fatal(err)
	}

	lat := build(t, env, "net.latency", map[string]any{"path": "db", "latency": "100ms"})
	inject(t, lat)
	if rt := roundTrip(t, addr); rt < 100*time.Millisecond {
		t.Errorf("round trip with remote latency = %s, want >= 100ms", rt)
	}
	revert(t, lat)
	if rt := roundTrip(t, addr); rt > 50*time.Millisecond {
		t.Errorf("round trip after remote revert = %s", rt)
	}

	// A crash mid-fault: inject, never revert, lose the Go objects.
	inject(t, build(t, env, "net.latency", map[string]any{"path": "db", "latency": "100ms"}))
	inject(t, build(t, env, "net.down", map[string]any{"path": "db"}))
	if err := PreflightFaults(ctx, &Env{Network: NewRemoteNetwork(url)},
		[]Fault{build(t, nil, "net.latency", map[string]any{"path": "db", "latency": "1ms"})}); err == nil {
		t.Error("preflight passed with a leftover stampede toxic on the proxy")
	}
	var out strings.Builder
	restored, err := Restore(ctx, dir, "", &out)
	t.Logf("restore:\n%s", out.String())
	if err != nil || restored != 2 {
		t.Fatalf("Restore = %d, %v; want 2 restored", restored, err)
	}
	p, err := NewRemoteNetwork(url).Proxy(ctx, PathDB)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Enabled || len(p.Toxics) != 0 {
		t.Errorf("after restore: enabled=%v toxics=%v", p.Enabled, p.Toxics)
	}
	if rt := roundTrip(t, addr); rt > 50*time.Millisecond {
		t.Errorf("round trip after restore = %s", rt)
	}
	b, _ := os.ReadFile(filepath.Join(dir, JournalFile))
	if !strings.Contains(string(b), url) {
		t.Errorf("journal does not name the Toxiproxy URL:\n%s", b)
	}
}
