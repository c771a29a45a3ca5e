package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/stampede-load/stampede/report/format"
)

// Causes, from DESIGN.md's taxonomy.
const (
	CauseDBConnections = "db.connections"
	CauseDBQueries     = "db.queries"
	CauseNetClient     = "network.client"
	CauseNetDB         = "network.db"
	CauseApp           = "app"
	CauseGenerator     = "generator"
	CauseNone          = "none"
	CauseUndetermined  = "undetermined"
)

// Cause is a diagnosis: one primary cause, how sure, the evidence with its
// figures, and what was ruled out (also with figures).
type Cause struct {
	Primary    string
	Confidence string // high, medium, low
	// Sources are the independent sources of evidence that point to the
	// primary cause (responses, Server-Timing, database samples, ...).
	Sources  []string
	Evidence []string
	RuledOut []string
	// NotChecked names what could not be checked for lack of data.
	NotChecked []string
	// Scope says which windows the diagnosis covers; Windows counts them
	// and From is the first one's start.
	Scope   string
	Windows int
	From    time.Duration
}

// causeOrder breaks ties between equal scores: the database first (the
// incident this tool exists for), the generator last.
func causeOrder() [6]string {
	return [...]string{CauseDBQueries, CauseDBConnections, CauseNetDB, CauseNetClient, CauseApp, CauseGenerator}
}

// Sources of evidence, independent of one another: a cause two of them
// point to is surer than one a single source points to twice.
const (
	srcResponses = "responses"        // status codes, error bodies, transport errors
	srcTiming    = "Server-Timing"    // the service's own split of its time
	srcDB        = "database samples" // pg_stat_activity and a probe query, over a reserved connection
	srcPool      = "pool stats"       // the service's pool counters
	srcProbes    = "TCP probes"       // connects to the service and to the database
	srcHealth    = "health checks"    // GET of the service's health path, the way the load goes
	srcConnect   = "client connects"  // the load's own new connections
	srcGenerator = "generator"        // the load generator's reports on itself
)

func sourceOrder() []string {
	return []string{srcResponses, srcTiming, srcDB, srcPool, srcProbes, srcHealth, srcConnect, srcGenerator}
}

// diag collects points, evidence lines and sources per cause.
type diag struct {
	score map[string]float64
	ev    map[string][]string
	src   map[string]map[string]bool
	// What makes a full pool a symptom rather than the wall:
	lockish bool   // lock waiters or lock/timeout SQLSTATEs: a query problem
	holdUp  string // each login held its connection far longer: the cause credited for it
	stalled bool   // the sessions holding the connections sat idle in transaction
}

func (d *diag) add(cause, src string, pts float64, format string, args ...any) {
	d.score[cause] += pts
	d.ev[cause] = append(d.ev[cause], fmt.Sprintf(format, args...))
	if d.src[cause] == nil {
		d.src[cause] = map[string]bool{}
	}
	d.src[cause][src] = true
}

// ref describes a baseline for an evidence line.
type ref struct {
	v    time.Duration
	have bool
}

func (r ref) String() string {
	if !r.have {
		return "no healthy baseline"
	}
	return "a " + format.MS(r.v) + " baseline"
}

// up reports cur rising against its baseline by factor and by abs at
// least; without a baseline, cur must reach noBase.
func up(cur time.Duration, base ref, factor float64, abs, noBase time.Duration) bool {
	if !base.have {
		return cur >= noBase
	}
	return float64(cur) >= factor*float64(base.v) && cur >= base.v+abs
}

