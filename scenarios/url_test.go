package scenarios

import (
	"net/url"
	"testing"
)

func TestJoinURL(t *testing.T) {
	for _, tc := range []struct{ base, ref, want string }{
		{"http://127.0.0.1:8080", "/login", "http://127.0.0.1:8080/login"},
		{"http://127.0.0.1:8080/", "/login", "http://127.0.0.1:8080/login"},
		{"http://h:8080", "/token?grant_type=password", "http://h:8080/token?grant_type=password"},
		{"http://h/api", "/token?grant_type=password", "http://h/api/token?grant_type=password"},
		{"http://h/api/", "/v1/login", "http://h/api/v1/login"},
		{"http://h/api?tenant=a", "/token?grant_type=password", "http://h/api/token?tenant=a&grant_type=password"},
		{"http://h/api?tenant=a&grant_type=x", "/token?grant_type=password", "http://h/api/token?tenant=a&grant_type=password"},
		{"http://h/?tenant=a", "/login", "http://h/login?tenant=a"},
		{"http://h", "/a%2Fb/login", "http://h/a%2Fb/login"},                               // an escaped slash stays escaped
		{"http://h", "/login?next=%2Fhome%3Fx%3D1", "http://h/login?next=%2Fhome%3Fx%3D1"}, // no double escaping
		{"http://h", "/caf%C3%A9", "http://h/caf%C3%A9"},
		{"http://h/base%20dir", "/login", "http://h/base%20dir/login"},
		{"https://h:8443/x#frag", "/login", "https://h:8443/x/login"},
		{"http://h", "/login?", "http://h/login"},
	} {
		base, err := url.Parse(tc.base)
		if err != nil {
			t.Fatal(err)
		}
		got, err := JoinURL(base, tc.ref)
		if err != nil {
			t.Errorf("JoinURL(%s, %s): %v", tc.base, tc.ref, err)
			continue
		}
		if got.String() != tc.want {
			t.Errorf("JoinURL(%s, %s) = %s, want %s", tc.base, tc.ref, got, tc.want)
		}
	}
	for _, ref := range []string{"login", "//evil.example/login", "/login#x", "http://h/login", "/a%zz"} {
		if u, err := JoinURL(&url.URL{Scheme: "http", Host: "h"}, ref); err == nil {
			t.Errorf("JoinURL(%q) = %s, want an error", ref, u)
		}
	}
}
