package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// one is a valid first line, so a broken case can start on line 2.
const one = "stages: [{constant: {rate: 5, for: 1s}}]\n"

func TestLoadBroken(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		at   string // exact file:line:col of the first error
		want string // a phrase of its message
	}{
		{"empty file", "", "b.yaml:1:1", "the file is empty"},
		{"only comments", "# nothing\n", "b.yaml:1:1", "the file is empty"},
		{"yaml syntax", one + "slo: {latency: 1s\n", "b.yaml:2:1", "did not find expected ',' or '}'"},
		{"yaml syntax after a multi-line flow map", one + "login: {method: POST,\n  path: /login}\nslo: {latency: 1s\n", "b.yaml:4:1", "YAML syntax error"},
		{"yaml mapping in a value", one + "name: a: b\n", "b.yaml:2:1", "mapping values are not allowed"},
		{"tab indent", "stages:\n\t- constant: {rate: 5, for: 1s}\n", "b.yaml:2:1", "YAML indents with spaces"},
		{"top level list", "- constant: {rate: 5, for: 1s}\n", "b.yaml:1:1", "a scenario is a map of keys"},
		{"second document", one + "---\nname: x\n", "b.yaml:2:1", "a second YAML document"},
		{"missing stages", "name: x\n", "b.yaml:1:1", "the scenario is missing stages"},
		{"unknown key", one + "stagse: []\n", "b.yaml:2:1", `did you mean "stages"?`},
		{"unknown nested key", one + "slo:\n  sucess_ratio: 0.9\n", "b.yaml:3:3", `allowed: success_ratio, percentile, latency; did you mean "success_ratio"?`},
		{"duplicate key", one + "name: a\nname: b\n", "b.yaml:3:1", "name is set twice"},
		{"empty stages", "stages: []\n", "b.yaml:1:9", "stages is empty; add at least one stage"},
		{"stages not a list", "stages: {constant: {rate: 5, for: 1s}}\n", "b.yaml:1:9", "stages must be a list of stages"},
		{"stage without kind", "stages:\n  - {}\n", "b.yaml:2:5", "a stage is a map with one key naming its kind"},
		{"stage with two kinds", "stages:\n  - constant: {rate: 5, for: 1s}\n    ramp: {from: 1, to: 2, for: 1s}\n", "b.yaml:3:5", "has 2 keys (constant, ramp)"},
		{"stage fields without kind", "stages:\n  - rate: 5\n", "b.yaml:2:5", `"rate" is a stage field, not a kind`},
		{"unknown stage kind", "stages:\n  - const: {rate: 5, for: 1s}\n", "b.yaml:2:5", `did you mean "constant"?`},
		{"bare number duration", "stages:\n  - constant: {rate: 5, for: 10}\n", "b.yaml:2:30", `bare number; write a duration with a unit, e.g. "10s"`},
		{"bad duration", "stages:\n  - constant: {rate: 5, for: 10 seconds}\n", "b.yaml:2:30", `a duration such as "10s"`},
		{"zero duration", "stages:\n  - constant: {rate: 5, for: 0s}\n", "b.yaml:2:30", "for must be > 0s, got 0s"},
		{"negative duration", "stages:\n  - ramp: {from: 1, to: 5, for: -5s}\n", "b.yaml:2:33", "for must be > 0s, got -5s"},
		{"rate not a number", "stages:\n  - constant: {rate: fast, for: 1s}\n", "b.yaml:2:22", `rate must be a number, got "fast"`},
		{"zero rate", "stages:\n  - constant: {rate: 0, for: 1s}\n", "b.yaml:2:22", "rate must be > 0, got 0"},
		{"negative rate", "stages:\n  - ramp: {from: -5, to: 5, for: 1s}\n", "b.yaml:2:18", "from must be > 0, got -5"},
		{"missing stage field", "stages:\n  - ramp: {from: 5, for: 1s}\n", "b.yaml:2:11", "stages[0].ramp is missing to; add e.g. to: 50"},
		{"steps down", "stages:\n  - steps: {from: 50, to: 10, step: 10, hold: 1s}\n", "b.yaml:2:27", "to (10) is below from (50)"},
		{"steps zero step", "stages:\n  - steps: {from: 10, to: 50, step: 0, hold: 1s}\n", "b.yaml:2:37", "step must be > 0"},
		{"steps not a multiple", "stages:\n  - steps: {from: 10, to: 50, step: 15, hold: 1s}\n", "b.yaml:2:27", "write to: 40 or to: 55"},
		{"spike past its stage", "stages:\n  - spike: {base: 5, peak: 50, at: 8s, spike_for: 5s, for: 10s}\n", "b.yaml:2:51", "ends after the stage (for 10s); write for: 13s or more"},
		{"rate above max_rate", "stages:\n  - ramp: {from: 5, to: 6000, for: 1s}\n", "b.yaml:2:25", "above max_rate (5000/s), the safety cap; lower it, or raise the cap explicitly with max_rate: 6000"},
		{"rate above raised max_rate", "max_rate: 100\nstages:\n  - constant: {rate: 150, for: 1s}\n", "b.yaml:3:22", "above max_rate (100/s)"},
		{"max_rate too high", one + "max_rate: 2e6\n", "b.yaml:2:11", "max_rate must be within (0, 1e+06]"},
		{"target not a URL", one + "target: localhost:8080\n", "b.yaml:2:9", "write e.g. target: http://localhost:8080"},
		{"target without host", one + "target: http:///login\n", "b.yaml:2:9", "http or https URL with a host"},
		{"target ftp", one + "target: ftp://example.com\n", "b.yaml:2:9", "http or https URL"},
		{"login path with a fragment", one + "login:\n  path: /token#x\n", "b.yaml:3:9", "login.path: path \"/token#x\": a path and an optional query only"},
		{"login path with a host", one + "login:\n  path: //evil.example/token\n", "b.yaml:3:9", "must start with a single /"},
		{"login path badly escaped", one + "login:\n  path: /t%zz?a=b\n", "b.yaml:3:9", "invalid URL escape"},
		{"preflight path with a scheme", one + "login:\n  preflight: {path: /a#b, from: cookie, name: c}\n", "b.yaml:3:21", "login.preflight.path"},
		{"follow-up path with a fragment", one + "login:\n  follow_up: {path: /me#top}\n", "b.yaml:3:21", "login.follow_up.path"},
		{"rejected not statuses", one + "login:\n  rejected: {status: [nope]}\n", "b.yaml:3:23", "status"},
		{"basic auth env not a name", one + "login:\n  basic_auth: {username_env: 'a b', password_env: S}\n", "b.yaml:3:30", "username_env"},
		{"wrong_password above 1", one + "credentials: {wrong_password: 1.5}\n", "b.yaml:2:31", "wrong_password must be within [0, 1], got 1.5"},
		{"shares add up above 1", one + "credentials:\n  wrong_password: 0.6\n  unknown_user: 0.6\n", "b.yaml:4:17", "wrong_password + credentials.unknown_user is 1.2, more than 1"},
		{"follow_up share negative", one + "login:\n  follow_up: {path: /me, share: -0.1}\n", "b.yaml:3:33", "share must be within [0, 1]"},
		{"follow_up without path", one + "login:\n  follow_up: {share: 0.5}\n", "b.yaml:3:14", "login.follow_up is missing path"},
		{"success_ratio zero", one + "slo: {success_ratio: 0}\n", "b.yaml:2:22", "success_ratio must be within (0, 1], got 0"},
		{"success_ratio above 1", one + "slo: {success_ratio: 99}\n", "b.yaml:2:22", "within (0, 1], got 99; write e.g. success_ratio: 0.99"},
		{"percentile 100", one + "slo: {percentile: 100}\n", "b.yaml:2:19", "percentile must be within (0, 100), got 100"},
		{"missing credentials file", one + "credentials: {file: nope.csv}\n", "b.yaml:2:21", "credentials.file: no file testdata/nope.csv"},
		{"encoding", one + "login: {encoding: xml}\n", "b.yaml:2:19", "login.encoding must be one of json, form"},
		{"order", one + "credentials: {order: shuffle}\n", "b.yaml:2:22", "credentials.order must be one of rotate, random"},
		{"order typo", one + "credentials: {order: randm}\n", "b.yaml:2:22", `did you mean "random"?`},
		{"status code", one + "login: {success: {status: [200, 700]}}\n", "b.yaml:2:33", "700 is not an HTTP status code"},
		{"status not a list", one + "login: {success: {status: 200}}\n", "b.yaml:2:27", "must be a list of HTTP status codes, got the number 200; write e.g. status: [200]"},
		{"fault without kind", one + "faults:\n  - {start: 1s, for: 1s}\n", "b.yaml:3:5", "faults[0] is missing kind"},
		{"fault without start", one + "faults:\n  - kind: db.conn_limit\n    for: 1s\n", "b.yaml:3:5", "faults[0] is missing start; add e.g. start: 20s"},
		{"fault without for", one + "faults:\n  - {kind: net.latency, start: 0s}\n", "b.yaml:3:5", "faults[0] is missing for"},
		{"fault negative start", one + "faults:\n  - {kind: net.latency, start: -1s, for: 1s}\n", "b.yaml:3:32", "faults[0].start must be >= 0s, got -1s"},
		{"fault after the end", one + "faults:\n  - {kind: net.latency, start: 5s, for: 1s}\n", "b.yaml:3:32", "would never run"},
		{"faults not a list", one + "faults: {kind: x}\n", "b.yaml:2:9", "faults must be a list of faults"},
		{"null value", one + "slo:\n", "b.yaml:2:5", "slo has no value"},
		{"text wanted", one + "name: 2024\n", "b.yaml:2:7", `must be text, got the number 2024; quote it if it is meant as text (name: "2024")`},
		{"bool wanted", one + "client: {keepalive: yes}\n", "b.yaml:2:21", "keepalive must be true or false"},
		{"int wanted", one + "client: {max_connections: 1.5}\n", "b.yaml:2:27", "must be a whole number"},
		{"object wanted", one + "login: /login\n", "b.yaml:2:8", "login must be a map of keys"},
		{"preflight body without regex", one + "login:\n  preflight: {path: /login, from: body}\n", "b.yaml:3:35", "needs a regex whose first group is the token"},
		{"expect_cause typo", one + "gates: {expect_cause: db.connection}\n", "b.yaml:2:23", `did you mean "db.connections"?`},
		{"max_p99_at_rps alone", one + "gates: {max_p99_at_rps: 100}\n", "b.yaml:2:25", "max_p99, which is missing"},
		{"merge key", one + "x: &x {rate: 5}\n", "b.yaml:2:1", `unknown key "x"`},
		{"mode typo", one + "mode: serach\n", "b.yaml:2:7", `did you mean "search"?`},
		{"abort without after", one + "abort: {ratio: 0.5}\n", "b.yaml:2:8", "abort is missing after; add e.g. after: 5s"},
		{"abort after below a second", one + "abort: {after: 500ms}\n", "b.yaml:2:16", "abort.after must be >= 1s, got 500ms"},
		{"abort ratio zero", one + "abort: {after: 5s, ratio: 0}\n", "b.yaml:2:27", "abort.ratio must be within (0, 1]"},
		{"abort bare number", one + "abort: {after: 5}\n", "b.yaml:2:16", `bare number; write a duration with a unit, e.g. "5s"`},
		{"search factor 1", one + "search: {factor: 1}\n", "b.yaml:2:18", "search.factor must be within (1, 10]"},
		{"search precision 1", one + "search: {precision: 1}\n", "b.yaml:2:21", "search.precision must be within (0, 1)"},
		{"search zero budget", one + "search: {budget: 0s}\n", "b.yaml:2:18", "search.budget must be > 0s"},
		{"search unknown key", one + "search: {precison: 0.1}\n", "b.yaml:2:10", `did you mean "precision"?`},
		{"search from zero", one + "search: {from: 0}\n", "b.yaml:2:16", "search.from must be > 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadBytes(filepath.Join("testdata", "b.yaml"), []byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error for\n%s", tc.yaml)
			}
			var errs LoadErrors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error is %T, want LoadErrors: %v", err, err)
			}
			first := errs[0].Error()
			want := "testdata/" + tc.at + ": "
			if !strings.HasPrefix(first, want) || !strings.Contains(first, tc.want) {
				t.Errorf("first error:\n  %s\nwant it to start with %q and contain %q\nall:\n%v", first, want, tc.want, err)
			}
			for _, e := range errs {
				if e.Line < 1 || e.Col < 1 || !strings.Contains(e.Msg, " ") {
					t.Errorf("error without position or message: %#v", e)
				}
			}
		})
	}
}

