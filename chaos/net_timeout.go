package chaos

// net.timeout stops all data and closes the connection after timeout;
// 0 (the default) stalls it until the fault ends.
// params: path, direction, timeout (duration), toxicity.
func buildTimeout(env *Env, raw map[string]any) (Fault, error) {
	p := newParams("net.timeout", raw)
	path, stream := readPath(p, true)
	timeout := p.Duration("timeout", 0, false)
	return newToxic(p, env, "timeout", path, stream, map[string]int64{"timeout": millis(p, "timeout", timeout)})
}
