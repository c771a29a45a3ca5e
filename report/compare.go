package report

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/stampede-load/stampede/report/format"
)

// NoiseK is how many σ of a run's own window-to-window noise a change must
// exceed to count.
const NoiseK = 3

// Comparison is what changed from one run (Old, the baseline) to another
// (New): the limit, latency, each stage's p50 and p99, error classes and
// the cause, each with its noise verdict.
//
// A change is "beyond the noise" when its absolute size exceeds (strictly)
// the row's Noise, which is:
//
//   - sustainable rate, breaking point: the stepping precision, the larger
//     of the two runs' Limit.PrecisionRPS (a steps stage's step, a ramp's
//     rise per window, or the gap between the rate held and the rate that
//     broke): a limit known only to within a step cannot move by less. With
//     no precision known (one rate only), any change counts. A limit that
//     appears or vanishes (held nothing; never broke) is beyond the noise.
//   - max goodput: 3 × the larger of the two runs' σ of per-window goodput
//     (Noise), and at least one login per window.
//   - p50, p99 (run and stages): 3 × the larger of the two runs' σ of the
//     per-window p50 or p99 (Noise), and at least 1% of the larger value
//     (a window histogram's resolution). A figure over many windows moves
//     less than one window's, so this errs towards "within the noise".
//   - error classes (share of logins sent): 3 × the binomial standard error
//     of the difference of two proportions, sqrt(p̄(1−p̄)(1/n₁+1/n₂)).
//   - cause: any change of the primary cause.
//
// A run whose noise is unknown (fewer than 3 window-to-window changes in
// quiet windows) lends the other run's σ; with neither known, only the
// floors apply, and a note says so.
type Comparison struct {
	Old, New RunRef
	Rows     []Delta
	Notes    []string
	// Regressed: a gating row (the sustainable rate, the run's p99) got
	// worse beyond the noise.
	Regressed bool
}

// RunRef names one side of a comparison.
type RunRef struct {
	Path     string // the run directory or report.json
	Scenario string
	Start    time.Time
	Verdict  string
	Noise    Noise
}

// Delta is one compared figure. Values are in Unit: "/s" (logins per
// second), "ms", "%" (of logins sent); text rows (the cause) have no unit.
type Delta struct {
	Group  string // limit, latency, stage, errors, cause
	Metric string
	Unit   string
	// Old and New are nil where the run has no such figure (no sustainable
	// rate, never broke); OldText and NewText are what to print.
	Old, New         *float64
	OldText, NewText string
	// Abs is New − Old; Pct is Abs as a share of Old, in per cent (nil
	// when Old is 0 or either side is missing).
	Abs, Pct *float64
	// Noise is what |Abs| must exceed to be beyond the noise; NoiseBasis
	// says where it comes from.
	Noise      float64
	NoiseBasis string
	Beyond     bool
	// Change: "unchanged", "within noise", "better", "worse", or for the
	// cause "changed".
	Change string
	// Gating rows decide Regressed (and the max_regression_pct gate).
	Gating     bool
	Regression bool
}

// Regressions are the gating rows that got worse beyond the noise.
func (c *Comparison) Regressions() []Delta {
	var out []Delta
	for _, d := range c.Rows {
		if d.Regression {
			out = append(out, d)
		}
	}
	return out
}

// Compare lays two reports side by side. Stages are matched by index
// (their names are shown, and a note says when they differ). It reads
// only the reports: pass old first (the baseline).
func Compare(old, cur *Report) *Comparison {
	c := &Comparison{Old: runRef(old), New: runRef(cur)}
	c.noteDifferences(old, cur)
	c.compareLimit(old, cur)
	sig50, sig99 := max(old.Noise.P50, cur.Noise.P50), max(old.Noise.P99, cur.Noise.P99)
	c.addLatency("latency", "run p50", old.Totals.P50, cur.Totals.P50, sig50, "window p50", false)
	c.addLatency("latency", "run p99", old.Totals.P99, cur.Totals.P99, sig99, "window p99", true)
	c.compareStages(old, cur, sig50, sig99)
	c.compareErrors(old, cur)
	c.add(causeDelta(old.Cause.Primary, cur.Cause.Primary))
	return c
}

