package engine

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/rundir"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Credential is one username and password.
type Credential struct{ Username, Password string }

// LoadCredentials reads a CSV of username,password; a first row of
// "username,password" is taken as a header.
func LoadCredentials(path string) ([]Credential, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	var creds []Credential
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("credentials %s: %w", path, err)
		}
		if len(rec) < 2 {
			return nil, fmt.Errorf("credentials %s:%d: want username,password, got %d field(s)", path, line, len(rec))
		}
		if line == 1 && strings.EqualFold(rec[0], "username") && strings.EqualFold(rec[1], "password") {
			continue
		}
		creds = append(creds, Credential{rec[0], rec[1]})
	}
	if len(creds) == 0 {
		return nil, fmt.Errorf("credentials %s: no credentials in the file", path)
	}
	return creds, nil
}

// intentHeader carries a hit's intent from the targeter to the transport,
// which removes it before the request leaves.
const intentHeader = "X-Stampede-rundir.Intent"

// loginTargeter builds login requests from credentials: rotating or random,
// with a seeded share of wrong passwords and unknown users.
type loginTargeter struct {
	login  scenarios.Login
	url    string
	creds  []Credential
	random bool
	wrong  float64
	unkn   float64

	mu   sync.Mutex
	rng  *rand.Rand
	next int

	json    *jsonBody // nil for a form body
	headers intentHeaders
}

func newLoginTargeter(base *url.URL, sc *scenarios.Scenario, creds []Credential, seed int64) *loginTargeter {
	u := *base
	u.Path = strings.TrimRight(u.Path, "/") + sc.Login.Path
	t := &loginTargeter{
		login: sc.Login, url: u.String(), creds: creds,
		random: sc.Credentials.Order == "random",
		wrong:  sc.Credentials.WrongPassword, unkn: sc.Credentials.UnknownUser,
		rng: rand.New(rand.NewSource(seed)),
	}
	ctype := "application/x-www-form-urlencoded"
	if sc.Login.Encoding != "form" {
		t.json, ctype = newJSONBody(sc.Login), "application/json"
	}
	t.headers = newIntentHeaders(sc.Login, ctype)
	return t
}

// pick chooses the next credential and intent under the lock.
func (t *loginTargeter) pick() (Credential, rundir.Intent) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var c Credential
	if t.random {
		c = t.creds[t.rng.Intn(len(t.creds))]
	} else {
		c = t.creds[t.next%len(t.creds)]
		t.next++
	}
	switch p := t.rng.Float64(); {
	case p < t.unkn:
		return Credential{fmt.Sprintf("nouser-%08x", t.rng.Uint32()), c.Password}, rundir.IntentUnknownUser
	case p < t.unkn+t.wrong:
		return Credential{c.Username, fmt.Sprintf("wrong-%08x", t.rng.Uint32())}, rundir.IntentWrongPassword
	}
	return c, rundir.IntentValid
}

// Target implements vegeta.Targeter.
func (t *loginTargeter) Target(tgt *vegeta.Target) error {
	if tgt == nil {
		return vegeta.ErrNilTarget
	}
	c, intent := t.pick()
	var body []byte
	if t.json != nil {
		body = t.json.encode(c)
	} else {
		var err error
		if body, _, err = encodeLogin(t.login, c); err != nil {
			return err
		}
	}
	*tgt = vegeta.Target{Method: t.login.Method, URL: t.url, Body: body, Header: t.headers.get(intent)}
	return nil
}

func encodeLogin(l scenarios.Login, c Credential) ([]byte, string, error) {
	fields := make(map[string]string, len(l.Extra)+2)
	for k, v := range l.Extra {
		fields[k] = v
	}
	fields[l.UsernameField] = c.Username
	fields[l.PasswordField] = c.Password
	if l.Encoding == "form" {
		v := url.Values{}
		for k, s := range fields {
			v.Set(k, s)
		}
		return []byte(v.Encode()), "application/x-www-form-urlencoded", nil
	}
	b, err := json.Marshal(fields)
	return b, "application/json", err
}

// judge decides a login's outcome from its recorded result.
func judge(l scenarios.Login, intent rundir.Intent, r *vegeta.Result) rundir.Outcome {
	if r.Code == 0 {
		return rundir.OutcomeFailed
	}
	if intent != rundir.IntentValid {
		if r.Code == http.StatusUnauthorized {
			return rundir.OutcomeExpectedReject
		}
		return rundir.OutcomeFailed
	}
	ok := false
	for _, s := range l.Success.Status {
		if int(r.Code) == s {
			ok = true
		}
	}
	if !ok {
		return rundir.OutcomeFailed
	}
	if f := l.Success.JSONField; f != "" {
		var m map[string]json.RawMessage
		if json.Unmarshal(r.Body, &m) != nil || m[f] == nil {
			return rundir.OutcomeFailed
		}
	}
	if name := l.Success.Cookie; name != "" && !hasCookie(r.Headers, name) {
		return rundir.OutcomeFailed
	}
	return rundir.OutcomeOK
}

func hasCookie(h http.Header, name string) bool {
	resp := http.Response{Header: h}
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return true
		}
	}
	return false
}

var errNoCredentials = errors.New("no credentials: name a credentials file in the scenario (credentials.file)")
