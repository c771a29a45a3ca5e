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

// sinkRec keeps the events as recorded, typed.
type sinkRec struct {
	mu     sync.Mutex
	events []rundir.Event
}

func (s *sinkRec) Record(ev rundir.Event, _ time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, ev)
}

func (s *sinkRec) samples() (db []rundir.DBSample, probes []rundir.TCPProbe) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.events {
		switch e := e.(type) {
		case rundir.DBSample:
			if e.EventType() == rundir.EventDBSample {
				db = append(db, e)
			}
		case rundir.TCPProbe:
			probes = append(probes, e)
		}
	}
	return db, probes
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

	samples, probes := sink.samples()
	if len(samples) < 2 {
		t.Fatalf("%d db samples, want ≥2", len(samples))
	}
	s := samples[len(samples)-1]
	if value(s.RoleBackends) != 1 || value(s.RoleLimit) != 4 || value(s.MaxConnections) != 30 {
		t.Errorf("sample = %+v, want role_backends 1, role_limit 4, max_connections 30", s)
	}
	if s.Pool == nil || s.ProbeRTTMS == nil || s.CommitsPerS == nil {
		t.Errorf("sample lacks pool, probe_rtt_ms or commits_per_s: %+v", s)
	}
	paths := map[string]int{}
	for _, p := range probes {
		if p.ConnectMS == nil {
			t.Errorf("probe without connect time: %+v", p)
		}
		paths[p.Path]++
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

func value(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}
