package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
	"gonum.org/v1/plot"
)

const gamedayScenario = `name: gameday
stages:
  - constant: {name: baseline, rate: 30, for: 15s}
  - ramp:     {name: surge, from: 30, to: 150, for: 20s}
  - constant: {name: peak, rate: 150, for: 15s}
  - constant: {name: recovery, rate: 30, for: 10s}
faults:
  - {kind: net.latency, path: client, start: 5s, for: 4s, latency: 700ms}
  - {kind: db.conn_limit, start: 12s, for: 40s, limit: 4}
slo:
  success_ratio: 0.99
  latency: 500ms
`

// gamedayRun crafts the bundled gameday drill as a real run would record
// it, with seeded jitter: 60 s from 30/s through a surge to 150/s; a
// 700 ms network blip on the client path at 5 s; from 12 s the role capped
// at 4 connections, each login holding one for 50 ms (80 logins/s), so
// past 80/s the rest fail with 53300 and the pool queues. It is the
// browser test's page and the README's screenshot.
func gamedayRun(t testing.TB) *runDir {
	b := newRunDir(t, gamedayScenario)
	p := mustPlan(t, gamedayScenario)
	b.stages(p)
	rng := rand.New(rand.NewPCG(2025, 3))
	rate := func(at float64) float64 {
		switch {
		case at < 15:
			return 30
		case at < 35:
			return 30 + 6*(at-15)
		case at < 50:
			return 150
		}
		return 30
	}
	capped := func(at float64) bool { return at >= 12 && at < 52 }
	b.traffic(p, 0, 60, func(at float64) hitSpec {
		jitter := time.Duration(rng.ExpFloat64() * float64(4*time.Millisecond))
		hold := 50*time.Millisecond + jitter
		h := hitSpec{lat: hold + 2*time.Millisecond, timing: timingHdr(0.1, ms(hold), 0.5, ms(hold)+1)}
		if rng.IntN(30) == 0 {
			h.conn = "new;connect=300000"
		}
		if at >= 5 && at < 9 {
			h.lat += 700 * time.Millisecond
		}
		if r := rate(at); capped(at) && r > 80 {
			if rng.Float64() < 1-80/r {
				return hitSpec{lat: 3 * time.Millisecond, outcome: rundir.OutcomeFailed, code: 503, timing: timingHdr(1, 0, 0, 2),
					body: `{"error":"db_unavailable","sqlstate":"53300","detail":"too many connections for role \"stampede_app\""}`}
			}
			wait := time.Duration(rng.Float64() * (r - 80) * float64(time.Millisecond))
			h.lat += wait
			h.timing = timingHdr(ms(wait), ms(hold), 0.5, ms(hold+wait)+1)
		}
		return h
	})
	b.dbSamples(0, 60, func(s int) map[string]any {
		busy := math.Min(10, rate(float64(s))*0.052)
		role, limit := busy, -1.0
		if capped(float64(s)) {
			role, limit = math.Min(4, busy), 4
		}
		return map[string]any{"backends_total": role + 3, "role_backends": role, "role_active": role, "role_limit": limit,
			"max_connections": 100, "superuser_reserved": 3, "lock_waiters": 0, "probe_rtt_ms": 0.4,
			"pool": map[string]any{"acquired_conns": role, "max_conns": 10, "empty_acquire_count": 0}}
	})
	b.probes("service", 0, 60, func(s int) float64 {
		if s >= 5 && s < 9 {
			return 700.3
		}
		return 0.3
	})
	b.probes("db", 0, 60, func(int) float64 { return 0.2 })
	for _, f := range []struct {
		idx        int
		kind       string
		params     map[string]any
		start, end float64
	}{
		{0, "net.latency", map[string]any{"path": "client", "latency": "700ms"}, 5, 9},
		{1, "db.conn_limit", map[string]any{"role": "stampede_app", "limit": 4}, 12, 52},
	} {
		b.event(rundir.EventFaultInject, f.start+0.01, map[string]any{"index": f.idx, "fault": f.kind + "{...}", "kind": f.kind,
			"params": f.params, "start_s": f.start, "end_s": f.end, "ok": true, "elapsed_s": f.start + 0.01})
		b.event(rundir.EventFaultRevert, f.end+0.01, map[string]any{"index": f.idx, "kind": f.kind, "start_s": f.start, "end_s": f.end,
			"ok": true, "reason": "end"})
	}
	b.event(rundir.EventRunEnd, 60.2, map[string]any{"status": "completed"})
	return b
}

