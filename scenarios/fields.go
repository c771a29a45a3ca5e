package scenarios

// This file is the single source of truth for the scenario file's keys: the
// loader accepts exactly these keys, checks their types and bounds, and fills
// their defaults; JSONSchema renders the same table. A test checks that the
// table and the Go types' yaml tags agree.

// valueKind is the type of a key's value in the file.
type valueKind int

const (
	kString     valueKind = iota // any scalar, kept as text
	kEnum                        // one of field.enum
	kURL                         // an http or https URL with a host
	kInt                         // an integer
	kUint                        // a non-negative integer
	kFloat                       // a number
	kBool                        // true or false
	kDuration                    // a Go duration string such as "10s"
	kStatusList                  // a list of HTTP status codes
	kStringMap                   // a map of text to text
	kObject                      // a map with the keys of field.obj
	kStages                      // the list of stages (see stageSpecs)
	kFaults                      // the list of faults (see faultSpec)
)

// bound is one end of a number's (or a duration's, in seconds) allowed range.
type bound struct {
	v    float64
	set  bool
	excl bool // the bound itself is not allowed
}

func above(v float64) bound   { return bound{v: v, set: true, excl: true} }
func atLeast(v float64) bound { return bound{v: v, set: true} }
func below(v float64) bound   { return bound{v: v, set: true, excl: true} }
func atMost(v float64) bound  { return bound{v: v, set: true} }

// field describes one key.
type field struct {
	key  string
	kind valueKind
	desc string
	// def is a YAML literal decoded into the field when the key is absent
	// from a map that is present (or, for plain objects, always present).
	def      string
	enum     []string
	pattern  string // a regular expression a kString must match
	min, max bound
	required bool
	obj      *object // for kObject
	// example is what to write instead, for messages ("10s", "50").
	example string
}

// object is a map with a fixed set of keys.
type object struct {
	desc   string
	fields []field
}

func (o *object) lookup(key string) *field {
	for i := range o.fields {
		if o.fields[i].key == key {
			return &o.fields[i]
		}
	}
	return nil
}

func (o *object) keys() []string {
	ks := make([]string, len(o.fields))
	for i, f := range o.fields {
		ks[i] = f.key
	}
	return ks
}

// maxRateCeiling is the highest max_rate a file may set: the pacer's
// arithmetic is exact well beyond it, but no single process offers more.
const maxRateCeiling = 1e6

// stageSpec is one stage kind and its keys.
type stageSpec struct {
	kind StageKind
	desc string
	obj  *object
}

func stageNameField() field {
	return field{key: "name", kind: kString, desc: `Optional label for the stage in reports; defaults to "<kind> <n>".`}
}

func rateField(key, desc string) field {
	return field{key: key, kind: kFloat, required: true, min: above(0), example: "50",
		desc: desc + ", in requests per second (> 0, at most max_rate)."}
}

func durationField(key, desc string, required bool, min bound, example string) field {
	return field{key: key, kind: kDuration, required: required, min: min, example: example, desc: desc}
}

// stageSpecs lists the stage kinds in the order the docs show them.
func stageSpecs() []stageSpec {
	return []stageSpec{
		{StageConstant, "A constant rate for a while.", &object{fields: []field{
			stageNameField(),
			rateField("rate", "Rate"),
			durationField("for", "Length of the stage (> 0).", true, above(0), "10s"),
		}}},
		{StageRamp, "A linear ramp from one rate to another.", &object{fields: []field{
			stageNameField(),
			rateField("from", "Rate at the start of the ramp"),
			rateField("to", "Rate at the end of the ramp"),
			durationField("for", "Length of the ramp (> 0).", true, above(0), "60s"),
		}}},
		{StageSteps, "Stair steps from one rate up to another: from, from+step, ... to, each held for hold; the stage lasts (number of steps) x hold.", &object{fields: []field{
			stageNameField(),
			rateField("from", "Rate of the first step"),
			rateField("to", "Rate of the last step (>= from; to - from a multiple of step)"),
			rateField("step", "Increase from one step to the next"),
			durationField("hold", "Time spent at each step (> 0).", true, above(0), "10s"),
		}}},
		{StageSpike, "A base rate with a peak: base, then peak during [at, at+spike_for), then base again until for.", &object{fields: []field{
			stageNameField(),
			rateField("base", "Rate outside the peak"),
			rateField("peak", "Rate during the peak"),
			durationField("at", "Start of the peak, from the start of the stage (>= 0).", false, atLeast(0), "10s"),
			durationField("spike_for", "Length of the peak (> 0).", true, above(0), "5s"),
			durationField("for", "Length of the whole stage (> 0, >= at + spike_for).", true, above(0), "30s"),
		}}},
	}
}

