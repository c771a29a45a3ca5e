package chaos

// net.bandwidth caps each connection's throughput.
// params: path, direction, rate (KB/s, required, at least 1), toxicity.
func buildBandwidth(env *Env, raw map[string]any) (Fault, error) {
	p := newParams("net.bandwidth", raw)
	path, stream := readPath(p, true)
	rate := p.Int("rate", 0, true)
	p.check(rate < 1, "rate", "want KB/s, at least 1, got %d", rate)
	return newToxic(p, env, "bandwidth", path, stream, map[string]int64{"rate": int64(rate)})
}
