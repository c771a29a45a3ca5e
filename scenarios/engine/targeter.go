package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/url"
	"os"
	"slices"
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
// which removes it before the request leaves. It is in canonical form, so
// that the transport reads and removes it from the map directly (Get and
// Del canonicalize their key, allocating for one that is not).
const intentHeader = "X-Stampede-Intent"

// seqHeader is the hit's sequence number as vegeta sends it (canonical).
const seqHeader = "X-Vegeta-Seq"

// loginTargeter builds login requests from credentials: rotating or random,
// with a seeded share of wrong passwords and unknown users.
type loginTargeter struct {
	login  scenarios.Login
	url    string
	basic  string // the Authorization header of login.basic_auth; "" without
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

// newLoginTargeter builds the login URL by JoinURL (checking the
// follow-up's too, which newFollowUps builds the same way) and reads
// login.basic_auth's variables with getenv (nil: os.Getenv).
func newLoginTargeter(base *url.URL, sc *scenarios.Scenario, creds []Credential, seed int64, getenv func(string) string) (*loginTargeter, error) {
	u, err := scenarios.JoinURL(base, sc.Login.Path)
	if err != nil {
		return nil, fmt.Errorf("login.path: %w", err)
	}
	if f := sc.Login.FollowUp; f != nil {
		if _, err := scenarios.JoinURL(base, f.Path); err != nil {
			return nil, fmt.Errorf("login.follow_up.path: %w", err)
		}
	}
	t := &loginTargeter{
		login: sc.Login, url: u.String(), creds: creds,
		random: sc.Credentials.Order == "random",
		wrong:  sc.Credentials.WrongPassword, unkn: sc.Credentials.UnknownUser,
		rng: rand.New(rand.NewSource(seed)),
	}
	if b := sc.Login.BasicAuth; b != nil {
		if getenv == nil {
			getenv = os.Getenv
		}
		user, pass, err := b.Credentials(getenv)
		if err != nil {
			return nil, err
		}
		t.basic = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	ctype := "application/x-www-form-urlencoded"
	if sc.Login.Encoding != "form" {
		ctype = "application/json"
		if !nestedFields(sc.Login) { // a flat body is laid out once; nested ones go through encodeLogin
			t.json = newJSONBody(sc.Login)
		}
	}
	t.headers = newIntentHeaders(sc.Login, ctype, t.basic)
	return t, nil
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
	return t.build(tgt, c, intent)
}

// build fills tgt with one login for c, marked with its intent.
func (t *loginTargeter) build(tgt *vegeta.Target, c Credential, intent rundir.Intent) error {
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
	if l.Encoding == "form" {
		v := url.Values{}
		for k, s := range l.Extra {
			v.Set(k, s)
		}
		v.Set(l.UsernameField, c.Username)
		v.Set(l.PasswordField, c.Password)
		return []byte(v.Encode()), "application/x-www-form-urlencoded", nil
	}
	body := make(map[string]any, len(l.Extra)+2)
	keys := make([]string, 0, len(l.Extra))
	for k := range l.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the same body, and the same error, every time
	for _, k := range keys {
		if err := setJSONPath(body, k, l.Extra[k]); err != nil {
			return nil, "", err
		}
	}
	for _, f := range []struct{ name, v string }{{l.UsernameField, c.Username}, {l.PasswordField, c.Password}} {
		if err := setJSONPath(body, f.name, f.v); err != nil {
			return nil, "", err
		}
	}
	b, err := json.Marshal(body)
	return b, "application/json", err
}

// judge decides a login's outcome from its recorded result.
func judge(l scenarios.Login, intent rundir.Intent, r *vegeta.Result) rundir.Outcome {
	if r.Code == 0 {
		return rundir.OutcomeFailed
	}
	if intent != rundir.IntentValid {
		if isRejected(l.Rejected, r) {
			return rundir.OutcomeExpectedReject
		}
		return rundir.OutcomeFailed
	}
	if !slices.Contains(l.Success.Status, int(r.Code)) {
		return rundir.OutcomeFailed
	}
	if f := l.Success.JSONField; f != "" && !hasJSONField(r.Body, f) {
		return rundir.OutcomeFailed
	}
	if name := l.Success.Cookie; name != "" && !hasCookie(r.Headers, name) {
		return rundir.OutcomeFailed
	}
	return rundir.OutcomeOK
}

// defaultRejected is login.rejected.status when a Login built in code
// leaves it empty (the loader fills the same default).
var defaultRejected = []int{http.StatusUnauthorized, http.StatusForbidden}

// isRejected reports whether an answer is a refusal as login.rejected
// describes it: every rule given holds.
func isRejected(rj scenarios.Rejected, r *vegeta.Result) bool {
	status := rj.Status
	if len(status) == 0 {
		status = defaultRejected
	}
	if !slices.Contains(status, int(r.Code)) {
		return false
	}
	if rj.JSONField != "" && !hasJSONField(r.Body, rj.JSONField) {
		return false
	}
	return rj.BodyContains == "" || bytes.Contains(r.Body, []byte(rj.BodyContains))
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