// noteDifferences notes what makes the two runs less comparable: unknown
// noise, different SLOs, different plans.
func (c *Comparison) noteDifferences(old, cur *Report) {
	for _, side := range []struct {
		name string
		n    Noise
	}{{"old", old.Noise}, {"new", cur.Noise}} {
		if !side.n.Known {
			c.Notes = append(c.Notes, fmt.Sprintf("the %s run's noise is unknown (%d window-to-window changes in steady windows that met the SLO; %d needed)",
				side.name, side.n.Pairs, minNoisePairs)+otherNoiseNote(old.Noise, cur.Noise))
		}
	}
	if old.SLO != cur.SLO {
		c.Notes = append(c.Notes, fmt.Sprintf("the SLOs differ (old %s, new %s): each run's limit is judged against its own", format.SLO(old.SLO), format.SLO(cur.SLO)))
	}
	if d := planDiff(old.Stages, cur.Stages); d != "" {
		c.Notes = append(c.Notes, "the plans differ ("+d+"): stage figures compare different loads")
	}
}

// compareLimit adds the sustainable rate, the breaking point and the max
// goodput, judged against the stepping precision and the goodput noise.
func (c *Comparison) compareLimit(old, cur *Report) {
	prec := max(deref(old.Limit.PrecisionRPS), deref(cur.Limit.PrecisionRPS))
	precBasis := "stepping precision " + format.Num(format.Round(prec, 1)) + "/s"
	if prec == 0 {
		precBasis = "no stepping precision known (one rate): any change counts"
	}
	sOld, sNew := old.Limit.SustainableRPS, cur.Limit.SustainableRPS
	sus := numDelta("limit", "sustainable rate", "/s", orZero(sOld), orZero(sNew), true, prec, precBasis)
	// "none" counts as 0/s for the change (nothing held) but stays null.
	sus.Old, sus.New = roundp(sOld, 3), roundp(sNew, 3)
	sus.OldText, sus.NewText = format.RPSOr(sOld, "none"), format.RPSOr(sNew, "none")
	sus.Gating = true
	c.add(sus)
	c.add(breakingDelta(old.Limit.BreakingRPS, cur.Limit.BreakingRPS, prec, precBasis))
	gSig := max(old.Noise.GoodputRPS, cur.Noise.GoodputRPS)
	gFloor := 1 / max(old.Window.Seconds(), cur.Window.Seconds(), 1e-9)
	gNoise, gBasis := noiseOf(gSig, gFloor, "window goodput", "/s", "one login per window")
	c.add(numDelta("limit", "max goodput", "/s", fp(old.Limit.MaxGoodputRPS), fp(cur.Limit.MaxGoodputRPS), true, gNoise, gBasis))
}

// addLatency adds a latency row, judged against the window-to-window noise
// sig (at least 1%, the histograms' resolution).
func (c *Comparison) addLatency(group, metric string, a, b time.Duration, sig time.Duration, what string, gating bool) {
	floor := 0.01 * format.Millis(max(a, b))
	n, basis := noiseOf(format.Millis(sig), floor, what, " ms", "1% (histogram resolution)")
	d := numDelta(group, metric, "ms", fp(format.Millis(a)), fp(format.Millis(b)), false, n, basis)
	d.Gating = gating
	c.add(d)
}

// compareStages adds each stage's p50 and p99, stages matched by index.
func (c *Comparison) compareStages(old, cur *Report, sig50, sig99 time.Duration) {
	for i := 0; i < max(len(old.Stages), len(cur.Stages)); i++ {
		switch {
		case i >= len(old.Stages):
			c.Notes = append(c.Notes, fmt.Sprintf("stage %d (%s) is only in the new run", i+1, cur.Stages[i].Name))
			continue
		case i >= len(cur.Stages):
			c.Notes = append(c.Notes, fmt.Sprintf("stage %d (%s) is only in the old run", i+1, old.Stages[i].Name))
			continue
		}
		so, sn := old.Stages[i], cur.Stages[i]
		name := fmt.Sprintf("stage %d %s", i+1, so.Name)
		if so.Name != sn.Name {
			name = fmt.Sprintf("stage %d %s/%s", i+1, so.Name, sn.Name)
		}
		if so.Sent == 0 && sn.Sent == 0 {
			continue
		}
		c.addLatency("stage", name+" p50", so.P50, sn.P50, sig50, "window p50", false)
		c.addLatency("stage", name+" p99", so.P99, sn.P99, sig99, "window p99", false)
	}
}

