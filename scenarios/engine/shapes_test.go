package engine

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios"
)

// shapesServer serves the login shapes found in the wild, under a base
// path /api: an OAuth2 token endpoint (grant_type in the query or the form,
// client credentials by HTTP Basic when clientSecret is set; 200 with an
// access_token, 400 invalid_grant), and a Django-style form at
// /accounts/login/ (csrftoken cookie + csrfmiddlewaretoken field; 302 with
// sessionid, or 200 with the form again). /final counts followed redirects.
func shapesServer(t *testing.T, clientSecret string, followed *atomic.Int64) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/token", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("tenant") != "a" {
			http.Error(w, "tenant lost", http.StatusTeapot)
			return
		}
		if clientSecret != "" {
			if id, sec, ok := r.BasicAuth(); !ok || id != "web" || sec != clientSecret {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"error":"invalid_client"}`)
				return
			}
		}
		var user, pass, grant string
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			var b map[string]string
			_ = json.NewDecoder(r.Body).Decode(&b)
			user, pass = b["username"], b["password"]
		} else {
			_ = r.ParseForm()
			user, pass, grant = r.PostForm.Get("username"), r.PostForm.Get("password"), r.PostForm.Get("grant_type")
		}
		if grant == "" {
			grant = r.URL.Query().Get("grant_type")
		}
		w.Header().Set("Content-Type", "application/json")
		if grant != "password" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"unsupported_grant_type"}`)
			return
		}
		if pass != "good" || !strings.HasPrefix(user, "user") {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_credentials"}`)
			return
		}
		io.WriteString(w, `{"access_token":"at-secret-123","token_type":"bearer"}`)
	})
	page := func(w http.ResponseWriter, status int, msg string) {
		http.SetCookie(w, &http.Cookie{Name: "csrftoken", Value: "csrf-secret-abcdef", Path: "/"})
		w.WriteHeader(status)
		io.WriteString(w, `<form><input type="hidden" name="csrfmiddlewaretoken" value="csrf-secret-abcdef">`+msg+`</form>`)
	}
	mux.HandleFunc("GET /api/accounts/login/", func(w http.ResponseWriter, r *http.Request) { page(w, 200, "") })
	mux.HandleFunc("POST /api/accounts/login/", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		c, err := r.Cookie("csrftoken")
		if err != nil || c.Value != r.PostForm.Get("csrfmiddlewaretoken") {
			http.Error(w, "CSRF verification failed", http.StatusForbidden)
			return
		}
		if r.PostForm.Get("password") != "good" {
			page(w, 200, "Please enter a correct username and password.")
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "sess-secret-999", Path: "/"})
		http.Redirect(w, r, "/api/final", http.StatusFound)
	})
	mux.HandleFunc("/api/final", func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		io.WriteString(w, "home")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func tokenScenario() *scenarios.Scenario {
	sc := testScenario(scenarios.Stage{Name: "c", Kind: scenarios.StageConstant, Rate: 50, Duration: time.Second})
	sc.Login.Path = "/token?grant_type=password"
	sc.Login.Success = scenarios.Success{Status: []int{200}, JSONField: "access_token"}
	sc.Login.Rejected = scenarios.Rejected{Status: []int{400}, JSONField: "error"}
	sc.Credentials.WrongPassword = 0.2
	return sc
}

func formScenario() *scenarios.Scenario {
	sc := testScenario(scenarios.Stage{Name: "c", Kind: scenarios.StageConstant, Rate: 50, Duration: time.Second})
	sc.Login.Path = "/accounts/login/"
	sc.Login.Encoding = "form"
	sc.Login.Success = scenarios.Success{Status: []int{302}, Cookie: "sessionid"}
	sc.Login.Rejected = scenarios.Rejected{Status: []int{200}, BodyContains: "Please enter a correct username and password"}
	sc.Login.Preflight = &scenarios.Preflight{Method: "GET", Path: "/accounts/login/", From: "cookie", Name: "csrftoken", SendAs: "field", SendName: "csrfmiddlewaretoken"}
	sc.Credentials.WrongPassword = 0.2
	return sc
}

// TestShapesRun runs each shape against a target with a base path and a
// query (http://host/api?tenant=a): every valid login succeeds, every wrong
// one counts as an expected refusal, and no redirect is ever followed.
func TestShapesRun(t *testing.T) {
	var followed atomic.Int64
	secret := "client-secret-xyz"
	srv := shapesServer(t, secret, &followed)
	target := mustURL(t, srv.URL+"/api?tenant=a")
	env := map[string]string{"CID": "web", "CSECRET": secret}
	for name, sc := range map[string]*scenarios.Scenario{"token": tokenScenario(), "form": formScenario()} {
		t.Run(name, func(t *testing.T) {
			if name == "token" {
				sc.Login.Encoding = "form"
				sc.Login.Path = "/token"
				sc.Login.Extra = map[string]string{"grant_type": "password", "client_id": "web"}
				sc.Login.BasicAuth = &scenarios.BasicAuth{UsernameEnv: "CID", PasswordEnv: "CSECRET"}
			}
			o := SmokeOptions{Scenario: sc, Target: target, Credentials: creds(3), Getenv: func(k string) string { return env[k] }}
			if err := Smoke(context.Background(), o); err != nil {
				t.Fatalf("smoke: %v", err)
			}
			dir := t.TempDir()
			res, err := Run(context.Background(), RunOptions{Scenario: sc, Target: target, Credentials: creds(3),
				Dir: dir, Seed: 3, Getenv: o.Getenv})
			if err != nil {
				t.Fatal(err)
			}
			s := res.Stages[0]
			if s.Failed != 0 || s.OK == 0 || s.ExpectedRejects == 0 || s.OK+s.ExpectedRejects != s.Sent {
				t.Fatalf("stage %+v: want every login ok or an expected refusal", s)
			}
			assertNoSecretInDir(t, dir, secret)
		})
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("%d redirects followed; the load client must never follow one", n)
	}
}

// TestTokenQueryJSON is the case: path /token?grant_type=password
// with a JSON body reaches /token with the query, not /token%3F....
func TestTokenQueryJSON(t *testing.T) {
	srv := shapesServer(t, "", new(atomic.Int64))
	sc := tokenScenario()
	if err := Smoke(context.Background(), SmokeOptions{Scenario: sc, Target: mustURL(t, srv.URL+"/api/?tenant=a"), Credentials: creds(1)}); err != nil {
		t.Fatal(err)
	}
}

// TestSmokeWrongPath: one request, a message naming it, its status, its
// body and the fix, secrets redacted.
func TestSmokeWrongPath(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	sc := tokenScenario()
	sc.Login.Path = "/tokens?grant_type=password"
	err := Smoke(context.Background(), SmokeOptions{Scenario: sc, Target: mustURL(t, srv.URL), Credentials: []Credential{{"usera", "hunter2-pass"}}})
	var se *SmokeError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want a *SmokeError", err)
	}
	msg := err.Error()
	for _, want := range []string{"POST " + srv.URL + "/tokens?grant_type=password", "answered 404 Not Found",
		`body: "404 page not found\n"`, "login.path", "wants status [200] with a JSON field \"access_token\""} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "hunter2-pass") {
		t.Errorf("message shows the password:\n%s", msg)
	}
	if hits.Load() != 1 {
		t.Errorf("%d requests sent, want 1", hits.Load())
	}
}

