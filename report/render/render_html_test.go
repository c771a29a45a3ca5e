package render

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

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/format"
	"github.com/stampede-load/stampede/report/reporttest"
	"github.com/stampede-load/stampede/scenarios/rundir"
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
func gamedayRun(t testing.TB) *reporttest.RunDir {
	b := reporttest.New(t, gamedayScenario)
	p := reporttest.Plan(t, gamedayScenario)
	b.Stages(p)
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
	b.Traffic(p, 0, 60, func(at float64) reporttest.Hit {
		jitter := time.Duration(rng.ExpFloat64() * float64(4*time.Millisecond))
		hold := 50*time.Millisecond + jitter
		h := reporttest.Hit{Lat: hold + 2*time.Millisecond, Timing: reporttest.TimingHdr(0.1, format.Millis(hold), 0.5, format.Millis(hold)+1)}
		if rng.IntN(30) == 0 {
			h.Conn = "new;connect=300000"
		}
		if at >= 5 && at < 9 {
			h.Lat += 700 * time.Millisecond
		}
		if r := rate(at); capped(at) && r > 80 {
			if rng.Float64() < 1-80/r {
				return reporttest.Hit{Lat: 3 * time.Millisecond, Outcome: rundir.OutcomeFailed, Code: 503, Timing: reporttest.TimingHdr(1, 0, 0, 2),
					Body: `{"error":"db_unavailable","sqlstate":"53300","detail":"too many connections for role \"stampede_app\""}`}
			}
			wait := time.Duration(rng.Float64() * (r - 80) * float64(time.Millisecond))
			h.Lat += wait
			h.Timing = reporttest.TimingHdr(format.Millis(wait), format.Millis(hold), 0.5, format.Millis(hold+wait)+1)
		}
		return h
	})
	b.DBSamples(0, 60, func(s int) map[string]any {
		busy := math.Min(10, rate(float64(s))*0.052)
		role, limit := busy, -1.0
		if capped(float64(s)) {
			role, limit = math.Min(4, busy), 4
		}
		return map[string]any{"backends_total": role + 3, "role_backends": role, "role_active": role, "role_limit": limit,
			"max_connections": 100, "superuser_reserved": 3, "lock_waiters": 0, "probe_rtt_ms": 0.4,
			"pool": map[string]any{"acquired_conns": role, "max_conns": 10, "empty_acquire_count": 0}}
	})
	b.Probes("service", 0, 60, func(s int) float64 {
		if s >= 5 && s < 9 {
			return 700.3
		}
		return 0.3
	})
	b.Probes("db", 0, 60, func(int) float64 { return 0.2 })
	for _, f := range []struct {
		idx        int
		kind       string
		params     map[string]any
		start, end float64
	}{
		{0, "net.latency", map[string]any{"path": "client", "latency": "700ms"}, 5, 9},
		{1, "db.conn_limit", map[string]any{"role": "stampede_app", "limit": 4}, 12, 52},
	} {
		b.Event(rundir.EventFaultInject, f.start+0.01, map[string]any{"index": f.idx, "fault": f.kind + "{...}", "kind": f.kind,
			"params": f.params, "start_s": f.start, "end_s": f.end, "ok": true, "elapsed_s": f.start + 0.01})
		b.Event(rundir.EventFaultRevert, f.end+0.01, map[string]any{"index": f.idx, "kind": f.kind, "start_s": f.start, "end_s": f.end,
			"ok": true, "reason": "end"})
	}
	b.Event(rundir.EventRunEnd, 60.2, map[string]any{"status": "completed"})
	return b
}

// gamedayDir writes gamedayRun under the drill's own name (the builder
// names every run "test").
func gamedayDir(t testing.TB) string {
	dir := gamedayRun(t).Write()
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

func renderHTML(t *testing.T, r *report.Report) string {
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
	page := renderHTML(t, analyzeDir(t, reporttest.DrillRun(t).Write()))
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
	r := analyzeDir(t, reporttest.DrillRun(t).Write())
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
	page := renderHTML(t, analyzeDir(t, reporttest.CleanRun(t).Write()))
	if !strings.Contains(page, `aria-label="Errors by class: none"`) {
		t.Error("a clean run's error chart should be titled as having none")
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
