package engine

import (
	"encoding/json"
	"fmt"
	"strings"
)

// JSON APIs often nest their fields ({"user": {"email": ..., "password": ...}},
// {"data": {"access_token": ...}}): in a JSON body, and in json_field rules,
// a dotted name is a path. A name present as it is, dots and all, at the
// top level is taken as it is.

// jsonLookup finds the field name in m: the name itself at the top level,
// else the dotted path.
func jsonLookup(m map[string]any, name string) (any, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	var cur any = m
	for _, part := range strings.Split(name, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// hasJSONField reports whether body is a JSON object with the field f
// (top-level, or a dotted path).
func hasJSONField(body []byte, f string) bool {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return false
	}
	_, ok := jsonLookup(m, f)
	return ok
}

// jsonString is the string at field f of a JSON body, "" if none.
func jsonString(body []byte, f string) string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	v, _ := jsonLookup(m, f)
	s, _ := v.(string)
	return s
}

// setJSONPath sets the field name of a JSON body to v; a dotted name
// nests ("user.email" → {"user": {"email": v}}). A name that is both a
// value and an object is an error.
func setJSONPath(m map[string]any, name string, v any) error {
	parts := strings.Split(name, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p]
		if !ok {
			child := map[string]any{}
			m[p], m = child, child
			continue
		}
		child, isObj := next.(map[string]any)
		if !isObj {
			return fmt.Errorf("login body: field %q is a value and holds %q too", p, name)
		}
		m = child
	}
	last := parts[len(parts)-1]
	if _, isObj := m[last].(map[string]any); isObj {
		return fmt.Errorf("login body: field %q is an object and a value", name)
	}
	m[last] = v
	return nil
}
