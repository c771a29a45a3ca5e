package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/stampede-load/stampede/scenarios"
)

// cmdFindLimit runs a scenario as an adaptive search for its sustainable
// rate (mode: search): one attack, trials at one rate each, raised by a
// factor until the SLO fails, then bisected until the bracket is within
// the precision or the budget ends. It takes run's flags, and writes the
// run directory and the report as run does; the report shows the trials
// and the bracket. Exit 0 with a bracket, 1 without one or when a gate
// fails, 3 on infrastructure trouble, 130 when interrupted.
func cmdFindLimit(ctx context.Context, e *env, args []string) error {
	var o findLimitFlags
	return runScenario(ctx, e, args, runVariant{name: "find-limit", flags: o.register, adjust: o.apply})
}

// findLimitFlags override the scenario's search block; zero keeps it.
type findLimitFlags struct {
	from, precision, maxRate float64
	budget                   time.Duration
}

func (o *findLimitFlags) register(fs *pflag.FlagSet) {
	fs.Float64Var(&o.from, "from", 0, "rate of the first trial (default: the scenario's search.from, else its first stage's rate)")
	fs.Float64Var(&o.precision, "precision", 0, "stop when the bracket (hi-lo)/lo is this narrow, in (0, 1) (default: search.precision, 0.05)")
	fs.DurationVar(&o.budget, "budget", 0, "time budget of the whole search (default: search.budget, 3m)")
	fs.Float64Var(&o.maxRate, "max-rate", 0, "highest rate a trial may offer (default: search.max_rate, else the scenario's max_rate)")
}

// apply makes the scenario a search with the flags' settings.
func (o *findLimitFlags) apply(sc *scenarios.Scenario) error {
	switch {
	case o.from < 0:
		return fmt.Errorf("--from must be above 0, got %g", o.from)
	case o.precision < 0 || o.precision >= 1:
		return fmt.Errorf("--precision must be within (0, 1), got %g", o.precision)
	case o.budget < 0:
		return fmt.Errorf("--budget must be above 0, got %s", o.budget)
	case o.maxRate < 0:
		return fmt.Errorf("--max-rate must be above 0, got %g", o.maxRate)
	}
	sc.Mode = scenarios.ModeSearch
	if o.from > 0 {
		sc.Search.From = o.from
	}
	if o.precision > 0 {
		sc.Search.Precision = o.precision
	}
	if o.budget > 0 {
		sc.Search.Budget = o.budget
	}
	if o.maxRate > 0 {
		sc.Search.MaxRate = o.maxRate
	}
	return nil
}
