package evidence

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// httpProbes runs only the HTTP probes of cfg for d and returns them by
// kind and way ("null/path", ...).
func httpProbes(t *testing.T, cfg EvidenceConfig, d time.Duration) map[string][]rundir.HTTPProbe {
	t.Helper()
	ctx := context.Background()
	cfg.ProbeEvery = 100 * time.Millisecond
	ev, err := StartEvidence(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sink := &sinkRec{}
	ctx, cancel := context.WithCancel(ctx)
	ev.runHTTPProbes(ctx, sink)
	time.Sleep(d)
	cancel()
	ev.wg.Wait()
	out := map[string][]rundir.HTTPProbe{}
	for _, e := range sink.events {
		if p, ok := e.(rundir.HTTPProbe); ok {
			out[p.Kind+"/"+p.Via] = append(out[p.Kind+"/"+p.Via], p)
		}
	}
	return out
}

// answered are the probes' times, failing the test on a probe without an answer.
func answered(t *testing.T, ps []rundir.HTTPProbe) []float64 {
	t.Helper()
	if len(ps) < 3 {
		t.Fatalf("%d probes, want ≥3", len(ps))
	}
	var ms []float64
	for _, p := range ps {
		if p.Error != "" || p.MS == nil || p.Status == nil || p.ConnectMS == nil {
			t.Fatalf("probe without an answer: %+v", p)
		}
		ms = append(ms, *p.MS)
	}
	return ms
}

// clientProxy is an in-process proxy to upstream on the client path, with
// latency on its answers when latency is set.
func clientProxy(t *testing.T, upstream, latency string) string {
	t.Helper()
	ctx := context.Background()
	network := chaos.NewNetwork()
	t.Cleanup(func() { network.Close(ctx) })
	addr, err := network.AddProxy(ctx, chaos.PathClient, "127.0.0.1:0", upstream)
	if err != nil {
		t.Fatal(err)
	}
	if latency != "" {
		f, err := chaos.NewRegistry().Build(&chaos.Env{Network: network}, "net.latency",
			map[string]any{"path": chaos.PathClient, "latency": latency})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Inject(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Revert(ctx) })
	}
	return addr
}

// TestNullProbeThroughSlowPath: through a client path with 100ms of
// latency the null probe is slow, straight to the service it is not; the
// health probe goes both ways too, and an unknown path's 404 is an answer.
func TestNullProbeThroughSlowPath(t *testing.T) {
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Write([]byte("ok"))
			return
		}
		http.NotFound(w, r)
	}))
	defer svc.Close()
	own := strings.TrimPrefix(svc.URL, "http://")
	proxy := clientProxy(t, own, "100ms")
	got := httpProbes(t, EvidenceConfig{NullURL: "http://" + proxy + "/stampede-null-probe",
		HealthURL: "http://" + proxy + "/healthz", DirectAddr: own}, 1500*time.Millisecond)

	path, direct := answered(t, got["null/path"]), answered(t, got["null/direct"])
	t.Logf("null probe: through the path %v ms, direct %v ms", path, direct)
	if minOf(path) < 80 {
		t.Errorf("null probe through the 100ms path: min %v ms, want ≥ 80", minOf(path))
	}
	if median(direct) > median(path)/3 {
		t.Errorf("null probe direct: median %v ms against the path's %v: want well below", median(direct), median(path))
	}
	if s := *got["null/direct"][0].Status; s != http.StatusNotFound {
		t.Errorf("null probe status %d, want the service's 404", s)
	}
	answered(t, got["health/direct"])
	if minOf(answered(t, got["health/path"])) < 80 {
		t.Errorf("health probe through the 100ms path faster than 80ms: %+v", got["health/path"])
	}
}

// TestNullProbeBusyService: a service that takes 200ms over every request
// is slow whichever way it is reached.
func TestNullProbeBusyService(t *testing.T) {
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
		http.NotFound(w, r)
	}))
	defer svc.Close()
	own := strings.TrimPrefix(svc.URL, "http://")
	proxy := clientProxy(t, own, "")
	got := httpProbes(t, EvidenceConfig{NullURL: "http://" + proxy + "/stampede-null-probe", DirectAddr: own}, 1500*time.Millisecond)
	for _, k := range []string{"null/path", "null/direct"} {
		if m := minOf(answered(t, got[k])); m < 150 {
			t.Errorf("%s probe of a busy service: min %v ms, want ≥ 150", k, m)
		}
	}
	if len(got["health/path"]) != 0 {
		t.Errorf("health probes without a health URL: %+v", got["health/path"])
	}
}

// TestNullProbeRefused: nothing listening is a classified error, not an answer.
func TestNullProbeRefused(t *testing.T) {
	got := httpProbes(t, EvidenceConfig{NullURL: "http://" + freeAddr(t) + "/stampede-null-probe"}, 400*time.Millisecond)
	ps := got["null/path"]
	if len(ps) == 0 || ps[0].Error != rundir.ErrRefused || ps[0].MS != nil || ps[0].Status != nil {
		t.Errorf("probes of a closed port = %+v, want %q errors", ps, rundir.ErrRefused)
	}
	if len(got["null/direct"]) != 0 {
		t.Errorf("direct probes without a direct address: %+v", got["null/direct"])
	}
}
