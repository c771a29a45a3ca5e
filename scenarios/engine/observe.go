package engine

import (
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
)

// Observer watches a run while it is recorded (live metrics). It sees
// each result once recorded, each timeline event, and the live figures.
type Observer interface {
	// Result is called for every result, in order, from one goroutine,
	// on the hot path: it must be cheap and must not block.
	Result(o Observation)
	// Event is called with each timeline event as it is recorded, from
	// any goroutine.
	Event(ev rundir.Event, at time.Time)
	// Live is called with the live figures, four times a second.
	Live(l Live)
}

// Observation is what an Observer learns of one result.
type Observation struct {
	Stage   int
	Outcome rundir.Outcome
	// ErrorClass is the transport's class of a failure before any
	// response (an Err* class); "" when a response came.
	ErrorClass string
	Code       uint16
	// Latency is measured from the actual send; SendLag is how late the
	// send was against its planned time (Latency+SendLag: from the
	// intended send, corrected for coordinated omission).
	Latency, SendLag time.Duration
}
