package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stampede-load/stampede/report/format"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// Histograms record microseconds from 1µs to 2 minutes. Window histograms
// keep 2 significant figures (1%, about 20 KiB each) and exist only while a
// window is open; stage and run histograms keep 3.
const (
	histMaxUS       = int64(2 * time.Minute / time.Microsecond)
	windowHistDigit = 2
	totalHistDigit  = 3
)

// ErrorCounts are a window's (or a run's) failed hits by category, plus
// the expected rejections, which are not errors.
type ErrorCounts struct {
	Transport     int64 `json:"transport"`
	ClientTimeout int64 `json:"client_timeout"`
	DB            int64 `json:"db"`
	AuthExpected  int64 `json:"auth_expected"`
	ServerOther   int64 `json:"server_other"`
	Generator     int64 `json:"generator"`
	Other         int64 `json:"other"`
}

// Total is the count of errors (auth_expected excluded).
func (e ErrorCounts) Total() int64 {
	return e.Transport + e.ClientTimeout + e.DB + e.ServerOther + e.Generator + e.Other
}

// Short lists the non-zero categories, largest first: "db 120, transport 3"; "-" for none.
func (e ErrorCounts) Short() string {
	type kv struct {
		k string
		v int64
	}
	all := []kv{{"transport", e.Transport}, {"client_timeout", e.ClientTimeout}, {"db", e.DB},
		{"server_other", e.ServerOther}, {"generator", e.Generator}, {"other", e.Other}}
	sort.SliceStable(all, func(i, j int) bool { return all[i].v > all[j].v })
	var parts []string
	for _, p := range all {
		if p.v > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", p.k, p.v))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// counts is the part of an accumulator that every window keeps for the
// whole analysis: fixed size, no maps.
type counts struct {
	sent, ok, rejects, failed int64
	due                       int64 // hits whose planned send time falls here
	cls                       [nClasses]int64
	det                       [nDetails]int64
	maxLat, maxLag            time.Duration
	maxIntended, maxConnect   time.Duration

	timingN                          int64
	dbN                              int64   // logins with Server-Timing that reached the database (db > 0)
	pool, db, app, hash, gap, appNet float64 // sums, ms
	poolMax, dbMax                   float64

	newConns   int64
	connectSum time.Duration
	late       int64 // results that arrived after their window closed
}

func (c *counts) add(h *hit) {
	c.sent++
	switch h.outcome {
	case rundir.OutcomeOK:
		c.ok++
	case rundir.OutcomeExpectedReject:
		c.rejects++
	default:
		c.failed++
		c.cls[h.class]++
		if h.detail >= 0 {
			c.det[h.detail]++
		}
	}
	c.maxLat = max(c.maxLat, h.latency)
	c.maxLag = max(c.maxLag, h.lag)
	c.maxIntended = max(c.maxIntended, h.latency+h.lag)
	if h.hasTimng {
		t := h.timing
		c.timingN++
		if t.db > 0 {
			c.dbN++
		}
		c.pool += t.pool
		c.db += t.db
		c.app += t.app
		c.hash += t.hash
		c.gap += max(0, format.Millis(h.latency)-t.app)
		c.appNet += max(0, t.app-t.pool-t.db)
		c.poolMax = max(c.poolMax, t.pool)
		c.dbMax = max(c.dbMax, t.db)
	}
	if h.newConn {
		c.newConns++
		c.connectSum += h.connect
		c.maxConnect = max(c.maxConnect, h.connect)
	}
}

func (c *counts) merge(o *counts) {
	c.sent += o.sent
	c.ok += o.ok
	c.rejects += o.rejects
	c.failed += o.failed
	c.due += o.due
	for i := range c.cls {
		c.cls[i] += o.cls[i]
	}
	for i := range c.det {
		c.det[i] += o.det[i]
	}
	c.maxLat = max(c.maxLat, o.maxLat)
	c.maxLag = max(c.maxLag, o.maxLag)
	c.maxIntended = max(c.maxIntended, o.maxIntended)
	c.maxConnect = max(c.maxConnect, o.maxConnect)
	c.timingN += o.timingN
	c.dbN += o.dbN
	c.pool += o.pool
	c.db += o.db
	c.app += o.app
	c.hash += o.hash
	c.gap += o.gap
	c.appNet += o.appNet
	c.poolMax = max(c.poolMax, o.poolMax)
	c.dbMax = max(c.dbMax, o.dbMax)
	c.newConns += o.newConns
	c.connectSum += o.connectSum
	c.late += o.late
}

func (c *counts) errors() ErrorCounts {
	return ErrorCounts{Transport: c.cls[clsTransport], ClientTimeout: c.cls[clsClientTimeout],
		DB: c.cls[clsDB], AuthExpected: c.rejects, ServerOther: c.cls[clsServerOther],
		Generator: c.cls[clsGenerator], Other: c.cls[clsOther]}
}

func (c *counts) details() map[string]int64 {
	var m map[string]int64
	for i, n := range c.det {
		if n > 0 {
			if m == nil {
				m = map[string]int64{}
			}
			m[detailNames[i]] = n
		}
	}
	return m
}

func (c *counts) successRatio() float64 {
	if c.sent == 0 {
		return 0
	}
	return float64(c.ok+c.rejects) / float64(c.sent)
}

// histSet is an open window's latency distributions.
type histSet struct {
	lat, intended, lag, conn *hdrhistogram.Histogram
}

func newHistSet(digits int) *histSet {
	n := func() *hdrhistogram.Histogram { return hdrhistogram.New(1, histMaxUS, digits) }
	return &histSet{lat: n(), intended: n(), lag: n(), conn: n()}
}

func (hs *histSet) reset() {
	hs.lat.Reset()
	hs.intended.Reset()
	hs.lag.Reset()
	hs.conn.Reset()
}

func (hs *histSet) add(h *hit) {
	_ = hs.lat.RecordValue(usOf(h.latency))
	_ = hs.intended.RecordValue(usOf(h.latency + h.lag))
	_ = hs.lag.RecordValue(usOf(h.lag))
	if h.newConn && h.connect > 0 {
		_ = hs.conn.RecordValue(usOf(h.connect))
	}
}

// quantiles are what a closed histogram set leaves behind.
type quantiles struct {
	p50, p90, p99, atSLO time.Duration // atSLO: from the intended send time
	lagP99, connP99      time.Duration
}

// quantiles reads the percentiles, each capped by the exact maximum seen
// (a histogram reports its bucket's upper edge).
func (hs *histSet) quantiles(sloPct float64, c *counts) quantiles {
	q := func(h *hdrhistogram.Histogram, p float64, ceil time.Duration) time.Duration {
		if h.TotalCount() == 0 {
			return 0
		}
		return min(time.Duration(h.ValueAtQuantile(p))*time.Microsecond, ceil)
	}
	return quantiles{p50: q(hs.lat, 50, c.maxLat), p90: q(hs.lat, 90, c.maxLat), p99: q(hs.lat, 99, c.maxLat),
		atSLO: q(hs.intended, sloPct, c.maxIntended), lagP99: q(hs.lag, 99, c.maxLag), connP99: q(hs.conn, 99, c.maxConnect)}
}

// usOf clamps a duration into the histograms' range, in µs.
func usOf(d time.Duration) int64 {
	us := int64(d / time.Microsecond)
	return min(max(us, 0), histMaxUS)
}

// winAcc accumulates one window.
type winAcc struct {
	counts
	hs     *histSet // nil once closed
	q      quantiles
	closed bool
}

// windower is the streaming pass: it buckets hits by send time into
// windows, keeps histograms only for windows that can still receive
// results, and closes the rest. Memory: the per-window counters (fixed
// size) plus the open windows' histograms, whatever the run's length.
type windower struct {
	width   time.Duration
	horizon time.Duration // a window closes once results complete this far past its end
	maxWin  int
	sloPct  float64

	wins     []winAcc
	openFrom int // windows before it are closed
	maxDone  time.Duration
	pool     []*histSet

	stages     []stageAcc
	total      counts
	totalHists *histSet
	negative   int64 // hits sent before the run's start (clamped into window 0)
	clipped    int64 // hits far past the plan (clamped into the last window)

	// rateMark marks the windows whose hits also go into rateHist (the
	// max_p99 gate's windows at a stated rate); nil without that gate.
	// served counts, per window, the successful logins that completed in
	// it (sent plus latency), wherever they were sent: the service's
	// throughput, which windows counted by send time do not show while a
	// queue builds. It never opens a window.
	served []int64

	rateMark []bool
	rateHist *hdrhistogram.Histogram
	rateMax  time.Duration

	// shards are a merged run's shards (shards.go); nil for a run of one agent.
	shards  []shardAcc
	noShard int64 // results marked with no shard of the manifest
}

type stageAcc struct {
	counts
	hist *hdrhistogram.Histogram
}

func newWindower(width, horizon time.Duration, maxWin int, sloPct float64) *windower {
	return &windower{width: width, horizon: horizon, maxWin: maxWin, sloPct: sloPct,
		totalHists: newHistSet(totalHistDigit)}
}

func (w *windower) index(at time.Duration) int {
	if at < 0 {
		return -1
	}
	return int(at / w.width)
}

func (w *windower) window(i int) *winAcc {
	for len(w.wins) <= i {
		w.wins = append(w.wins, winAcc{})
	}
	return &w.wins[i]
}

func (w *windower) add(h *hit) {
	i := w.index(h.sent)
	if i < 0 {
		w.negative++
		i = 0
	}
	if i >= w.maxWin {
		w.clipped++
		i = w.maxWin - 1
	}
	win := w.window(i)
	win.add(h)
	w.addRate(i, h)
	if win.closed {
		win.late++
	} else {
		if win.hs == nil {
			win.hs = w.getHists()
		}
		win.hs.add(h)
	}
	if j := w.index(h.sent - h.lag); j >= 0 && j < w.maxWin {
		w.window(j).due++
	}
	w.total.add(h)
	w.totalHists.add(h)
	if h.stage >= 0 && h.stage < 1024 {
		for len(w.stages) <= h.stage {
			w.stages = append(w.stages, stageAcc{hist: hdrhistogram.New(1, histMaxUS, totalHistDigit)})
		}
		st := &w.stages[h.stage]
		st.add(h)
		_ = st.hist.RecordValue(usOf(h.latency))
	}
	if h.outcome == rundir.OutcomeOK {
		if j := w.index(h.sent + h.latency); j >= 0 && j < w.maxWin {
			for len(w.served) <= j {
				w.served = append(w.served, 0)
			}
			w.served[j]++
		}
	}
	if done := h.sent + h.latency; done > w.maxDone {
		w.maxDone = done
		w.closeBefore(done - w.horizon)
	}
}

// closeBefore closes every window that ended before t.
func (w *windower) closeBefore(t time.Duration) {
	for w.openFrom < len(w.wins) && time.Duration(w.openFrom+1)*w.width <= t {
		w.close(&w.wins[w.openFrom])
		w.openFrom++
	}
}

func (w *windower) close(win *winAcc) {
	if win.closed {
		return
	}
	win.closed = true
	if win.hs != nil {
		win.q = win.hs.quantiles(w.sloPct, &win.counts)
		win.hs.reset()
		w.pool = append(w.pool, win.hs)
		win.hs = nil
	}
}

func (w *windower) getHists() *histSet {
	if n := len(w.pool); n > 0 {
		hs := w.pool[n-1]
		w.pool = w.pool[:n-1]
		return hs
	}
	return newHistSet(windowHistDigit)
}

// finish closes every window still open.
func (w *windower) finish() {
	for i := range w.wins {
		w.close(&w.wins[i])
	}
	w.openFrom = len(w.wins)
}

// openHistograms is the number of histogram sets ever allocated: the
// bound on the pass's memory beyond the fixed per-window counters.
func (w *windower) openHistograms() int { return len(w.pool) }
