package report

import (
	"fmt"
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// RequestProblem says that the login request itself is wrong: every valid
// login failed with the same status from the run's first second on. Then
// the run measured nothing about capacity, and the report says so first.
type RequestProblem struct {
	Status int // the status every login got
	// Logins is the number of valid logins sent; Failed how many of them got Status.
	Logins, Failed int64
	Message        string // "every login was rejected with 404 from the start: ..."
	Fix            string // the likely fix
}

// RequestProblemJSON is RequestProblem in report.json.
type RequestProblemJSON struct {
	Status  int    `json:"status"`
	Logins  int64  `json:"logins"`
	Failed  int64  `json:"failed"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// requestFirst is how much of the run's start must fail the same way: the
// first second, by planned send time, as the issue that asked for it says.
const requestFirst = time.Second

// requestShare is the share of all valid logins that must have that one
// status: a request that is wrong stays wrong; a service that recovers was
// not answering a wrong request.
const requestShare = 0.9

// requestTally counts valid logins by outcome and status during decode's
// pass: those planned in the run's first second apart.
type requestTally struct {
	logins, ok       int64
	failed           map[int]int64 // status → failed valid logins
	first, firstSame int64         // valid logins in the first second; those failed with firstCode
	firstCode        int           // the status of the first second's first failure; -1: they differ
}

func newRequestTally() *requestTally { return &requestTally{failed: map[int]int64{}} }

// add counts one result, start being the run's start.
func (t *requestTally) add(res *vegeta.Result, start time.Time) {
	if res.Headers.Get(rundir.HeaderIntent) != string(rundir.IntentValid) {
		return
	}
	outcome := res.Headers.Get(rundir.HeaderOutcome)
	if outcome == string(rundir.OutcomeExpectedReject) {
		return
	}
	t.logins++
	if outcome == string(rundir.OutcomeOK) {
		t.ok++
	} else {
		t.failed[int(res.Code)]++
	}
	var lag int64
	_, _ = fmt.Sscan(res.Headers.Get(rundir.HeaderSendLag), &lag)
	if res.Timestamp.Add(-time.Duration(lag)).Sub(start) >= requestFirst {
		return
	}
	t.first++
	code := int(res.Code)
	switch {
	case outcome == string(rundir.OutcomeOK):
		t.firstCode = -1
	case t.firstSame == 0 && t.firstCode == 0:
		t.firstCode, t.firstSame = code, 1
	case code == t.firstCode:
		t.firstSame++
	default:
		t.firstCode = -1
	}
}

// requestProblem is the step before the limit: it sets r.RequestProblem
// when every valid login failed with one status (an answer, not a
// transport error; not a 5xx, 408 or 429, which a service at its limit
// gives) from the first second on.
func requestProblem(r *Report, t *requestTally) {
	if t == nil || t.logins == 0 || t.ok > 0 || t.first == 0 || t.firstCode <= 0 || t.firstSame != t.first {
		return
	}
	code := t.firstCode
	if code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests {
		return
	}
	if float64(t.failed[code]) < requestShare*float64(t.logins) {
		return
	}
	p := &RequestProblem{Status: code, Logins: t.logins, Failed: t.failed[code], Fix: requestFix(code)}
	if code >= 400 {
		p.Message = fmt.Sprintf("every login was rejected with %d from the start: the request is wrong, not the capacity", code)
	} else {
		p.Message = fmt.Sprintf("every login was answered %d, which login.success does not accept, from the start: the request or login.success is wrong, not the capacity", code)
	}
	r.RequestProblem = p
}

// stateRequestProblem puts a request problem in the verdict's place, once
// the checks are judged: a capacity verdict on a wrong request misleads.
func stateRequestProblem(r *Report) {
	if p := r.RequestProblem; p != nil {
		r.Verdict = "fail"
		r.Summary = "fail: " + p.Message
	}
}

// requestFix is the likely fix for a status every login got.
func requestFix(code int) string {
	switch code {
	case http.StatusNotFound:
		return "check target and login.path (a query goes after ?, e.g. /token?grant_type=password)"
	case http.StatusMethodNotAllowed:
		return "check login.method and login.path"
	case http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
		return "check login.encoding (json or form), login.username_field, login.password_field and login.extra (e.g. grant_type: password)"
	case http.StatusUnauthorized:
		return "check the credentials file, the field names and login.basic_auth"
	case http.StatusForbidden:
		return "check login.preflight (a CSRF token) and the credentials"
	}
	if code < 400 {
		return "check login.success (status, json_field, cookie) against what a successful login returns; redirects are never followed"
	}
	return "check target, login.path, login.method and login.encoding; stampede validate SCENARIO --target URL sends one login to try"
}
