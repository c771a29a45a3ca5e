// Package scenarios is the scenario format: the key table (fields.go) from
// which the strict YAML loader (file:line errors), the validation, the JSON
// Schema and docs/scenarios.md all come, the embedded examples, and the
// Scenario types. Running a scenario is package engine's job; what a run
// records is package rundir's contract.
package scenarios

import (
	"fmt"
	"strconv"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// Scenario is one scenario file, loaded and validated. Zero values that the
// file left out are filled with defaults by Load.
type Scenario struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Target is the base URL of the login service; empty means the bundled fixture.
	Target      string `yaml:"target"`
	AllowRemote bool   `yaml:"allow_remote"`
	// MaxRate is the safety cap on any stage's rate (default 5,000/s).
	MaxRate float64 `yaml:"max_rate"`
	// Seed drives credential choice and the wrong-credential mix; 0 = random (recorded).
	Seed int64 `yaml:"seed"`
	// Mode is "stages" (default: run the stages as planned) or "search"
	// (find the limit: see Search).
	Mode string `yaml:"mode"`

	Login       Login       `yaml:"login"`
	Credentials Credentials `yaml:"credentials"`
	Stages      []Stage     `yaml:"stages"`
	Client      Client      `yaml:"client"`
	SLO         SLO         `yaml:"slo"`
	Faults      []Fault     `yaml:"faults"`
	Gates       Gates       `yaml:"gates"`
	Output      Output      `yaml:"output"`
	// Abort stops the surge once the SLO has failed for a while; nil: never.
	Abort *Abort `yaml:"abort"`
	// Search tunes mode: search.
	Search Search `yaml:"search"`
	// Fixture tunes the bundled login service when Target is empty.
	Fixture Fixture `yaml:"fixture"`
	// Evidence names what a user's own service offers beyond its responses.
	Evidence EvidenceSources `yaml:"evidence"`
	// Network declares the proxies network faults act on, for a user's own stack.
	Network Network `yaml:"network"`

	// Path is where the scenario was loaded from ("embedded:NAME" for examples).
	Path string `yaml:"-"`
	// Raw is the file's bytes, copied into the run directory.
	Raw []byte `yaml:"-"`
}

// Login describes one login request and what counts as success.
type Login struct {
	Method  string            `yaml:"method"`  // default POST
	Path    string            `yaml:"path"`    // default /login
	Headers map[string]string `yaml:"headers"` // extra request headers
	// Encoding of the body: "json" (default) or "form".
	Encoding string `yaml:"encoding"`
	// UsernameField and PasswordField name the body fields (default username, password).
	UsernameField string            `yaml:"username_field"`
	PasswordField string            `yaml:"password_field"`
	Extra         map[string]string `yaml:"extra"` // extra body fields
	// BasicAuth names the environment variables of HTTP Basic credentials
	// sent with every login (an OAuth2 client); nil: none.
	BasicAuth *BasicAuth `yaml:"basic_auth"`
	Success   Success    `yaml:"success"`
	// Rejected is what a refused login looks like (default status 401, 403).
	Rejected  Rejected   `yaml:"rejected"`
	Preflight *Preflight `yaml:"preflight"`
	FollowUp  *FollowUp  `yaml:"follow_up"`
}

// Success decides whether a login succeeded.
type Success struct {
	Status    []int  `yaml:"status"`     // default [200]
	JSONField string `yaml:"json_field"` // a JSON field that must be present (dotted: a path)
	Cookie    string `yaml:"cookie"`     // a cookie that must be set
}

// Rejected decides whether a login sent with a wrong password or an
// unknown user was refused as expected: every rule given must hold.
type Rejected struct {
	Status       []int  `yaml:"status"`        // default [401, 403]
	JSONField    string `yaml:"json_field"`    // a JSON field that must be present (dotted: a path)
	BodyContains string `yaml:"body_contains"` // text the body must contain
}

