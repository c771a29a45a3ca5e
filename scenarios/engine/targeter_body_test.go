package engine

import (
	"testing"

	"github.com/stampede-load/stampede/scenarios"
)

// TestJSONBodyMatchesMarshal: the laid-out body is byte for byte what
// json.Marshal of the fields' map writes, for plain and awkward strings.
func TestJSONBodyMatchesMarshal(t *testing.T) {
	logins := []scenarios.Login{
		{UsernameField: "username", PasswordField: "password"},
		{UsernameField: "email", PasswordField: "pass", Extra: map[string]string{"remember": "true", "a<b": "x\"y", "zz": "ünï"}},
		{UsernameField: "u", PasswordField: "u"}, // a clash: the password wins
		{UsernameField: "user", PasswordField: "pw", Extra: map[string]string{"user": "extra loses"}},
	}
	creds := []Credential{{"usera", "good"}, {"a\"b\\c", "p<&>w\n\t"}, {"ünïcödé", "\x00\xff"}, {"", ""}}
	for _, l := range logins {
		b := newJSONBody(l)
		for _, c := range creds {
			want, _, err := encodeLogin(l, c)
			if err != nil {
				t.Fatal(err)
			}
			if got := b.encode(c); string(got) != string(want) {
				t.Errorf("login %+v, %q: got %s, want %s", l, c, got, want)
			}
		}
	}
}
