// Package secret holds the one place where stampede masks secrets (database
// passwords in connection strings, and texts that may quote them) and makes
// random tokens. Everything that prints or records a DSN goes through here.
package secret

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"regexp"
)

// Mask replaces every secret this package redacts.
const Mask = "xxxxx"

var (
	// postgres://user:PASSWORD@host — the userinfo password of a URL DSN.
	urlPassword = regexp.MustCompile(`((?:postgres(?:ql)?|[a-z][a-z0-9+.-]*)://[^:/@\s]*:)[^@\s]*@`)
	// ?password=X or &password=X — a password passed as a URL query parameter.
	queryPassword = regexp.MustCompile(`([?&]password=)[^&\s#]*`)
	// password=X, password='X y' — a key=value DSN (libpq's quoting: \' and \\ inside quotes).
	kvPassword = regexp.MustCompile(`(^|[\s(,])(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s']+)`)
)

// DSN returns dsn with its password masked, in either form PostgreSQL
// takes: a URL (postgres://user:pw@host/db?password=pw) or key=value
// (host=h user=u password='p w'). A DSN without a password comes back
// unchanged.
func DSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" && u.Host != "" {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), Mask)
		}
		if q := u.Query(); q.Has("password") {
			q.Set("password", Mask)
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return Text(dsn)
}

// Text masks the password of every connection string found inside s (an
// error message, a log line), whatever its form.
func Text(s string) string {
	s = urlPassword.ReplaceAllString(s, "${1}"+Mask+"@")
	s = queryPassword.ReplaceAllString(s, "${1}"+Mask)
	return kvPassword.ReplaceAllString(s, "${1}${2}"+Mask)
}

// Err keeps an error's meaning without any connection string's password in
// its text; nil stays nil. The result no longer unwraps: classify before.
func Err(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(Text(err.Error()))
}

// Hex returns n random bytes, hex-encoded (2n characters), from crypto/rand.
func Hex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
