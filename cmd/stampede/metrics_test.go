package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// TestRunServesMetrics scrapes --metrics-addr during a real run against a
// loopback service, through a client-path proxy that a net.latency fault
// slows for 2 s: the counters move between scrapes, the fault's gauge is 1
// while it is in force and 0 after, and the server is gone once the run
// has returned.
func TestRunServesMetrics(t *testing.T) {
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"token":"t"}`)
	}))
	defer svc.Close()
	tmp := t.TempDir()
	users := filepath.Join(tmp, "users.csv")
	if err := os.WriteFile(users, []byte("username,password\nu1,p1\nu2,p2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sc := filepath.Join(tmp, "scenario.yaml")
	scenario := fmt.Sprintf(`name: metrics-scrape
credentials: {file: %s}
login: {success: {status: [200]}}
stages:
  - constant: {rate: 40, for: 7s}
network:
  client: {listen: "127.0.0.1:0", upstream: %q}
faults:
  - {kind: net.latency, path: client, start: 2s, for: 2500ms, latency: 20ms}
`, users, strings.TrimPrefix(svc.URL, "http://"))
	if err := os.WriteFile(sc, []byte(scenario), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	e := &env{stdout: &stdout, stderr: &stderr, signals: make(chan os.Signal), getenv: func(string) string { return "" }}
	done := make(chan error, 1)
	go func() {
		done <- runMain(context.Background(), e, []string{"run", sc, "--target", svc.URL, "--out", filepath.Join(tmp, "run"),
			"--seed", "7", "--quiet", "--metrics-addr", "127.0.0.1:0"})
	}()

	urlRE := regexp.MustCompile(`metrics: (http://127\.0\.0\.1:[0-9]+/metrics)`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("no metrics URL on stderr:\n%s", stderr.String())
	}
	// waitFor scrapes until cond holds, and returns that scrape.
	waitFor := func(what string, cond func(s scrape) bool) scrape {
		t.Helper()
		for deadline := time.Now().Add(8 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			s, err := scrapeMetrics(url)
			if err != nil {
				t.Fatalf("scrape: %v", err)
			}
			if cond(s) {
				return s
			}
		}
		t.Fatalf("no scrape showed %s", what)
		return nil
	}
	faultGauge := func(s scrape) (float64, bool) {
		return s.value("stampede_fault_active", map[string]string{"kind": "net.latency", "path": "client"})
	}
	first := waitFor("requests before the fault", func(s scrape) bool {
		n, _ := s.value("stampede_requests_total", map[string]string{"stage": "0", "outcome": "ok"})
		return n > 0
	})
	if v, ok := faultGauge(first); ok && v != 0 {
		t.Errorf("fault gauge %g before the fault", v)
	}
	if v, _ := first.value("stampede_run_info", map[string]string{"scenario": "metrics-scrape", "run_id": "run"}); v != 1 {
		t.Errorf("stampede_run_info{scenario=metrics-scrape,run_id=run} = %g, want 1", v)
	}
	during := waitFor("the fault in force", func(s scrape) bool { v, _ := faultGauge(s); return v == 1 })
	after := waitFor("the fault reverted", func(s scrape) bool { v, ok := faultGauge(s); return ok && v == 0 })

	n1, _ := first.value("stampede_requests_total", map[string]string{"stage": "0", "outcome": "ok"})
	n2, _ := during.value("stampede_requests_total", map[string]string{"stage": "0", "outcome": "ok"})
	n3, _ := after.value("stampede_requests_total", map[string]string{"stage": "0", "outcome": "ok"})
	if !(n1 < n2 && n2 < n3) {
		t.Errorf("stampede_requests_total{ok} did not move between scrapes: %g, %g, %g", n1, n2, n3)
	}
	c1, _ := first.histogramCount("stampede_request_duration_seconds")
	c3, _ := after.histogramCount("stampede_request_duration_seconds")
	ci, _ := after.histogramCount("stampede_request_duration_from_intended_seconds")
	if !(c1 < c3) || ci != c3 {
		t.Errorf("latency histograms: %d then %d observations, %d from the intended send", c1, c3, ci)
	}
	if v, _ := after.value("stampede_offered_rate_per_second", nil); v != 40 {
		t.Errorf("stampede_offered_rate_per_second = %g, want 40", v)
	}

	if err := <-done; err != nil && exitCode(err) != exitGateFailed {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	if _, err := scrapeMetrics(url); err == nil {
		t.Errorf("the metrics server still answers after the run returned")
	}
}

// scrape is one /metrics page, parsed.
type scrape map[string]*dto.MetricFamily

func scrapeMetrics(url string) (scrape, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var p expfmt.TextParser
	return p.TextToMetricFamilies(resp.Body)
}

// value is the counter's or gauge's value of the series with labels (a
// subset); ok is false when there is none.
func (s scrape) value(name string, labels map[string]string) (v float64, ok bool) {
	for _, m := range s.series(name, labels) {
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		}
	}
	return 0, false
}

func (s scrape) histogramCount(name string) (uint64, bool) {
	for _, m := range s.series(name, nil) {
		if m.Histogram != nil {
			return m.Histogram.GetSampleCount(), true
		}
	}
	return 0, false
}

func (s scrape) series(name string, labels map[string]string) []*dto.Metric {
	f := s[name]
	if f == nil {
		return nil
	}
	var out []*dto.Metric
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		out = append(out, m)
	}
	return out
}
