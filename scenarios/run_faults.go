package scenarios

import (
	"context"
	"strings"
	"time"

	"github.com/stampede-load/stampede/chaos"
)

// FaultSet is a scenario's faults, built and ready to schedule.
type FaultSet struct {
	Items  []chaos.Scheduled
	Faults []chaos.Fault
	// Paths are the network paths ("client", "db") the faults act on, so
	// that the runner puts a proxy on exactly those.
	Paths map[string]bool
}

// BuildFaults checks every fault of the scenario against the registry and
// builds it for env (nil env: check only). Every problem is reported with
// the file and line of its fault, as the loader reports its own.
func BuildFaults(sc *Scenario, reg chaos.Registry, env *chaos.Env) (*FaultSet, error) {
	fs := &FaultSet{Paths: map[string]bool{}}
	var errs LoadErrors
	for _, f := range sc.Faults {
		flt, err := reg.Build(env, f.Kind, f.Params)
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), "chaos: ")
			errs = append(errs, &LoadError{File: sc.Path, Line: max(f.Line, 1), Col: max(f.Col, 1), Msg: msg})
			continue
		}
		fs.Items = append(fs.Items, chaos.Scheduled{Fault: flt, Start: f.Start, Duration: f.Duration})
		fs.Faults = append(fs.Faults, flt)
		if strings.HasPrefix(f.Kind, "net.") {
			if p, ok := f.Params["path"].(string); ok {
				fs.Paths[p] = true
			}
		}
	}
	if len(errs) > 0 {
		errs.sort()
		return nil, errs
	}
	return fs, nil
}

// FaultHook runs a fault schedule on the run's clock as a Hook; stopping
// it reverts whatever is still in force.
type FaultHook struct {
	items  []chaos.Scheduled
	runner *chaos.Runner
}

// NewFaultHook schedules the set's faults.
func NewFaultHook(fs *FaultSet) *FaultHook { return &FaultHook{items: fs.Items} }

// Start begins the schedule.
func (h *FaultHook) Start(ctx context.Context, sink EventSink, start time.Time) error {
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
