package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stampede-load/stampede/scenarios/engine"
	"github.com/stampede-load/stampede/scenarios/engine/metrics"
)

// metricsShutdown bounds how long a scrape in progress may hold up the
// end of a run.
const metricsShutdown = 2 * time.Second

// listenMetrics binds --metrics-addr before anything starts (a bad
// address is a usage error); nil without one. The caller closes it, which
// is harmless once the server has.
func listenMetrics(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, usageErr("--metrics-addr %s: %v", addr, err)
	}
	return ln, nil
}

// startMetrics serves the run's live metrics on ln at /metrics, before the
// first request, and says where on stderr (the real port when the address's
// is 0). stop ends the server: the caller defers it, so that it serves
// until the report is written. Without ln it returns a nil Observer and a
// no-op.
func startMetrics(e *env, ln net.Listener, s *runSetup) (obs engine.Observer, stop func()) {
	if ln == nil {
		return nil, func() {}
	}
	role := ""
	if s.chaosEnv != nil {
		role = s.chaosEnv.Role
	}
	m := metrics.New(s.sc.Name, filepath.Base(s.dir), role)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintf(e.stderr, "metrics: http://%s/metrics\n", ln.Addr())
	return m, func() {
		ctx, cancel := context.WithTimeout(context.Background(), metricsShutdown)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(e.stderr, "stampede: metrics server: %v\n", err)
		}
	}
}
