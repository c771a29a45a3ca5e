// Package metrics serves a run's live figures in the Prometheus format, on
// a registry of its own: the requests by stage and outcome, their error
// classes, latency from the actual and from the intended send, the offered
// and achieved rates, the requests in flight, the faults in force and the
// database's samples. It is an engine.Observer.
package metrics

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stampede-load/stampede/scenarios/engine"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// latencyBuckets span loopback (100µs) to a client timeout (a minute), in seconds.
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// outcomes are the requests' outcomes, in the order of Metrics.stages' arrays.
var outcomes = [...]rundir.Outcome{rundir.OutcomeOK, rundir.OutcomeExpectedReject, rundir.OutcomeFailed}

// Metrics is one run's collectors. Result runs on the run's hot path: its
// label children are resolved once (per stage, per error class), so a
// result costs a few atomic adds.
type Metrics struct {
	Registry *prometheus.Registry

	requests            *prometheus.CounterVec
	errors              *prometheus.CounterVec
	duration, intended  prometheus.Histogram
	offered, achieved   prometheus.Gauge
	inflight, stage     prometheus.Gauge
	faultActive         *prometheus.GaugeVec
	dbBackends, dbLimit *prometheus.GaugeVec
	role                string

	// Read and written by Result alone (one goroutine).
	stages    [][len(outcomes)]prometheus.Counter
	classes   map[string]prometheus.Counter
	httpClass [600]prometheus.Counter

	mu      sync.Mutex          // the event side
	faults  map[int]faultLabels // in force, by the schedule's index
	inForce map[faultLabels]int // how many of each are in force
	// dbSeen are the {role,state} children set by the last sample, to zero
	// the states that left it.
	dbSeen map[[2]string]bool
}

type faultLabels struct{ kind, path string }

// New makes the collectors for one run of scenario, recorded as runID
// (its run directory's name); role is the service's database role, whose
// backends the samples count.
func New(scenario, runID, role string) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(), role: role,
		classes: map[string]prometheus.Counter{}, faults: map[int]faultLabels{}, inForce: map[faultLabels]int{}, dbSeen: map[[2]string]bool{}}
	f := factory{m.Registry}
	m.requests = f.counterVec("stampede_requests_total", "Requests answered or failed, by stage index and outcome (ok, expected_reject, failed).", "stage", "outcome")
	m.errors = f.counterVec("stampede_request_errors_total", "Failed requests by error class: a transport class (refused, client_timeout, ...) or http_<status>.", "class")
	m.duration = f.histogram("stampede_request_duration_seconds", "Request latency measured from the actual send.")
	m.intended = f.histogram("stampede_request_duration_from_intended_seconds", "Request latency measured from the intended send time (latency + send lag): corrected for coordinated omission.")
	m.offered = f.gauge("stampede_offered_rate_per_second", "The plan's offered rate now.")
	m.achieved = f.gauge("stampede_achieved_rate_per_second", "Results over the last whole second.")
	m.inflight = f.gauge("stampede_requests_in_flight", "Requests sent and not yet answered.")
	m.stage = f.gauge("stampede_stage_index", "Index of the stage in force (0-based).")
	m.faultActive = f.gaugeVec("stampede_fault_active", "1 while a fault of this kind on this network path (empty: not a network fault) is in force, 0 after.", "kind", "path")
	m.dbBackends = f.gaugeVec("stampede_db_backends", "Client backends by state in the last database sample: the service's role (state \"other\": not active, when the sampler does not tell the states apart), and all roles (role=\"*\").", "role", "state")
	m.dbLimit = f.gaugeVec("stampede_db_connection_limit", "The connection cap in force in the last database sample: the role's (-1: none) or the server's max_connections.", "scope")
	info := f.gaugeVec("stampede_run_info", "The run: its scenario and id (the run directory's name); always 1.", "scenario", "run_id")
	info.WithLabelValues(scenario, runID).Set(1)
	return m
}

