package render

import (
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/chart"
	"github.com/stampede-load/stampede/report/format"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// htmlCharts builds the report's charts from its windows: load, latency,
// errors, and the database against its caps when samples exist.
func htmlCharts(r *report.Report) ([]template.HTML, error) {
	n := len(r.Windows)
	win := r.Window.Seconds()
	tc := chart.Charts{Window: win, XMax: float64(n) * win, Strip: make([]string, n)}
	for _, f := range r.Faults {
		if f.OK {
			tc.Bands = append(tc.Bands, chart.Band{From: f.Start.Seconds(), To: f.End.Seconds(), Label: f.Kind + pathSuffix(f.Path)})
		}
	}
	for i, w := range r.Windows {
		if w.Traffic && !w.SLOMet {
			tc.Strip[i] = w.Cause
		}
	}
	ws := windowSeries(r.Windows)
	tc.Charts = append(tc.Charts, loadChart(ws), latencyChart(ws, r.SLO), errorsChart(ws, r.Window))
	if db, ok := dbChart(ws); ok {
		tc.Charts = append(tc.Charts, db)
	}
	return tc.Render()
}

// windowSeries makes the charts' series: one value a window.
type windowSeries []report.Window

func (ws windowSeries) of(f func(w *report.Window) float64) []float64 {
	out := make([]float64, len(ws))
	for i := range ws {
		out[i] = f(&ws[i])
	}
	return out
}

// withTraffic leaves a gap where a window sent nothing.
func withTraffic(f func(w *report.Window) float64) func(w *report.Window) float64 {
	return func(w *report.Window) float64 {
		if w.Sent == 0 {
			return math.NaN()
		}
		return f(w)
	}
}

func loadChart(ws windowSeries) chart.Chart {
	return chart.Chart{
		Title: "Load: offered vs achieved vs goodput", YLabel: "requests/s",
		Lines: []chart.Line{
			{Name: "offered", Color: chart.RGB(0x888888), Dashed: true, Y: ws.of(func(w *report.Window) float64 { return w.OfferedRPS })},
			{Name: "achieved", Color: chart.RGB(0x1f77b4), Y: ws.of(func(w *report.Window) float64 { return w.AchievedRPS })},
			{Name: "goodput", Color: chart.RGB(0x2ca02c), Y: ws.of(func(w *report.Window) float64 { return w.GoodputRPS })},
		},
	}
}

func latencyChart(ws windowSeries, slo rundir.SLO) chart.Chart {
	return chart.Chart{
		Title: "Latency percentiles", YLabel: "latency (ms, log scale)", LogY: true,
		Lines: []chart.Line{
			{Name: "p50", Color: chart.RGB(0x2ca02c), Y: ws.of(withTraffic(func(w *report.Window) float64 { return format.Millis(w.P50) }))},
			{Name: "p90", Color: chart.RGB(0xff7f0e), Y: ws.of(withTraffic(func(w *report.Window) float64 { return format.Millis(w.P90) }))},
			{Name: "p99", Color: chart.RGB(0xd62728), Y: ws.of(withTraffic(func(w *report.Window) float64 { return format.Millis(w.P99) }))},
			{Name: "p" + format.Num(slo.Percentile) + " from planned send", Color: chart.RGB(0x8c564b), Dashed: true,
				Y: ws.of(withTraffic(func(w *report.Window) float64 { return format.Millis(w.LatencyAtSLO) }))},
		},
		HLines: []chart.HLine{{Name: "SLO p" + format.Num(slo.Percentile) + " " + fmsShort(slo.Latency), Color: chart.RGB(0xd62728), Y: format.Millis(slo.Latency)}},
	}
}

func errorsChart(ws windowSeries, width time.Duration) chart.Chart {
	errs := chart.Chart{Title: "Errors by class", YLabel: "errors per " + width.String() + " window"}
	for _, s := range []chart.Stack{
		{Name: "db", Color: chart.RGB(0xd62728), Y: ws.of(func(w *report.Window) float64 { return float64(w.Errors.DB) })},
		{Name: "transport", Color: chart.RGB(0x9467bd), Y: ws.of(func(w *report.Window) float64 { return float64(w.Errors.Transport) })},
		{Name: "client_timeout", Color: chart.RGB(0x8c564b), Y: ws.of(func(w *report.Window) float64 { return float64(w.Errors.ClientTimeout) })},
		{Name: "server_other", Color: chart.RGB(0xff7f0e), Y: ws.of(func(w *report.Window) float64 { return float64(w.Errors.ServerOther) })},
		{Name: "generator", Color: chart.RGB(0x7f7f7f), Y: ws.of(func(w *report.Window) float64 { return float64(w.Errors.Generator) })},
		{Name: "other", Color: chart.RGB(0xbcbd22), Y: ws.of(func(w *report.Window) float64 { return float64(w.Errors.Other) })},
	} {
		if chart.SeriesMax(s.Y) > 0 { // only the classes that occurred
			errs.Stacks = append(errs.Stacks, s)
		}
	}
	if len(errs.Stacks) == 0 {
		errs.Title += ": none"
	}
	return errs
}

// dbChart is the database connections against their caps, when samples
// exist (ok false without). The caps are drawn per window: a fault may
// move them during the run.
func dbChart(ws windowSeries) (chart.Chart, bool) {
	var haveBackends, havePool bool
	for _, w := range ws {
		if d := w.DB; d != nil {
			haveBackends = haveBackends || d.HaveBackends
			havePool = havePool || d.HavePool
		}
	}
	if !haveBackends && !havePool {
		return chart.Chart{}, false
	}
	db := chart.Chart{Title: "Database connections against their caps", YLabel: "connections"}
	dbv := func(f func(d *report.DBWindow) float64) []float64 {
		return ws.of(func(w *report.Window) float64 {
			if w.DB == nil {
				return math.NaN()
			}
			if v := f(w.DB); v >= 0 {
				return v
			}
			return math.NaN()
		})
	}
	capOf := func(v float64) float64 {
		if v <= 0 {
			return -1
		}
		return v
	}
	if haveBackends {
		db.Lines = append(db.Lines,
			chart.Line{Name: "role backends", Color: chart.RGB(0x1f77b4), Y: dbv(func(d *report.DBWindow) float64 { return d.RoleBackends })},
			chart.Line{Name: "role limit", Cap: true, Color: chart.RGB(0x1f77b4), Dashed: true, Y: dbv(func(d *report.DBWindow) float64 { return capOf(d.RoleLimit) })},
			chart.Line{Name: "server backends", Color: chart.RGB(0x17becf), Y: dbv(func(d *report.DBWindow) float64 { return d.BackendsTotal })},
			chart.Line{Name: "usable max_connections", Cap: true, Color: chart.RGB(0x17becf), Dashed: true, Y: dbv(func(d *report.DBWindow) float64 {
				if d.MaxConnections <= 0 {
					return -1
				}
				return d.MaxConnections - d.SuperuserReserved
			})},
			chart.Line{Name: "lock waiters", Color: chart.RGB(0xe377c2), Y: dbv(func(d *report.DBWindow) float64 { return d.LockWaiters })})
	}
	if havePool {
		db.Lines = append(db.Lines,
			chart.Line{Name: "service pool in use", Color: chart.RGB(0x2ca02c), Y: dbv(func(d *report.DBWindow) float64 { return d.PoolAcquired })},
			chart.Line{Name: "pool size", Cap: true, Color: chart.RGB(0x2ca02c), Dashed: true, Y: dbv(func(d *report.DBWindow) float64 { return capOf(d.PoolMax) })})
	}
	return db, true
}

// WriteHTML writes report.html: one self-contained file (inline CSS and
// SVG, no script, nothing fetched) with the charts and the tables.
func WriteHTML(w io.Writer, r *report.Report) error {
	charts, err := htmlCharts(r)
	if err != nil {
		return err
	}
	data := struct {
		R      *report.Report
		Charts []template.HTML
		Legend []struct{ Cause, Color string }
	}{R: r, Charts: charts}
	for _, c := range chart.LegendCauses() {
		data.Legend = append(data.Legend, struct{ Cause, Color string }{c, chart.CauseColor(c)})
	}
	return htmlPage().Execute(w, data)
}

func htmlPage() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"fsec":    format.Sec,
		"slo":     format.SLO,
		"fms":     fmsShort,
		"pct":     format.Pct,
		"rps":     format.RPS,
		"num":     func(v float64) string { return format.Num(format.Round(v, 1)) },
		"errs":    func(e report.ErrorCounts) string { return e.Short() },
		"join":    strings.Join,
		"dash":    format.Dash,
		"yes":     yesNo,
		"durOr":   durOr,
		"recov":   recoveryText,
		"result":  func(c report.Check) string { return checkResult(c) },
		"inc":     func(i int) int { return i + 1 },
		"skew":    shardSkew,
		"faultOf": func(r *report.Report, i int) report.Fault { return r.Faults[i] },
		// the badge says the verdict: the summary's own "fail: " need not
		"summary": func(r *report.Report) string { return strings.TrimPrefix(r.Summary, r.Verdict+": ") },
	}).Parse(htmlTemplate))
}

