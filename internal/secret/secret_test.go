package secret

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

const pw = "s3cr3t-Pa55"

func TestDSN(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://app:" + pw + "@127.0.0.1:5432/login", "postgres://app:xxxxx@127.0.0.1:5432/login"},
		{"postgresql://app:" + pw + "@db.internal/login?sslmode=disable", "postgresql://app:xxxxx@db.internal/login?sslmode=disable"},
		{"postgres://app@127.0.0.1/login", "postgres://app@127.0.0.1/login"},
		{"postgres://127.0.0.1/login?sslmode=disable", "postgres://127.0.0.1/login?sslmode=disable"},
		{"postgres://app@h/db?password=" + pw + "&sslmode=disable", "postgres://app@h/db?password=xxxxx&sslmode=disable"},
		{"host=127.0.0.1 user=app password=" + pw + " dbname=login", "host=127.0.0.1 user=app password=xxxxx dbname=login"},
		{"host=127.0.0.1 user=app password='" + pw + " with space' dbname=login", "host=127.0.0.1 user=app password=xxxxx dbname=login"},
		{`password='it\'s ` + pw + `' host=h`, "password=xxxxx host=h"},
		{"host=h password = " + pw, "host=h password = xxxxx"},
		{"host=127.0.0.1 user=app dbname=login", "host=127.0.0.1 user=app dbname=login"},
		{"", ""},
	} {
		got := DSN(tc.in)
		if got != tc.want {
			t.Errorf("DSN(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, pw) {
			t.Errorf("DSN(%q) leaks the password: %q", tc.in, got)
		}
	}
}

func TestTextAndErr(t *testing.T) {
	for _, in := range []string{
		"failed to connect to `user=app database=login`: postgres://app:" + pw + "@127.0.0.1:5432/login: dial error",
		"cannot parse `host=h user=app password=" + pw + "`: invalid",
		"dsn postgres://h/db?sslmode=disable&password=" + pw + " refused",
		"(password='" + pw + " x', host=h)",
	} {
		if got := Text(in); strings.Contains(got, pw) || !strings.Contains(got, Mask) {
			t.Errorf("Text(%q) = %q", in, got)
		}
		err := Err(fmt.Errorf("wrapped: %w", errors.New(in)))
		if strings.Contains(err.Error(), pw) {
			t.Errorf("Err leaks: %v", err)
		}
	}
	if Err(nil) != nil {
		t.Error("Err(nil) != nil")
	}
	if s := Text("no secrets here: password reset flow"); s != "no secrets here: password reset flow" {
		t.Errorf("Text changed a plain text: %q", s)
	}
}

func TestHex(t *testing.T) {
	a, b := Hex(8), Hex(8)
	if len(a) != 16 || a == b {
		t.Errorf("Hex(8) = %q, %q", a, b)
	}
}
