package scenarios

import (
	"fmt"
	"math"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder walks a yaml.Node tree against the key table (fields.go) and
// fills a Scenario, collecting every problem instead of stopping at one.
type decoder struct {
	file   string
	errs   LoadErrors
	budget int // nodes left to visit
	// nodes holds the value node of every key decoded, by path
	// ("stages[1].ramp.to"), so later checks can point at it.
	nodes map[string]*yaml.Node
	// stagesOK is set when the stages decoded without a problem, so checks
	// that need their total length can run.
	stagesOK bool
	tooDeep  bool // a fault parameter nested too deeply, reported once
}

func (d *decoder) errorAt(line, col int, format string, a ...any) {
	d.errs = append(d.errs, &LoadError{File: d.file, Line: max(line, 1), Col: max(col, 1), Msg: fmt.Sprintf(format, a...)})
}

func (d *decoder) errorf(n *yaml.Node, format string, a ...any) {
	line, col := 1, 1
	if n != nil {
		line, col = n.Line, n.Column
	}
	d.errorAt(line, col, format, a...)
}

// resolve follows aliases and counts the node against the budget; it
// returns nil (after recording why) when the budget is spent.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 100 || n.Alias == nil {
			d.errorf(n, "alias *%s cannot be resolved; write the value out", n.Value)
			return nil
		}
		n = n.Alias
	}
	d.budget--
	if d.budget == 0 {
		d.errorf(n, "the file expands to more than %d values (aliases?); write a smaller scenario", maxNodes)
	}
	if d.budget <= 0 {
		return nil
	}
	return n
}

func valueOf(s *Scenario) reflect.Value { return reflect.ValueOf(s).Elem() }

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// describe names what a node is, for "got ..." messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.ShortTag() {
	case "!!null":
		return "nothing"
	case "!!str":
		return strconv.Quote(n.Value)
	case "!!int", "!!float":
		return "the number " + n.Value
	case "!!bool":
		return n.Value
	}
	return n.Value
}

// structField finds the field of struct v whose yaml tag is key.
func structField(v reflect.Value, key string) (reflect.Value, bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag == key {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// decodeObject decodes map node n into struct dst following obj: unknown
// and duplicate keys are errors, missing required keys are errors, absent
// keys get their defaults.
func (d *decoder) decodeObject(n *yaml.Node, obj *object, dst reflect.Value, path string) {
	d.decodeFields(n, obj, dst, path, nil)
}

// decodeFields is decodeObject that, with a non-nil rest, keeps unknown
// keys there (decoded as plain values) instead of rejecting them.
func (d *decoder) decodeFields(n *yaml.Node, obj *object, dst reflect.Value, path string, rest map[string]any) {
	where := "at the top level"
	if path != "" {
		where = "in " + path
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], d.resolve(n.Content[i+1])
		if v == nil {
			return
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			d.errorf(k, "keys %s must be plain words (merge keys << and complex keys are not supported); allowed: %s", where, strings.Join(obj.keys(), ", "))
			continue
		}
		if seen[k.Value] {
			d.errorf(k, "%s is set twice; keep one", join(path, k.Value))
			continue
		}
		seen[k.Value] = true
		f := obj.lookup(k.Value)
		if f == nil && rest != nil {
			rest[k.Value] = d.decodeAny(v, join(path, k.Value), 1)
			continue
		}
		if f == nil {
			d.unknownKey(k, where, obj.keys())
			continue
		}
		sf, ok := structField(dst, f.key)
		if !ok { // the table and the Go type disagree; a test guards against it
			d.errorf(k, "internal error: %s has no Go field", join(path, f.key))
			continue
		}
		d.nodes[join(path, f.key)] = v
		d.decodeValue(v, f, sf, join(path, f.key))
	}
	for i := range obj.fields {
		f := &obj.fields[i]
		if seen[f.key] {
			continue
		}
		sf, ok := structField(dst, f.key)
		switch {
		case !ok:
		case f.required:
			owner := path
			if owner == "" {
				owner = "the scenario"
			}
			d.errorf(n, "%s is missing %s; add e.g. %s", owner, f.key, exampleFor(f))
		case f.def != "":
			var def yaml.Node
			if err := yaml.Unmarshal([]byte(f.def), &def); err == nil && len(def.Content) == 1 {
				d.decodeValue(def.Content[0], f, sf, join(path, f.key))
			}
		case f.kind == kObject && sf.Kind() == reflect.Struct:
			// Absent plain objects still get their own keys' defaults.
			d.decodeObject(&yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}, f.obj, sf, join(path, f.key))
		}
	}
}

