package scenarios

import (
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// goTypeFits says whether a Go type can hold a value of kind k.
func goTypeFits(k valueKind, t reflect.Type) bool {
	if t.Kind() == reflect.Pointer && k != kStages && k != kFaults {
		t = t.Elem()
	}
	switch k {
	case kString, kEnum, kURL:
		return t.Kind() == reflect.String
	case kInt:
		return t.Kind() == reflect.Int || t.Kind() == reflect.Int64
	case kUint:
		return t.Kind() == reflect.Uint64 || t.Kind() == reflect.Uint
	case kFloat:
		return t.Kind() == reflect.Float64
	case kBool:
		return t.Kind() == reflect.Bool
	case kDuration:
		return t == reflect.TypeFor[time.Duration]()
	case kStatusList:
		return t == reflect.TypeFor[[]int]()
	case kStringMap:
		return t == reflect.TypeFor[map[string]string]()
	case kObject:
		return t.Kind() == reflect.Struct
	case kStages:
		return t == reflect.TypeFor[[]Stage]()
	case kFaults:
		return t == reflect.TypeFor[[]Fault]()
	}
	return false
}

// yamlTags lists a struct's yaml keys, "-" excluded.
func yamlTags(t reflect.Type) []string {
	var tags []string
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag != "" && tag != "-" {
			tags = append(tags, tag)
		}
	}
	sort.Strings(tags)
	return tags
}

// checkObject checks that obj and the Go struct t have the same keys, of
// fitting types, each described, and returns the paths of every key.
func checkObject(t *testing.T, obj *object, typ reflect.Type, path string, open bool) []string {
	t.Helper()
	if typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	var paths, keys []string
	for i := range obj.fields {
		f := &obj.fields[i]
		p := join(path, f.key)
		paths = append(paths, p)
		keys = append(keys, f.key)
		sf, ok := structField(reflect.New(typ).Elem(), f.key)
		if !ok {
			t.Errorf("%s: in the key table but %s has no field tagged yaml:%q", p, typ, f.key)
			continue
		}
		if !goTypeFits(f.kind, sf.Type()) {
			t.Errorf("%s: table kind %d does not fit Go type %s", p, f.kind, sf.Type())
		}
		if f.desc == "" && (f.obj == nil || f.obj.desc == "") {
			t.Errorf("%s: no description", p)
		}
		if f.pattern != "" {
			if _, err := regexp.Compile(f.pattern); err != nil {
				t.Errorf("%s: pattern: %v", p, err)
			}
		}
		if f.def != "" {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(f.def), &n); err != nil {
				t.Errorf("%s: default %q: %v", p, f.def, err)
			}
		}
		switch f.kind {
		case kObject:
			paths = append(paths, checkObject(t, f.obj, sf.Type(), p, false)...)
		case kStages:
			for _, s := range stageSpecs() {
				paths = append(paths, checkObject(t, s.obj, reflect.TypeFor[Stage](), p+"[]."+string(s.kind), false)...)
			}
		case kFaults:
			paths = append(paths, checkObject(t, faultSpec(), reflect.TypeFor[Fault](), p+"[]", true)...)
		}
	}
	sort.Strings(keys)
	if !open && typ != reflect.TypeFor[Stage]() && !slices.Equal(keys, yamlTags(typ)) {
		t.Errorf("%s: table keys %v, Go yaml tags %v", path, keys, yamlTags(typ))
	}
	return paths
}

func TestKeyTableMatchesGoTypes(t *testing.T) {
	tablePaths(t)
	// Stage's keys are split between the kinds; together they are all of them.
	var all []string
	for _, s := range stageSpecs() {
		for _, k := range s.obj.keys() {
			if !slices.Contains(all, k) {
				all = append(all, k)
			}
		}
	}
	sort.Strings(all)
	if want := yamlTags(reflect.TypeFor[Stage]()); !slices.Equal(all, want) {
		t.Errorf("stage kinds' keys %v, Stage's yaml tags %v", all, want)
	}
	if got, want := faultSpec().keys(), yamlTags(reflect.TypeFor[Fault]()); !slices.Equal(sorted(got), want) {
		t.Errorf("fault keys %v, Fault's yaml tags %v", got, want)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

// tablePaths is every key path the loader accepts, e.g. "slo.latency",
// "stages[].ramp.to", "faults[].kind".
func tablePaths(t *testing.T) []string {
	return sorted(checkObject(t, scenarioSpec(), reflect.TypeFor[Scenario](), "", false))
}

// checkKeys walks a YAML file against the key table alone (not the
// loader), and reports keys the table does not have.
func checkKeys(n *yaml.Node, obj *object, path string, bad *[]string) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		f := obj.lookup(k)
		if f == nil {
			*bad = append(*bad, join(path, k))
			continue
		}
		switch f.kind {
		case kObject:
			checkKeys(v, f.obj, join(path, k), bad)
		case kStages:
			for _, item := range v.Content {
				for j := 0; j+1 < len(item.Content); j += 2 {
					if s := stageSpecFor(item.Content[j].Value); s != nil {
						checkKeys(item.Content[j+1], s.obj, "stages[]."+item.Content[j].Value, bad)
					} else {
						*bad = append(*bad, "stages[]."+item.Content[j].Value)
					}
				}
			}
		}
	}
}

func TestExamplesUseOnlyTableKeys(t *testing.T) {
	for _, name := range Examples() {
		data, _ := Example(name)
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var bad []string
		checkKeys(doc.Content[0], scenarioSpec(), "", &bad)
		if len(bad) > 0 {
			t.Errorf("%s uses keys outside the table: %v", name, bad)
		}
	}
}
