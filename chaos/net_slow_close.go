package chaos

// net.slow_close delays the close of each connection by delay.
// params: path, direction, delay (duration, required), toxicity.
func buildSlowClose(env *Env, raw map[string]any) (Fault, error) {
	p := newParams("net.slow_close", raw)
	path, stream := readPath(p, true)
	delay := p.Duration("delay", 0, true)
	return newToxic(p, env, "slow_close", path, stream, map[string]int64{"delay": millis(p, "delay", delay)})
}
