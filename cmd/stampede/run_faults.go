package main

import (
	"context"
	"strings"
	"time"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/engine"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// FaultHook runs a fault schedule on the run's clock as an engine Hook;
// stopping it reverts whatever is still in force.
type FaultHook struct {
	items  []chaos.Scheduled
	runner *chaos.Runner
}

// NewFaultHook schedules the set's faults.
func NewFaultHook(fs *scenarios.FaultSet) *FaultHook { return &FaultHook{items: fs.Items} }

// Start begins the schedule; its events go to the run's timeline.
func (h *FaultHook) Start(ctx context.Context, sink engine.Sink, start time.Time) error {
	if len(h.items) > 0 {
		h.runner = chaos.StartSchedule(ctx, start, h.items, faultEvents{sink})
	}
	return nil
}

// Stop reverts every fault still in force.
func (h *FaultHook) Stop(ctx context.Context) error {
	if h.runner == nil {
		return nil
	}
	return h.runner.Stop(ctx)
}

// Interrupt reverts every fault at once when the run stops sending early,
// so that requests a fault holds up can drain; Stop afterwards is harmless.
func (h *FaultHook) Interrupt(ctx context.Context) error { return h.Stop(ctx) }

// Status names the faults in force, for the live display.
func (h *FaultHook) Status() string {
	if h.runner == nil {
		return ""
	}
	names := h.runner.ActiveNames()
	if len(names) == 0 {
		return ""
	}
	return "faults: " + strings.Join(names, ", ")
}

// faultEvents writes the chaos runner's events to the timeline as the
// contract's typed fault events.
type faultEvents struct{ sink engine.Sink }

func (f faultEvents) Event(typ string, at time.Time, fields map[string]any) {
	f.sink.Record(faultEvent(typ, fields), at)
}

// faultEvent reads the fields chaos.Runner puts in its events (see its
// fields and emit) into a rundir.FaultEvent.
func faultEvent(typ string, m map[string]any) rundir.FaultEvent {
	ev := rundir.FaultEvent{Type: typ}
	if i, ok := m["index"].(int); ok {
		ev.Index = &i
	}
	ev.Fault, _ = m["fault"].(string)
	ev.Kind, _ = m["kind"].(string)
	ev.Params, _ = m["params"].(map[string]any)
	if v, ok := m["start_s"].(float64); ok {
		ev.StartS = &v
	}
	if v, ok := m["end_s"].(float64); ok {
		ev.EndS = &v
	}
	if v, ok := m["ok"].(bool); ok {
		ev.OK = &v
	}
	ev.Error, _ = m["error"].(string)
	ev.Reason, _ = m["reason"].(string)
	ev.ElapsedS, _ = m["elapsed_s"].(float64)
	ev.TookMS, _ = m["took_ms"].(float64)
	return ev
}