func stageSpecFor(kind string) *stageSpec {
	for _, s := range stageSpecs() {
		if string(s.kind) == kind {
			return &s
		}
	}
	return nil
}

func stageKindNames() []string {
	var ks []string
	for _, s := range stageSpecs() {
		ks = append(ks, string(s.kind))
	}
	return ks
}

// faultSpec lists a fault's fixed keys; every other key is a parameter
// that the chaos package interprets.
func faultSpec() *object {
	return &object{desc: "One scheduled fault. kind, start and for are required; every other key is a parameter of the fault kind, passed through to the chaos package.", fields: []field{
		{key: "kind", kind: kString, required: true, example: "db.conn_limit", desc: "Fault kind, e.g. db.conn_limit or net.latency (the chaos package lists them)."},
		durationField("start", "When the fault starts, from the start of the run (>= 0).", true, atLeast(0), "20s"),
		durationField("for", "How long the fault lasts (> 0).", true, above(0), "10s"),
	}}
}

func httpMethods() []string { return []string{"GET", "POST", "PUT", "PATCH", "DELETE"} }

func statusField(desc string) field {
	return field{key: "status", kind: kStatusList, def: "[200]", example: "[200]", desc: desc}
}

func pathField(desc string, required bool, def string) field {
	return field{key: "path", kind: kString, pattern: "^/", required: required, def: def, example: "/login", desc: desc}
}

func shareField(key, desc, def string) field {
	return field{key: key, kind: kFloat, min: atLeast(0), max: atMost(1), def: def, example: "0.05", desc: desc + " (0..1)."}
}

// causes are the report's cause names (DESIGN.md, cause taxonomy), for expect_cause.
func causes() []string {
	return []string{"db.connections", "db.queries", "network.client", "network.db", "app", "generator", "none", "undetermined"}
}

