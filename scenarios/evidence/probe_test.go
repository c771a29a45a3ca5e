package evidence

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stampede-load/stampede/fixtures/pg"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

type sinkRec struct {
	mu     sync.Mutex
	events []map[string]any
}

// Record keeps the event as its timeline line reads back.
func (s *sinkRec) Record(ev rundir.Event, at time.Time) {
	b, err := rundir.Line(ev, at, time.Time{})
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, m)
}

func (s *sinkRec) ofType(typ string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, e := range s.events {
		if e["type"] == typ {
			out = append(out, e)
		}
	}
	return out
}

func TestEvidenceSamplesAndProbes(t *testing.T) {
	ctx := context.Background()
	srv, err := pg.Start(ctx, pg.Options{MaxConnections: 30})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	admin, err := pgx.Connect(ctx, srv.AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `CREATE ROLE svc LOGIN PASSWORD 'svcpw' CONNECTION LIMIT 4`); err != nil {
		t.Fatal(err)
	}
	svc, err := pgx.Connect(ctx, srv.DSN("svc", "svcpw", "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(ctx)

	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/debug/pool" {
			json.NewEncoder(w).Encode(map[string]any{"acquired_conns": 3, "max_conns": 10})
			return
		}
		w.Write([]byte("ok"))
	}))
	defer web.Close()
	ev, err := StartEvidence(ctx, EvidenceConfig{
		AdminDSN: srv.AdminDSN(), Role: "svc",
		ServiceAddr: strings.TrimPrefix(web.URL, "http://"), DBAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Port)),
		HealthURL: web.URL + "/healthz", PoolURL: web.URL + "/debug/pool",
		SampleEvery: 300 * time.Millisecond, ProbeEvery: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	sink := &sinkRec{}
	ev.Run(ctx, sink)
	time.Sleep(1200 * time.Millisecond)
	ev.Stop(ctx)

	samples := sink.ofType("db_sample")
	if len(samples) < 2 {
		t.Fatalf("%d db samples, want ≥2", len(samples))
	}
	s := samples[len(samples)-1]
	if s["role_backends"] != 1.0 || s["role_limit"] != 4.0 || s["max_connections"] != 30.0 {
		t.Errorf("sample = %v, want role_backends 1, role_limit 4, max_connections 30", s)
	}
	if s["pool"] == nil || s["probe_rtt_ms"] == nil || s["commits_per_s"] == nil {
		t.Errorf("sample lacks pool, probe_rtt_ms or commits_per_s: %v", s)
	}
	paths := map[any]int{}
	for _, p := range sink.ofType("tcp_probe") {
		if p["connect_ms"] == nil {
			t.Errorf("probe without connect time: %v", p)
		}
		paths[p["path"]]++
	}
	if paths["service"] == 0 || paths["db"] == 0 {
		t.Errorf("probes by path = %v, want both service and db", paths)
	}
	for _, e := range sink.events {
		b, _ := json.Marshal(e)
		if strings.Contains(string(b), "svcpw") {
			t.Fatalf("a password leaked into an event: %s", b)
		}
	}
}