// gamedayDir writes gamedayRun under the drill's own name (the builder
// names every run "test").
func gamedayDir(t testing.TB) string {
	dir := gamedayRun(t).write()
	path := filepath.Join(dir, rundir.TimelineFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(`"scenario":"test"`), []byte(`"scenario":"gameday"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// svgNode is an element of a chart, parsed back.
type svgNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []svgNode  `xml:",any"`
}

func (n *svgNode) walk(fn func(*svgNode)) {
	fn(n)
	for i := range n.Nodes {
		n.Nodes[i].walk(fn)
	}
}

func (n *svgNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// chartSVGs cuts report.html's charts out and parses each: every one
// must be well-formed XML.
func chartSVGs(t *testing.T, page string) []svgNode {
	t.Helper()
	var out []svgNode
	for _, s := range regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(page, -1) {
		var n svgNode
		if err := xml.Unmarshal([]byte(s), &n); err != nil {
			t.Fatalf("chart is not well-formed SVG: %v\n%.300s", err, s)
		}
		out = append(out, n)
	}
	return out
}

func renderHTML(t *testing.T, r *Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// The charts, parsed back: titled, labelled, with drawn data, the fault
// periods shaded and named, degraded windows marked, fonts not embedded
// but given generic fallbacks.
func TestHTMLChartsStructure(t *testing.T) {
	page := renderHTML(t, analyzeDir(t, drillRun(t).write()))
	charts := chartSVGs(t, page)
	titles := []string{"Load: offered vs achieved vs goodput", "Latency percentiles", "Errors by class", "Database connections against their caps"}
	if len(charts) != len(titles) {
		t.Fatalf("%d charts, want %d", len(charts), len(titles))
	}
	for i, c := range charts {
		if got := c.attr("aria-label"); got != titles[i] {
			t.Errorf("chart %d is %q, want %q", i, got, titles[i])
		}
		if c.attr("viewBox") == "" || c.attr("width") != "100%" {
			t.Errorf("%s: viewBox %q width %q: want a viewBox and full width", titles[i], c.attr("viewBox"), c.attr("width"))
		}
		var texts, hoverTitles []string
		paths := 0
		c.walk(func(n *svgNode) {
			switch n.XMLName.Local {
			case "text":
				texts = append(texts, strings.TrimSpace(n.Text))
				if st := n.attr("style"); strings.Contains(st, "font-family") && !strings.Contains(st, "sans-serif") {
					t.Errorf("%s: text %q without a generic font family: %s", titles[i], n.Text, st)
				}
			case "path":
				if len(n.attr("d")) > 20 {
					paths++
				}
			case "rect":
				for _, k := range n.Nodes {
					if k.XMLName.Local == "title" {
						hoverTitles = append(hoverTitles, k.Text)
					}
				}
			}
		})
		for _, want := range []string{titles[i], "time since start (s)", "0", "20", "40", "fault in force",
			"db.conn_limit", "net.reset_peer on path client", "SLO missed: db.connections"} {
			if !slices.Contains(texts, want) {
				t.Errorf("%s: no text %q in %q", titles[i], want, texts)
			}
		}
		if paths < 20 {
			t.Errorf("%s: %d drawn paths, want at least 20 (axes, grid, data)", titles[i], paths)
		}
		for _, want := range []string{"db.conn_limit", "net.reset_peer on path client", "db.hog", "SLO missed 11s to 22s: db.connections"} {
			if !slices.Contains(hoverTitles, want) {
				t.Errorf("%s: no hover title %q in %q", titles[i], want, hoverTitles)
			}
		}
	}
	if strings.Contains(page, "@font-face") || strings.Contains(page, "<?xml") {
		t.Error("report.html embeds fonts or an XML prolog")
	}
	for _, want := range []string{"requests/s", "latency (ms, log scale)", "errors per 1s window", "connections",
		"SLO p99 500 ms", "usable max_connections (97, off scale)", "role limit (50, off scale)"} {
		if !strings.Contains(page, ">"+want+"</text>") {
			t.Errorf("no chart text %q", want)
		}
	}
}

// Same input, same bytes: the charts are golden.
func TestHTMLChartsGolden(t *testing.T) {
	r := analyzeDir(t, drillRun(t).write())
	a, b := renderHTML(t, r), renderHTML(t, r)
	if a != b {
		t.Fatalf("two renders of one report differ:\n%s", firstDiff([]byte(a), []byte(b)))
	}
	golden(t, "html-drill-charts.golden.svg", []byte(strings.Join(regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(a, -1), "\n")+"\n"))
}

// A 60 s run's report stays small enough to mail and to open anywhere.
func TestHTMLSize(t *testing.T) {
	r := analyzeDir(t, gamedayDir(t))
	page := renderHTML(t, r)
	if r.Scenario != "gameday" {
		t.Errorf("scenario %q, want gameday", r.Scenario)
	}
	t.Logf("report.html for a %s run: %d bytes", r.Elapsed, len(page))
	if len(page) > 300_000 {
		t.Errorf("report.html is %d bytes for a %s run; want under 300 kB", len(page), r.Elapsed)
	}
	if n := len(chartSVGs(t, page)); n != 4 {
		t.Errorf("%d charts, want 4", n)
	}
}

// A run without errors says so rather than drawing an empty legend.
func TestHTMLNoErrors(t *testing.T) {
	page := renderHTML(t, analyzeDir(t, cleanRun(t).write()))
	if !strings.Contains(page, `aria-label="Errors by class: none"`) {
		t.Error("a clean run's error chart should be titled as having none")
	}
}

func TestLinearTicks(t *testing.T) {
	for _, tc := range []struct {
		min, max float64
		n        int
		want     []string // labels
	}{
		{0, 60, 12, []string{"0", "5", "10", "15", "20", "25", "30", "35", "40", "45", "50", "55", "60"}},
		{0, 172.5, 5, []string{"0", "50", "100", "150"}},
		{0, 1.15, 5, []string{"0", "0.5", "1"}},
		{0, 40.3, 12, []string{"0", "5", "10", "15", "20", "25", "30", "35", "40"}},
		{5, 5, 5, nil},
	} {
		var got []string
		minor := 0
		for _, tk := range linearTicks(tc.min, tc.max, tc.n) {
			if tk.Value < tc.min || tk.Value > tc.max {
				t.Errorf("%g..%g: tick %g out of range", tc.min, tc.max, tk.Value)
			}
			if tk.IsMinor() {
				minor++
			} else {
				got = append(got, tk.Label)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%g..%g by %d: labels %q, want %q", tc.min, tc.max, tc.n, got, tc.want)
		}
		if len(got) > 1 && minor < len(got)-1 {
			t.Errorf("%g..%g: %d minor ticks for %d labels", tc.min, tc.max, minor, len(got))
		}
	}
}

func TestLogTicks(t *testing.T) {
	labels := func(ticks []plot.Tick) []string {
		var out []string
		for _, tk := range ticks {
			if !tk.IsMinor() {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	for _, tc := range []struct {
		min, max float64
		want     []string
	}{
		{3.1, 1650, []string{"5", "10", "20", "50", "100", "200", "500", "1000"}},
		{0.3, 4, []string{"0.5", "1", "2"}},
		{6, 27, []string{"10", "20"}},
		{0, 10, nil},
	} {
		if got := labels(logTicks(tc.min, tc.max)); !slices.Equal(got, tc.want) {
			t.Errorf("%g..%g: %q, want %q", tc.min, tc.max, got, tc.want)
		}
	}
}

func TestLineSegments(t *testing.T) {
	nan := math.NaN()
	segs := lineSegments([]float64{1, 2, nan, 3, nan, nan, 0, 5, 6}, 2, true)
	// 1,2 | 3 alone (widened) | 0 dropped on a log scale | 5,6
	want := [][2]float64{{1, 3}, {6.4, 7.6}, {15, 17}}
	if len(segs) != len(want) {
		t.Fatalf("%d segments, want %d: %v", len(segs), len(want), segs)
	}
	for i, s := range segs {
		if s[0].X != want[i][0] || s[len(s)-1].X != want[i][1] {
			t.Errorf("segment %d spans %g..%g, want %g..%g", i, s[0].X, s[len(s)-1].X, want[i][0], want[i][1])
		}
	}
	if n := len(lineSegments([]float64{0, 1}, 1, false)); n != 1 {
		t.Errorf("a linear scale keeps 0: %d segments, want 1", n)
	}
}

// Rendering the charts costs little next to the analysis.
func BenchmarkWriteHTML(b *testing.B) {
	r := analyzeDir(b, gamedayDir(b))
	for b.Loop() {
		if err := WriteHTML(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

func TestStripCauses(t *testing.T) {
	got := stripCauses([]string{"", "network.client", "db.connections", "", "weird", "db.connections"})
	if want := []string{"db.connections", "network.client", "weird"}; !slices.Equal(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
}