func (d *decoder) unknownKey(k *yaml.Node, where string, allowed []string) {
	msg := fmt.Sprintf("unknown key %q %s; allowed: %s", k.Value, where, strings.Join(allowed, ", "))
	if s := nearest(k.Value, allowed); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	d.errorf(k, "%s", msg)
}

// exampleFor is a "key: value" line to suggest for f.
func exampleFor(f *field) string {
	switch {
	case f.example != "":
		return f.key + ": " + f.example
	case f.def != "":
		return f.key + ": " + f.def
	case len(f.enum) > 0:
		return f.key + ": " + f.enum[0]
	case f.kind == kStages:
		return "stages:\n  - constant: {rate: 20, for: 10s}"
	}
	return f.key + ": ..."
}

// decodeValue decodes v into dst (allocating pointers) following f.
func (d *decoder) decodeValue(v *yaml.Node, f *field, dst reflect.Value, path string) {
	if isNull(v) {
		d.errorf(v, "%s has no value; write e.g. %s, or remove the key", path, exampleFor(f))
		return
	}
	if dst.Kind() == reflect.Pointer {
		p := reflect.New(dst.Type().Elem())
		dst.Set(p)
		dst = p.Elem()
	}
	switch f.kind {
	case kObject:
		if v.Kind != yaml.MappingNode {
			d.errorf(v, "%s must be a map of keys (%s), got %s", path, strings.Join(f.obj.keys(), ", "), describe(v))
			return
		}
		d.decodeObject(v, f.obj, dst, path)
	case kStages:
		d.decodeStages(v, dst.Addr().Interface().(*[]Stage), path)
	case kFaults:
		d.decodeFaults(v, dst.Addr().Interface().(*[]Fault), path)
	case kStatusList:
		d.decodeStatusList(v, f, dst, path)
	case kStringMap:
		d.decodeStringMap(v, dst, path)
	default:
		d.decodeScalar(v, f, dst, path)
	}
}

func (d *decoder) decodeScalar(v *yaml.Node, f *field, dst reflect.Value, path string) {
	if v.Kind != yaml.ScalarNode {
		d.errorf(v, "%s must be a single value, got %s; write e.g. %s", path, describe(v), exampleFor(f))
		return
	}
	tag := v.ShortTag()
	wrong := func(want string) {
		d.errorf(v, "%s must be %s, got %s; write e.g. %s", path, want, describe(v), exampleFor(f))
	}
	switch f.kind {
	case kString, kEnum, kURL:
		s := v.Value
		switch {
		case tag != "!!str":
			d.errorf(v, "%s must be text, got %s; quote it if it is meant as text (%s: \"%s\")", path, describe(v), f.key, v.Value)
			return
		case f.kind == kEnum && !slices.Contains(f.enum, s):
			msg := fmt.Sprintf("%s must be one of %s, got %s", path, strings.Join(f.enum, ", "), describe(v))
			if near := nearest(s, f.enum); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			} else {
				msg += "; write e.g. " + exampleFor(f)
			}
			d.errorf(v, "%s", msg)
			return
		case f.kind == kURL:
			if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				d.errorf(v, "%s must be an http or https URL with a host, got %s; write e.g. %s", path, describe(v), exampleFor(f))
				return
			}
		case f.pattern != "" && !regexp.MustCompile(f.pattern).MatchString(s):
			d.errorf(v, "%s must match %s, got %s; write e.g. %s", path, f.pattern, describe(v), exampleFor(f))
			return
		}
		dst.SetString(s)
	case kBool:
		var b bool
		if tag != "!!bool" || v.Decode(&b) != nil {
			wrong("true or false")
			return
		}
		dst.SetBool(b)
	case kInt, kUint:
		var i int64
		if tag != "!!int" || v.Decode(&i) != nil {
			wrong("a whole number")
			return
		}
		if !d.inBounds(v, f, float64(i), path, v.Value) {
			return
		}
		if f.kind == kUint {
			if i < 0 {
				wrong("a whole number >= 0")
				return
			}
			dst.SetUint(uint64(i))
		} else {
			dst.SetInt(i)
		}
	case kFloat:
		var x float64
		if (tag != "!!int" && tag != "!!float") || v.Decode(&x) != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			wrong("a number")
			return
		}
		if d.inBounds(v, f, x, path, v.Value) {
			dst.SetFloat(x)
		}
	case kDuration:
		if _, err := strconv.ParseFloat(v.Value, 64); err == nil || tag == "!!int" || tag == "!!float" {
			d.errorf(v, "%s: %s is a bare number; write a duration with a unit, e.g. %q", path, v.Value, bareDuration(v.Value))
			return
		}
		dur, err := time.ParseDuration(v.Value)
		if tag != "!!str" || err != nil {
			wrong(`a duration such as "10s", "250ms" or "1m30s"`)
			return
		}
		if d.inBounds(v, f, dur.Seconds(), path, dur.String()) {
			dst.SetInt(int64(dur))
		}
	default:
		d.errorf(v, "internal error: %s has an unknown kind", path)
	}
}