// BasicAuth names the environment variables holding HTTP Basic credentials;
// the values are read when a run starts and never recorded.
type BasicAuth struct {
	UsernameEnv string `yaml:"username_env"`
	PasswordEnv string `yaml:"password_env"`
}

// Credentials reads the variables with getenv; an unset or empty one is an
// error that names it.
func (b *BasicAuth) Credentials(getenv func(string) string) (user, password string, err error) {
	user, password = getenv(b.UsernameEnv), getenv(b.PasswordEnv)
	for _, v := range []struct{ name, val string }{{b.UsernameEnv, user}, {b.PasswordEnv, password}} {
		if v.val == "" {
			return "", "", fmt.Errorf("login.basic_auth: environment variable %s is not set", v.name)
		}
	}
	return user, password, nil
}

// Preflight fetches a page before each login and extracts a CSRF token.
type Preflight struct {
	Method string `yaml:"method"` // default GET
	Path   string `yaml:"path"`
	// From is where the token is: "cookie", "header" or "body".
	From string `yaml:"from"`
	// Name is the cookie or header name; for "body", Regex's first group is the token.
	Name  string `yaml:"name"`
	Regex string `yaml:"regex"`
	// SendAs is how the token goes back: "header" (default) or "field".
	SendAs   string `yaml:"send_as"`
	SendName string `yaml:"send_name"`
}

// FollowUp checks the session after a sampled share of successful logins.
type FollowUp struct {
	Method string  `yaml:"method"` // default GET
	Path   string  `yaml:"path"`   // e.g. /me
	Share  float64 `yaml:"share"`  // 0..1, default 0.1
	Status []int   `yaml:"status"` // default [200]
}

// Credentials says where usernames and passwords come from.
type Credentials struct {
	// File is a CSV of username,password (a header row is allowed); relative
	// to the scenario file. Empty with the bundled fixture: its seeded users.
	// Load checks that it exists and resolves it against the scenario
	// file's directory, so File is ready to open.
	File string `yaml:"file"`
	// Order is "rotate" (default) or "random".
	Order string `yaml:"order"`
	// WrongPassword and UnknownUser are shares (0..1) of logins sent with a
	// wrong password or a user that does not exist; their 401s are expected.
	WrongPassword float64 `yaml:"wrong_password"`
	UnknownUser   float64 `yaml:"unknown_user"`
}

// StageKind names a stage's shape.
type StageKind string

const (
	StageConstant StageKind = "constant"
	StageRamp     StageKind = "ramp"
	StageSteps    StageKind = "steps"
	StageSpike    StageKind = "spike"
)

// Stage is one part of the traffic plan. In YAML each stage is a map with
// exactly one key, its kind:
//
//   - constant: {rate: 50, for: 10s}
//   - ramp:     {from: 50, to: 400, for: 60s}
//   - steps:    {from: 50, to: 300, step: 50, hold: 10s}
//   - spike:    {base: 50, peak: 400, at: 10s, spike_for: 5s, for: 30s}
type Stage struct {
	Name string    `yaml:"name"` // optional; defaults to "<kind> <n>"
	Kind StageKind `yaml:"-"`
	// Rates in requests per second.
	Rate float64 `yaml:"rate"` // constant
	From float64 `yaml:"from"` // ramp, steps
	To   float64 `yaml:"to"`   // ramp, steps
	Step float64 `yaml:"step"` // steps
	Base float64 `yaml:"base"` // spike
	Peak float64 `yaml:"peak"` // spike
	// Duration is the stage's length ("for"); for steps it is derived from
	// the number of steps times Hold.
	Duration time.Duration `yaml:"for"`
	Hold     time.Duration `yaml:"hold"`      // steps: time at each step
	At       time.Duration `yaml:"at"`        // spike: start of the peak within the stage
	SpikeFor time.Duration `yaml:"spike_for"` // spike: length of the peak

	// Line is the stage's line in the scenario file, for messages.
	Line int `yaml:"-"`
}

