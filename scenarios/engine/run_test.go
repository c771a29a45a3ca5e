package engine

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/rundir"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// loginServer is a small stand-in login endpoint on 127.0.0.1: 200 with a
// token for password "good", 401 otherwise; optional delay per request.
func loginServer(t *testing.T, delay time.Duration, hits *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits != nil {
			hits.Add(1)
		}
		if r.Header.Get(intentHeader) != "" {
			http.Error(w, "intent header leaked", http.StatusTeapot)
			return
		}
		var body struct{ Username, Password string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Server-Timing", `app;dur=0.1`)
		if body.Password != "good" || !strings.HasPrefix(body.Username, "user") {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_credentials"}`)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "secret-session"})
		io.WriteString(w, `{"token":"secret-token"}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func testScenario(stages ...scenarios.Stage) *scenarios.Scenario {
	sc := &scenarios.Scenario{Name: "t", Raw: []byte("stages: []\n"), Stages: stages}
	sc.Login = scenarios.Login{Method: "POST", Path: "/login", Encoding: "json", UsernameField: "username",
		PasswordField: "password", Success: scenarios.Success{Status: []int{200}, JSONField: "token", Cookie: "session"}}
	sc.Credentials.Order = "rotate"
	keep := true
	sc.Client = scenarios.Client{Timeout: 2 * time.Second, KeepAlive: &keep, MaxConnections: 64, MaxWorkers: 256}
	return sc
}

func creds(n int) []Credential {
	out := make([]Credential, n)
	for i := range out {
		out[i] = Credential{Username: "user" + string(rune('a'+i%26)), Password: "good"}
	}
	return out
}

func mustURL(t testing.TB, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func readResults(t *testing.T, dir string) []vegeta.Result {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, rundir.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	var out []vegeta.Result
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			break
		}
		out = append(out, r)
	}
	return out
}

// TestEngineRatesPerStage runs stages up to 1,000/s against a local server
// and checks the number of requests sent for each stage against the plan.
// A busy machine may send late (the lag is recorded per result, and the
// report measures latency from the planned time), so a late hit may land in
// the next stage's time; what must never happen is a missing, an extra or
// an early hit.
func TestEngineRatesPerStage(t *testing.T) {
	srv := loginServer(t, 0, nil)
	sc := testScenario(
		scenarios.Stage{Name: "low", Kind: scenarios.StageConstant, Rate: 200, Duration: 2 * time.Second},
		scenarios.Stage{Name: "ramp", Kind: scenarios.StageRamp, From: 200, To: 1000, Duration: 2 * time.Second},
		scenarios.Stage{Name: "high", Kind: scenarios.StageConstant, Rate: 1000, Duration: 2 * time.Second},
	)
	dir := t.TempDir()
	res, err := Run(context.Background(), RunOptions{Scenario: sc, Target: mustURL(t, srv.URL),
		Credentials: creds(10), Dir: dir, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	pacer, _ := NewPacer(sc.Stages, 1)
	perStage := make([]int, len(sc.Stages))
	var late int
	for _, r := range readResults(t, dir) {
		planned, err := strconv.Atoi(r.Headers.Get(rundir.HeaderStage))
		if err != nil {
			t.Fatalf("result without a planned stage: %v", r.Headers)
		}
		perStage[planned]++
		due, _ := pacer.DueAt(r.Seq)
		// vegeta's clock starts a few µs after the run's: allow 2 ms.
		if early := res.Start.Add(due).Sub(r.Timestamp); early > 2*time.Millisecond {
			t.Fatalf("hit %d sent %s before its planned time", r.Seq, early)
		}
		if actual := pacer.StageAt(r.Timestamp.Sub(res.Start)); actual != planned {
			late++
		}
	}
	for i, s := range res.Stages {
		if diff := math.Abs(float64(perStage[i])-s.PlannedHits) / s.PlannedHits; diff > 0.01 {
			t.Errorf("stage %s: sent %d, planned %.0f (%.2f%% off, want within 1%%)", s.Name, perStage[i], s.PlannedHits, 100*diff)
		}
		if s.SuccessRatio < 0.99 {
			t.Errorf("stage %s: success ratio %.3f", s.Name, s.SuccessRatio)
		}
	}
	t.Logf("per planned stage %v; %d hits sent late enough to cross into the next stage", perStage, late)
	rs := readResults(t, dir)
	if len(rs) == 0 {
		t.Fatal("no results recorded")
	}
	for _, r := range rs[:10] {
		if r.Headers.Get(rundir.HeaderStage) == "" || r.Headers.Get(rundir.HeaderOutcome) != string(rundir.OutcomeOK) {
			t.Fatalf("result lacks stampede headers: %v", r.Headers)
		}
		if r.Headers.Get("Set-Cookie") != "" || strings.Contains(string(r.Body), "secret-token") {
			t.Fatalf("a session secret was recorded: %v %q", r.Headers, r.Body)
		}
	}
	for _, f := range []string{rundir.TimelineFile, rundir.ManifestFile, rundir.ScenarioFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("run dir lacks %s: %v", f, err)
		}
	}
}

func TestCredentialMixShares(t *testing.T) {
	srv := loginServer(t, 0, nil)
	sc := testScenario(scenarios.Stage{Name: "c", Kind: scenarios.StageConstant, Rate: 400, Duration: 2 * time.Second})
	sc.Credentials.WrongPassword, sc.Credentials.UnknownUser = 0.2, 0.1
	dir := t.TempDir()
	res, err := Run(context.Background(), RunOptions{Scenario: sc, Target: mustURL(t, srv.URL),
		Credentials: creds(5), Dir: dir, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Stages[0]
	share := float64(s.ExpectedRejects) / float64(s.Sent)
	if math.Abs(share-0.3) > 0.05 {
		t.Errorf("expected-reject share %.3f, want 0.30±0.05", share)
	}
	if s.Failed != 0 {
		t.Errorf("%d failed, want 0 (401s for wrong credentials are expected)", s.Failed)
	}
}

func TestTransportErrorsClassified(t *testing.T) {
	srv := loginServer(t, 0, nil)
	u := mustURL(t, srv.URL)
	srv.Close() // nothing listens now: connection refused
	sc := testScenario(scenarios.Stage{Name: "c", Kind: scenarios.StageConstant, Rate: 50, Duration: time.Second})
	dir := t.TempDir()
	if _, err := Run(context.Background(), RunOptions{Scenario: sc, Target: u, Credentials: creds(1), Dir: dir, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	rs := readResults(t, dir)
	if len(rs) == 0 {
		t.Fatal("no results")
	}
	for _, r := range rs {
		if got := r.Headers.Get(rundir.HeaderErrorClass); got != rundir.ErrRefused {
			t.Fatalf("error class %q for %q, want %q", got, r.Error, rundir.ErrRefused)
		}
	}
}

func TestClientTimeoutIsAmbiguousClass(t *testing.T) {
	srv := loginServer(t, 2*time.Second, nil)
	sc := testScenario(scenarios.Stage{Name: "c", Kind: scenarios.StageConstant, Rate: 20, Duration: 500 * time.Millisecond})
	sc.Client.Timeout = 200 * time.Millisecond
	dir := t.TempDir()
	if _, err := Run(context.Background(), RunOptions{Scenario: sc, Target: mustURL(t, srv.URL), Credentials: creds(1), Dir: dir, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	for _, r := range readResults(t, dir) {
		if got := r.Headers.Get(rundir.HeaderErrorClass); got != rundir.ErrClientTimeout {
			t.Fatalf("error class %q for %q, want %q", got, r.Error, rundir.ErrClientTimeout)
		}
	}
}

func TestInterruptOnceDrainsAndMarks(t *testing.T) {
	srv := loginServer(t, 300*time.Millisecond, nil)
	sc := testScenario(scenarios.Stage{Name: "c", Kind: scenarios.StageConstant, Rate: 50, Duration: 30 * time.Second})
	ctl := NewControl()
	dir := t.TempDir()
	go func() { time.Sleep(time.Second); ctl.Stop("interrupt") }()
	begin := time.Now()
	res, err := Run(context.Background(), RunOptions{Scenario: sc, Target: mustURL(t, srv.URL), Credentials: creds(3), Dir: dir, Control: ctl, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted {
		t.Error("run not marked interrupted")
	}
	if el := time.Since(begin); el > 10*time.Second {
		t.Errorf("run took %s after Stop at 1s", el)
	}
	// In-flight requests were allowed to finish: none recorded as failed.
	for _, r := range readResults(t, dir) {
		if r.Code != 200 {
			t.Fatalf("in-flight request not drained: code %d error %q", r.Code, r.Error)
		}
	}
	var m map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, rundir.ManifestFile))
	if err := json.Unmarshal(b, &m); err != nil || m["status"] != "interrupted" {
		t.Errorf("manifest status = %v (%v), want interrupted", m["status"], err)
	}
}

func TestInterruptTwiceReturnsAtOnce(t *testing.T) {
	srv := loginServer(t, 1500*time.Millisecond, nil)
	sc := testScenario(scenarios.Stage{Name: "c", Kind: scenarios.StageConstant, Rate: 50, Duration: 30 * time.Second})
	ctl := NewControl()
	go func() {
		time.Sleep(time.Second)
		ctl.Stop("interrupt")
		time.Sleep(50 * time.Millisecond)
		ctl.Abort("interrupt")
	}()
	_, err := Run(context.Background(), RunOptions{Scenario: sc, Target: mustURL(t, srv.URL), Credentials: creds(3), Dir: t.TempDir(), Control: ctl, Seed: 1})
	if !errors.Is(err, ErrAbortedImmediately) {
		t.Fatalf("err = %v, want ErrAbortedImmediately", err)
	}
}

// TestResultsReadableAfterKill runs a run in a child process, kills it with
// SIGKILL mid-run, and reads the results file up to its last whole record.
func TestResultsReadableAfterKill(t *testing.T) {
	if os.Getenv("STAMPEDE_KILL_CHILD") != "" {
		return // the child's work is done in TestMain
	}
	srv := loginServer(t, 0, nil)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STAMPEDE_KILL_CHILD="+srv.URL, "STAMPEDE_KILL_DIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if st, err := os.Stat(filepath.Join(dir, rundir.ResultsFile)); err == nil && st.Size() > 20000 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	rs := readResults(t, dir)
	if len(rs) < 50 {
		t.Fatalf("read %d results after kill -9, want many", len(rs))
	}
	for _, r := range rs {
		if r.Code != 200 {
			t.Fatalf("a decoded record is damaged: %+v", r)
		}
	}
}

func TestMain(m *testing.M) {
	if u := os.Getenv("STAMPEDE_KILL_CHILD"); u != "" {
		sc := testScenario(scenarios.Stage{Name: "c", Kind: scenarios.StageConstant, Rate: 500, Duration: time.Minute})
		target, _ := url.Parse(u)
		_, _ = Run(context.Background(), RunOptions{Scenario: sc, Target: target, Credentials: creds(3),
			Dir: os.Getenv("STAMPEDE_KILL_DIR"), Seed: 1})
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestPreflightAndFollowUp drives the optional parts of the login flow: a
// CSRF token fetched from a cookie before each login and sent back in a
// header, and GET /me checks with the returned token for a sampled share of
// successful logins.
func TestPreflightAndFollowUp(t *testing.T) {
	var preflights, logins, meOK, meBad atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/form":
			preflights.Add(1)
			http.SetCookie(w, &http.Cookie{Name: "csrf", Value: "tok-123"})
			io.WriteString(w, "<form>")
		case "/login":
			logins.Add(1)
			if r.Header.Get("X-CSRF-Token") != "tok-123" {
				http.Error(w, "csrf", http.StatusForbidden)
				return
			}
			io.WriteString(w, `{"token":"sess-9"}`)
		case "/me":
			if r.Header.Get("Authorization") == "Bearer sess-9" {
				meOK.Add(1)
				io.WriteString(w, `{"user":"u"}`)
				return
			}
			meBad.Add(1)
			http.Error(w, "no", http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	sc := testScenario(scenarios.Stage{Name: "c", Kind: scenarios.StageConstant, Rate: 100, Duration: 2 * time.Second})
	sc.Login.Success = scenarios.Success{Status: []int{200}, JSONField: "token"}
	sc.Login.Preflight = &scenarios.Preflight{Method: "GET", Path: "/form", From: "cookie", Name: "csrf", SendAs: "header", SendName: "X-CSRF-Token"}
	sc.Login.FollowUp = &scenarios.FollowUp{Method: "GET", Path: "/me", Share: 0.5, Status: []int{200}}
	res, err := Run(context.Background(), RunOptions{Scenario: sc, Target: mustURL(t, srv.URL), Credentials: creds(3), Dir: t.TempDir(), Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Stages[0]
	if s.OK != s.Sent || s.Sent < 190 {
		t.Fatalf("%d of %d logins ok: the CSRF token did not make it", s.OK, s.Sent)
	}
	if preflights.Load() != logins.Load() {
		t.Errorf("%d preflights for %d logins, want one each", preflights.Load(), logins.Load())
	}
	fu := res.FollowUps
	share := float64(fu.Sent+fu.Dropped) / float64(s.OK)
	if fu.OK == 0 || fu.Failed != 0 || meBad.Load() != 0 || math.Abs(share-0.5) > 0.1 {
		t.Errorf("follow-ups %+v (share %.2f of %d logins, %d rejected): want about half, all 200", fu, share, s.OK, meBad.Load())
	}
}

// TestMaxRateRecordsEveryResult runs as the efficiency benchmark does (a
// rate above reach, 64 workers on 64 connections) and checks what the
// hot path's shortcuts must keep: every hit recorded once, with its
// transport evidence (the intent, the connection) and its outcome.
func TestMaxRateRecordsEveryResult(t *testing.T) {
	srv := loginServer(t, 0, nil)
	sc := testScenario(scenarios.Stage{Name: "max", Kind: scenarios.StageConstant, Rate: 1e6, Duration: time.Second})
	sc.Client.MaxWorkers, sc.Client.MaxConnections = 64, 64
	dir := t.TempDir()
	res, err := Run(context.Background(), RunOptions{Scenario: sc, Target: mustURL(t, srv.URL), Credentials: creds(8), Dir: dir, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	rs := readResults(t, dir)
	if sent := res.Stages[0].Sent; int64(len(rs)) != int64(sent) || sent < 100 {
		t.Fatalf("%d results recorded, %d sent", len(rs), sent)
	}
	seen := make([]bool, len(rs))
	for _, r := range rs {
		if r.Seq >= uint64(len(rs)) || seen[r.Seq] {
			t.Fatalf("hit %d recorded twice or out of range (%d results)", r.Seq, len(rs))
		}
		seen[r.Seq] = true
		h := r.Headers
		if h.Get(rundir.HeaderIntent) != string(rundir.IntentValid) || h.Get(rundir.HeaderOutcome) != string(rundir.OutcomeOK) {
			t.Fatalf("hit %d: intent %q outcome %q (error %q)", r.Seq, h.Get(rundir.HeaderIntent), h.Get(rundir.HeaderOutcome), r.Error)
		}
		if c := h.Get(rundir.HeaderConn); c != "reused" && !strings.HasPrefix(c, "new;connect=") {
			t.Fatalf("hit %d: connection %q: the transport's evidence did not reach the result", r.Seq, c)
		}
	}
}
