package main

import (
	"context"
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/fixtures"
	"github.com/stampede-load/stampede/fixtures/django"
	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// checkShapeRun runs args and checks that it passed the smoke login and
// counted every login as a success or an expected refusal.
func checkShapeRun(t *testing.T, e *env, out string, args ...string) (stdout, stderr string) {
	t.Helper()
	err := runMain(context.Background(), e, append(args, "--out", out, "--quiet", "--seed", "5"))
	so, se := e.stdout.(interface{ String() string }).String(), e.stderr.(interface{ String() string }).String()
	// A busy machine may miss the latency SLO (exit 1): what matters here is
	// that the run went ahead and how each login was judged.
	if code := exitCode(err); code != exitOK && code != exitGateFailed {
		t.Fatalf("run: exit %d: %v\nstderr:\n%s\nstdout:\n%s", code, err, se, so)
	}
	if !strings.Contains(se, "smoke login ok (one valid login and one wrong one") {
		t.Errorf("no smoke login reported:\n%s", se)
	}
	var ok, rejected, failed int
	for _, r := range decodeResults(t, out) {
		switch rundir.Outcome(r.Headers.Get(rundir.HeaderOutcome)) {
		case rundir.OutcomeOK:
			ok++
		case rundir.OutcomeExpectedReject:
			rejected++
		default:
			failed++
			if failed < 3 {
				t.Errorf("failed login: %d %s %q", r.Code, r.Error, r.Body)
			}
		}
	}
	if ok < 20 || rejected == 0 || failed != 0 {
		t.Errorf("%d ok, %d expected refusals, %d failed: want every login ok or refused as expected", ok, rejected, failed)
	}
	return so, se
}

// TestExampleShapesAgainstFixture runs the token-endpoint and csrf-form
// examples as they are shipped, against the bundled fixture, which serves
// both shapes.
func TestExampleShapesAgainstFixture(t *testing.T) {
	for _, name := range []string{"token-endpoint", "csrf-form"} {
		t.Run(name, func(t *testing.T) {
			e, _, _ := testEnv(nil)
			checkShapeRun(t, e, filepath.Join(t.TempDir(), "run"), "run", name, "--fixture-users", "100")
		})
	}
}

// TestTokenClientCredentialsAgainstFixture: an OAuth2 password grant,
// form-encoded, with the client's id and secret by HTTP Basic from
// environment variables, against the fixture requiring them. The secret
// appears neither in the output nor in the run directory; a wrong secret
// stops the smoke login with exit 3.
func TestTokenClientCredentialsAgainstFixture(t *testing.T) {
	const secret = "cl1ent-s3cret-value"
	dir := t.TempDir()
	stack, err := fixtures.StartStack(context.Background(), fixtures.StackOptions{Users: 50, Dir: dir,
		Shape: fixtures.Shape{TokenClientID: "web", TokenClientSecret: secret}})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	sc := filepath.Join(dir, "oauth.yaml")
	os.WriteFile(sc, []byte(`target: `+stack.URL+`
login:
  path: /token
  encoding: form
  extra: {grant_type: password, client_id: web}
  basic_auth: {username_env: OAUTH_CLIENT_ID, password_env: OAUTH_CLIENT_SECRET}
  success: {status: [200], json_field: access_token}
  rejected: {status: [400], json_field: error}
credentials: {file: `+stack.CredentialsPath+`, wrong_password: 0.1}
stages:
  - constant: {rate: 30, for: 3s}
`), 0o644)
	e, _, _ := testEnv(nil)
	e.getenv = func(k string) string {
		return map[string]string{"OAUTH_CLIENT_ID": "web", "OAUTH_CLIENT_SECRET": secret}[k]
	}
	out := filepath.Join(dir, "run")
	so, se := checkShapeRun(t, e, out, "run", sc)
	enc := base64.StdEncoding.EncodeToString([]byte("web:" + secret))
	if strings.Contains(so+se, secret) || strings.Contains(so+se, enc) {
		t.Error("the client secret is in the output")
	}
	_ = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), secret) || strings.Contains(string(b), enc) {
				t.Errorf("%s holds the client secret", p)
			}
		}
		return err
	})

	// A wrong secret: the smoke login stops everything, secret redacted.
	e, _, _ = testEnv(nil)
	e.getenv = func(k string) string {
		return map[string]string{"OAUTH_CLIENT_ID": "web", "OAUTH_CLIENT_SECRET": "wrong-" + secret}[k]
	}
	err = runMain(context.Background(), e, []string{"run", sc, "--out", filepath.Join(dir, "run2"), "--quiet"})
	if exitCode(err) != exitInfra || !strings.Contains(err.Error(), "answered 401 Unauthorized") || !strings.Contains(err.Error(), "login.basic_auth") {
		t.Fatalf("wrong client secret: exit %d, %v", exitCode(err), err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the message shows the secret:\n%v", err)
	}
	// An unset variable is a usage error naming it; nothing is sent.
	e, _, _ = testEnv(nil)
	err = runMain(context.Background(), e, []string{"run", sc, "--out", filepath.Join(dir, "run3"), "--quiet"})
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "OAUTH_CLIENT_ID is not set") {
		t.Errorf("unset variables: exit %d, %v", exitCode(err), err)
	}
}

// TestCSRFFormExampleAgainstDjango runs the csrf-form example, with a
// credentials file, against a real Django (contrib.auth's LoginView under
// gunicorn): validate --target first, then the run.
func TestCSRFFormExampleAgainstDjango(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Django and PostgreSQL")
	}
	st, err := django.Start(context.Background(), django.Options{Users: 50, Hasher: django.HasherFast, StartTimeout: 3 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	example, _ := scenarios.Example("csrf-form")
	dir := t.TempDir()
	sc := filepath.Join(dir, "django.yaml")
	body := strings.Replace(string(example), "credentials:\n", "credentials:\n  file: "+st.CredentialsPath+"\n", 1)
	body = strings.Replace(body, "rate: 20, for: 5s", "rate: 10, for: 5s", 1)
	os.WriteFile(sc, []byte(body), 0o644)

	if stdout, stderr, code := runCLIErr(t, "validate", sc, "--target", st.URL); code != exitOK || !strings.Contains(stdout, "smoke login against") {
		t.Fatalf("validate --target: exit %d\n%s%s", code, stdout, stderr)
	}
	e, _, _ := testEnv(nil)
	checkShapeRun(t, e, filepath.Join(dir, "run"), "run", sc, "--target", st.URL)
}
