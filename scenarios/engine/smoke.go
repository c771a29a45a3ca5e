package engine

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// SmokeOptions are what a smoke login needs: the same as a run's.
type SmokeOptions struct {
	Scenario    *scenarios.Scenario
	Target      *url.URL
	Credentials []Credential
	// Getenv reads login.basic_auth's variables; nil: os.Getenv.
	Getenv func(string) string
}

// SmokeError is a smoke login that did not go as the scenario expects: the
// request, what came back (secrets redacted) and the likely fix.
type SmokeError struct {
	Which   string // "valid login" or "wrong-password login"
	Method  string
	URL     string // redacted
	Status  int    // 0: no answer
	Body    string // the first smokeBodyShown bytes, redacted
	Err     error  // the transport's error when there was no answer
	Want    string // what the scenario expected
	Fix     string // the likely fix
	Request string // the body sent, redacted
}

// smokeBodyShown is how much of an answer's body a SmokeError shows.
const smokeBodyShown = 200

func (e *SmokeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "smoke login failed: the %s %s %s ", e.Which, e.Method, e.URL)
	if e.Status == 0 {
		fmt.Fprintf(&b, "got no answer: %v", e.Err)
	} else {
		fmt.Fprintf(&b, "answered %d %s, but %s", e.Status, http.StatusText(e.Status), e.Want)
	}
	if e.Request != "" {
		fmt.Fprintf(&b, "\n  sent: %s", e.Request)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, "\n  body: %q", e.Body)
	}
	fmt.Fprintf(&b, "\n  likely fix: %s", e.Fix)
	b.WriteString("\n  nothing else was sent and no fault was injected (--skip-smoke skips this check)")
	return b.String()
}

// Smoke sends one valid login, and one wrong-password login when the
// scenario's mix has wrong credentials, before anything else of a run: the
// same requests a run sends (the preflight, the body, the headers), through
// the same client (no redirects followed). It returns a *SmokeError when
// the valid login does not meet login.success, or the wrong one is not
// refused as login.rejected describes; it stops at the first such request.
func Smoke(ctx context.Context, o SmokeOptions) error {
	sc := o.Scenario
	if len(o.Credentials) == 0 {
		return errNoCredentials
	}
	t, err := newLoginTargeter(o.Target, sc, o.Credentials, 0, o.Getenv)
	if err != nil {
		return err
	}
	pf, err := newPreflight(o.Target, sc.Login.Preflight)
	if err != nil {
		return err
	}
	tt := &tracingTransport{preflight: pf}
	client, tr := newLoadClient(sc.Client, tt)
	defer tr.CloseIdleConnections()

	good := o.Credentials[0]
	checks := []smokeCheck{{"valid login", good, rundir.IntentValid}}
	switch c := sc.Credentials; {
	case c.WrongPassword > 0:
		checks = append(checks, smokeCheck{"wrong-password login", Credential{good.Username, "stampede-smoke-wrong-password"}, rundir.IntentWrongPassword})
	case c.UnknownUser > 0:
		checks = append(checks, smokeCheck{"unknown-user login", Credential{"stampede-smoke-no-such-user", good.Password}, rundir.IntentUnknownUser})
	}
	for _, c := range checks {
		if err := smokeOne(ctx, client, t, sc.Login, c.which, c.cred, c.intent); err != nil {
			return err
		}
	}
	return nil
}

// smokeCheck is one login of the smoke check.
type smokeCheck struct {
	which  string
	cred   Credential
	intent rundir.Intent
}