// TestSmokeRejectionAndRedaction: a service that refuses with 400 where the
// scenario expects 401/403 stops the smoke with the fix; the CSRF form's
// refusal shows no token, cookie or password.
func TestSmokeRejectionAndRedaction(t *testing.T) {
	srv := shapesServer(t, "", new(atomic.Int64))
	target := mustURL(t, srv.URL+"/api?tenant=a")
	sc := tokenScenario()
	sc.Login.Rejected = scenarios.Rejected{}
	err := Smoke(context.Background(), SmokeOptions{Scenario: sc, Target: target, Credentials: creds(1)})
	if err == nil || !strings.Contains(err.Error(), "wrong-password login") || !strings.Contains(err.Error(), "login.rejected.status: [400]") {
		t.Fatalf("got %v, want the wrong-password login and the fix login.rejected.status: [400]", err)
	}

	sc = formScenario()
	sc.Login.Success.Status = []int{200} // wrong: the form answers 302
	err = Smoke(context.Background(), SmokeOptions{Scenario: sc, Target: target, Credentials: []Credential{{"usera", "good"}}})
	if err == nil {
		t.Fatal("smoke passed with a wrong success rule")
	}
	for _, secret := range []string{"sess-secret-999", "csrf-secret-abcdef", "password=good"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("message shows %q:\n%s", secret, err)
		}
	}
	if !strings.Contains(err.Error(), "answered 302 Found") || !strings.Contains(err.Error(), "login.success.status: [302]") {
		t.Errorf("message does not name the 302 and the fix:\n%s", err)
	}

	// A missing client secret variable is named.
	sc = tokenScenario()
	sc.Login.BasicAuth = &scenarios.BasicAuth{UsernameEnv: "CID", PasswordEnv: "CSECRET"}
	err = Smoke(context.Background(), SmokeOptions{Scenario: sc, Target: target, Credentials: creds(1), Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "CID is not set") {
		t.Errorf("got %v, want the unset variable named", err)
	}
}

