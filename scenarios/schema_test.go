package scenarios

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	data, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("schema is not valid JSON: %v", err)
	}
	return s
}

// schemaPaths lists every property path of the schema, in the notation of
// tablePaths, and checks each property is described and each object closed.
func schemaPaths(t *testing.T, s map[string]any, path string) []string {
	var paths []string
	if s["type"] == "object" && s["properties"] != nil {
		open := s["additionalProperties"] != false
		if open && !strings.HasPrefix(path, "faults[]") {
			t.Errorf("%s: additionalProperties must be false", path)
		}
		for k, v := range s["properties"].(map[string]any) {
			p := join(path, k)
			prop := v.(map[string]any)
			if d, _ := prop["description"].(string); d == "" {
				t.Errorf("%s: no description", p)
			}
			paths = append(paths, p)
			paths = append(paths, schemaPaths(t, prop, p)...)
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		if variants, ok := items["oneOf"].([]any); ok {
			for _, v := range variants {
				for k, body := range v.(map[string]any)["properties"].(map[string]any) {
					paths = append(paths, schemaPaths(t, body.(map[string]any), path+"[]."+k)...)
				}
			}
		} else {
			paths = append(paths, schemaPaths(t, items, path+"[]")...)
		}
	}
	return paths
}

func TestJSONSchemaListsEveryKey(t *testing.T) {
	s := loadSchema(t)
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v, want draft 2020-12", s["$schema"])
	}
	got := sorted(schemaPaths(t, s, ""))
	want := tablePaths(t)
	if !slices.Equal(got, want) {
		t.Errorf("schema keys and loader keys differ:\nschema %v\nloader %v", got, want)
	}
	if len(want) < 60 {
		t.Errorf("only %d keys; the walk is broken", len(want))
	}
	login := s["properties"].(map[string]any)["login"].(map[string]any)
	method := login["properties"].(map[string]any)["method"].(map[string]any)
	if method["default"] != "POST" {
		t.Errorf("login.method default = %v, want POST", method["default"])
	}
}

func TestExamplesValidateAgainstSchema(t *testing.T) {
	s := loadSchema(t)
	docs := map[string][]byte{}
	for _, name := range Examples() {
		docs[name], _ = Example(name)
	}
	full, err := os.ReadFile(filepath.Join("testdata", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs["testdata/full.yaml"] = full
	for name, data := range docs {
		var v any
		if err := yaml.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if errs := validate(s, v, ""); len(errs) > 0 {
			t.Errorf("%s does not validate against the schema:\n%s", name, strings.Join(errs, "\n"))
		}
	}
	// And the schema rejects what the loader rejects, where it can say so.
	for _, bad := range []string{
		"name: x\n",
		"stages: []\n",
		one + "stagse: []\n",
		"stages:\n  - constant: {rate: 5, for: 1s}\n    ramp: {from: 1, to: 2, for: 1s}\n",
		"stages:\n  - constant: {rate: 0, for: 1s}\n",
		"stages:\n  - constant: {rate: 5, for: 10}\n",
		"stages:\n  - constant: {rate: 5, for: -1s}\n",
		one + "slo: {percentile: 100}\n",
		one + "login: {encoding: xml}\n",
		one + "target: localhost:8080\n",
		one + "faults: [{kind: x, for: 1s}]\n",
		one + "login: {success: {status: [700]}}\n",
	} {
		var v any
		if err := yaml.Unmarshal([]byte(bad), &v); err != nil {
			t.Fatal(err)
		}
		if errs := validate(s, v, ""); len(errs) == 0 {
			t.Errorf("schema accepts\n%s", bad)
		}
	}
}

// validate is a small JSON Schema validator for the keywords JSONSchema
// emits; it returns one message per problem.
func validate(s map[string]any, v any, path string) []string {
	var errs []string
	fail := func(format string, a ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, a...)) }
	if typ, ok := s["type"]; ok {
		types, _ := typ.([]any)
		if str, ok := typ.(string); ok {
			types = []any{str}
		}
		if !slices.ContainsFunc(types, func(t any) bool { return hasType(v, t.(string)) }) {
			fail("%v is not of type %v", v, typ)
			return errs
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		fail("%v is not one of %v", v, enum)
	}
	if p, ok := s["pattern"].(string); ok {
		if str, _ := v.(string); !regexp.MustCompile(p).MatchString(str) {
			fail("%q does not match %s", str, p)
		}
	}
	if x, ok := number(v); ok {
		if m, ok := s["minimum"].(float64); ok && x < m {
			fail("%g < minimum %g", x, m)
		}
		if m, ok := s["exclusiveMinimum"].(float64); ok && x <= m {
			fail("%g <= exclusiveMinimum %g", x, m)
		}
		if m, ok := s["maximum"].(float64); ok && x > m {
			fail("%g > maximum %g", x, m)
		}
		if m, ok := s["exclusiveMaximum"].(float64); ok && x >= m {
			fail("%g >= exclusiveMaximum %g", x, m)
		}
	}
	if l, ok := v.([]any); ok {
		if m, ok := s["minItems"].(float64); ok && float64(len(l)) < m {
			fail("%d items, fewer than %g", len(l), m)
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, x := range l {
				errs = append(errs, validate(items, x, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	if m, ok := v.(map[string]any); ok {
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := m[r]; !ok {
				fail("missing required %s", r)
			}
		}
		for k, x := range m {
			if ps, ok := props[k].(map[string]any); ok {
				errs = append(errs, validate(ps, x, join(path, k))...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					fail("unknown property %s", k)
				}
			case map[string]any:
				errs = append(errs, validate(ap, x, join(path, k))...)
			}
		}
	}
	if variants, ok := s["oneOf"].([]any); ok {
		matched := 0
		for _, variant := range variants {
			if len(validate(variant.(map[string]any), v, path)) == 0 {
				matched++
			}
		}
		if matched != 1 {
			fail("matches %d of oneOf, want exactly 1", matched)
		}
	}
	return errs
}

func hasType(v any, t string) bool {
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := number(v)
		return ok
	case "integer":
		x, ok := number(v)
		return ok && x == math.Trunc(x)
	}
	return false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func asStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		out = append(out, x.(string))
	}
	return out
}
