package chaos

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// ParamError is a bad fault parameter: unknown, missing, wrong-typed or
// out of range. Key names it.
type ParamError struct {
	Kind string
	Key  string
	Err  error
}

func (e *ParamError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("chaos: %s: %v", e.Kind, e.Err)
	}
	return fmt.Sprintf("chaos: %s: %s: %v", e.Kind, e.Key, e.Err)
}

func (e *ParamError) Unwrap() error { return e.Err }

// paramReader reads a fault's raw params (as the scenario loader decodes
// YAML: string, int, float64, bool) and collects every problem, so that a
// builder reads its keys in order and checks once at the end.
type paramReader struct {
	kind string
	raw  map[string]any
	used map[string]bool
	errs []error
	out  described
}

func newParams(kind string, raw map[string]any) *paramReader {
	return &paramReader{kind: kind, raw: raw, used: map[string]bool{}, out: described{kind: kind}}
}

func (p *paramReader) fail(key, format string, a ...any) {
	p.errs = append(p.errs, &ParamError{Kind: p.kind, Key: key, Err: fmt.Errorf(format, a...)})
}

func (p *paramReader) get(key string) (any, bool) {
	p.used[key] = true
	v, ok := p.raw[key]
	if ok && v == nil {
		return nil, false // `key:` with no value means the default
	}
	return v, ok
}

func (p *paramReader) show(key string, v any) { p.out.params = append(p.out.params, param{key, v}) }

// Int reads an integer; required means there is no default.
func (p *paramReader) Int(key string, def int, required bool) int {
	v, ok := p.get(key)
	if !ok {
		if required {
			p.fail(key, "required (an integer)")
		}
		p.show(key, def)
		return def
	}
	n, good := 0, false
	switch x := v.(type) {
	case int:
		n, good = x, true
	case int64:
		n, good = int(x), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			n, good = int(x), true
		}
	}
	if !good {
		p.fail(key, "want an integer, got %s", describeValue(v))
		return def
	}
	p.show(key, n)
	return n
}

// Float reads a number.
func (p *paramReader) Float(key string, def float64) float64 {
	v, ok := p.get(key)
	if !ok {
		p.show(key, def)
		return def
	}
	var f float64
	switch x := v.(type) {
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case float64:
		f = x
	default:
		p.fail(key, "want a number, got %s", describeValue(v))
		return def
	}
	p.show(key, f)
	return f
}

// String reads a string.
func (p *paramReader) String(key, def string, required bool) string {
	v, ok := p.get(key)
	if !ok {
		if required {
			p.fail(key, "required (a string)")
		}
		if def != "" {
			p.show(key, def)
		}
		return def
	}
	s, good := v.(string)
	if !good {
		p.fail(key, "want a string, got %s", describeValue(v))
		return def
	}
	p.show(key, s)
	return s
}

// Bool reads true or false.
func (p *paramReader) Bool(key string, def bool) bool {
	v, ok := p.get(key)
	if !ok {
		p.show(key, def)
		return def
	}
	b, good := v.(bool)
	if !good {
		p.fail(key, "want true or false, got %s", describeValue(v))
		return def
	}
	p.show(key, b)
	return b
}

// Duration reads a duration written with its unit ("100ms", "2s"). A bare
// number is refused: its unit would be a guess.
func (p *paramReader) Duration(key string, def time.Duration, required bool) time.Duration {
	v, ok := p.get(key)
	if !ok {
		if required {
			p.fail(key, "required (a duration such as 100ms)")
		}
		p.show(key, def)
		return def
	}
	var d time.Duration
	switch x := v.(type) {
	case time.Duration:
		d = x
	case string:
		var err error
		if d, err = time.ParseDuration(x); err != nil {
			p.fail(key, "want a duration such as 100ms or 2s, got %q", x)
			return def
		}
	case int, int64, float64:
		if fmt.Sprint(x) != "0" { // a bare 0 needs no unit
			p.fail(key, "want a duration with its unit, such as %vms or %vs, got the bare number %v", x, x, x)
			return def
		}
	default:
		p.fail(key, "want a duration such as 100ms, got %s", describeValue(v))
		return def
	}
	if d < 0 {
		p.fail(key, "must not be negative, got %s", d)
		return def
	}
	p.show(key, d)
	return d
}

// check adds an error about key when bad holds.
func (p *paramReader) check(bad bool, key, format string, a ...any) {
	if bad {
		p.fail(key, format, a...)
	}
}

// Done reports unknown keys and every error collected, joined.
func (p *paramReader) Done() error {
	var unknown []string
	for k := range p.raw {
		if !p.used[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		known := make([]string, 0, len(p.used))
		for k := range p.used {
			known = append(known, k)
		}
		sort.Strings(known)
		for _, k := range unknown {
			p.fail(k, "unknown parameter (%s takes %s)", p.kind, strings.Join(known, ", "))
		}
	}
	return errors.Join(p.errs...)
}

func describeValue(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("the text %q", x)
	case bool:
		return fmt.Sprintf("%v", x)
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	default:
		return fmt.Sprintf("%v (%T)", x, x)
	}
}
