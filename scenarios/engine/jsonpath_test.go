package engine

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios"
)

func TestEncodeLoginNested(t *testing.T) {
	for _, tc := range []struct {
		name    string
		login   scenarios.Login
		want    string
		wantErr string
	}{
		{"flat", scenarios.Login{UsernameField: "username", PasswordField: "password"},
			`{"password":"pw","username":"u"}`, ""},
		{"nested", scenarios.Login{UsernameField: "user.email", PasswordField: "user.password", Extra: map[string]string{"client.id": "web", "remember": "true"}},
			`{"client":{"id":"web"},"remember":"true","user":{"email":"u","password":"pw"}}`, ""},
		{"value and object", scenarios.Login{UsernameField: "user", PasswordField: "user.password"}, "", `field "user" is a value`},
		{"form keeps dots", scenarios.Login{Encoding: "form", UsernameField: "user.email", PasswordField: "pw"}, "pw=pw&user.email=u", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _, err := encodeLogin(tc.login, Credential{"u", "pw"})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || string(b) != tc.want {
				t.Fatalf("got %s (%v), want %s", b, err, tc.want)
			}
		})
	}
}

func TestHasJSONFieldNested(t *testing.T) {
	body := []byte(`{"data":{"access_token":"x"},"a.b":1}`)
	for f, want := range map[string]bool{"data": true, "data.access_token": true, "a.b": true, "data.nope": false, "token": false} {
		if got := hasJSONField(body, f); got != want {
			t.Errorf("hasJSONField(%q) = %v, want %v", f, got, want)
		}
	}
}

// TestNestedJSONAPI runs against a JSON API whose request and answer nest
// their fields; the follow-up finds the nested token.
func TestNestedJSONAPI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/sessions":
			var b struct {
				User struct{ Email, Password string }
			}
			if json.NewDecoder(r.Body).Decode(&b) != nil || b.User.Email == "" {
				http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
				return
			}
			if b.User.Password != "good" {
				http.Error(w, `{"error":"invalid"}`, http.StatusUnauthorized)
				return
			}
			io.WriteString(w, `{"data":{"access_token":"tok-nested-1"}}`)
		case "/v1/me":
			if r.Header.Get("Authorization") != "Bearer tok-nested-1" {
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			io.WriteString(w, `{}`)
		}
	}))
	defer srv.Close()
	sc := testScenario(scenarios.Stage{Name: "c", Kind: scenarios.StageConstant, Rate: 50, Duration: time.Second})
	sc.Login.Path = "/v1/sessions"
	sc.Login.UsernameField, sc.Login.PasswordField = "user.email", "user.password"
	sc.Login.Success = scenarios.Success{Status: []int{200}, JSONField: "data.access_token"}
	sc.Login.FollowUp = &scenarios.FollowUp{Method: "GET", Path: "/v1/me", Share: 1, Status: []int{200}}
	sc.Credentials.WrongPassword = 0.2
	if err := Smoke(context.Background(), SmokeOptions{Scenario: sc, Target: mustURL(t, srv.URL), Credentials: creds(2)}); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), RunOptions{Scenario: sc, Target: mustURL(t, srv.URL), Credentials: creds(2), Dir: t.TempDir(), Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Stages[0]
	if s.Failed != 0 || s.OK == 0 || s.ExpectedRejects == 0 {
		t.Errorf("stage %+v: want every login ok or refused as expected", s)
	}
	if fu := res.FollowUps; fu.OK == 0 || fu.Failed != 0 {
		t.Errorf("follow-ups %+v: the nested token did not make it", fu)
	}
}
