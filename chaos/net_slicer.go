package chaos

import "time"

// net.slicer cuts data into small packets of average_size ± size_variation
// bytes, delay apart.
// params: path, direction, average_size (bytes, required), size_variation
// (bytes), delay (duration, whole microseconds), toxicity.
func buildSlicer(env *Env, raw map[string]any) (Fault, error) {
	p := newParams("net.slicer", raw)
	path, stream := readPath(p, true)
	avg := p.Int("average_size", 0, true)
	variation := p.Int("size_variation", 0, false)
	delay := p.Duration("delay", 0, false)
	p.check(avg < 1, "average_size", "want bytes, at least 1, got %d", avg)
	p.check(variation < 0 || variation >= avg && avg > 0, "size_variation", "want 0 up to average_size-1 (%d), got %d", avg-1, variation)
	p.check(delay%time.Microsecond != 0, "delay", "Toxiproxy counts slicer delay in whole microseconds, got %s", delay)
	return newToxic(p, env, "slicer", path, stream, map[string]int64{
		"average_size":   int64(avg),
		"size_variation": int64(variation),
		"delay":          delay.Microseconds(),
	})
}
