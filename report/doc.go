// Package report analyses a recorded run directory: per-second windows from
// one streaming pass over the results, the capacity limit, the cause of every
// degraded window (from evidence only), a scorecard of injected faults against
// detected causes, recommendations and the gates. Its renderers are in
// report/render.
//
// It imports neither scenarios nor chaos: it reads the run directory through
// the run contract, scenarios/rundir, which the engine writes it with.
package report
