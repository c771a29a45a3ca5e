package report

import (
	"fmt"
	"strings"

	"github.com/stampede-load/stampede/report/format"
)

// ruledOut says, with figures, which causes the data excludes (those no
// finding points to), and which it could not check.
func ruledOut(fs findings, primary string, e *evidence, b *baseline) (ruled, unchecked []string) {
	quiet := func(k string) bool {
		s, _ := fs.score(k)
		return k != primary && s == 0
	}
	for _, r := range []struct {
		cause string
		parts func(e *evidence, b *baseline) []string
		none  string
	}{
		{CauseNetClient, netClientFigures, "no connect times, probes or Server-Timing to compare"},
		{CauseNetDB, netDBFigures, "no Server-Timing, database probe or database connect probes"},
		{CauseDBConnections, dbConnFigures, "no Server-Timing or database samples (no 53300 or pool timeouts in the responses)"},
		{CauseDBQueries, dbQueryFigures, "no Server-Timing or database samples"},
		{CauseApp, appFigures, "no Server-Timing, direct probes or CPU samples"},
		{CauseGenerator, generatorFigures, ""},
	} {
		if !quiet(r.cause) {
			continue
		}
		if parts := r.parts(e, b); len(parts) > 0 {
			ruled = append(ruled, r.cause+" ruled out: "+strings.Join(parts, ", "))
		} else {
			unchecked = append(unchecked, r.cause+": "+r.none)
		}
	}
	if _, ok := e.timing(); !ok && e.c.sent > 0 {
		unchecked = append(unchecked, "no Server-Timing on the responses (a black box): pool waits, database time and the service's own time per login could not be measured; the verdict rests on the database's samples, probes and CPU")
	}
	return ruled, unchecked
}

// against prints a figure beside its healthy level.
func against(v float64, l level) string { return fmtMS(v) + baseOf(l) }

// baseOf is " against a N ms baseline", or nothing without a healthy level.
func baseOf(l level) string {
	if !l.have() {
		return ""
	}
	return " against " + l.ms()
}

func netClientFigures(e *evidence, b *baseline) []string {
	var p []string
	seen := false
	if e.haveConn {
		p, seen = append(p, "connect p99 "+against(format.Millis(e.connP99), b.connP99)), true
	}
	if e.nullPath.have && e.nullDirect.have {
		p, seen = append(p, fmt.Sprintf("unused-path requests %s through the path, %s straight to the service", fmtMS(e.nullPath.ms), fmtMS(e.nullDirect.ms))), true
	}
	if e.haveSvc {
		p, seen = append(p, "service connect probes "+against(format.Millis(e.svcConnect), b.svcConnect)), true
	}
	if e.haveHealth || e.healthErrors > 0 {
		p, seen = append(p, fmt.Sprintf("health checks %s, %d failed", against(format.Millis(e.health), b.health), e.healthErrors)), true
	}
	if t, ok := e.timing(); ok {
		p, seen = append(p, "client latency beyond server time "+against(t.gap, b.gap)), true
	}
	if !seen {
		return nil
	}
	te := fmt.Sprintf("%d transport errors", e.c.cls[clsTransport])
	if e.haveConn { // after the connect times, as people read them: the kernel's view first
		return append([]string{p[0], te}, p[1:]...)
	}
	return append([]string{te}, p...)
}

func netDBFigures(e *evidence, b *baseline) []string {
	var p []string
	if t, ok := e.timing(); ok && e.c.dbN > 0 {
		p = append(p, "service db time "+fmtMS(t.dbReached)+" per login"+baseOf(b.dbReached))
	}
	if e.haveRTT {
		p = append(p, "database probe "+format.MS(e.rtt))
	}
	if e.havePath {
		p = append(p, "through the database path "+format.MS(e.pathRTT))
	}
	if e.haveDB {
		p = append(p, format.Num(max(e.idleInTx, e.roleIdleInTx))+" sessions idle in transaction")
	}
	if e.haveDBProbe {
		p = append(p, "database connect probes "+against(format.Millis(e.dbConnect), b.dbConnect))
	}
	if len(p) == 0 {
		return nil
	}
	return append(p, fmt.Sprintf("%d database connection resets", e.c.det[dDBReset]+e.c.det[dDBEOF]))
}

func dbConnFigures(e *evidence, b *baseline) []string {
	t, haveT := e.timing()
	if !haveT && !e.haveDB && !e.havePool {
		return nil
	}
	p := []string{"no 53300 or pool timeouts"}
	if haveT {
		p = append(p, "pool wait "+fmtMS(t.pool)+" per login"+baseOf(b.pool))
	}
	if e.haveDB && e.roleLimit > 0 {
		p = append(p, fmt.Sprintf("role backends %s of %s", format.Num(e.roleBackends), format.Num(e.roleLimit)))
	}
	if e.haveDB && e.maxConns > 0 {
		p = append(p, fmt.Sprintf("server backends %s of %s", format.Num(e.backends), format.Num(e.maxConns)))
	}
	if e.havePool && e.poolMax > 0 {
		p = append(p, fmt.Sprintf("service pool %s of %s in use, %s acquires waited", format.Num(e.poolAcquired), format.Num(e.poolMax), format.Num(e.poolWaits)))
	}
	if e.haveSessions {
		p = append(p, format.Num(e.sessionsKilled)+" sessions killed")
	}
	return p
}

func dbQueryFigures(e *evidence, b *baseline) []string {
	t, haveT := e.timing()
	if !haveT && !e.haveDB {
		return nil
	}
	var p []string
	if e.haveDB {
		p = append(p, format.Num(max(e.lockWaiters, e.roleLockWait))+" lock waiters")
	}
	p = append(p, "no 57014, 55P03 or 40P01")
	if haveT && e.c.dbN > 0 {
		p = append(p, "db time "+fmtMS(t.dbReached)+" per login"+baseOf(b.dbReached))
	}
	return p
}

func appFigures(e *evidence, b *baseline) []string {
	var p []string
	if t, ok := e.timing(); ok {
		p = append(p, "app time net of pool and db "+fmtMS(t.appNet)+" per login"+baseOf(b.appNet))
	}
	if e.nullDirect.have {
		p = append(p, "unused-path requests straight to the service "+against(e.nullDirect.ms, b.nullDirect))
	}
	if e.haveTarget {
		p = append(p, "the service's process "+format.Num(format.Round(e.targetCores, 2))+" cores")
	}
	return p
}

func generatorFigures(e *evidence, _ *baseline) []string {
	if e.genSat {
		return []string{fmt.Sprintf("sends were late while every worker waited on the target (%d in flight of %d): the target's doing", e.genInflight, e.genMaxWorkers)}
	}
	p := []string{"send lag p99 " + format.MS(e.lagP99), "no local generator errors"}
	if e.haveCPU {
		p = append(p, fmt.Sprintf("host CPU %s busy, the generator %s cores", format.Pct(e.hostBusy), format.Num(format.Round(e.genCores, 2))))
	}
	return p
}