// diagnose names the cause of degraded windows (merged in e) against the
// healthy baseline b. It reads evidence only: never the fault schedule.
func diagnose(e evidence, b *evidence) Cause {
	d := &diag{score: map[string]float64{}, ev: map[string][]string{}, src: map[string]map[string]bool{}}
	if b == nil {
		b = &evidence{}
	}
	c := &e.c
	det := &c.det
	sent := max(c.sent, 1)
	t, haveT := e.timing()
	bt, haveBT := b.baseTiming()
	bref := func(v float64) ref { return ref{msDur(v), haveBT} }

	// db.connections: a connection cap is the wall.
	if n := det[dSQL53300]; n > 0 {
		d.add(CauseDBConnections, srcResponses, 3, "%d responses with SQLSTATE 53300 (too many connections: server, role or database limit)", n)
	}
	if n := det[dPoolTimeout]; n > 0 {
		d.add(CauseDBConnections, srcResponses, 3, "%d pool_timeout responses: the service gave up waiting for a pooled connection", n)
	}
	if n := det[dSQL57P01]; n > 0 {
		d.add(CauseDBConnections, srcResponses, 2, "%d responses with SQLSTATE 57P01: database sessions terminated", n)
	}
	if n := det[dSQL57P03]; n > 0 {
		d.add(CauseDBConnections, srcResponses, 2, "%d responses with SQLSTATE 57P03: the database was not accepting connections", n)
	}
	if haveT && t.pool >= 10 && t.pool >= 2*t.db && up(msDur(t.pool), bref(bt.pool), 3, 10*time.Millisecond, 10*time.Millisecond) {
		d.add(CauseDBConnections, srcTiming, 2, "Server-Timing: %s waiting for a pooled connection per login against %s in the database (%s for the wait): logins queue for connections",
			format.MS(msDur(t.pool)), format.MS(msDur(t.db)), bref(bt.pool))
	}
	roleAtLimit := e.haveDB && e.roleCapped
	if roleAtLimit {
		d.add(CauseDBConnections, srcDB, 3, "the role's backends at its connection limit: %s of %s (%s active)", format.Num(e.capBackends), format.Num(e.capLimit), format.Num(e.capActive))
	}
	if e.haveDB && e.serverCapped {
		d.add(CauseDBConnections, srcDB, 3, "server backends at max_connections: %s of %s (%s reserved for superusers)", format.Num(e.capServer), format.Num(e.maxConns), format.Num(e.reserved))
	}
	poolFull := false
	if e.havePool && e.poolMax > 0 && e.poolWaits > 0 {
		mostWaited := e.poolAcquires > 0 && 2*e.poolWaits >= e.poolAcquires
		if e.poolAcquired >= e.poolMax || mostWaited {
			poolFull = true
			line := fmt.Sprintf("the service's pool full: %s of %s connections in use, %s acquires had to wait", format.Num(e.poolAcquired), format.Num(e.poolMax), format.Num(e.poolWaits))
			if e.poolAcquires > 0 {
				line += fmt.Sprintf(" (of %s)", format.Num(e.poolAcquires))
			}
			pts := 2.0
			if e.poolWaitTime > 0 {
				wait := time.Duration(float64(e.poolWaitTime) / e.poolWaits)
				line += fmt.Sprintf(", %s each on average", format.MS(wait))
				if mostWaited && wait >= 100*time.Millisecond {
					pts = 3
				}
			}
			d.add(CauseDBConnections, srcPool, pts, "%s", line)
		}
	}
	// The database's own side of a full pool: every pooled connection is a
	// backend doing its normal work (not idle in a transaction).
	if poolFull && !roleAtLimit && e.haveDB && e.roleBackends >= e.poolMax && 2*e.roleActive >= e.roleBackends {
		d.add(CauseDBConnections, srcDB, 1, "the database sees the whole pool busy: %s of the role's backends (%s active) for a pool of %s",
			format.Num(e.roleBackends), format.Num(e.roleActive), format.Num(e.poolMax))
	}

	// db.queries: work inside the database is slow or blocked.
	if e.haveDB && e.lockWaiters > max(b.lockWaiters, 0) {
		pts := 3.0
		if e.lockWaiters >= 5 {
			pts = 4
		}
		d.lockish = true
		d.add(CauseDBQueries, srcDB, pts, "%s sessions waiting on locks (pg_stat_activity wait_event_type Lock; %s at baseline)", format.Num(e.lockWaiters), format.Num(b.lockWaiters))
	}
	for _, q := range []struct {
		det  detail
		what string
	}{{dSQL57014, "57014 (statement timeout)"}, {dSQL55P03, "55P03 (lock timeout)"}, {dSQL40P01, "40P01 (deadlock)"}} {
		if n := det[q.det]; n > 0 {
			d.lockish = true
			d.add(CauseDBQueries, srcResponses, 3, "%d responses with SQLSTATE %s", n, q.what)
		}
	}
	if n := det[dDBTimeout]; n > 0 {
		d.add(CauseDBQueries, srcResponses, 2, "%d db_timeout responses: database work did not finish in time", n)
	}
	rttRef := ref{b.rtt, b.haveRTT}
	rttUp := e.haveRTT && up(e.rtt, rttRef, 3, 5*time.Millisecond, 20*time.Millisecond)
	var notChecked []string
	if haveT && up(msDur(t.dbReached), bref(bt.dbReached), 3, 20*time.Millisecond, 100*time.Millisecond) {
		switch {
		case e.haveDB && e.haveRTT && !rttUp && !d.lockish:
			d.holdUp = CauseNetDB
			d.add(CauseNetDB, srcTiming, 3, "the service's db time is %s per login against %s while the database's own probe answered in %s (%s) with %s lock waiters and %s of %s role backends: the time goes between the service and the database",
				format.MS(msDur(t.dbReached)), bref(bt.dbReached), format.MS(e.rtt), rttRef, format.Num(e.lockWaiters), format.Num(e.roleBackends), fnumOrNone(e.roleLimit))
		case e.haveDB || e.haveRTT:
			d.holdUp = CauseDBQueries
			d.add(CauseDBQueries, srcTiming, 2, "Server-Timing: db %s per login against %s", format.MS(msDur(t.dbReached)), bref(bt.dbReached))
		default:
			d.add(CauseDBQueries, srcTiming, 1.5, "Server-Timing: db %s per login against %s", format.MS(msDur(t.dbReached)), bref(bt.dbReached))
			notChecked = append(notChecked, "no database samples: slow queries (db.queries) and a slow path to the database (network.db) look alike from the service")
		}
	}
	if rttUp {
		d.add(CauseDBQueries, srcDB, 1, "the database's own probe query took %s against %s", format.MS(e.rtt), rttRef)
	}

	// network.db: the path between the service and the database.
	if n := det[dDBReset] + det[dDBEOF]; n > 0 {
		d.add(CauseNetDB, srcResponses, 3, "%d logins failed on a database connection reset or closed mid-request", n)
	}
	if n := det[dDBRefused]; n > 0 {
		d.add(CauseNetDB, srcResponses, 1.5, "%d logins failed on a database connection refused (TCP)", n)
	}
	if n := det[dDBConnTimeout]; n > 0 {
		d.add(CauseNetDB, srcResponses, 1, "%d logins failed opening a database connection in time (pool had room)", n)
	}
	dbpRef := ref{b.dbConnect, b.haveDBProbe}
	if e.haveDBProbe && up(e.dbConnect, dbpRef, 3, 5*time.Millisecond, 50*time.Millisecond) {
		d.add(CauseNetDB, srcProbes, 2, "TCP connect to the database %s against %s", format.MS(e.dbConnect), dbpRef)
	}
	if e.dbErrors > b.dbErrors {
		d.add(CauseNetDB, srcProbes, 2, "%d TCP probes to the database failed", e.dbErrors)
	}
	// Sessions idle in a transaction: the database waits on the service, or
	// on the path to it, between statements; it is not working on them.
	if e.haveDB && !d.lockish && e.roleBackends >= 3 && 2*e.idleInTx >= e.roleBackends && e.idleInTx >= 2*b.idleInTx+2 {
		d.stalled = true
		d.add(CauseNetDB, srcDB, 2, "%s of the service's %s database sessions idle in transaction (%s at baseline): the database waits on the service between statements, it is not working on them",
			format.Num(e.idleInTx), format.Num(e.roleBackends), format.Num(b.idleInTx))
	}

	// network.client: between the load generator and the service.
	if n := c.cls[clsTransport]; n > 0 {
		pts := 3.0
		if float64(n)/float64(sent) < 0.01 {
			pts = 1.5
		}
		d.add(CauseNetClient, srcResponses, pts, "%d transport errors before any response (%s)", n, transportBreakdown(det))
	}
	connRef := ref{b.connP99, b.haveConn}
	if e.haveConn && up(e.connP99, connRef, 3, 5*time.Millisecond, 50*time.Millisecond) {
		d.add(CauseNetClient, srcConnect, 2, "TCP connect p99 %s against %s (%d new connections)", format.MS(e.connP99), connRef, c.newConns)
	}
	svcRef := ref{b.svcConnect, b.haveSvc}
	if e.haveSvc && up(e.svcConnect, svcRef, 3, 5*time.Millisecond, 50*time.Millisecond) {
		d.add(CauseNetClient, srcProbes, 2, "TCP connect probes to the service %s against %s", format.MS(e.svcConnect), svcRef)
	}
	if e.svcErrors > b.svcErrors {
		d.add(CauseNetClient, srcProbes, 2, "%d TCP probes to the service failed", e.svcErrors)
	}
	healthRef := ref{b.health, b.haveHealth}
	if e.haveHealth && up(e.health, healthRef, 3, 20*time.Millisecond, 100*time.Millisecond) {
		d.add(CauseNetClient, srcHealth, 2, "health checks through the client path took %s against %s", format.MS(e.health), healthRef)
	}
	if e.healthErrors > b.healthErrors {
		d.add(CauseNetClient, srcHealth, 2, "%d health checks through the client path failed before any answer", e.healthErrors)
	}
	if haveT && t.gap >= t.app && up(msDur(t.gap), bref(bt.gap), 3, 20*time.Millisecond, 100*time.Millisecond) {
		d.add(CauseNetClient, srcTiming, 2, "client latency exceeds the service's own time by %s per login against %s: not explained by server time",
			format.MS(msDur(t.gap)), bref(bt.gap))
	}

	// app: server time up, not in pool or db.
	if haveT && up(msDur(t.appNet), bref(bt.appNet), 3, 20*time.Millisecond, 200*time.Millisecond) {
		pts := 2.0
		if t.appNet >= t.app/2 {
			pts = 3
		}
		d.add(CauseApp, srcTiming, pts, "Server-Timing: app time net of pool and db %s per login against %s", format.MS(msDur(t.appNet)), bref(bt.appNet))
	}
	if haveT && up(msDur(t.hash), bref(bt.hash), 3, 10*time.Millisecond, 100*time.Millisecond) {
		d.add(CauseApp, srcTiming, 1, "Server-Timing: password hashing %s per login against %s", format.MS(msDur(t.hash)), bref(bt.hash))
	}
	if n := det[dHTTP5xx]; n > 0 {
		d.add(CauseApp, srcResponses, 1, "%d 5xx responses that name no database cause", n)
	}

	// generator: the load generator itself. Late sends count only while
	// latency stayed normal: when the target's latency rose, the SLO
	// missed for the target's reason, whatever the generator's lag.
	p50Ref, p99Ref := ref{b.p50, b.windows > 0}, ref{b.p99, b.windows > 0}
	latencyNormal := !up(e.p50, p50Ref, 1.5, 5*time.Millisecond, time.Hour) && !up(e.p99, p99Ref, 2, 50*time.Millisecond, time.Hour)
	if n := c.cls[clsGenerator]; n > 0 {
		d.add(CauseGenerator, srcGenerator, 3, "%d local generator failures (%s)", n, generatorBreakdown(det))
	}
	if len(e.genLocal) > 0 || (e.genBehind && latencyNormal) {
		what := fmt.Sprintf("the generator sent %d of %d hits late (lag up to %s) with workers free (%d in flight of %d)",
			e.genLate, e.genHits, format.MS(e.genMaxLag), e.genInflight, e.genMaxWorkers)
		if len(e.genLocal) > 0 {
			what += "; local errors " + countsText(e.genLocal)
		}
		d.add(CauseGenerator, srcGenerator, 3, "%s", what)
	}
	lagRef := ref{b.lagP99, b.lagP99 > 0 || b.windows > 0}
	if !e.genSat && e.lagP99 >= 50*time.Millisecond && up(e.lagP99, lagRef, 3, 20*time.Millisecond, 50*time.Millisecond) && latencyNormal {
		d.add(CauseGenerator, srcGenerator, 2, "send lag p99 %s while latency stayed normal (p50 %s against %s)", format.MS(e.lagP99), format.MS(e.p50), p50Ref)
	}

	primary, best := CauseUndetermined, 0.0
	for _, k := range causeOrder() {
		if s := d.score[k]; s > best {
			primary, best = k, s
		}
	}
	// A full pool is a symptom when what holds its connections is slow: a
	// pool full of lock waiters is a query problem, one whose logins hold
	// their connection far longer while the database itself is fast (or
	// whose sessions sit idle in transaction) is the path to the database.
	var symptom string
	if primary == CauseDBConnections {
		switch {
		case d.lockish && d.score[CauseDBQueries] >= 3:
			primary, symptom = CauseDBQueries, "its connections were held by sessions waiting on locks"
		case d.holdUp != "" && d.score[d.holdUp] >= 3:
			primary, symptom = d.holdUp, fmt.Sprintf("each login held its connection %s in the database against %s", format.MS(msDur(t.dbReached)), bref(bt.dbReached))
		case d.stalled && d.score[CauseNetDB] >= 2 && d.score[CauseApp] == 0:
			primary, symptom = CauseNetDB, "its connections were held by sessions idle in transaction"
		}
	}
	best = d.score[primary]
	second := 0.0
	for _, k := range causeOrder() {
		if k != primary && (symptom == "" || k != CauseDBConnections) {
			second = max(second, d.score[k])
		}
	}
	if best < 2 {
		primary = CauseUndetermined
	}
	out := Cause{Primary: primary, Windows: e.windows}
	nsrc := len(d.src[primary])
	switch {
	case primary == CauseUndetermined:
		out.Confidence = "low"
	case second <= best/2 && (best >= 5 || (best >= 4 && nsrc >= 2)):
		out.Confidence = "high"
	case best >= 3 && second < best:
		out.Confidence = "medium"
	default:
		out.Confidence = "low"
	}
	if primary != CauseUndetermined {
		for _, s := range sourceOrder() {
			if d.src[primary][s] {
				out.Sources = append(out.Sources, s)
			}
		}
	}
	out.Evidence = append(out.Evidence, d.ev[primary]...)
	if symptom != "" {
		out.Evidence = append(out.Evidence, "the service's full pool is a symptom, not the wall: "+symptom)
	}
	for _, k := range causeOrder() {
		if k != primary {
			for _, line := range d.ev[k] {
				out.Evidence = append(out.Evidence, "also ("+k+"): "+line)
			}
		}
	}
	if n := c.cls[clsClientTimeout]; n > 0 {
		out.Evidence = append(out.Evidence, fmt.Sprintf("%d client timeouts (request sent, no answer in time): ambiguous by themselves, a database cap looks exactly like this", n))
	}
	if n := c.cls[clsOther]; n > 0 {
		out.Evidence = append(out.Evidence, fmt.Sprintf("%d transport failures of no known class", n))
	}
	if primary == CauseUndetermined {
		line := "nothing decides between the database, the network and the service"
		if !haveT && !e.haveDB {
			line = "a client timeout alone is not network evidence: without Server-Timing or database samples nothing decides between the database and the network"
		}
		out.Evidence = append(out.Evidence, line)
	}
	out.RuledOut, out.NotChecked = ruledOut(d, primary, e, b, notChecked)
	return out
}

