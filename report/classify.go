package report

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Error categories of a failed hit (ErrorCounts names them in JSON).
type errClass uint8

const (
	clsNone          errClass = iota // not an error
	clsTransport                     // refused, reset, eof, tls, io_timeout, connect_timeout, dns
	clsClientTimeout                 // request sent, no answer in time: ambiguous
	clsDB                            // a response naming the database (503 body, SQLSTATE)
	clsServerOther                   // any other failed response
	clsGenerator                     // the load generator's own failure
	clsOther                         // a transport failure of no known class
	nClasses
)

// detail is a finer counter kept per window, for evidence lines.
type detail uint8

const (
	dRefused detail = iota
	dReset
	dEOF
	dConnectTimeout
	dIOTimeout
	dTLS
	dDNS
	dGenFiles
	dGenPorts
	dGenPool
	dSQL53300 // too many connections (server, role or database)
	dSQL57014 // statement timeout
	dSQL55P03 // lock timeout
	dSQL40P01 // deadlock
	dSQL57P01 // admin shutdown / terminated backend
	dSQL57P03 // database not available (starting, stopping)
	dSQLOther
	dPoolTimeout   // the service gave up waiting for a pooled connection
	dDBTimeout     // the service's query or connect timed out
	dDBConnTimeout // opening a database connection timed out
	dDBReset       // the database connection was reset
	dDBEOF         // the database connection closed
	dDBRefused     // the database refused the connection (TCP)
	dDBUnavailable // db_unavailable with nothing finer
	dHTTP5xx       // other 5xx
	dHTTP4xx       // other 4xx (a 401 for valid credentials included)
	dBadBody       // a 2xx judged failed (missing token, cookie)
	nDetails
)

var detailNames = [nDetails]string{
	"refused", "reset", "eof", "connect_timeout", "io_timeout", "tls", "dns",
	"generator_files", "generator_ports", "generator_pool",
	"sqlstate_53300", "sqlstate_57014", "sqlstate_55P03", "sqlstate_40P01", "sqlstate_57P01", "sqlstate_57P03", "sqlstate_other",
	"pool_timeout", "db_timeout", "db_connect_timeout", "db_reset", "db_eof", "db_refused", "db_unavailable",
	"http_5xx", "http_4xx", "bad_body",
}

// hit is one result reduced to what the analysis keeps.
type hit struct {
	sent     time.Duration // actual send time since the run's start
	latency  time.Duration
	lag      time.Duration // behind the planned send time
	stage    int           // planned stage, -1 if unknown
	outcome  rundir.Outcome
	class    errClass
	detail   int // a detail index, or -1
	connect  time.Duration
	newConn  bool
	timing   serverTiming
	hasTimng bool
}

// serverTiming holds the metrics of one Server-Timing header, in ms.
type serverTiming struct{ pool, db, app, hash float64 }

// reduce classifies one result. It never fails: what it cannot read it
// leaves out.
func reduce(r *vegeta.Result, start time.Time, h *hit) {
	*h = hit{sent: r.Timestamp.Sub(start), latency: r.Latency, stage: -1, detail: -1}
	hd := r.Headers
	if v := hget(hd, rundir.HeaderStage); v != "" {
		if i, err := strconv.Atoi(v); err == nil {
			h.stage = i
		}
	}
	if v := hget(hd, rundir.HeaderSendLag); v != "" {
		if ns, err := strconv.ParseInt(v, 10, 64); err == nil && ns > 0 {
			h.lag = time.Duration(ns)
		}
	}
	if v := hget(hd, rundir.HeaderConn); strings.HasPrefix(v, "new") {
		h.newConn = true
		if _, ns, ok := strings.Cut(v, "connect="); ok {
			if n, err := strconv.ParseInt(ns, 10, 64); err == nil {
				h.connect = time.Duration(n)
			}
		}
	}
	if v := hget(hd, rundir.HeaderTiming); v != "" {
		h.timing, h.hasTimng = parseServerTiming(v)
	}
	h.outcome = rundir.Outcome(hget(hd, rundir.HeaderOutcome))
	if h.outcome == "" { // a plain vegeta file: judge by status alone
		h.outcome = rundir.OutcomeFailed
		if r.Code >= 200 && r.Code < 400 && r.Error == "" {
			h.outcome = rundir.OutcomeOK
		}
	}
	if h.outcome != rundir.OutcomeFailed {
		return
	}
	h.class, h.detail = classifyFailure(r, hget(hd, rundir.HeaderErrorClass))
}