// Spec is the stage as the plan's math takes it.
func (st Stage) Spec() rundir.StageSpec {
	return rundir.StageSpec{Name: st.Name, Kind: string(st.Kind), Rate: st.Rate, From: st.From, To: st.To,
		Step: st.Step, Base: st.Base, Peak: st.Peak, Duration: st.Duration, Hold: st.Hold, At: st.At, SpikeFor: st.SpikeFor}
}

// String describes one stage, e.g. "ramp 50→400/s 60s".
func (st Stage) String() string {
	r := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	switch st.Kind {
	case StageConstant:
		return fmt.Sprintf("constant %s/s %s", r(st.Rate), st.Duration)
	case StageRamp:
		return fmt.Sprintf("ramp %s→%s/s %s", r(st.From), r(st.To), st.Duration)
	case StageSteps:
		return fmt.Sprintf("steps %s→%s/s +%s every %s (%s)", r(st.From), r(st.To), r(st.Step), st.Hold, st.Duration)
	case StageSpike:
		return fmt.Sprintf("spike %s/s peak %s/s at %s for %s (%s)", r(st.Base), r(st.Peak), st.At, st.SpikeFor, st.Duration)
	}
	return fmt.Sprintf("%s? %s", st.Kind, st.Duration)
}

// StageSpecs are the stages as the plan's math takes them.
func StageSpecs(stages []Stage) []rundir.StageSpec {
	out := make([]rundir.StageSpec, len(stages))
	for i, st := range stages {
		out[i] = st.Spec()
	}
	return out
}

// Client configures the load generator's HTTP client.
type Client struct {
	Timeout        time.Duration `yaml:"timeout"`         // per request, default 5s
	KeepAlive      *bool         `yaml:"keepalive"`       // default true
	MaxConnections int           `yaml:"max_connections"` // per host, default 512
	MaxWorkers     uint64        `yaml:"max_workers"`     // default 1024
}

// SLO is what a window must meet to count as healthy.
type SLO struct {
	SuccessRatio float64 `yaml:"success_ratio"` // default 0.99
	// Percentile (e.g. 99) whose latency must stay under Latency.
	Percentile float64       `yaml:"percentile"` // default 99
	Latency    time.Duration `yaml:"latency"`    // default 500ms
}

// Contract is the SLO as the engine and the report hold it.
func (s SLO) Contract() rundir.SLO { return rundir.SLO(s) }

// Mode values.
const (
	ModeStages = "stages"
	ModeSearch = "search"
)

// Abort stops a run whose SLO failed in at least Ratio of the whole seconds
// of the last After (by planned send time), to protect a shared
// environment. The run stops sending like the first Ctrl-C.
type Abort struct {
	After time.Duration `yaml:"after"` // the sliding window, whole seconds (>= 1s)
	Ratio float64       `yaml:"ratio"` // share of its seconds that must fail; default 1 (every one)
}

// Search is the adaptive search for the sustainable rate (mode: search,
// stampede find-limit): trials at a rising rate (x Factor) until the SLO
// fails, then bisection until (hi-lo)/lo <= Precision or Budget ends.
type Search struct {
	From        float64       `yaml:"from"`         // first trial's rate; 0: the first stage's starting rate
	Factor      float64       `yaml:"factor"`       // growth between trials until one fails; default 1.5
	Precision   float64       `yaml:"precision"`    // target (hi-lo)/lo; default 0.05
	Budget      time.Duration `yaml:"budget"`       // the whole search; default 3m
	MaxRate     float64       `yaml:"max_rate"`     // highest rate tried; 0: the scenario's max_rate
	Warmup      time.Duration `yaml:"warmup"`       // each trial's unjudged start; default 2s
	Hold        time.Duration `yaml:"hold"`         // each trial's judged part, at least; default 3s
	MinRequests int           `yaml:"min_requests"` // ...and long enough for this many requests; default 200
}