func TestLoadReportsAllProblemsSorted(t *testing.T) {
	src := `stages:
  - constant: {rate: 0, for: 10}
  - ramp: {from: 1, to: 2}
slo:
  sucess_ratio: 2
client:
  timeout: soon
`
	_, err := LoadBytes("all.yaml", []byte(src))
	var errs LoadErrors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v, want LoadErrors", err)
	}
	want := []string{
		"all.yaml:2:22: stages[0].constant.rate must be > 0",
		"all.yaml:2:30: stages[0].constant.for: 10 is a bare number",
		"all.yaml:3:11: stages[1].ramp is missing for",
		"all.yaml:5:3: unknown key \"sucess_ratio\" in slo",
		"all.yaml:7:12: client.timeout must be a duration",
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(errs[i].Error(), w) {
			t.Errorf("error %d = %q, want prefix %q", i, errs[i], w)
		}
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != len(want) {
		t.Errorf("Error() has %d lines, want one per problem:\n%s", len(lines), err)
	}
	var one *LoadError
	if !errors.As(err, &one) || one.File != "all.yaml" || one.Line != 2 {
		t.Errorf("errors.As(*LoadError) = %#v, want the first problem", one)
	}
}

func TestLoadDefaults(t *testing.T) {
	s, err := LoadBytes("dir/three.yaml", []byte("# three lines\nstages:\n  - constant: {rate: 20, for: 5s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	want := &Scenario{
		Name:    "three",
		MaxRate: 5000,
		Login: Login{Method: "POST", Path: "/login", Encoding: "json", UsernameField: "username", PasswordField: "password",
			Success: Success{Status: []int{200}}, Rejected: Rejected{Status: []int{401, 403}}},
		Credentials: Credentials{Order: "rotate"},
		Stages:      []Stage{{Name: "constant 1", Kind: StageConstant, Rate: 20, Duration: 5 * time.Second, Line: 3}},
		Client:      Client{Timeout: 5 * time.Second, KeepAlive: &yes, MaxConnections: 512, MaxWorkers: 1024},
		SLO:         SLO{SuccessRatio: 0.99, Percentile: 99, Latency: 500 * time.Millisecond},
		Mode:        ModeStages,
		Search: Search{Factor: 1.5, Precision: 0.05, Budget: 3 * time.Minute, Warmup: 2 * time.Second,
			Hold: 3 * time.Second, MinRequests: 200},
		Evidence: EvidenceSources{NullPath: DefaultNullPath},
		Path:     "dir/three.yaml",
		Raw:      []byte("# three lines\nstages:\n  - constant: {rate: 20, for: 5s}\n"),
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got  %+v\nwant %+v", *s, *want)
	}
}

func TestLoadFull(t *testing.T) {
	s, err := Load(filepath.Join("testdata", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "full" || s.Target != "https://login.example.test/api" || !s.AllowRemote || s.MaxRate != 8000 || s.Seed != 42 {
		t.Errorf("top level: %+v", s)
	}
	if got, want := s.Credentials.File, filepath.Join("testdata", "users.csv"); got != want {
		t.Errorf("credentials file = %q, want %q (resolved against the scenario's directory)", got, want)
	}
	l := s.Login
	if l.Headers["X-Version"] != "2" || l.Extra["remember"] != "true" || l.Encoding != "form" || l.UsernameField != "email" {
		t.Errorf("login: %+v", l)
	}
	if !reflect.DeepEqual(l.Success.Status, []int{200, 204}) || l.Success.Cookie != "session" {
		t.Errorf("success: %+v", l.Success)
	}
	if p := l.Preflight; p == nil || p.Method != "GET" || p.From != "body" || p.SendAs != "field" {
		t.Errorf("preflight: %+v", p)
	}
	if f := l.FollowUp; f == nil || f.Method != "GET" || f.Share != 0.25 || !reflect.DeepEqual(f.Status, []int{200}) {
		t.Errorf("follow_up: %+v", f)
	}
	wantStages := []Stage{
		{Name: "warm", Kind: StageConstant, Rate: 50, Duration: 10 * time.Second, Line: 35},
		{Name: "ramp 2", Kind: StageRamp, From: 50, To: 7000, Duration: time.Minute, Line: 36},
		{Name: "steps 3", Kind: StageSteps, From: 100, To: 400, Step: 100, Hold: 5 * time.Second, Duration: 20 * time.Second, Line: 37},
		{Name: "spike 4", Kind: StageSpike, Base: 50, Peak: 400, At: 10 * time.Second, SpikeFor: 5 * time.Second, Duration: 30 * time.Second, Line: 38},
	}
	if !reflect.DeepEqual(s.Stages, wantStages) {
		t.Errorf("stages:\n got %+v\nwant %+v", s.Stages, wantStages)
	}
	if c := s.Client; c.Timeout != 2*time.Second || c.KeepAlive == nil || *c.KeepAlive || c.MaxConnections != 100 || c.MaxWorkers != 200 {
		t.Errorf("client: %+v", c)
	}
	wantFaults := []Fault{
		{Kind: "db.conn_limit", Start: 20 * time.Second, Duration: 10 * time.Second, Line: 49, Col: 5,
			Params: map[string]any{"limit": 5, "role": "app"}},
		{Kind: "net.latency", Start: time.Minute, Duration: 15 * time.Second, Line: 54, Col: 5,
			Params: map[string]any{"latency": "100ms", "jitter": 0.5, "upstream": true,
				"where": map[string]any{"proxy": "db", "ports": []any{5432, 6432}}}},
	}
	if !reflect.DeepEqual(s.Faults, wantFaults) {
		t.Errorf("faults:\n got %#v\nwant %#v", s.Faults, wantFaults)
	}
	g := s.Gates
	if g.MaxErrorRatio == nil || *g.MaxErrorRatio != 0 || g.MaxP99 != 300*time.Millisecond || g.ExpectCause != "db.connections" {
		t.Errorf("gates: %+v", g)
	}
	if f := s.Fixture; f.DBPool != 10 || f.DBHold != 50*time.Millisecond || f.MaxConnections != 40 || f.Users != 1000 {
		t.Errorf("fixture: %+v", f)
	}
	if s.SLO.Percentile != 99.9 || s.Output.Dir != "runs/full" {
		t.Errorf("slo/output: %+v %+v", s.SLO, s.Output)
	}
}

func TestLoadMissingCredentialsRelativeToFile(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "missing-credentials.yaml"))
	want := "testdata/missing-credentials.yaml:4:9: credentials.file: no file testdata/no-such-users.csv"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v, want prefix %q", err, want)
	}
}