// compareErrors adds the error classes, as shares of the logins sent.
func (c *Comparison) compareErrors(old, cur *Report) {
	eo, en := old.Totals.Errors, cur.Totals.Errors
	for _, e := range []struct {
		name string
		a, b int64
	}{
		{"all errors", eo.Total(), en.Total()},
		{"transport", eo.Transport, en.Transport},
		{"client_timeout", eo.ClientTimeout, en.ClientTimeout},
		{"db", eo.DB, en.DB},
		{"server_other", eo.ServerOther, en.ServerOther},
		{"generator", eo.Generator, en.Generator},
		{"other", eo.Other, en.Other},
	} {
		if e.name != "all errors" && e.a == 0 && e.b == 0 {
			continue
		}
		c.add(errorDelta(e.name, e.a, old.Totals.Sent, e.b, cur.Totals.Sent))
	}
}

func (c *Comparison) add(d Delta) {
	d.Regression = d.Gating && d.Beyond && d.Change == "worse"
	c.Regressed = c.Regressed || d.Regression
	c.Rows = append(c.Rows, d)
}

func runRef(r *Report) RunRef {
	return RunRef{Path: r.Dir, Scenario: r.Scenario, Start: r.Start, Verdict: r.Verdict, Noise: r.Noise}
}

func otherNoiseNote(a, b Noise) string {
	if a.Known || b.Known {
		return ": the other run's noise stands in"
	}
	return ": latency and goodput changes are judged against the measurement floors alone"
}

// numDelta compares two figures; higherBetter says which way is better.
func numDelta(group, metric, unit string, a, b *float64, higherBetter bool, noise float64, basis string) Delta {
	d := Delta{Group: group, Metric: metric, Unit: unit, Old: roundp(a, 3), New: roundp(b, 3),
		Noise: format.Round(noise, 3), NoiseBasis: basis}
	d.OldText, d.NewText = fval(d.Old, unit), fval(d.New, unit)
	if a == nil || b == nil {
		d.Change = "unchanged"
		return d
	}
	abs := *b - *a
	d.Abs = fp(format.Round(abs, 3))
	if *a != 0 {
		d.Pct = fp(format.Round(100*abs / *a, 1))
	}
	switch {
	case abs == 0:
		d.Change = "unchanged"
	case math.Abs(abs) <= noise:
		d.Change = "within noise"
	default:
		d.Beyond = true
		if (abs > 0) == higherBetter {
			d.Change = "better"
		} else {
			d.Change = "worse"
		}
	}
	return d
}

// breakingDelta: a breaking point that appears is worse, one that
// vanishes (never broke) better, both beyond the noise.
func breakingDelta(a, b *float64, prec float64, basis string) Delta {
	if a != nil && b != nil {
		return numDelta("limit", "breaking point", "/s", a, b, true, prec, basis)
	}
	d := Delta{Group: "limit", Metric: "breaking point", Unit: "/s", Old: roundp(a, 3), New: roundp(b, 3),
		OldText: format.RPSOr(a, "never"), NewText: format.RPSOr(b, "never"), Noise: format.Round(prec, 3), NoiseBasis: basis}
	switch {
	case a == nil && b == nil:
		d.Change = "unchanged"
	case a == nil:
		d.Change, d.Beyond = "worse", true
	default:
		d.Change, d.Beyond = "better", true
	}
	return d
}

// errorDelta compares an error class's share of the logins sent; the
// noise is three binomial standard errors of the difference.
func errorDelta(name string, a, na, b, nb int64) Delta {
	share := func(k, n int64) *float64 {
		if n == 0 {
			return nil
		}
		return fp(100 * float64(k) / float64(n))
	}
	var noise float64
	if na > 0 && nb > 0 {
		p := float64(a+b) / float64(na+nb)
		noise = 100 * NoiseK * math.Sqrt(p*(1-p)*(1/float64(na)+1/float64(nb)))
	}
	d := numDelta("errors", name, "%", share(a, na), share(b, nb), false, noise, "3 binomial standard errors")
	d.OldText = fmt.Sprintf("%d (%s)", a, fval(d.Old, "%"))
	d.NewText = fmt.Sprintf("%d (%s)", b, fval(d.New, "%"))
	return d
}

func causeDelta(a, b string) Delta {
	d := Delta{Group: "cause", Metric: "cause", OldText: a, NewText: b, NoiseBasis: "any change", Change: "unchanged"}
	if a == b {
		return d
	}
	d.Beyond = true
	switch {
	case a == CauseNone:
		d.Change = "worse"
	case b == CauseNone:
		d.Change = "better"
	default:
		d.Change = "changed"
	}
	return d
}

