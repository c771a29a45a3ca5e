package main

import "runtime/debug"

// A load generator allocates a few kilobytes per request (net/http's
// request, response and headers, vegeta's result) while it keeps only a
// few megabytes alive: with Go's default GOGC of 100 the collector ran
// about 35 times a second at full load, and took a tenth of the
// generator's CPU per request, CPU that a target on the same machine (a
// loopback benchmark, the bundled fixture) then lacked. At gcPercent the
// collector runs about four times less often, for a heap of some tens of
// megabytes; gcMemoryLimit bounds the heap whatever the run, the collector
// working harder as it nears the limit, and is far above what a run needs
// (its analysis streams the results into bounded histograms).
const (
	gcPercent     = 400
	gcMemoryLimit = 1 << 30
)

// tuneGC sets the collector for load generation, unless the user has
// set GOGC or GOMEMLIMIT, which then rule as usual.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(gcMemoryLimit)
	}
}
