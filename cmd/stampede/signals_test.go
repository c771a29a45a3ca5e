package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/engine"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// TestSignalsStopARun: the first SIGINT stops sending and lets the run
// finish (marked interrupted); a second one makes it return at once.
func TestSignalsStopARun(t *testing.T) {
	for _, tc := range []struct {
		name    string
		signals int
		delay   time.Duration // each login's
		line    string        // in the timeline
	}{
		{"once", 1, 300 * time.Millisecond, `"signal":"interrupt","immediate":false`},
		{"twice", 2, 1500 * time.Millisecond, `"signal":"interrupt","immediate":true`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-time.After(tc.delay):
				case <-r.Context().Done():
					return
				}
				io.WriteString(w, `{"token":"t"}`)
			}))
			defer srv.Close()
			sc, err := scenarios.LoadBytes("s.yaml", []byte("stages:\n  - constant: {rate: 50, for: 30s}\n"))
			if err != nil {
				t.Fatal(err)
			}
			target, _ := url.Parse(srv.URL)
			sig := make(chan os.Signal, 2)
			go func() {
				time.Sleep(time.Second)
				for range tc.signals {
					sig <- syscall.SIGINT
					time.Sleep(50 * time.Millisecond)
				}
			}()
			ctl := engine.NewControl()
			stop := forwardSignals(sig, ctl)
			dir := t.TempDir()
			begin := time.Now()
			res, err := engine.Run(context.Background(), engine.RunOptions{Scenario: sc, Target: target,
				Credentials: []engine.Credential{{Username: "u", Password: "p"}}, Dir: dir, Seed: 1, Control: ctl})
			stop()
			if el := time.Since(begin); el > 10*time.Second {
				t.Errorf("run took %s after a SIGINT at 1s", el)
			}
			switch {
			case tc.signals == 2 && !errors.Is(err, engine.ErrAbortedImmediately):
				t.Fatalf("err = %v, want ErrAbortedImmediately", err)
			case tc.signals == 1 && (err != nil || !res.Interrupted):
				t.Fatalf("err = %v, interrupted %v: want a run stopped gracefully", err, res != nil && res.Interrupted)
			}
			b, _ := os.ReadFile(filepath.Join(dir, rundir.TimelineFile))
			if !bytes.Contains(b, []byte(tc.line)) {
				t.Errorf("timeline lacks %s:\n%s", tc.line, b)
			}
			m, err := rundir.ReadManifest(filepath.Join(dir, rundir.ManifestFile))
			if err != nil || m.Status != rundir.StatusInterrupted {
				t.Errorf("manifest status %v (%v), want interrupted", m, err)
			}
		})
	}
}
