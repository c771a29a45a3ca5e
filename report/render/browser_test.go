//go:build browser

// The browser test: report.html opened in headless Chromium through the
// DevTools protocol (chromedp). It needs a Chromium, so it sits behind the
// "browser" build tag; scripts/browser-test.sh installs Debian's chromium
// when missing and runs it:
//
//	scripts/browser-test.sh
//	go test -tags browser -run TestBrowser -count=1 ./report/render/
//
// STAMPEDE_CHROMIUM names the browser (default /usr/bin/chromium);
// STAMPEDE_SCREENSHOT where the page's screenshot goes (default
// docs/report-screenshot.png, the README's picture; "-" for none).

package render

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// chartStat is what the page says of one rendered chart.
type chartStat struct {
	Label  string  `json:"label"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	// Paths drawn with a real extent; the widest one's width; paths of
	// ten or more vertices (data lines); opaque coloured bars.
	Paths     int      `json:"paths"`
	MaxPathW  float64  `json:"maxPathW"`
	LongPaths int      `json:"longPaths"`
	Bars      int      `json:"bars"`
	Texts     int      `json:"texts"`
	Overflow  []string `json:"overflow"` // texts drawn outside the chart
	TitleW    float64  `json:"titleW"`   // the rendered title's width
}

// chartsJS measures every chart as the browser laid it out.
const chartsJS = `(() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg')) {
    const box = svg.getBoundingClientRect();
    const s = {label: svg.getAttribute('aria-label') || '', width: box.width, height: box.height,
      paths: 0, maxPathW: 0, longPaths: 0, bars: 0, texts: 0, overflow: [], titleW: 0};
    for (const p of svg.querySelectorAll('path')) {
      const r = p.getBoundingClientRect();
      const st = getComputedStyle(p);
      if (r.width < 1 && r.height < 1) continue;
      if (st.fill === 'rgb(255, 255, 255)' && st.stroke === 'none') continue; // the background
      s.paths++;
      s.maxPathW = Math.max(s.maxPathW, r.width);
      if ((p.getAttribute('d').match(/L/g) || []).length >= 9) s.longPaths++;
      if (st.fill !== 'none' && st.fill !== 'rgb(255, 255, 255)' && st.fillOpacity === '1' && r.height > r.width && r.height > 2) s.bars++;
    }
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (r.width === 0) continue;
      s.texts++;
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1) s.overflow.push(t.textContent);
      if (t.textContent === s.label) s.titleW = r.width;
    }
    out.push(s);
  }
  return out;
})()`

func TestBrowserReport(t *testing.T) {
	exe := cmp.Or(os.Getenv("STAMPEDE_CHROMIUM"), "/usr/bin/chromium")
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("no Chromium: %v (apt-get install chromium, or run scripts/browser-test.sh)", err)
	}
	dir := gamedayDir(t)
	r := analyzeDir(t, dir)
	if err := WriteAll(dir, r); err != nil {
		t.Fatal(err)
	}
	want, err := htmlCharts(r)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-device-scale-factor", "1"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 900),
	)
	defer acancel() // before t.TempDir's cleanup: the browser has exited
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	// Everything the page says or fetches, in order.
	var mu sync.Mutex
	var problems []string
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	if err := chromedp.Listen(bctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				problem("console.%s: %s", ev.Type, strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			if d.Exception != nil && d.Exception.Description != "" {
				problem("exception: %s %s", d.Text, d.Exception.Description)
			} else {
				problem("exception: %s", d.Text)
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				problem("log %s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			// one file, nothing fetched: only the page itself is requested
			if u := ev.Request.URL; !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") {
				problem("the page fetched %s", u)
			}
		case *network.EventLoadingFailed:
			problem("loading failed: %s", ev.ErrorText)
		}
	}); err != nil {
		t.Fatal(err)
	}

	page := "file://" + filepath.Join(dir, rundir.HTMLFile)
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1100, 900), chromedp.Navigate(page)); err != nil {
		t.Fatalf("open %s: %v", page, err)
	}
	title, err := chromedp.Run(bctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if title != "stampede report: gameday" {
		t.Errorf("page title %q", title)
	}
	tables, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('table').length`))
	if err != nil {
		t.Fatal(err)
	}
	if tables < 4 {
		t.Errorf("%d tables, want at least 4 (limit, stages, scorecard, windows)", tables)
	}

	stats, err := chromedp.Run(bctx, chromedp.Evaluate[[]chartStat](chartsJS))
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != len(want) {
		t.Errorf("%d charts on the page, want %d", len(stats), len(want))
	}
	for _, s := range stats {
		t.Logf("%s: %.0f×%.0f px, %d paths (widest %.0f px, %d data lines, %d bars), %d texts",
			s.Label, s.Width, s.Height, s.Paths, s.MaxPathW, s.LongPaths, s.Bars, s.Texts)
		switch {
		case s.Width < 600 || s.Height < 150:
			t.Errorf("%s: laid out %.0f×%.0f px, want at least 600×150", s.Label, s.Width, s.Height)
		case s.Paths < 20 || s.MaxPathW < s.Width/2:
			t.Errorf("%s: %d paths with extent, the widest %.0f px: want 20 and half the chart's width", s.Label, s.Paths, s.MaxPathW)
		case s.LongPaths == 0 && s.Bars < 5:
			t.Errorf("%s: no data drawn: no line of 10 points, %d bars", s.Label, s.Bars)
		case s.Texts < 15 || s.TitleW < 100:
			t.Errorf("%s: %d texts, title %.0f px wide: labels missing", s.Label, s.Texts, s.TitleW)
		}
		if len(s.Overflow) > 0 {
			t.Errorf("%s: text outside the chart: %q", s.Label, s.Overflow)
		}
	}

	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if path := cmp.Or(os.Getenv("STAMPEDE_SCREENSHOT"), filepath.Join("..", "..", "docs", "report-screenshot.png")); path != "-" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s (%d bytes)", path, len(shot))
	}

	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("the page reported a problem: %s", p)
	}
}
