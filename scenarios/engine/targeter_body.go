package engine

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// A login's body and headers are the same for every hit but for the
// username and password: they are laid out once, so that a hit costs one
// allocation for its body and none for its headers (json.Marshal of a map
// per hit was a twentieth of a run's CPU at high rates).

// jsonBody writes a JSON login body byte for byte as json.Marshal writes
// the map of its fields (keys sorted, HTML characters escaped).
type jsonBody struct {
	parts []bodyPart
	size  int // the constant parts' length
}

// bodyPart is constant bytes, then the username, the password or nothing.
type bodyPart struct {
	lit  []byte
	slot int // 0 none, 1 username, 2 password
}

func newJSONBody(l scenarios.Login) *jsonBody {
	fields := make(map[string]string, len(l.Extra)+2)
	for k, v := range l.Extra {
		fields[k] = v
	}
	fields[l.UsernameField], fields[l.PasswordField] = "", ""
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := &jsonBody{}
	lit := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			lit = append(lit, ',')
		}
		lit = appendJSONString(lit, k)
		lit = append(lit, ':')
		switch k {
		case l.PasswordField: // the password wins a clash, as in encodeLogin
			b.parts = append(b.parts, bodyPart{lit: lit, slot: 2})
			lit = nil
		case l.UsernameField:
			b.parts = append(b.parts, bodyPart{lit: lit, slot: 1})
			lit = nil
		default:
			lit = appendJSONString(lit, fields[k])
		}
	}
	b.parts = append(b.parts, bodyPart{lit: append(lit, '}')})
	for _, p := range b.parts {
		b.size += len(p.lit)
	}
	return b
}

func (b *jsonBody) encode(c Credential) []byte {
	out := make([]byte, 0, b.size+len(c.Username)+len(c.Password)+4)
	for _, p := range b.parts {
		out = append(out, p.lit...)
		switch p.slot {
		case 1:
			out = appendJSONString(out, c.Username)
		case 2:
			out = appendJSONString(out, c.Password)
		}
	}
	return out
}

// appendJSONString appends s as json.Marshal writes it: plain printable
// ASCII as is, anything else through json.Marshal itself.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			q, _ := json.Marshal(s) // a string always marshals
			return append(dst, q...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// intentHeaders are a login's headers for each intent, built once and
// shared by every hit: vegeta copies a target's headers into each request
// and never writes to them.
type intentHeaders [3]http.Header

var intents = [3]rundir.Intent{rundir.IntentValid, rundir.IntentWrongPassword, rundir.IntentUnknownUser}

func newIntentHeaders(l scenarios.Login, ctype, authorization string) intentHeaders {
	var hs intentHeaders
	for i, intent := range intents {
		h := make(http.Header, len(l.Headers)+2)
		for k, v := range l.Headers {
			h.Set(k, v)
		}
		h.Set("Content-Type", ctype)
		if authorization != "" {
			h.Set("Authorization", authorization)
		}
		h.Set(intentHeader, string(intent))
		hs[i] = h
	}
	return hs
}

func (hs *intentHeaders) get(intent rundir.Intent) http.Header {
	for i, in := range intents {
		if in == intent {
			return hs[i]
		}
	}
	return hs[0]
}

// nestedFields reports a login body with dotted field names (user.email),
// which nest in JSON: encodeLogin lays those out.
func nestedFields(l scenarios.Login) bool {
	if strings.Contains(l.UsernameField, ".") || strings.Contains(l.PasswordField, ".") {
		return true
	}
	for k := range l.Extra {
		if strings.Contains(k, ".") {
			return true
		}
	}
	return false
}
