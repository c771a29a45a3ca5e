package main

import (
	"github.com/spf13/pflag"

	"github.com/stampede-load/stampede/fixtures"
	"github.com/stampede-load/stampede/scenarios"
)

// fixtureShape is the bundled fixture's Shape as run's flags give it
// (--fixture-conn-per-login, ...); the flags of `stampede fixture`, under
// the run's prefix.
type fixtureShape struct {
	connPerLogin, hotRow, opaqueErrors, noPoolEndpoint, eventLoop bool
	hashCost                                                      int
}

func (f *fixtureShape) register(fs *pflag.FlagSet, prefix string) {
	fs.BoolVar(&f.connPerLogin, prefix+"conn-per-login", false, "bundled fixture: no pool, every request opens its own database connection (no pool endpoint)")
	fs.BoolVar(&f.hotRow, prefix+"hot-row", false, "bundled fixture: every login also bumps one shared counter row, so logins queue on its lock")
	fs.IntVar(&f.hashCost, prefix+"hash-cost", 0, "bundled fixture: bcrypt cost of each login's password verification, e.g. 10 (0: the scenario's fixture.hash_cost, else off)")
	fs.BoolVar(&f.opaqueErrors, prefix+"opaque-errors", false, "bundled fixture: answer database failures with a bare 500")
	fs.BoolVar(&f.noPoolEndpoint, prefix+"no-pool-endpoint", false, "bundled fixture: leave out GET /debug/pool (404)")
	fs.BoolVar(&f.eventLoop, prefix+"event-loop", false, "bundled fixture: serve as a single-threaded event loop (each login's hashing holds the one loop every request needs)")
}

// over is the Shape the flags give over the scenario's fixture block: a
// switch is on when either turns it on; a hash cost from the flag wins.
func (f *fixtureShape) over(sc scenarios.Fixture) fixtures.Shape {
	return fixtures.Shape{
		ConnPerLogin:   f.connPerLogin || sc.ConnPerLogin,
		HotRow:         f.hotRow || sc.HotRow,
		HashCost:       firstPositive(f.hashCost, sc.HashCost),
		OpaqueErrors:   f.opaqueErrors || sc.OpaqueErrors,
		NoPoolEndpoint: f.noPoolEndpoint || sc.NoPoolEndpoint,
		EventLoop:      f.eventLoop || sc.EventLoop,
	}
}
