package chaos

import (
	"errors"
	"strings"
	"testing"
)

func asParamError(err error, pe **ParamError) bool { return errors.As(err, pe) }

func TestBuildersValidateParams(t *testing.T) {
	for _, tc := range []struct {
		kind    string
		params  map[string]any
		wantKey string // "" = valid
	}{
		{"db.conn_limit", map[string]any{"limit": 5}, ""},
		{"db.conn_limit", map[string]any{"limit": 5.0}, ""}, // a JSON number
		{"db.conn_limit", nil, "limit"},
		{"db.conn_limit", map[string]any{"limit": "five"}, "limit"},
		{"db.conn_limit", map[string]any{"limit": 2.5}, "limit"},
		{"db.conn_limit", map[string]any{"limit": -1}, "limit"},
		{"db.conn_limit", map[string]any{"limit": 5, "limt": 3}, "limt"},
		{"db.conn_limit", map[string]any{"limit": 5, "terminate": "yes"}, "terminate"},
		{"db.hog", map[string]any{"leave": 3}, ""},
		{"db.hog", map[string]any{"leave": -3}, "leave"},
		{"db.terminate", map[string]any{"every": "1s"}, ""},
		{"db.terminate", map[string]any{"every": 1}, "every"}, // no unit
		{"db.terminate", map[string]any{"every": 0}, ""},
		{"db.terminate", map[string]any{"every": "soon"}, "every"},
		{"db.lock", map[string]any{"mode": "share row exclusive"}, ""},
		{"db.lock", map[string]any{"table": "a.b.c"}, "table"},
		{"net.latency", map[string]any{"path": "db", "latency": "100ms", "jitter": "10ms"}, ""},
		{"net.latency", map[string]any{"latency": "100ms"}, "path"},
		{"net.latency", map[string]any{"path": "db"}, "latency"},
		{"net.latency", map[string]any{"path": "db", "latency": "1500us"}, "latency"},
		{"net.latency", map[string]any{"path": "db", "latency": "100ms", "direction": "sideways"}, "direction"},
		{"net.latency", map[string]any{"path": "db", "latency": "100ms", "toxicity": 1.5}, "toxicity"},
		{"net.bandwidth", map[string]any{"path": "client", "rate": 64}, ""},
		{"net.bandwidth", map[string]any{"path": "client", "rate": 0}, "rate"},
		{"net.timeout", map[string]any{"path": "client"}, ""},
		{"net.reset_peer", map[string]any{"path": "client", "timeout": "50ms"}, ""},
		{"net.slow_close", map[string]any{"path": "client"}, "delay"},
		{"net.slicer", map[string]any{"path": "db", "average_size": 64, "size_variation": 16, "delay": "10us"}, ""},
		{"net.slicer", map[string]any{"path": "db", "average_size": 64, "size_variation": 64}, "size_variation"},
		{"net.limit_data", map[string]any{"path": "db", "bytes": 1024}, ""},
		{"net.down", map[string]any{"path": "db"}, ""},
		{"net.down", map[string]any{"path": "db", "direction": "upstream"}, "direction"},
	} {
		_, err := NewRegistry().Build(nil, tc.kind, tc.params)
		if tc.wantKey == "" {
			if err != nil {
				t.Errorf("%s %v: %v", tc.kind, tc.params, err)
			}
			continue
		}
		var pe *ParamError
		if !errors.As(err, &pe) {
			t.Errorf("%s %v: want a *ParamError naming %q, got %v", tc.kind, tc.params, tc.wantKey, err)
			continue
		}
		if pe.Key != tc.wantKey || !strings.Contains(err.Error(), tc.wantKey) {
			t.Errorf("%s %v: error names %q (%v), want %q", tc.kind, tc.params, pe.Key, err, tc.wantKey)
		}
	}
}

func TestRegistryIsFreshAndExtensible(t *testing.T) {
	a, b := NewRegistry(), NewRegistry()
	a["net.loss"] = func(*Env, map[string]any) (Fault, error) { return nil, nil }
	if _, ok := b["net.loss"]; ok {
		t.Error("registries share state")
	}
	if _, err := b.Build(nil, "net.loss", nil); err == nil || !strings.Contains(err.Error(), "net.latency") {
		t.Errorf("unknown kind: want an error listing the kinds, got %v", err)
	}
}

func TestFaultsDescribeThemselves(t *testing.T) {
	env := &Env{Role: "stampede_app"}
	f, err := NewRegistry().Build(env, "db.conn_limit", map[string]any{"limit": 5})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.String(), "db.conn_limit{role=stampede_app limit=5 terminate=true}"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	f, err = NewRegistry().Build(env, "net.latency", map[string]any{"path": "db", "latency": "100ms"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.String(), "net.latency{path=db direction=downstream latency=100ms jitter=0s toxicity=1}"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	d := f.(Described)
	if d.Kind() != "net.latency" || d.Params()["latency"] != "100ms" || d.Params()["toxicity"] != 1.0 {
		t.Errorf("Kind/Params = %s %v", d.Kind(), d.Params())
	}
	if _, err := NewRegistry().Build(&Env{}, "db.terminate", nil); err == nil {
		t.Error("db.terminate with no role anywhere: want an error")
	}
}