// noiseOf is max(NoiseK·σ, floor), with what it rests on.
func noiseOf(sigma, floor float64, what, unit, floorWhat string) (float64, string) {
	if NoiseK*sigma >= floor && sigma > 0 {
		return NoiseK * sigma, fmt.Sprintf("%d× σ of %s (σ %s%s)", NoiseK, what, fdec(sigma), unit)
	}
	return floor, "floor: " + floorWhat
}

// planDiff says how two plans differ, or "" when they match.
func planDiff(a, b []StageSummary) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d stages vs %d", len(a), len(b))
	}
	var diffs []string
	near := func(x, y float64) bool { return math.Abs(x-y) <= 0.01*max(math.Abs(x), math.Abs(y)) }
	for i := range a {
		x, y := a[i], b[i]
		if x.Kind != y.Kind || x.Duration != y.Duration || !near(x.RateStart, y.RateStart) || !near(x.RateEnd, y.RateEnd) {
			diffs = append(diffs, fmt.Sprintf("stage %d: %s %s/s→%s/s for %s vs %s %s/s→%s/s for %s", i+1,
				x.Kind, format.Num(format.Round(x.RateStart, 1)), format.Num(format.Round(x.RateEnd, 1)), format.Sec(x.Duration),
				y.Kind, format.Num(format.Round(y.RateStart, 1)), format.Num(format.Round(y.RateEnd, 1)), format.Sec(y.Duration)))
		}
	}
	return strings.Join(diffs, "; ")
}

func deref(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}

// orZero reads "no sustainable rate" as 0/s: nothing held.
func orZero(v *float64) *float64 {
	if v == nil {
		return fp(0)
	}
	return v
}

// fval prints a value in its unit.
func fval(v *float64, unit string) string {
	if v == nil {
		return "-"
	}
	switch unit {
	case "ms":
		return format.MS(time.Duration(math.Round(*v * 1e6)))
	case "/s":
		return format.Num(format.Round(*v, 1)) + "/s"
	case "%":
		return fdec(*v) + "%"
	}
	return fdec(*v)
}

// fdec prints a number with two decimals below 10, one above.
func fdec(v float64) string {
	if math.Abs(v) < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// signed prints a change with its sign (+, − or ±0) in its unit.
func signed(v float64, unit string) string {
	switch {
	case v == 0:
		return "±0"
	case v > 0:
		return "+" + fval(&v, unit)
	}
	a := -v
	return "−" + fval(&a, unit)
}

// DeltaText is the change as printed: "−30/s (−30.0%)", "+1.20 ms (+6.0%)".
func (d Delta) DeltaText() string {
	if d.Abs == nil {
		if d.Change == "unchanged" {
			return "-"
		}
		return d.OldText + " → " + d.NewText
	}
	if *d.Abs == 0 {
		return "±0"
	}
	var s string
	if d.Unit == "%" { // a change of shares is in percentage points
		s = strings.TrimSuffix(signed(*d.Abs, d.Unit), "%") + " pts"
	} else {
		s = signed(*d.Abs, d.Unit)
	}
	if d.Pct != nil {
		s += " (" + signedPct(*d.Pct) + ")"
	}
	return s
}

// NoiseText is the noise threshold as printed: "±10/s".
func (d Delta) NoiseText() string {
	if d.Unit == "" {
		return "-"
	}
	v := d.Noise
	if d.Unit == "%" {
		return "±" + fdec(v) + " pts"
	}
	return "±" + fval(&v, d.Unit)
}

func signedPct(p float64) string {
	switch {
	case p == 0:
		return "±0%"
	case p > 0:
		return fmt.Sprintf("+%.1f%%", p)
	}
	return fmt.Sprintf("−%.1f%%", -p)
}

// String names the run: its path, scenario, start and verdict.
func (ref RunRef) String() string {
	parts := []string{format.Dash(ref.Scenario)}
	if !ref.Start.IsZero() {
		parts = append(parts, ref.Start.UTC().Format("2006-01-02 15:04"))
	}
	if ref.Verdict != "" {
		parts = append(parts, ref.Verdict)
	}
	s := strings.Join(parts, ", ")
	if ref.Path != "" {
		s = ref.Path + " (" + s + ")"
	}
	return s
}
