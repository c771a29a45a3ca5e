package report

import (
	"fmt"

	"sort"
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
	// Resource is the binding constraint: the link of the login's chain
	// that is the wall ("the role's connection limit"); empty without one.
	Resource string
	// SaturatedAt and SaturatedRPS say when, and at what offered rate, the
	// binding resource first saturated (as load rose) and stayed so; for
	// the run's cause only.
	SaturatedAt  *time.Duration
	SaturatedRPS *float64
	// Chain lists what followed downstream of the binding constraint: the
	// symptoms, each with its figures.
	Chain []string
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

	walls map[resource]float64 // the resources seen at their wall, for the run's attribution
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
	srcProbes    = "probes"           // TCP connects and cheap requests to the service and the database
	srcHealth    = "health checks"    // GET of the service's health path
	srcConnect   = "client connects"  // the load's own new connections
	srcCPU       = "CPU"              // /proc: host, generator, service, database
	srcGenerator = "generator"        // the load generator's reports on itself
)

func sourceOrder() []string {
	return []string{srcResponses, srcTiming, srcDB, srcPool, srcProbes, srcHealth, srcConnect, srcCPU, srcGenerator}
}

// rules turn the evidence into findings, one file per cause.
var rules = [...]func(e *evidence, b *baseline, fs *findings){
	ruleDBConnections, ruleDBQueries, ruleNetDB, ruleNetClient, ruleApp, ruleGenerator,
}

// diagnose names the cause of degraded windows (merged in e) against the
// healthy baseline b (nil without one). It reads evidence only: never the
// fault schedule.
func diagnose(e evidence, b *baseline) Cause {
	fs := findingsOf(&e, b)
	return explain(fs, arbitrate(fs, &e, orEmpty(b)), &e, b)
}

// diagnoseAs diagnoses with the binding constraint already known (the
// run's, from which resource saturated first): its cause is the primary,
// the rest of the findings are explained beside it.
func diagnoseAs(e evidence, b *baseline, bind resource) Cause {
	fs := findingsOf(&e, b)
	v := ruling{primary: bind.cause(), binding: &bind, symptomCause: map[string]bool{}}
	if arb := arbitrate(fs, &e, orEmpty(b)); arb.primary == v.primary {
		v = arb
	}
	return explain(fs, v, &e, b)
}

// findingsOf runs every rule over the evidence.
func findingsOf(e *evidence, b *baseline) findings {
	var fs findings
	for _, rule := range rules {
		rule(e, orEmpty(b), &fs)
	}
	return fs
}

func orEmpty(b *baseline) *baseline {
	if b == nil {
		return &baseline{}
	}
	return b
}

// explain turns a ruling into the diagnosis people read.
func explain(fs findings, v ruling, e *evidence, b *baseline) Cause {
	b = orEmpty(b)
	out := Cause{Primary: v.primary, Windows: e.windows, walls: fs.walls()}
	if v.binding != nil {
		out.Resource = v.binding.String()
	}
	out.Confidence, out.Sources = confidence(fs, v)
	out.Evidence = evidenceLines(fs, v, e)
	out.RuledOut, out.NotChecked = ruledOut(fs, v.primary, e, b)
	return out
}

// confidence is high when independent sources agree and nothing else
// comes close, low when the ruling rests on one weak source.
func confidence(fs findings, v ruling) (string, []string) {
	if v.primary == CauseUndetermined {
		return "low", nil
	}
	best, srcs := fs.score(v.primary)
	second := 0.0
	for _, k := range causeOrder() {
		if k != v.primary && !v.symptomCause[k] {
			s, _ := fs.score(k)
			second = max(second, s)
		}
	}
	switch {
	case second <= best/2 && (best >= 5 || (best >= 4 && len(srcs) >= 2)):
		return "high", srcs
	case best >= 3 && second < best:
		return "medium", srcs
	}
	return "low", srcs
}

// evidenceLines lists the primary cause's findings, strongest first, then
// why a cap is only a symptom and the failures no cause claims, then the
// other causes' findings.
func evidenceLines(fs findings, v ruling, e *evidence) []string {
	own, other := findings{}, findings{}
	for _, f := range fs {
		if f.res.cause() == v.primary {
			own = append(own, f)
		} else {
			other = append(other, f)
		}
	}
	sort.SliceStable(own, func(i, j int) bool { return own[i].weight > own[j].weight })
	var lines []string
	for _, f := range own {
		lines = append(lines, f.text)
	}
	if v.symptom != "" {
		lines = append(lines, v.symptom)
	}
	// The failures no cause claims belong with the primary's lines, before
	// the other causes' findings: they qualify the verdict, whichever it is.
	c := &e.c
	if n := c.cls[clsClientTimeout]; n > 0 {
		lines = append(lines, fmt.Sprintf("%d client timeouts (request sent, no answer in time): ambiguous by themselves, a database cap looks exactly like this", n))
	}
	if n := c.cls[clsOther]; n > 0 {
		lines = append(lines, fmt.Sprintf("%d transport failures of no known class", n))
	}
	for _, k := range causeOrder() {
		for _, f := range other {
			if f.res.cause() == k {
				lines = append(lines, "also ("+k+"): "+f.text)
			}
		}
	}
	if v.primary == CauseUndetermined {
		line := "nothing decides between the database, the network and the service"
		if _, haveT := e.timing(); !haveT && !e.haveDB {
			line = "a client timeout alone is not network evidence: without Server-Timing or database samples nothing decides between the database and the network"
		}
		lines = append(lines, line)
	}
	return lines
}

// Binding says which resource was the wall, and when and at what offered
// rate it saturated: "the role's connection limit, saturated from 35s at
// 150/s offered". Empty without a binding resource.
func (c Cause) Binding() string {
	if c.Resource == "" {
		return ""
	}
	s := c.Resource
	if c.SaturatedAt != nil && c.SaturatedRPS != nil {
		s += fmt.Sprintf(", saturated from %s at %s/s offered", format.Sec(*c.SaturatedAt), format.Num(format.Round(*c.SaturatedRPS, 1)))
	}
	return s
}