// bareDuration suggests a duration for a bare number: 10 → "10s".
func bareDuration(n string) string {
	if x, err := strconv.ParseFloat(n, 64); err == nil && x > 0 && x < 1e6 {
		return strconv.FormatFloat(x, 'f', -1, 64) + "s"
	}
	return "10s"
}

// inBounds checks x against f's range, recording an error when outside.
func (d *decoder) inBounds(v *yaml.Node, f *field, x float64, path, shown string) bool {
	ok := true
	if b := f.min; b.set && (x < b.v || (b.excl && x == b.v)) {
		ok = false
	}
	if b := f.max; b.set && (x > b.v || (b.excl && x == b.v)) {
		ok = false
	}
	if !ok {
		d.errorf(v, "%s must be %s, got %s; write e.g. %s", path, rangeText(f), shown, exampleFor(f))
	}
	return ok
}

// rangeText says f's allowed range in words, e.g. "> 0" or "within (0, 1]".
func rangeText(f *field) string {
	num := func(x float64) string {
		if f.kind == kDuration {
			return time.Duration(x * float64(time.Second)).String()
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	lo, hi := f.min, f.max
	switch {
	case lo.set && hi.set:
		l, r := "[", "]"
		if lo.excl {
			l = "("
		}
		if hi.excl {
			r = ")"
		}
		return fmt.Sprintf("within %s%s, %s%s", l, num(lo.v), num(hi.v), r)
	case lo.set && lo.excl:
		return "> " + num(lo.v)
	case lo.set:
		return ">= " + num(lo.v)
	case hi.set && hi.excl:
		return "< " + num(hi.v)
	case hi.set:
		return "<= " + num(hi.v)
	}
	return "valid"
}

func (d *decoder) decodeStatusList(v *yaml.Node, f *field, dst reflect.Value, path string) {
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		d.errorf(v, "%s must be a list of HTTP status codes, got %s; write e.g. %s", path, describe(v), exampleFor(f))
		return
	}
	codes := make([]int, 0, len(v.Content))
	for _, c := range v.Content {
		if c = d.resolve(c); c == nil {
			return
		}
		var code int
		if c.Kind != yaml.ScalarNode || c.ShortTag() != "!!int" || c.Decode(&code) != nil || code < 100 || code > 599 {
			d.errorf(c, "%s: %s is not an HTTP status code; write codes from 100 to 599, e.g. %s", path, describe(c), exampleFor(f))
			continue
		}
		codes = append(codes, code)
	}
	dst.Set(reflect.ValueOf(codes))
}

func (d *decoder) decodeStringMap(v *yaml.Node, dst reflect.Value, path string) {
	if v.Kind != yaml.MappingNode {
		d.errorf(v, "%s must be a map of names to values, got %s; write e.g. %s: {X-Client: stampede}", path, describe(v), path[strings.LastIndex(path, ".")+1:])
		return
	}
	m := map[string]string{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], d.resolve(v.Content[i+1])
		if val == nil {
			return
		}
		switch {
		case k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge":
			d.errorf(k, "%s: names must be plain text", path)
		case val.Kind != yaml.ScalarNode || isNull(val):
			d.errorf(val, "%s.%s must be a single value, got %s; quote it if it is text", path, k.Value, describe(val))
		default:
			if _, dup := m[k.Value]; dup {
				d.errorf(k, "%s.%s is set twice; keep one", path, k.Value)
			}
			m[k.Value] = val.Value
		}
	}
	dst.Set(reflect.ValueOf(m))
}