func smokeOne(ctx context.Context, client *http.Client, t *loginTargeter, l scenarios.Login, which string, c Credential, intent rundir.Intent) error {
	var tgt vegeta.Target
	if err := t.build(&tgt, c, intent); err != nil {
		return err
	}
	req, err := tgt.Request()
	if err != nil {
		return err
	}
	req = req.WithContext(ctx)
	// The secrets this request carries: never shown.
	red := newRedactor(c.Password, tgt.Header.Get("Authorization"))
	if t.basic != "" {
		if raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(t.basic, "Basic ")); err == nil {
			_, secret, _ := strings.Cut(string(raw), ":")
			red.add(secret)
		}
	}
	se := &SmokeError{Which: which, Method: tgt.Method, URL: redactURL(tgt.URL), Request: red.body(tgt.Body)}
	resp, err := client.Do(req)
	if err != nil {
		se.Err = fmt.Errorf("%s", red.text(err.Error()))
		se.Fix = "check target (is the service up at this address?) and login.preflight, if any"
		return se
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	// The preflight's token and cookie went out with the login: redact them.
	for _, ck := range req.Cookies() {
		red.add(ck.Value)
	}
	for _, ck := range resp.Cookies() {
		red.add(ck.Value)
	}
	red.jsonSecrets(body)
	res := &vegeta.Result{Code: uint16(resp.StatusCode), Body: body, Headers: resp.Header}
	if judge(l, intent, res) == expectedOutcome(intent) {
		return nil
	}
	se.Status = resp.StatusCode
	shown := red.text(string(body))
	if len(shown) > smokeBodyShown {
		shown = shown[:smokeBodyShown]
	}
	se.Body = shown
	if intent == rundir.IntentValid {
		se.Want, se.Fix = successMismatch(l, res)
	} else {
		se.Want, se.Fix = rejectedMismatch(l, res)
	}
	return se
}

func expectedOutcome(intent rundir.Intent) rundir.Outcome {
	if intent == rundir.IntentValid {
		return rundir.OutcomeOK
	}
	return rundir.OutcomeExpectedReject
}

// successMismatch says what login.success wanted and the likely fix, from
// the status and the shape of the answer.
func successMismatch(l scenarios.Login, r *vegeta.Result) (want, fix string) {
	code := int(r.Code)
	want = "login.success wants " + describeSuccess(l.Success)
	switch {
	case code == http.StatusNotFound:
		fix = "the service has nothing at this URL: check target and login.path (a query goes after ?, e.g. path: /token?grant_type=password)"
	case code == http.StatusMethodNotAllowed:
		fix = fmt.Sprintf("the service does not take %s here: check login.method and login.path", l.Method)
	case code == http.StatusUnsupportedMediaType:
		fix = fmt.Sprintf("the service does not take a %s body: check login.encoding (json or form)", l.Encoding)
	case code == http.StatusBadRequest || code == http.StatusUnprocessableEntity:
		fix = fmt.Sprintf("the service did not take the request: check login.encoding (now %s), login.username_field and login.password_field (now %s, %s) and login.extra (e.g. grant_type: password)",
			l.Encoding, l.UsernameField, l.PasswordField)
	case code == http.StatusUnauthorized:
		fix = "the valid credentials were refused: check credentials.file, login.username_field and login.password_field, and login.basic_auth for a client's credentials"
	case code == http.StatusForbidden:
		fix = "the login was forbidden: a CSRF-protected form needs login.preflight (e.g. from: cookie, name: csrftoken, send_as: field, send_name: csrfmiddlewaretoken); else check credentials"
	case code >= 500:
		fix = "the service failed on one login before any load: check that it and its database are healthy"
	case slices.Contains(l.Success.Status, code):
		fix = "the status is right but the answer is not: " + answerShape(r) + "; set login.success.json_field or login.success.cookie to what a successful login returns"
	case code == http.StatusOK && len(l.Success.Status) > 0 && l.Success.Status[0] >= 300 && l.Success.Status[0] < 400:
		fix = "the service answered 200 where a redirect was expected, as a form does when it shows itself again: check the credentials, login.encoding (form) and the field names; " + answerShape(r)
	default:
		fix = fmt.Sprintf("if %d is this service's success, set login.success.status: [%d] (redirects are never followed); %s", code, code, answerShape(r))
	}
	return want, fix
}

// rejectedMismatch says what login.rejected wanted of a wrong login.
func rejectedMismatch(l scenarios.Login, r *vegeta.Result) (want, fix string) {
	code := int(r.Code)
	rj := l.Rejected
	if len(rj.Status) == 0 {
		rj.Status = defaultRejected
	}
	want = "login.rejected wants " + describeRejected(rj)
	switch {
	case code == http.StatusNotFound || code == http.StatusMethodNotAllowed:
		fix = "the service has nothing at this URL or method: check target, login.path and login.method"
	case judge(l, rundir.IntentValid, r) == rundir.OutcomeOK:
		fix = "the service accepted a wrong password as a login: check login.password_field and login.success"
	case code >= 500:
		fix = "the service failed on a wrong login: check that it is healthy"
	case !slices.Contains(rj.Status, code):
		fix = fmt.Sprintf("if this is how the service refuses a login, set login.rejected.status: [%d] (and json_field or body_contains to tell it apart); %s", code, answerShape(r))
	default:
		fix = "the status is right but the body is not: check login.rejected.json_field and login.rejected.body_contains; " + answerShape(r)
	}
	return want, fix
}