// scenarioSpec returns the whole key table; it is built per call so that
// nothing global can be changed by accident.
func scenarioSpec() *object {
	return &object{desc: "A stampede scenario: a traffic plan (stages) against a login flow, optional scheduled faults, the SLO and CI gates.", fields: []field{
		{key: "name", kind: kString, desc: "Name of the scenario; defaults to the file's base name without extension."},
		{key: "description", kind: kString, desc: "Free text shown in reports."},
		{key: "target", kind: kURL, example: "http://localhost:8080", desc: "Base URL of the login service (http or https); leave it out to run against the bundled fixture."},
		{key: "allow_remote", kind: kBool, desc: "Allow sending load to a target that is not on this machine."},
		{key: "max_rate", kind: kFloat, def: "5000", min: above(0), max: atMost(maxRateCeiling), example: "10000", desc: "Safety cap on every stage's rate, in requests per second; raise it here, explicitly, to go higher."},
		{key: "seed", kind: kInt, example: "42", desc: "Seed for credential choice and the wrong-credential mix; 0 picks one at random and records it."},
		{key: "login", kind: kObject, obj: &object{desc: "One login request and what counts as success.", fields: []field{
			{key: "method", kind: kEnum, enum: httpMethods(), def: "POST", desc: "HTTP method of the login request."},
			pathField("Path of the login request, with an optional query (e.g. /token?grant_type=password): appended to target's path, queries merged, escapes kept as written.", false, "/login"),
			{key: "headers", kind: kStringMap, desc: "Extra request headers."},
			{key: "encoding", kind: kEnum, enum: []string{"json", "form"}, def: "json", desc: "Encoding of the request body."},
			{key: "username_field", kind: kString, def: "username", desc: "Body field that carries the username; in a JSON body a dotted name nests (user.email sends {\"user\": {\"email\": ...}})."},
			{key: "password_field", kind: kString, def: "password", desc: "Body field that carries the password; dotted names nest in a JSON body, as for username_field."},
			{key: "extra", kind: kStringMap, desc: "Extra body fields sent with every login (e.g. grant_type: password, client_id: web for an OAuth2 password grant); dotted names nest in a JSON body."},
			{key: "basic_auth", kind: kObject, obj: &object{desc: "HTTP Basic authentication sent with every login, e.g. an OAuth2 client's id and secret. The file names environment variables, read when the run starts; their values are never written to the run directory or the output.", fields: []field{
				{key: "username_env", kind: kString, required: true, pattern: "^[A-Za-z_][A-Za-z0-9_]*$", example: "CLIENT_ID", desc: "Environment variable holding the Basic username (the client id)."},
				{key: "password_env", kind: kString, required: true, pattern: "^[A-Za-z_][A-Za-z0-9_]*$", example: "CLIENT_SECRET", desc: "Environment variable holding the Basic password (the client secret)."},
			}}},
			{key: "success", kind: kObject, obj: &object{desc: "What makes a login successful.", fields: []field{
				statusField("Status codes that count as success."),
				{key: "json_field", kind: kString, example: "token", desc: "A JSON field the response must have: a top-level name, or a dotted path such as data.access_token."},
				{key: "cookie", kind: kString, example: "session", desc: "A cookie the response must set (e.g. sessionid with status: [302]; redirects are never followed)."},
			}}},
			{key: "rejected", kind: kObject, obj: &object{desc: "What a refused login looks like: the wrong_password and unknown_user shares count as expected when their answers match every rule given here.", fields: []field{
				{key: "status", kind: kStatusList, def: "[401, 403]", example: "[400]", desc: "Status codes of a refusal (token endpoints answer 400, HTML forms 200 with the form again)."},
				{key: "json_field", kind: kString, example: "error", desc: "A JSON field a refusal must have (a top-level name or a dotted path)."},
				{key: "body_contains", kind: kString, example: "Please enter a correct username and password", desc: "Text a refusal's body must contain (within its first 64 KiB)."},
			}}},
			{key: "preflight", kind: kObject, obj: &object{desc: "A request before each login that fetches a CSRF token.", fields: []field{
				{key: "method", kind: kEnum, enum: httpMethods(), def: "GET", desc: "HTTP method of the preflight request."},
				pathField("Path of the preflight request, with an optional query, appended to target like login.path.", true, ""),
				{key: "from", kind: kEnum, enum: []string{"cookie", "header", "body"}, required: true, desc: "Where the token is found."},
				{key: "name", kind: kString, example: "csrf_token", desc: "Cookie or header name of the token (from: cookie or header)."},
				{key: "regex", kind: kString, example: `name="csrf" value="([^"]+)"`, desc: "Regular expression whose first group is the token (from: body)."},
				{key: "send_as", kind: kEnum, enum: []string{"header", "field"}, def: "header", desc: "How the token goes back with the login; a token from a cookie also goes back as that cookie."},
				{key: "send_name", kind: kString, example: "X-CSRF-Token", desc: "Header or body field name the token is sent as."},
			}}},
			{key: "follow_up", kind: kObject, obj: &object{desc: "A session check after a sampled share of successful logins.", fields: []field{
				{key: "method", kind: kEnum, enum: httpMethods(), def: "GET", desc: "HTTP method of the follow-up request."},
				pathField("Path of the follow-up request, e.g. /me, with an optional query, appended to target like login.path.", true, ""),
				shareField("share", "Share of successful logins that are followed up", "0.1"),
				statusField("Status codes that count as a valid session."),
			}}},
		}}},
		{key: "credentials", kind: kObject, obj: &object{desc: "Where usernames and passwords come from.", fields: []field{
			{key: "file", kind: kString, example: "users.csv", desc: "CSV of username,password (a header row is allowed), relative to the scenario file; leave it out with the bundled fixture."},
			{key: "order", kind: kEnum, enum: []string{"rotate", "random"}, def: "rotate", desc: "Order in which credentials are used."},
			shareField("wrong_password", "Share of logins sent with a wrong password; refusals as login.rejected describes them (default 401 or 403) are expected", ""),
			shareField("unknown_user", "Share of logins sent for a user that does not exist; refusals as login.rejected describes them are expected", ""),
		}}},
		{key: "stages", kind: kStages, required: true, desc: "The traffic plan: stages run back to back. Each item is a map with one key, the stage kind (constant, ramp, steps or spike)."},
		{key: "client", kind: kObject, obj: &object{desc: "The load generator's HTTP client.", fields: []field{
			{key: "timeout", kind: kDuration, def: "5s", min: above(0), example: "5s", desc: "Timeout of each request (> 0)."},
			{key: "keepalive", kind: kBool, def: "true", desc: "Reuse connections between requests."},
			{key: "max_connections", kind: kInt, def: "512", min: atLeast(1), example: "512", desc: "Maximum open connections to the target."},
			{key: "max_workers", kind: kUint, def: "1024", min: atLeast(1), example: "1024", desc: "Maximum concurrent requests in flight."},
		}}},
		{key: "slo", kind: kObject, obj: &object{desc: "What a window must meet to count as healthy.", fields: []field{
			{key: "success_ratio", kind: kFloat, def: "0.99", min: above(0), max: atMost(1), example: "0.99", desc: "Minimum share of successful logins, in (0, 1]."},
			{key: "percentile", kind: kFloat, def: "99", min: above(0), max: below(100), example: "99", desc: "Latency percentile the SLO is about, in (0, 100)."},
			{key: "latency", kind: kDuration, def: "500ms", min: above(0), example: "500ms", desc: "Latency that percentile must stay under (> 0)."},
		}}},
		{key: "mode", kind: kEnum, enum: []string{ModeStages, ModeSearch}, def: ModeStages, desc: "stages runs the stages as planned; search finds the sustainable rate with trials at a changing rate (see search), like stampede find-limit."},
		{key: "abort", kind: kObject, obj: &object{desc: "Stop the surge once the SLO has failed for a while, to protect a shared environment: when at least ratio of the whole seconds in the last after failed the SLO (each second judged by planned send time, as the report does). The run stops sending like the first Ctrl-C, records an abort event, and the report follows. Not used by mode: search, whose trials end an overload themselves.", fields: []field{
			durationField("after", "The sliding window: the last this many whole seconds are judged (>= 1s).", true, atLeast(1), "5s"),
			{key: "ratio", kind: kFloat, def: "1", min: above(0), max: atMost(1), example: "0.8", desc: "Share of the window's seconds that must have failed the SLO, in (0, 1]; 1 (default): every one."},
		}}},
		{key: "search", kind: kObject, obj: &object{desc: "The adaptive search of mode: search (and stampede find-limit): trials at one rate each (warmup, then hold, judged on the hold against the SLO), the rate raised by factor until a trial fails, then bisected between the last good and the first bad rate until (hi - lo) / lo <= precision or the budget ends; the upper end is tried again before the search ends on it (a pass there means the first failure was noise, and the search rises again). One attack, one set of connections; faults apply throughout.", fields: []field{
			{key: "from", kind: kFloat, min: above(0), example: "20", desc: "Rate of the first trial, in requests per second; default: the first stage's starting rate."},
			{key: "factor", kind: kFloat, def: "1.5", min: above(1), max: atMost(10), example: "1.5", desc: "Factor between trial rates until the SLO fails (or, when the first trial fails, downwards)."},
			{key: "precision", kind: kFloat, def: "0.05", min: above(0), max: below(1), example: "0.05", desc: "Stop when the bracket is this narrow: (hi - lo) / lo, in (0, 1)."},
			{key: "budget", kind: kDuration, def: "3m", min: above(0), example: "3m", desc: "Time budget of the whole search (> 0); no trial starts that would end after it."},
			{key: "max_rate", kind: kFloat, min: above(0), max: atMost(maxRateCeiling), example: "1000", desc: "Highest rate a trial may offer, in requests per second (at most the scenario's max_rate, its default)."},
			{key: "warmup", kind: kDuration, def: "2s", min: atLeast(0), example: "2s", desc: "Start of each trial at its rate, not judged: queues and pools settle (>= 0)."},
			{key: "hold", kind: kDuration, def: "3s", min: above(0), example: "3s", desc: "Judged part of each trial, at least (> 0); longer at low rates to plan min_requests."},
			{key: "min_requests", kind: kInt, def: "200", min: atLeast(1), example: "200", desc: "Requests each trial's hold must plan at least, so that the SLO percentile means something (100 per 1% above it)."},
		}}},
		{key: "faults", kind: kFaults, desc: "Faults injected on a schedule during the run."},
		{key: "gates", kind: kObject, obj: &object{desc: "CI pass/fail rules, checked on the report.", fields: []field{
			{key: "min_sustainable_rps", kind: kFloat, min: above(0), example: "100", desc: "Fail if the sustainable rate is below this, in requests per second."},
			durationField("max_p99", "Fail if p99 latency (at max_p99_at_rps, if set) is above this.", false, above(0), "300ms"),
			{key: "max_p99_at_rps", kind: kFloat, min: above(0), example: "100", desc: "Offered rate at which max_p99 is checked."},
			{key: "max_error_ratio", kind: kFloat, min: atLeast(0), max: atMost(1), example: "0.01", desc: "Fail if the share of failed logins over the run is above this (0..1)."},
			{key: "max_regression_pct", kind: kFloat, min: atLeast(0), example: "10", desc: "Fail if the sustainable rate dropped by more than this percentage against the baseline."},
			{key: "expect_cause", kind: kEnum, enum: causes(), desc: "Fail unless the report attributes the breaking point to this cause."},
		}}},
		{key: "output", kind: kObject, obj: &object{desc: "Where results go.", fields: []field{
			{key: "dir", kind: kString, example: "runs/surge", desc: "Run directory; default runs/<time>-<name>."},
		}}},
		{key: "evidence", kind: kObject, obj: &object{desc: "Where your own service exposes evidence beyond its responses. The database itself is given with --dsn or STAMPEDE_DSN, so secrets stay out of scenario files.", fields: []field{
			{key: "role", kind: kString, example: "app", desc: "The service's database role, whose backends and connection limit are watched."},
			{key: "health_path", kind: kString, pattern: "^/", example: "/healthz", desc: "Path fetched with each service probe, e.g. /healthz."},
			{key: "pool_path", kind: kString, pattern: "^/", example: "/debug/pool", desc: "Path serving the service's pool statistics as JSON, e.g. /debug/pool."},
			{key: "null_path", kind: kString, pattern: "^(/.*|off)$", def: DefaultNullPath, example: "/stampede-null-probe", desc: "A path the service does not use: a GET of it is the cheapest request the service answers without its database (any status counts as an answer). It is sent twice a second through the client path and straight to the service when its address is known, to tell what the path adds from a busy service. off: no such probes."},
		}}},
		{key: "network", kind: kObject, obj: &object{desc: "Where network faults act on your own stack. With the bundled fixture stampede places both proxies itself.", fields: []field{
			{key: "toxiproxy", kind: kURL, example: "http://127.0.0.1:8474", desc: "An external Toxiproxy server's API URL holding proxies named client and db; default: Toxiproxy in-process."},
			{key: "client", kind: kObject, obj: &object{desc: "The load generator → service path: the load is sent to listen, which forwards to the service.", fields: []field{
				{key: "listen", kind: kString, required: true, pattern: "^[^\\s]+:[0-9]+$", example: "127.0.0.1:9000", desc: "host:port the proxy listens on."},
				{key: "upstream", kind: kString, required: true, pattern: "^[^\\s]+:[0-9]+$", example: "127.0.0.1:8080", desc: "host:port the proxy forwards to."},
			}}},
			{key: "db", kind: kObject, obj: &object{desc: "The service → PostgreSQL path: point your service's database address at listen.", fields: []field{
				{key: "listen", kind: kString, required: true, pattern: "^[^\\s]+:[0-9]+$", example: "127.0.0.1:6433", desc: "host:port the proxy listens on."},
				{key: "upstream", kind: kString, required: true, pattern: "^[^\\s]+:[0-9]+$", example: "127.0.0.1:5432", desc: "host:port the proxy forwards to."},
			}}},
		}}},
		{key: "fixture", kind: kObject, obj: &object{desc: "Knobs of the bundled login service (ignored with a target).", fields: []field{
			{key: "db_pool", kind: kInt, min: atLeast(1), example: "10", desc: "Size of the service's database pool."},
			durationField("db_hold", "How long each login holds its database connection (>= 0).", false, atLeast(0), "50ms"),
			{key: "max_connections", kind: kInt, min: atLeast(1), example: "40", desc: "PostgreSQL max_connections."},
			{key: "users", kind: kInt, min: atLeast(1), example: "1000", desc: "Number of seeded users."},
			{key: "hide_server_timing", kind: kBool, desc: "Leave out the service's Server-Timing header, to test the verdict on a black box."},
			{key: "conn_per_login", kind: kBool, desc: "No pool: every request opens its own database connection and closes it after (db_pool is then unused, and there is no pool endpoint)."},
			{key: "hot_row", kind: kBool, desc: "Every login also bumps one shared counter row in its transaction, so logins queue on its row lock."},
			{key: "hash_cost", kind: kInt, min: atLeast(0), max: atMost(31), example: "10", desc: "bcrypt cost of each login's password verification (4..31; 0: off), to make the service's CPU the limit."},
			{key: "opaque_errors", kind: kBool, desc: "Answer database failures with a bare 500: no body, no cause, no Server-Timing."},
			{key: "no_pool_endpoint", kind: kBool, desc: "Leave out the service's pool statistics endpoint (GET /debug/pool answers 404)."},
			{key: "event_loop", kind: kBool, desc: "Serve as a single-threaded event loop (Node.js, asyncio): every request is dispatched on one loop and each login's password hashing holds it, while waits on the database do not. With hash_cost the loop saturates at one core and every request, health checks included, answers late."},
		}}},
	}}
}
