package scenarios

import (
	"fmt"
	"net/url"
	"strings"
)

// JoinURL resolves a scenario path (login.path, a preflight's or a
// follow-up's path, a probe's) against the target URL, by net/url's rules:
// the path is appended to the target's base path, a query on either is
// kept (the path's value wins for a key both name), escapes are kept as
// written (nothing is escaped twice) and a fragment is dropped.
//
//	JoinURL(http://h:8080/api?tenant=a, /token?grant_type=password)
//	  = http://h:8080/api/token?tenant=a&grant_type=password
func JoinURL(base *url.URL, ref string) (*url.URL, error) {
	r, err := parsePathRef(ref)
	if err != nil {
		return nil, err
	}
	u := *base
	u.Fragment, u.RawFragment, u.User = "", "", base.User
	escaped := strings.TrimRight(base.EscapedPath(), "/") + r.EscapedPath()
	p, err := url.PathUnescape(escaped)
	if err != nil {
		return nil, fmt.Errorf("path %q: %w", ref, err)
	}
	u.Path, u.RawPath = p, ""
	if escaped != u.EscapedPath() { // keep escapes such as %2F as written
		u.RawPath = escaped
	}
	u.RawQuery = mergeQuery(base.RawQuery, r.RawQuery)
	u.ForceQuery = false
	return &u, nil
}

// parsePathRef checks that ref is an absolute path with an optional query:
// no scheme, no host, no fragment.
func parsePathRef(ref string) (*url.URL, error) {
	if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
		return nil, fmt.Errorf("path %q must start with a single /", ref)
	}
	r, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("path %q: %w", ref, err)
	}
	if r.Scheme != "" || r.Host != "" || r.Fragment != "" {
		return nil, fmt.Errorf("path %q: a path and an optional query only (no scheme, host or #fragment)", ref)
	}
	return r, nil
}

// mergeQuery appends ref's raw query to base's, dropping base's pairs for
// the keys ref sets; each pair stays as it was written.
func mergeQuery(base, ref string) string {
	if base == "" || ref == "" {
		return base + ref
	}
	set := map[string]bool{}
	for _, kv := range strings.Split(ref, "&") {
		set[queryKey(kv)] = true
	}
	var out []string
	for _, kv := range strings.Split(base, "&") {
		if kv != "" && !set[queryKey(kv)] {
			out = append(out, kv)
		}
	}
	return strings.Join(append(out, ref), "&")
}

func queryKey(kv string) string {
	k, _, _ := strings.Cut(kv, "=")
	if u, err := url.QueryUnescape(k); err == nil {
		return u
	}
	return k
}
