package scenarios

import (
	"encoding/json"
	"fmt"

	"gopkg.in/yaml.v3"
)

// durationPattern matches the Go duration strings the loader accepts for
// its (never negative) durations: "10s", "250ms", "1m30s", "0".
const durationPattern = `^\+?((([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+|0)$`

// JSONSchema returns the JSON Schema (draft 2020-12) of scenario files,
// rendered from the same key table the loader checks files against. Some
// rules span several keys (steps' to >= from, max_rate, a spike within its
// stage) or need the file system (credentials.file); only Load checks those.
func JSONSchema() ([]byte, error) {
	root, err := objectSchema(scenarioSpec(), false)
	if err != nil {
		return nil, err
	}
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = "https://github.com/stampede-load/stampede/scenarios/scenario.schema.json"
	root["title"] = "stampede scenario"
	out, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("scenarios: render JSON schema: %w", err)
	}
	return append(out, '\n'), nil
}

// objectSchema renders o; open objects accept keys beyond o's (a fault's
// parameters).
func objectSchema(o *object, open bool) (map[string]any, error) {
	props := map[string]any{}
	var required []string
	for i := range o.fields {
		f := &o.fields[i]
		s, err := fieldSchema(f)
		if err != nil {
			return nil, err
		}
		props[f.key] = s
		if f.required {
			required = append(required, f.key)
		}
	}
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": open}
	if o.desc != "" {
		s["description"] = o.desc
	}
	if len(required) > 0 {
		s["required"] = required
	}
	return s, nil
}

func fieldSchema(f *field) (map[string]any, error) {
	var s map[string]any
	switch f.kind {
	case kString:
		s = map[string]any{"type": "string"}
	case kEnum:
		s = map[string]any{"type": "string", "enum": f.enum}
	case kURL:
		s = map[string]any{"type": "string", "format": "uri", "pattern": "^https?://[^/?#]+"}
	case kInt:
		s = map[string]any{"type": "integer"}
	case kUint:
		s = map[string]any{"type": "integer", "minimum": 0}
	case kFloat:
		s = map[string]any{"type": "number"}
	case kBool:
		s = map[string]any{"type": "boolean"}
	case kDuration:
		s = map[string]any{"type": "string", "pattern": durationPattern}
	case kStatusList:
		s = map[string]any{"type": "array", "minItems": 1,
			"items": map[string]any{"type": "integer", "minimum": 100, "maximum": 599}}
	case kStringMap:
		s = map[string]any{"type": "object",
			"additionalProperties": map[string]any{"type": []string{"string", "number", "boolean"}}}
	case kObject:
		o, err := objectSchema(f.obj, false)
		if err != nil {
			return nil, err
		}
		s = o
	case kStages:
		var variants []any
		for _, spec := range stageSpecs() {
			body, err := objectSchema(spec.obj, false)
			if err != nil {
				return nil, err
			}
			body["description"] = spec.desc
			variants = append(variants, map[string]any{
				"type":                 "object",
				"description":          fmt.Sprintf("A %s stage.", spec.kind),
				"properties":           map[string]any{string(spec.kind): body},
				"required":             []string{string(spec.kind)},
				"additionalProperties": false,
			})
		}
		s = map[string]any{"type": "array", "minItems": 1, "items": map[string]any{"oneOf": variants}}
	case kFaults:
		item, err := objectSchema(faultSpec(), true)
		if err != nil {
			return nil, err
		}
		s = map[string]any{"type": "array", "items": item}
	default:
		return nil, fmt.Errorf("scenarios: schema: key %q has an unknown kind", f.key)
	}
	if f.pattern != "" {
		s["pattern"] = f.pattern
	}
	if f.kind == kInt || f.kind == kUint || f.kind == kFloat {
		if b := f.min; b.set && b.excl {
			s["exclusiveMinimum"] = b.v
		} else if b.set {
			s["minimum"] = b.v
		}
		if b := f.max; b.set && b.excl {
			s["exclusiveMaximum"] = b.v
		} else if b.set {
			s["maximum"] = b.v
		}
	}
	desc := f.desc
	if desc == "" && f.obj != nil {
		desc = f.obj.desc
	}
	s["description"] = desc
	if f.def != "" {
		var def any
		if err := yaml.Unmarshal([]byte(f.def), &def); err != nil {
			return nil, fmt.Errorf("scenarios: schema: default of %q: %w", f.key, err)
		}
		s["default"] = def
	}
	return s, nil
}