const htmlTemplate = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>stampede report: {{.R.Scenario}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#222;padding:0 12px}
h1{font-size:22px;margin-bottom:4px} h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;font-size:13px;margin:8px 0} td,th{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f6f6f6} .pass{color:#2a7d2a;font-weight:bold} .fail{color:#c22;font-weight:bold}
.verdict{font-size:15px;padding:8px 12px;border-radius:4px;background:#f6f6f6;margin:10px 0}
.badge{text-transform:uppercase;margin-right:4px}
.chart{margin:18px 0} .chart svg{display:block;max-width:100%;height:auto} .muted{color:#777;font-size:12px} ul{margin:4px 0 8px 0} li{margin:2px 0}
.swatch{display:inline-block;width:12px;height:8px;margin:0 4px 0 10px}
tr.bad td{background:#fff3f3}
</style></head><body>
<h1>stampede report: {{.R.Scenario}}</h1>
<div class="muted">seed {{.R.Seed}} · {{.R.Status}} · planned {{fsec .R.Planned}} · ran {{fsec .R.Elapsed}} · SLO {{slo .R.SLO}} per {{.R.Window}} window</div>
{{with .R.RequestProblem}}<div class="verdict request-problem"><span class="badge fail">request problem</span> {{.Message}}. {{.Failed}} of {{.Logins}} logins got {{.Status}}; likely fix: {{.Fix}}.</div>
{{end}}<div class="verdict"><span class="badge {{.R.Verdict}}">{{.R.Verdict}}</span> {{summary .R}}</div>

<h2>Limit</h2>
<table>
<tr><th>sustainable</th><td>{{rps .R.Limit.SustainableRPS}}</td><td>highest offered rate held for a whole window with the SLO met</td></tr>
<tr><th>breaking point</th><td>{{rps .R.Limit.BreakingRPS}}</td><td>{{if .R.Limit.BreakingRPS}}failed from {{fsec .R.Limit.BreakingAt}} on{{else}}never broke{{end}}</td></tr>
<tr><th>max goodput</th><td>{{num .R.Limit.MaxGoodputRPS}}/s</td><td>successful logins, at {{fsec .R.Limit.MaxGoodputAt}}</td></tr>
<tr><th>knee</th><td>{{rps .R.Limit.KneeRPS}}</td><td>{{if .R.Limit.KneeRPS}}latency turned upward at {{fsec .R.Limit.KneeAt}}{{else}}no rising load, or latency never turned{{end}}</td></tr>
<tr><th>precision</th><td>{{rps .R.Limit.PrecisionRPS}}</td><td>{{.R.Limit.Precision}}</td></tr>
</table>
{{with .R.Limit.Method}}<div class="muted">Measured on {{.}}.</div>{{end}}

<h2>Cause: {{.R.Cause.Primary}}{{with .R.Cause.Confidence}} (confidence {{.}}){{end}}</h2>
{{with .R.Cause.Binding}}<div><b>Binding constraint:</b> {{.}}</div>{{end}}
{{with .R.Cause.Scope}}<div class="muted">{{.}}</div>{{end}}
{{with .R.Cause.Evidence}}<b>Evidence</b><ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{with .R.Cause.Chain}}<b>Chain of symptoms</b><ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{with .R.Cause.RuledOut}}<b>Ruled out</b><ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{with .R.Cause.NotChecked}}<b>Not checked</b><ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}