func TestLoadNamed(t *testing.T) {
	s, err := LoadNamed("smoke")
	if err != nil {
		t.Fatal(err)
	}
	if s.Path != "embedded:smoke" || s.Name != "smoke" {
		t.Errorf("embedded smoke: Path %q Name %q", s.Path, s.Name)
	}
	if s, err := LoadNamed(filepath.Join("testdata", "full.yaml")); err != nil || s.Name != "full" {
		t.Errorf("LoadNamed(file) = %v, %v", s, err)
	}
	_, err = LoadNamed("no-such-example")
	if err == nil || !strings.Contains(err.Error(), "no embedded example") || !strings.Contains(err.Error(), "surge") {
		t.Errorf("unknown name: err = %v, want one that lists the examples", err)
	}
	if _, err := LoadNamed("smoke.yaml"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a name with an extension is a file: err = %v, want not exist", err)
	}
	if _, err := LoadNamed("dir/smoke"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a name with a slash is a file: err = %v, want not exist", err)
	}
}

func TestExamplesLoad(t *testing.T) {
	names := Examples()
	for _, want := range []string{"ci-gate", "smoke", "steps", "surge"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("Examples() = %v, missing %q", names, want)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			data, ok := Example(name)
			if !ok {
				t.Fatalf("Example(%q) not found", name)
			}
			if !strings.HasPrefix(string(data), "# "+name+": ") || !strings.Contains(string(data), "stampede run "+name) {
				t.Errorf("%s: want a header comment saying what it shows and how to run it (stampede run %s)", name, name)
			}
			s, err := LoadNamed(name)
			if err != nil {
				t.Fatal(err)
			}
			if s.Target != "" {
				t.Errorf("%s targets %q; examples use the bundled fixture", name, s.Target)
			}
			p, err := rundir.FromStages(StageSpecs(s.Stages), 1)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total > 70*time.Second || p.Peak() > 200 {
				t.Errorf("%s: %s at up to %g/s; keep examples within about a minute and 200/s", name, p.Total, p.Peak())
			}
		})
	}
	if _, ok := Example("../load.go"); ok {
		t.Error("Example must not read outside the examples")
	}
}