// ruledOut says, with figures, which causes the data excludes, and which
// it could not check.
func ruledOut(d *diag, primary string, e evidence, b *evidence, notChecked []string) (ruled, unchecked []string) {
	c := &e.c
	det := &c.det
	t, haveT := e.timing()
	bt, haveBT := b.baseTiming()
	base := func(v float64) string {
		if !haveBT {
			return ""
		}
		return " against a " + format.MS(msDur(v)) + " baseline"
	}
	quiet := func(k string) bool { return k != primary && d.score[k] == 0 }

	if quiet(CauseNetClient) {
		parts := []string{}
		if e.haveConn {
			parts = append(parts, fmt.Sprintf("connect p99 %s against %s", format.MS(e.connP99), ref{b.connP99, b.haveConn}))
		}
		parts = append(parts, fmt.Sprintf("%d transport errors", c.cls[clsTransport]))
		if e.haveSvc {
			parts = append(parts, fmt.Sprintf("service connect probes %s against %s", format.MS(e.svcConnect), ref{b.svcConnect, b.haveSvc}))
		}
		if e.haveHealth || e.healthErrors > 0 {
			parts = append(parts, fmt.Sprintf("health checks %s against %s, %d failed", format.MS(e.health), ref{b.health, b.haveHealth}, e.healthErrors))
		}
		if haveT {
			parts = append(parts, fmt.Sprintf("client latency beyond server time %s%s", format.MS(msDur(t.gap)), base(bt.gap)))
		}
		if e.haveConn || e.haveSvc || e.haveHealth || haveT {
			ruled = append(ruled, "network.client ruled out: "+strings.Join(parts, ", "))
		} else {
			unchecked = append(unchecked, fmt.Sprintf("network.client: no connect times, probes or Server-Timing to compare (%d transport errors)", c.cls[clsTransport]))
		}
	}
	if quiet(CauseNetDB) {
		parts := []string{}
		if haveT && c.dbN > 0 {
			parts = append(parts, fmt.Sprintf("service db time %s per login%s", format.MS(msDur(t.dbReached)), base(bt.dbReached)))
		}
		if e.haveRTT {
			parts = append(parts, fmt.Sprintf("database probe %s", format.MS(e.rtt)))
		}
		if e.haveDB {
			parts = append(parts, fmt.Sprintf("%s sessions idle in transaction", format.Num(e.idleInTx)))
		}
		if e.haveDBProbe {
			parts = append(parts, fmt.Sprintf("database connect probes %s against %s", format.MS(e.dbConnect), ref{b.dbConnect, b.haveDBProbe}))
		}
		if len(parts) > 0 {
			parts = append(parts, fmt.Sprintf("%d database connection resets", det[dDBReset]+det[dDBEOF]))
			ruled = append(ruled, "network.db ruled out: "+strings.Join(parts, ", "))
		} else {
			unchecked = append(unchecked, "network.db: no Server-Timing, database probe or database connect probes")
		}
	}
	if quiet(CauseDBConnections) {
		parts := []string{"no 53300 or pool timeouts"}
		if haveT {
			parts = append(parts, fmt.Sprintf("pool wait %s per login%s", format.MS(msDur(t.pool)), base(bt.pool)))
		}
		if e.haveDB && e.roleLimit > 0 {
			parts = append(parts, fmt.Sprintf("role backends %s of %s", format.Num(e.roleBackends), format.Num(e.roleLimit)))
		}
		if e.haveDB && e.maxConns > 0 {
			parts = append(parts, fmt.Sprintf("server backends %s of %s", format.Num(e.backends), format.Num(e.maxConns)))
		}
		if e.havePool && e.poolMax > 0 {
			parts = append(parts, fmt.Sprintf("service pool %s of %s in use, %s acquires waited", format.Num(e.poolAcquired), format.Num(e.poolMax), format.Num(e.poolWaits)))
		}
		if haveT || e.haveDB || e.havePool {
			ruled = append(ruled, "db.connections ruled out: "+strings.Join(parts, ", "))
		} else {
			unchecked = append(unchecked, "db.connections: no Server-Timing or database samples (no 53300 or pool timeouts in the responses)")
		}
	}
	if quiet(CauseDBQueries) {
		parts := []string{}
		if e.haveDB {
			parts = append(parts, fmt.Sprintf("%s lock waiters", format.Num(e.lockWaiters)))
		}
		parts = append(parts, "no 57014, 55P03 or 40P01")
		if haveT && c.dbN > 0 {
			parts = append(parts, fmt.Sprintf("db time %s per login%s", format.MS(msDur(t.dbReached)), base(bt.dbReached)))
		}
		if haveT || e.haveDB {
			ruled = append(ruled, "db.queries ruled out: "+strings.Join(parts, ", "))
		} else {
			unchecked = append(unchecked, "db.queries: no Server-Timing or database samples")
		}
	}
	if quiet(CauseApp) {
		if haveT {
			ruled = append(ruled, fmt.Sprintf("app ruled out: app time net of pool and db %s per login%s", format.MS(msDur(t.appNet)), base(bt.appNet)))
		} else {
			unchecked = append(unchecked, "app: no Server-Timing")
		}
	}
	if quiet(CauseGenerator) {
		line := fmt.Sprintf("generator ruled out: send lag p99 %s, no local generator errors", format.MS(e.lagP99))
		if e.genSat {
			line = fmt.Sprintf("generator ruled out: sends were late while every worker waited on the target (%d in flight of %d): the target's doing", e.genInflight, e.genMaxWorkers)
		}
		ruled = append(ruled, line)
	}
	return ruled, append(notChecked, unchecked...)
}

func transportBreakdown(det *[nDetails]int64) string {
	m := map[string]int64{}
	for _, k := range []detail{dRefused, dReset, dEOF, dConnectTimeout, dIOTimeout, dTLS, dDNS} {
		if det[k] > 0 {
			m[detailNames[k]] = det[k]
		}
	}
	return countsText(m)
}

func generatorBreakdown(det *[nDetails]int64) string {
	m := map[string]int64{}
	for _, k := range []detail{dGenFiles, dGenPorts, dGenPool} {
		if det[k] > 0 {
			m[detailNames[k]] = det[k]
		}
	}
	return countsText(m)
}

// countsText prints counts largest first: "reset 120, refused 3".
func countsText(m map[string]int64) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func fnumOrNone(v float64) string {
	if v <= 0 {
		return "no limit"
	}
	return format.Num(v)
}
