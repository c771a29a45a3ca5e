package chaos

// net.limit_data closes each connection after it has carried bytes.
// params: path, direction, bytes (required, at least 1), toxicity.
func buildLimitData(env *Env, raw map[string]any) (Fault, error) {
	p := newParams("net.limit_data", raw)
	path, stream := readPath(p, true)
	n := p.Int("bytes", 0, true)
	p.check(n < 1, "bytes", "want at least 1, got %d", n)
	return newToxic(p, env, "limit_data", path, stream, map[string]int64{"bytes": int64(n)})
}
