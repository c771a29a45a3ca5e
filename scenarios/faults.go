package scenarios

import (
	"strings"

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
