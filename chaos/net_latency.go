package chaos

// net.latency delays data by latency ± jitter.
// params: path, direction, latency (duration, required), jitter (duration), toxicity.
func buildLatency(env *Env, raw map[string]any) (Fault, error) {
	p := newParams("net.latency", raw)
	path, stream := readPath(p, true)
	latency := p.Duration("latency", 0, true)
	jitter := p.Duration("jitter", 0, false)
	p.check(jitter > latency, "jitter", "must not exceed latency (%s), got %s", latency, jitter)
	return newToxic(p, env, "latency", path, stream, map[string]int64{
		"latency": millis(p, "latency", latency),
		"jitter":  millis(p, "jitter", jitter),
	})
}