// Result counts one result. It is called from one goroutine.
func (m *Metrics) Result(o engine.Observation) {
	for o.Stage >= len(m.stages) {
		i := strconv.Itoa(len(m.stages))
		var cs [len(outcomes)]prometheus.Counter
		for j, oc := range outcomes {
			cs[j] = m.requests.WithLabelValues(i, string(oc))
		}
		m.stages = append(m.stages, cs)
	}
	cs := &m.stages[o.Stage]
	switch o.Outcome {
	case rundir.OutcomeOK:
		cs[0].Inc()
	case rundir.OutcomeExpectedReject:
		cs[1].Inc()
	default:
		cs[2].Inc()
		m.errorClass(o).Inc()
	}
	m.duration.Observe(o.Latency.Seconds())
	m.intended.Observe((o.Latency + o.SendLag).Seconds())
}

// errorClass is a failed result's counter: its transport class, else its
// HTTP status's, as the run's stage summaries name them.
func (m *Metrics) errorClass(o engine.Observation) prometheus.Counter {
	if o.ErrorClass == "" && o.Code > 0 && int(o.Code) < len(m.httpClass) {
		c := m.httpClass[o.Code]
		if c == nil {
			c = m.errors.WithLabelValues("http_" + strconv.Itoa(int(o.Code)))
			m.httpClass[o.Code] = c
		}
		return c
	}
	class := o.ErrorClass
	if class == "" {
		class = rundir.ErrOther
	}
	c, ok := m.classes[class]
	if !ok {
		c = m.errors.WithLabelValues(class)
		m.classes[class] = c
	}
	return c
}

// Live sets the gauges of the live figures.
func (m *Metrics) Live(l engine.Live) {
	m.offered.Set(l.OfferedRPS)
	m.achieved.Set(l.AchievedRPS)
	m.inflight.Set(float64(l.InFlight))
	m.stage.Set(float64(l.Stage))
}

// Event follows the faults and the database samples in the timeline.
func (m *Metrics) Event(ev rundir.Event, _ time.Time) {
	switch e := ev.(type) {
	case rundir.StageEvent:
		m.stage.Set(float64(e.Index))
	case rundir.FaultEvent:
		m.fault(e)
	case rundir.DBSample:
		m.dbSample(e)
	}
}

func (m *Metrics) fault(e rundir.FaultEvent) {
	if e.Index == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch e.Type {
	case rundir.EventFaultInject:
		if e.OK != nil && !*e.OK {
			return // not in force: its revert follows
		}
		path, _ := e.Params["path"].(string)
		l := faultLabels{e.Kind, path}
		m.faults[*e.Index] = l
		m.inForce[l]++
		m.faultActive.WithLabelValues(l.kind, l.path).Set(1)
	case rundir.EventFaultRevert:
		l, ok := m.faults[*e.Index]
		if !ok {
			return
		}
		delete(m.faults, *e.Index)
		if m.inForce[l]--; m.inForce[l] == 0 {
			m.faultActive.WithLabelValues(l.kind, l.path).Set(0)
		}
	}
}

func (m *Metrics) dbSample(s rundir.DBSample) {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[[2]string]bool{}
	set := func(role string, by map[string]float64) {
		for state, n := range by {
			k := [2]string{role, state}
			seen[k] = true
			m.dbBackends.WithLabelValues(role, state).Set(n)
		}
	}
	switch {
	case s.RoleByState != nil:
		set(m.role, s.RoleByState)
	case s.RoleBackends != nil && s.RoleActive != nil: // a sampler without the role's states
		set(m.role, map[string]float64{"active": *s.RoleActive, "other": *s.RoleBackends - *s.RoleActive})
	}
	if s.ByState != nil {
		set("*", s.ByState)
	}
	for k := range m.dbSeen { // a state no backend is in any more
		if !seen[k] {
			m.dbBackends.WithLabelValues(k[0], k[1]).Set(0)
		}
	}
	m.dbSeen = seen
	if s.RoleLimit != nil {
		m.dbLimit.WithLabelValues("role").Set(*s.RoleLimit)
	}
	if s.MaxConnections != nil {
		m.dbLimit.WithLabelValues("server").Set(*s.MaxConnections)
	}
}

// factory registers collectors on one registry.
type factory struct{ reg *prometheus.Registry }

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) histogram(name, help string) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: latencyBuckets})
	f.reg.MustRegister(h)
	return h
}