// hget reads a header by its canonical name without allocating.
func hget(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// classifyFailure names a failed hit's category and detail.
func classifyFailure(r *vegeta.Result, errClassHeader string) (errClass, int) {
	if r.Code == 0 {
		switch errClassHeader {
		case "refused":
			return clsTransport, int(dRefused)
		case "reset":
			return clsTransport, int(dReset)
		case "eof":
			return clsTransport, int(dEOF)
		case "connect_timeout":
			return clsTransport, int(dConnectTimeout)
		case "io_timeout":
			return clsTransport, int(dIOTimeout)
		case "tls":
			return clsTransport, int(dTLS)
		case "dns":
			return clsTransport, int(dDNS)
		case "client_timeout":
			return clsClientTimeout, -1
		case "generator_files":
			return clsGenerator, int(dGenFiles)
		case "generator_ports":
			return clsGenerator, int(dGenPorts)
		case "generator_pool":
			return clsGenerator, int(dGenPool)
		}
		return clsOther, -1
	}
	if d, ok := dbFailureDetail(r.Body); ok {
		return clsDB, int(d)
	}
	if d, ok := bodySignature(r.Body); ok {
		return clsDB, int(d)
	}
	switch {
	case r.Code >= 500:
		return clsServerOther, int(dHTTP5xx)
	case r.Code >= 400:
		return clsServerOther, int(dHTTP4xx)
	}
	return clsServerOther, int(dBadBody)
}

// dbFailureDetail reads a JSON error body for a database cause: a
// SQLSTATE, or one of the service's database error kinds.
func dbFailureDetail(body []byte) (detail, bool) {
	if len(body) == 0 || body[0] != '{' {
		return 0, false
	}
	var b struct {
		Error    string `json:"error"`
		SQLState string `json:"sqlstate"`
		Cause    string `json:"cause"`
	}
	if json.Unmarshal(body, &b) != nil {
		return 0, false
	}
	switch b.SQLState {
	case "":
	case "53300":
		return dSQL53300, true
	case "57014":
		return dSQL57014, true
	case "55P03":
		return dSQL55P03, true
	case "40P01":
		return dSQL40P01, true
	case "57P01":
		return dSQL57P01, true
	case "57P03":
		return dSQL57P03, true
	default:
		return dSQLOther, true
	}
	switch b.Cause {
	case "connection_reset":
		return dDBReset, true
	case "eof":
		return dDBEOF, true
	case "connection_refused":
		return dDBRefused, true
	case "connect_timeout":
		return dDBConnTimeout, true
	}
	switch b.Error {
	case "pool_timeout":
		return dPoolTimeout, true
	case "db_timeout":
		return dDBTimeout, true
	case "db_unavailable":
		return dDBUnavailable, true
	}
	return 0, false
}

// parseServerTiming reads the W3C header: comma-separated metrics with
// ;-separated params, dur in ms; a repeated name adds up.
func parseServerTiming(v string) (serverTiming, bool) {
	var st serverTiming
	found := false
	for v != "" {
		var m string
		m, v, _ = strings.Cut(v, ",")
		name, params, _ := strings.Cut(m, ";")
		var dst *float64
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "pool":
			dst = &st.pool
		case "db":
			dst = &st.db
		case "app":
			dst = &st.app
		case "hash":
			dst = &st.hash
		default:
			continue
		}
		for params != "" {
			var p string
			p, params, _ = strings.Cut(params, ";")
			k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "dur") {
				if f, err := strconv.ParseFloat(strings.Trim(val, `"`), 64); err == nil && f >= 0 {
					*dst += f
					found = true
				}
			}
		}
	}
	return st, found
}

// bodySignatures are the words PostgreSQL, drivers and poolers use for
// their limits (REFERENCE.md), as services that pass them through show
// them in an error page or message: a black box's only database clue.
var bodySignatures = []struct {
	text string
	d    detail
}{
	{"too many clients already", dSQL53300},
	{"too many connections for role", dSQL53300},
	{"too many connections for database", dSQL53300},
	{"remaining connection slots are reserved", dSQL53300},
	{"no more connections allowed", dSQL53300}, // PgBouncer max_client_conn
	{"query_wait_timeout", dPoolTimeout},       // PgBouncer: waited too long for a server connection
	{"terminating connection due to administrator command", dSQL57P01},
	{"canceling statement due to statement timeout", dSQL57014},
	{"canceling statement due to lock timeout", dSQL55P03},
	{"deadlock detected", dSQL40P01},
	{"the database system is starting up", dSQL57P03},
	{"the database system is shutting down", dSQL57P03},
	{"sqlstate 53300", dSQL53300},
	{"sqlstate 57p01", dSQL57P01},
	{"(sqlstate 53300)", dSQL53300},
}

// bodySignature finds a database limit's words in a response body (the
// first 4 KiB the run kept), case-insensitively.
func bodySignature(body []byte) (detail, bool) {
	if len(body) == 0 {
		return 0, false
	}
	low := strings.ToLower(string(body))
	for _, s := range bodySignatures {
		if strings.Contains(low, s.text) {
			return s.d, true
		}
	}
	return 0, false
}