func describeSuccess(s scenarios.Success) string {
	parts := []string{fmt.Sprintf("status %v", s.Status)}
	if s.JSONField != "" {
		parts = append(parts, fmt.Sprintf("a JSON field %q", s.JSONField))
	}
	if s.Cookie != "" {
		parts = append(parts, fmt.Sprintf("a cookie %q", s.Cookie))
	}
	return strings.Join(parts, " with ")
}

func describeRejected(rj scenarios.Rejected) string {
	parts := []string{fmt.Sprintf("status %v", rj.Status)}
	if rj.JSONField != "" {
		parts = append(parts, fmt.Sprintf("a JSON field %q", rj.JSONField))
	}
	if rj.BodyContains != "" {
		parts = append(parts, fmt.Sprintf("a body containing %q", rj.BodyContains))
	}
	return strings.Join(parts, " with ")
}

// answerShape names what an answer carries: its JSON fields and cookies
// (names only), its redirect.
func answerShape(r *vegeta.Result) string {
	var parts []string
	var m map[string]json.RawMessage
	if json.Unmarshal(r.Body, &m) == nil {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts = append(parts, fmt.Sprintf("this answer has the JSON fields %v", keys))
	}
	var names []string
	for _, c := range (&http.Response{Header: r.Headers}).Cookies() {
		names = append(names, c.Name)
	}
	if len(names) > 0 {
		parts = append(parts, fmt.Sprintf("sets the cookies %v", names))
	}
	if loc := r.Headers.Get("Location"); loc != "" {
		parts = append(parts, "redirects to "+redactURL(loc))
	}
	if len(parts) == 0 {
		return "this answer has no JSON body and sets no cookie"
	}
	return strings.Join(parts, ", ")
}

// redactor replaces secrets in text shown to the user.
type redactor struct{ secrets []string }

const redacted = "[redacted]"

func newRedactor(secrets ...string) *redactor {
	r := &redactor{}
	for _, s := range secrets {
		r.add(s)
	}
	return r
}

func (r *redactor) add(s string) {
	if len(s) >= 3 && !slices.Contains(r.secrets, s) {
		r.secrets = append(r.secrets, s)
		// A secret may appear escaped in a URL, a form or a JSON body.
		for _, v := range []string{url.QueryEscape(s), url.PathEscape(s)} {
			if v != s && !slices.Contains(r.secrets, v) {
				r.secrets = append(r.secrets, v)
			}
		}
	}
}

func (r *redactor) text(s string) string {
	// Longest first, so that a secret containing another is replaced whole.
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, redacted)
	}
	return secretPairs.ReplaceAllString(s, "${1}"+redacted)
}

// body is the request body sent, redacted, as one line.
func (r *redactor) body(b []byte) string {
	s := r.text(string(b))
	if len(s) > smokeBodyShown {
		s = s[:smokeBodyShown] + "..."
	}
	return s
}

// secretKey matches the names of fields and parameters that hold secrets.
var secretKey = regexp.MustCompile(`(?i)(token|secret|password|passwd|session|cookie|csrf|auth|key)`)

// secretPairs matches name=value and "name":"value" pairs whose name holds a
// secret, keeping the name.
var secretPairs = regexp.MustCompile(`(?i)((?:[a-z_]*(?:token|secret|password|passwd|sessionid|session|csrf[a-z_]*|api_key)[a-z_]*)(?:"\s*:\s*"|=|" value="))[^"&\s<>]+`)

// jsonSecrets adds the values of a JSON answer's secret-looking fields,
// nested ones included.
func (r *redactor) jsonSecrets(body []byte) {
	var v any
	if json.Unmarshal(body, &v) == nil {
		r.walkJSON("", v)
	}
}

func (r *redactor) walkJSON(key string, v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			r.walkJSON(k, c)
		}
	case []any:
		for _, c := range x {
			r.walkJSON(key, c)
		}
	case string:
		if secretKey.MatchString(key) {
			r.add(x)
		}
	}
}

// redactURL hides a URL's password and its secret-looking query values.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	q := u.Query()
	changed := false
	for k := range q {
		if secretKey.MatchString(k) {
			q.Set(k, redacted)
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