<h2>Charts</h2>
<div class="muted">Shaded: a fault in force. The strip above each chart marks the windows that missed the SLO, by cause:{{range .Legend}}<span class="swatch" style="background:{{.Color}}"></span>{{.Cause}}{{end}}</div>
{{range .Charts}}<div class="chart">{{.}}</div>
{{end}}
<h2>Stages</h2>
<table><tr><th>stage</th><th>kind</th><th>start</th><th>for</th><th>offered/s</th><th>achieved/s</th><th>sent</th><th>success</th><th>p50</th><th>p99</th><th>errors</th></tr>
{{range .R.Stages}}<tr><td>{{.Name}}</td><td>{{.Kind}}</td><td>{{fsec .Start}}</td><td>{{fsec .Duration}}</td><td>{{num .OfferedRPS}}</td><td>{{num .AchievedRPS}}</td><td>{{.Sent}}</td><td>{{pct .SuccessRatio}}</td><td>{{fms .P50}}</td><td>{{fms .P99}}</td><td>{{errs .Errors}}</td></tr>
{{end}}</table>

{{with .R.Shards}}<h2>Shards</h2>
<table><tr><th>shard</th><th>status</th><th>records</th><th>offered/s</th><th>achieved/s</th><th>success</th><th>p99</th><th>skew</th><th>note</th></tr>
{{range .List}}<tr{{if ne .Status "completed"}} class="bad"{{end}}><td>{{.Index}}</td><td>{{.Status}}</td><td>{{.Records}}</td><td>{{num .OfferedRPS}}</td><td>{{num .AchievedRPS}}</td><td>{{if .Records}}{{pct .SuccessRatio}}{{else}}-{{end}}</td><td>{{fms .P99}}</td><td>{{if .Missing}}-{{else}}{{skew .SkewMS}}{{end}}</td><td>{{dash .Note}}</td></tr>
{{end}}</table>
<div class="muted">{{.SkewLine}}.</div>
{{if .Partial}}<div class="fail">partial: {{.PartialReason}}</div>{{end}}{{end}}

