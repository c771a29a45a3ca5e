package report

import (
	"fmt"

	"github.com/stampede-load/stampede/report/format"
)

// generator: the load generator itself fell behind or failed. Not when
// every worker waited on a slow target: then the unsent load is the
// target's doing.
const (
	// normalP50Factor, normalP99Factor: latency still normal, within these
	// factors of the healthy level (p50 also within 5 ms, p99 within 50 ms).
	normalP50Factor   = 1.5
	normalP99Factor   = 2
	normalNoBaseP50MS = 100
	normalNoBaseP99MS = 500
	// lagFactor, lagFloorMS, lagNoBaseMS: send lag p99 rising.
	lagFactor   = 3
	lagFloorMS  = 20
	lagNoBaseMS = 50
	// genShareOfHost: the generator's process using this share of all the
	// host's cores while the host is saturated is the machine's wall.
	genShareOfHost = 0.6
	// genMinCores: a generator using at least this much CPU, more than the
	// service beside it, on a saturated host where the service is not busy
	// itself, starves the service it measures: the machine is the wall.
	genMinCores = 0.5
)

func ruleGenerator(e *evidence, b *baseline, fs *findings) {
	// Without a healthy level, normal is what no login SLO would fail.
	latencyNormal := !b.p50.rises(format.Millis(e.p50), normalP50Factor, 5, normalNoBaseP50MS) && !b.p99.rises(format.Millis(e.p99), normalP99Factor, 50, normalNoBaseP99MS)
	if n := e.c.cls[clsGenerator]; n > 0 {
		fs.add(resGenerator, srcGenerator, wProve, true, "%d local generator failures (%s)", n, generatorBreakdown(&e.c.det))
	}
	// Late sends count when the lag rose against the healthy windows': a
	// lag that was there while the SLO held did not break it.
	lagRose := b.lagP99.rises(format.Millis(e.lagP99), lagFactor, lagFloorMS, lagNoBaseMS)
	if len(e.genLocal) > 0 || (e.genBehind && latencyNormal && lagRose) {
		what := fmt.Sprintf("the generator sent %d of %d hits late (lag up to %s) with workers free (%d in flight of %d)",
			e.genLate, e.genHits, format.MS(e.genMaxLag), e.genInflight, e.genMaxWorkers)
		if len(e.genLocal) > 0 {
			what += "; local errors " + countsText(e.genLocal)
		}
		fs.add(resGenerator, srcGenerator, wProve, true, "%s", what)
	}
	if !e.genSat && latencyNormal && format.Millis(e.lagP99) >= lagNoBaseMS && b.lagP99.rises(format.Millis(e.lagP99), lagFactor, lagFloorMS, lagNoBaseMS) {
		fs.add(resGenerator, srcGenerator, wShow, true, "send lag p99 %s while latency stayed normal (p50 %s against %s)", format.MS(e.lagP99), format.MS(e.p50), b.p50.ms())
	}
	genCPURule(e, fs)
}

// genCPURule names the machine the wall when the generator's own CPU
// starves it: most of the host's cores, or, when the service runs beside
// it, more than the service uses while the service is not busy itself
// (it waits for a core the generator holds).
func genCPURule(e *evidence, fs *findings) {
	if !e.starved() || e.cores <= 0 || e.targetInProc {
		return
	}
	gen := format.Num(format.Round(e.genCores, 2))
	switch {
	case e.genCores >= genShareOfHost*float64(e.cores) && (!e.haveTarget || e.genCores > e.targetCores):
		fs.add(resGenerator, srcCPU, wShow, true, "the host's CPU %s busy, %s of its %d cores used by the load generator itself: the machine, not the target, is the wall",
			format.Pct(e.hostBusy), gen, e.cores)
	case e.starvedByOthers() && e.genCores >= genMinCores && e.genCores > e.targetCores:
		fs.add(resGenerator, srcCPU, wShow, true, "the host's CPU %s busy, the load generator using %s cores and the service beside it only %s: the generator starves the service it measures; the machine, not the target, is the wall",
			format.Pct(e.hostBusy), gen, format.Num(format.Round(e.targetCores, 2)))
	}
}

func generatorBreakdown(det *[nDetails]int64) string {
	m := map[string]int64{}
	for _, k := range []detail{dGenFiles, dGenPorts, dGenPool} {
		if det[k] > 0 {
			m[detailNames[k]] = det[k]
		}
	}
	return countsText(m)
}
