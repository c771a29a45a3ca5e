package report

import (
	"fmt"
)

// ruling is the arbiter's decision for one group of windows.
type ruling struct {
	primary string
	binding *resource // the resource at its wall that the primary cause names; nil without one
	// symptom says why a cap at its limit is not the wall, when it is not;
	// symptomCause lists the causes the arbiter set aside as symptoms.
	symptom      string
	symptomCause map[string]bool
}

// chain is the order in which walls explain each other: a wall further
// down the login's path (inside the database) holds connections longer,
// fills pools and caps, and slows everything upstream of it; so among
// walls, the first in this order is the cause and the rest its symptoms,
// caps excepted (below).
var chain = [...]resource{resDBWork, resDBPath, resService, resClientPath, resGenerator}

// caps are the connection walls: a cap at its limit with work queued
// behind it is the wall unless each login held its connection longer.
var caps = [...]resource{resSessions, resServerCap, resRoleCap, resPool}

// minScore is the least score (one clear finding) a cause needs to be
// named without any resource seen at its wall.
const minScore = wShow

// arbitrate orders the findings' walls by the chain of the login's path.
func arbitrate(fs findings, e *evidence, b *baseline) ruling {
	walls := fs.walls()
	v := ruling{primary: CauseUndetermined, symptomCause: map[string]bool{}}
	set := func(r resource) ruling {
		v.primary, v.binding = r.cause(), &r
		return v
	}
	var capWall *resource
	for _, r := range caps {
		if _, ok := walls[r]; ok {
			capWall = &r
			break
		}
	}
	if capWall != nil {
		// A pool or cap full of sessions waiting on locks, or of logins that
		// each hold their connection far longer, is the holder's doing.
		if hold, why := holdCause(walls, e, b); hold != nil && *capWall != resSessions {
			v.symptom = fmt.Sprintf("%s is a symptom, not the wall: %s", capPhrase(*capWall), why)
			v.symptomCause[CauseDBConnections] = true
			return set(*hold)
		}
		return set(*capWall)
	}
	// No cap: the walls, strongest first; ties go down the chain.
	best, bestScore := -1, 0.0
	for i, r := range chain {
		if _, ok := walls[r]; !ok {
			continue
		}
		if s, _ := fs.score(r.cause()); s > bestScore {
			best, bestScore = i, s
		}
	}
	if best >= 0 {
		return set(chain[best])
	}
	// No wall at all: the strongest suggestion, if it is clear enough.
	for _, k := range causeOrder() {
		if s, _ := fs.score(k); s >= minScore && s > bestScore {
			v.primary, bestScore = k, s
		}
	}
	return v
}

// holdCause is the wall that made each login hold its connection longer,
// when the time held rose: locks or slow work inside the database, the
// path to it, or the service between its statements. why gives the figures.
func holdCause(walls map[resource]float64, e *evidence, b *baseline) (*resource, string) {
	if _, ok := walls[resDBWork]; ok && (e.lockWaiters > 0 || e.roleLockWait > 0 || e.c.det[dSQL55P03]+e.c.det[dSQL40P01]+e.c.det[dSQL57014] > 0) {
		r := resDBWork
		return &r, fmt.Sprintf("its connections were held by sessions waiting on locks (%v waiting)", max(e.lockWaiters, e.roleLockWait))
	}
	rose, figure := holdRose(e, b)
	if !rose {
		return nil, ""
	}
	for _, r := range [...]resource{resDBWork, resDBPath, resService} {
		if _, ok := walls[r]; ok {
			return &r, "each login held its connection " + figure
		}
	}
	return nil, ""
}

// holdRose reports the time each login holds a connection risen against
// the healthy windows: Server-Timing's db time, else Little's law over
// the role's busy backends.
func holdRose(e *evidence, b *baseline) (bool, string) {
	if t, ok := e.timing(); ok && t.dbReached > 0 {
		if b.dbReached.rises(t.dbReached, holdFactor, holdFloorMS, holdNoBaseMS) {
			return true, fmt.Sprintf("%s in the database against %s", fmtMS(t.dbReached), b.dbReached.ms())
		}
		return false, ""
	}
	if h, ok := e.holdMS(); ok && b.hold.rises(h, holdFactor, holdFloorMS, holdNoBaseMS) {
		return true, fmt.Sprintf("%s (busy backends over logins per second) against %s", fmtMS(h), b.hold.ms())
	}
	return false, ""
}

// capPhrase names a cap at its limit.
func capPhrase(r resource) string {
	switch r {
	case resPool:
		return "the service's full pool"
	case resRoleCap:
		return "the role's connection limit reached"
	case resServerCap:
		return "max_connections reached"
	}
	return r.String()
}