func FuzzLoadBytes(f *testing.F) {
	for _, name := range Examples() {
		data, _ := Example(name)
		f.Add(data)
	}
	if data, err := os.ReadFile(filepath.Join("testdata", "full.yaml")); err == nil {
		f.Add(data)
	}
	for _, s := range []string{"", one + "faults: [{kind: x, start: 0s, for: 1s, p: &a [*a]}]\n",
		"a: &a [1]\nb: &b [*a, *a]\nc: [*b, *b]\n", "stages:\n  - steps: {from: 1, to: 1e9, step: 1e-9, hold: 1h}\n",
		"<<: {x: 1}\n", "? [a]\n: b\n", "stages: [{constant: {rate: 1e308, for: 1000000h}}]\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := LoadBytes("fuzz.yaml", data)
		if err == nil {
			if s == nil || len(s.Stages) == 0 {
				t.Fatalf("no error and no stages for %q", data)
			}
			if _, err := rundir.FromStages(StageSpecs(s.Stages), 1); err != nil {
				t.Fatalf("loaded, but the plan refuses it: %v\n%q", err, data)
			}
			return
		}
		var errs LoadErrors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("error %T is not LoadErrors: %v", err, err)
		}
		for _, e := range errs {
			if e.Line < 1 || e.Col < 1 || e.File != "fuzz.yaml" {
				t.Fatalf("error without a position: %#v", e)
			}
		}
	})
}

// A search sets its own length, so a fault past the stages is not late.
func TestLoadSearchAllowsFaultsPastTheStages(t *testing.T) {
	src := "mode: search\nstages:\n  - constant: {rate: 20, for: 5s}\nfaults:\n  - {kind: db.conn_limit, start: 30s, for: 10s, limit: 3}\n"
	if _, err := LoadBytes("search.yaml", []byte(src)); err != nil {
		t.Fatalf("search scenario with a late fault: %v", err)
	}
	if _, err := LoadBytes("stages.yaml", []byte(src[len("mode: search\n"):])); err == nil {
		t.Fatal("a run of stages accepted a fault after its end")
	}
}