func TestRedactURL(t *testing.T) {
	got := redactURL("http://u:pw@h/token?client_secret=s3&grant_type=password")
	if strings.Contains(got, "s3") || strings.Contains(got, "pw") || !strings.Contains(got, "grant_type=password") {
		t.Errorf("redactURL = %s", got)
	}
}

// assertNoSecretInDir fails if any file of a run directory holds secret.
func assertNoSecretInDir(t *testing.T, dir, secret string) {
	t.Helper()
	enc := base64.StdEncoding.EncodeToString([]byte("web:" + secret))
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
		}
		if bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte(enc)) {
			t.Errorf("%s holds the client secret", p)
		}
		return nil
	})
}

// TestRequestURLs: the login's, the preflight's and the follow-up's URLs
// are joined to the target by JoinURL: base path and queries kept, nothing
// escaped twice.
func TestRequestURLs(t *testing.T) {
	for _, tc := range []struct {
		target, path, want string
	}{
		{"http://h:8080", "/token?grant_type=password", "http://h:8080/token?grant_type=password"},
		{"http://h:8080/api/?tenant=a", "/token?grant_type=password", "http://h:8080/api/token?tenant=a&grant_type=password"},
		{"http://h:8080/api?tenant=a", "/accounts/login/", "http://h:8080/api/accounts/login/?tenant=a"},
		{"http://h:8080", "/users/a%2Fb/login?next=%2Fhome", "http://h:8080/users/a%2Fb/login?next=%2Fhome"},
	} {
		sc := testScenario()
		sc.Login.Path = tc.path
		sc.Login.Preflight = &scenarios.Preflight{Method: "GET", Path: tc.path, From: "cookie", Name: "c"}
		sc.Login.FollowUp = &scenarios.FollowUp{Method: "GET", Path: tc.path, Share: 0.1, Status: []int{200}}
		base := mustURL(t, tc.target)
		lt, err := newLoginTargeter(base, sc, creds(1), 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		pf, err := newPreflight(base, sc.Login.Preflight)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		fu := newFollowUps(ctx, http.DefaultClient, base, sc, 1)
		fu.close()
		cancel()
		for what, got := range map[string]string{"login": lt.url, "preflight": pf.url, "follow-up": fu.url} {
			if got != tc.want {
				t.Errorf("%s + %s: %s URL %s, want %s", tc.target, tc.path, what, got, tc.want)
			}
		}
	}
}
