package main

import (
	"context"
	"strings"
	"time"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/engine"
)

// FaultHook runs a fault schedule on the run's clock as a Hook; stopping
// it reverts whatever is still in force.
type FaultHook struct {
	items  []chaos.Scheduled
	runner *chaos.Runner
}

// NewFaultHook schedules the set's faults.
func NewFaultHook(fs *scenarios.FaultSet) *FaultHook { return &FaultHook{items: fs.Items} }

// Start begins the schedule.
func (h *FaultHook) Start(ctx context.Context, sink engine.EventSink, start time.Time) error {
	if len(h.items) > 0 {
		h.runner = chaos.StartSchedule(ctx, start, h.items, sink)
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