{{if .R.Scorecard}}<h2>Faults scorecard (injected vs detected)</h2>
<table><tr><th>fault</th><th>path</th><th>from</th><th>to</th><th>reverted</th><th>expected</th><th>detected</th><th>match</th><th>impact after</th><th>recovered after</th><th>note</th></tr>
{{range .R.Scorecard}}<tr{{if not .Match}} class="bad"{{end}}><td>{{.Kind}}</td><td>{{dash .Path}}</td><td>{{fsec .Start}}</td><td>{{fsec .End}}</td><td>{{yes (faultOf $.R .Fault).Reverted}}</td><td>{{dash (join .Expected " or ")}}</td><td>{{.Detected}}</td><td>{{yes .Match}}</td><td>{{durOr .TimeToImpact "no impact"}}</td><td>{{recov .}}</td><td>{{dash .Note}}</td></tr>
{{end}}</table>{{end}}

{{with .R.Recommend.Lines}}<h2>Recommendations</h2><ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}

{{if .R.Checks}}<h2>Checks</h2>
<table><tr><th>check</th><th>result</th><th>detail</th></tr>
{{range .R.Checks}}<tr><td>{{.Name}}</td><td class="{{if .Skipped}}muted{{else if .Passed}}pass{{else}}fail{{end}}">{{result .}}</td><td>{{.Detail}}</td></tr>
{{end}}</table>{{end}}

<h2>Windows</h2>
<details><summary>{{len .R.Windows}} windows of {{.R.Window}}</summary>
<table><tr><th>t</th><th>stage</th><th>offered/s</th><th>achieved/s</th><th>goodput/s</th><th>success</th><th>p50</th><th>p99</th><th>lag p99</th><th>errors</th><th>cause</th><th>faults</th></tr>
{{range .R.Windows}}<tr{{if not .SLOMet}} class="bad"{{end}}><td>{{fsec .Start}}</td><td>{{if ge .Stage 0}}{{inc .Stage}}{{else}}-{{end}}</td><td>{{num .OfferedRPS}}</td><td>{{num .AchievedRPS}}</td><td>{{num .GoodputRPS}}</td><td>{{pct .SuccessRatio}}</td><td>{{fms .P50}}</td><td>{{fms .P99}}</td><td>{{fms .SendLagP99}}</td><td>{{errs .Errors}}</td><td>{{.Cause}}</td><td>{{dash (join .Faults ", ")}}</td></tr>
{{end}}</table></details>

{{with .R.Notes}}<h2>Notes</h2><ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
</body></html>
`
