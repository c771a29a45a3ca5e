package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles writes profiles of this process for `go tool pprof`, as a
// user's run behaves (its own process, the real CLI): a CPU profile to
// $STAMPEDE_CPUPROFILE, and a profile of the allocations made to
// $STAMPEDE_MEMPROFILE at the end, every one of them counted (exact
// allocations per request, at the price of a slower run). Neither is set
// in normal use; stop writes them out.
func startProfiles(e *env) (stop func()) {
	var stops []func()
	if p := e.getenv("STAMPEDE_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "stampede: STAMPEDE_CPUPROFILE: %v\n", err)
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if p := e.getenv("STAMPEDE_MEMPROFILE"); p != "" {
		runtime.MemProfileRate = 1
		stops = append(stops, func() {
			f, err := os.Create(p)
			if err == nil {
				runtime.GC()
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
			if err != nil {
				fmt.Fprintf(e.stderr, "stampede: STAMPEDE_MEMPROFILE: %v\n", err)
			}
		})
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
