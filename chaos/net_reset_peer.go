package chaos

// net.reset_peer resets connections (TCP RST) after timeout; 0 (the
// default) resets at once.
// params: path, direction, timeout (duration), toxicity.
func buildResetPeer(env *Env, raw map[string]any) (Fault, error) {
	p := newParams("net.reset_peer", raw)
	path, stream := readPath(p, true)
	timeout := p.Duration("timeout", 0, false)
	return newToxic(p, env, "reset_peer", path, stream, map[string]int64{"timeout": millis(p, "timeout", timeout)})
}