// Fault is one scheduled fault. Its parameters are kept raw here and
// interpreted by the chaos package's registry.
type Fault struct {
	Kind     string         `yaml:"kind"` // e.g. db.conn_limit, net.latency
	Start    time.Duration  `yaml:"start"`
	Duration time.Duration  `yaml:"for"`
	Params   map[string]any `yaml:"-"` // every other key
	Line     int            `yaml:"-"`
	Col      int            `yaml:"-"` // column of the fault's map, with Line
}

// Gates are CI pass/fail rules, evaluated on the report.
type Gates struct {
	MinSustainableRPS float64       `yaml:"min_sustainable_rps"`
	MaxP99            time.Duration `yaml:"max_p99"`
	MaxP99AtRPS       float64       `yaml:"max_p99_at_rps"`
	MaxErrorRatio     *float64      `yaml:"max_error_ratio"`
	MaxRegressionPct  float64       `yaml:"max_regression_pct"`
	ExpectCause       string        `yaml:"expect_cause"`
}

// Output options.
type Output struct {
	Dir string `yaml:"dir"` // default runs/<time>-<name>
}

// EvidenceSources tells stampede where a user's own service exposes evidence. The
// database itself is reached with --dsn or STAMPEDE_DSN (secrets stay out of
// scenario files).
type EvidenceSources struct {
	// Role is the service's database role, whose backends and limit are watched.
	Role string `yaml:"role"`
	// HealthPath is fetched with each service probe (e.g. /healthz).
	HealthPath string `yaml:"health_path"`
	// PoolPath serves the service's pool statistics as JSON (e.g. /debug/pool).
	PoolPath string `yaml:"pool_path"`
	// NullPath is a path the service does not use, for the null probe (the
	// cheapest request it answers without its database); "off" turns the
	// probe off. The loader fills in DefaultNullPath.
	NullPath string `yaml:"null_path"`
}

// DefaultNullPath is evidence.null_path's default.
const DefaultNullPath = "/stampede-null-probe"

// Network says where network faults act for a user's own stack. With the
// bundled fixture stampede puts both proxies in place itself.
type Network struct {
	// Toxiproxy names an external Toxiproxy server (its API URL) that holds
	// proxies named "client" and "db"; empty runs Toxiproxy in-process.
	Toxiproxy string `yaml:"toxiproxy"`
	// Client is the load generator → service path: the load is sent to its
	// listen address, which forwards to upstream (the service).
	Client *ProxySpec `yaml:"client"`
	// DB is the service → PostgreSQL path: point the service's database
	// address at its listen address.
	DB *ProxySpec `yaml:"db"`
}

// ProxySpec is one in-process proxy: where it listens and where it forwards.
type ProxySpec struct {
	Listen   string `yaml:"listen"`
	Upstream string `yaml:"upstream"`
}

// Proxies lists the declared in-process proxies by path name.
func (n Network) Proxies() map[string]ProxySpec {
	m := map[string]ProxySpec{}
	if n.Client != nil {
		m["client"] = *n.Client
	}
	if n.DB != nil {
		m["db"] = *n.DB
	}
	return m
}

// Fixture tunes the bundled login service (ignored with a Target).
type Fixture struct {
	DBPool         int           `yaml:"db_pool"`
	DBHold         time.Duration `yaml:"db_hold"`
	MaxConnections int           `yaml:"max_connections"`
	Users          int           `yaml:"users"`
	// HideServerTiming leaves the Server-Timing header out: a black box.
	HideServerTiming bool `yaml:"hide_server_timing"`
	// The service's shape (see fixtures.Shape): no pool, a hot row, a
	// costly hash, bare 500s, no pool endpoint, a single-threaded loop.
	ConnPerLogin   bool `yaml:"conn_per_login"`
	HotRow         bool `yaml:"hot_row"`
	HashCost       int  `yaml:"hash_cost"`
	OpaqueErrors   bool `yaml:"opaque_errors"`
	NoPoolEndpoint bool `yaml:"no_pool_endpoint"`
	EventLoop      bool `yaml:"event_loop"`
}
