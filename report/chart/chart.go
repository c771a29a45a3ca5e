// Package chart draws the report's charts over the run's time axis (load,
// latency, errors, the database against its caps) as inline SVG, with
// gonum.org/v1/plot, which no other package imports. report/render uses it.
package chart

import (
	"bytes"
	"cmp"
	"fmt"
	"html"
	"html/template"
	"image/color"
	"math"
	"slices"
	"strings"

	"github.com/stampede-load/stampede/report/format"
	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The report's charts are drawn by gonum.org/v1/plot (axes, ticks, grid,
// lines, bars, legends) onto its SVG canvas (vg/vgsvg) and inlined in
// report.html. What plot has no plotter for is drawn through its own
// Plotter interface (chart_plotters.go): fault periods shaded across the
// data area, and a strip of degraded windows above it.
//
// The SVG is made fit to inline: vgsvg's XML prolog and fixed pt size give
// way to a viewBox that scales with the page; fonts are not embedded (the
// Liberation fonts would add ~400 KB per face and chart) but named with
// metric-compatible fallbacks, so text measured with Liberation Sans fits
// in Arimo, Arial or Helvetica too. Hover targets with <title>s name each
// fault period and each run of degraded windows.

// Charts are charts over one time axis, sharing its fault periods
// and degraded windows; Render lines up their data areas, so a moment
// sits at the same x on every chart.
type Charts struct {
	Window float64 // window width, seconds
	XMax   float64 // seconds
	Bands  []Band
	Strip  []string // per window: the cause of a missed SLO, or ""
	Charts []Chart
}

type Chart struct {
	Title  string
	YLabel string
	LogY   bool // for lines and horizontal lines only
	Lines  []Line
	Stacks []Stack // per window, stacked bottom first
	HLines []HLine
}

type Line struct {
	Name   string
	Color  color.RGBA
	Dashed bool
	// Cap marks a limit line: it does not stretch the scale beyond 3 times
	// the data (a max_connections of 100 would flatten a pool of 5); one
	// off the scale is named in the legend only.
	Cap bool
	Y   []float64 // per window; NaN leaves a gap
}

type Stack struct {
	Name  string
	Color color.RGBA
	Y     []float64
}

type HLine struct {
	Name  string
	Color color.RGBA
	Y     float64
}

type Band struct {
	From, To float64 // seconds
	Label    string
}

// hoverRect is an area of a chart, in canvas points (origin bottom left),
// that names itself on hover.
type hoverRect struct {
	R     vg.Rectangle
	Title string
}

const (
	chartW, chartH   = vg.Length(800), vg.Length(250)
	chartMargin      = vg.Length(6)
	chartTitleH      = vg.Length(20) // the title's row
	stripH, stripGap = vg.Length(5), vg.Length(4)
	legendGap        = vg.Length(14)

	// chartFontFamily replaces vgsvg's bare "Liberation Sans": the first
	// three share its metrics, so labels keep the widths plot measured.
	chartFontFamily = "'Liberation Sans',Arimo,Arial,Helvetica,sans-serif"
)

var (
	chartFaultFill = color.NRGBA{R: 214, G: 39, B: 40, A: 24}
	chartFaultEdge = color.NRGBA{R: 214, G: 39, B: 40, A: 110}
	chartFaultText = color.NRGBA{R: 170, G: 30, B: 30, A: 255}
	chartGrid      = color.NRGBA{R: 225, G: 225, B: 225, A: 255}
	axisGray       = color.NRGBA{R: 120, G: 120, B: 120, A: 255}
	chartInk       = color.NRGBA{R: 34, G: 34, B: 34, A: 255}
	chartWhite     = color.NRGBA{R: 255, G: 255, B: 255, A: 255}
)

// RGB is a colour from its 0xRRGGBB value.
func RGB(v uint32) color.RGBA {
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 255}
}

// sans is the charts' font at a size.
func sans(size vg.Length, bold bool) font.Font {
	f := font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
	if bold {
		f.Weight = xfont.WeightBold
	}
	return f
}

// builtChart is one chart's plot, legend and the hover targets its
// plotters record while drawing.
type builtChart struct {
	title  string
	plot   *plot.Plot
	legend plot.Legend
	hover  *[]hoverRect
}

// Render draws every chart to an inline SVG element.
func (tc Charts) Render() ([]template.HTML, error) {
	built := make([]builtChart, len(tc.Charts))
	var legendW vg.Length
	for i, c := range tc.Charts {
		built[i] = tc.build(c)
		legendW = max(legendW, built[i].legend.Rectangle(draw.Canvas{}).Size().X)
	}
	// Room for a wider fallback font: DejaVu Sans, sans-serif on many
	// Linux desktops, sets text ~12% wider than Liberation Sans.
	legendW *= 1.15
	top := chartTitleH + stripGap + stripH + stripGap
	plotArea := func(dc draw.Canvas) draw.Canvas {
		return draw.Crop(dc, chartMargin, -(chartMargin + legendW + legendGap), chartMargin, -top)
	}
	// Line the data areas up: each plot's y axis is as wide as its tick
	// labels, so pad the narrower ones to the widest.
	ref := plotArea(draw.Canvas{Rectangle: vg.Rectangle{Max: vg.Point{X: chartW, Y: chartH}}})
	axisW := make([]vg.Length, len(built))
	var maxAxisW vg.Length
	for i, b := range built {
		axisW[i] = b.plot.DataCanvas(ref).Min.X - ref.Min.X
		maxAxisW = max(maxAxisW, axisW[i])
	}

	out := make([]template.HTML, len(built))
	for i, b := range built {
		// a long legend makes its chart taller, never the other way
		h := max(chartH, top+b.legend.Rectangle(draw.Canvas{}).Size().Y+2*chartMargin)
		cv := vgsvg.New(chartW, h)
		dc := draw.New(cv)
		dc.SetColor(chartWhite)
		dc.Fill(dc.Rectangle.Path())

		b.plot.Draw(draw.Crop(plotArea(dc), maxAxisW-axisW[i], 0, 0, 0))

		title := text.Style{Color: chartInk, Font: sans(12, true), XAlign: draw.XLeft, YAlign: draw.YTop, Handler: b.plot.TextHandler}
		dc.FillText(title, vg.Point{X: chartMargin, Y: h - chartMargin}, b.title)
		b.legend.Draw(draw.Crop(dc, chartW-chartMargin-legendW, -chartMargin, chartMargin, -top))

		svg, err := inlineSVG(cv, b.title, *b.hover)
		if err != nil {
			return nil, err
		}
		out[i] = svg
	}
	return out, nil
}

// build lays out one chart: plotters in drawing order, axes, legend.
func (tc Charts) build(c Chart) builtChart {
	p := plot.New()
	p.BackgroundColor = nil
	styleAxis(&p.X, "time since start (s)")
	styleAxis(&p.Y, c.YLabel)
	p.X.Min, p.X.Max = 0, math.Max(tc.XMax, tc.Window)
	leg := newLegend()

	hover := &[]hoverRect{}
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = chartGrid, chartGrid
	grid.Vertical.Width, grid.Horizontal.Width = 0.5, 0.5
	p.Add(grid, &faultShade{bands: tc.Bands, hover: hover})

	yr := c.yRange()
	// A log scale is drawn as log10 of the values on a linear axis whose
	// ticks name the values: plot's LogScale places the axis label's
	// glyph box by the linear midpoint and so squeezes the plot.
	ty := func(v float64) float64 { return v }
	if c.LogY {
		ty = math.Log10
	}
	p.Add(stackBars(c.Stacks, tc.Window)...)
	c.addLines(p, &leg, yr, ty, tc.Window)
	for _, h := range c.HLines {
		sty := draw.LineStyle{Color: h.Color, Width: 1.2, Dashes: []vg.Length{6, 3}}
		if !c.LogY || h.Y > 0 {
			p.Add(&plotter.Line{XYs: plotter.XYs{{X: p.X.Min, Y: ty(h.Y)}, {X: p.X.Max, Y: ty(h.Y)}}, LineStyle: sty})
		}
		leg.Add(h.Name, &plotter.Line{LineStyle: sty})
	}

	if len(tc.Bands) > 0 {
		leg.Add("fault in force", swatch{fill: chartFaultFill, edge: chartFaultEdge})
	}
	for _, cause := range stripCauses(tc.Strip) {
		leg.Add("SLO missed: "+cause, swatch{fill: RGB(CauseRGB(cause)), thin: true})
	}
	label := text.Style{Color: chartFaultText, Font: sans(8, false), XAlign: draw.XLeft, YAlign: draw.YTop, Handler: p.TextHandler}
	p.Add(&chartOverlay{window: tc.Window, strip: tc.Strip, bands: tc.Bands, label: label, hover: hover})

	p.Y.Min, p.Y.Max = ty(yr.min), ty(yr.max)
	setTicks(p, c.LogY)
	return builtChart{title: c.Title, plot: p, legend: leg, hover: hover}
}

func newLegend() plot.Legend {
	leg := plot.NewLegend()
	leg.TextStyle.Font = sans(9, false)
	leg.TextStyle.Color = chartInk
	leg.Top, leg.Left = true, true
	leg.ThumbnailWidth = 18
	leg.Padding = 1.5
	return leg
}

// stackBars stacks bars by painting each class's cumulative total, top
// class first: what shows of each bar is its own class. plot's Histogram
// draws bars between bin edges in data units, as windows need.
func stackBars(stacks []Stack, window float64) []plot.Plotter {
	var out []plot.Plotter
	for k := len(stacks) - 1; k >= 0; k-- {
		h := &plotter.Histogram{FillColor: stacks[k].Color,
			LineStyle: draw.LineStyle{Color: chartWhite, Width: 0.4}}
		for i := range stacks[k].Y {
			sum := 0.0
			for _, s := range stacks[:k+1] {
				if i < len(s.Y) && s.Y[i] > 0 {
					sum += s.Y[i]
				}
			}
			if stacks[k].Y[i] > 0 {
				h.Bins = append(h.Bins, plotter.HistogramBin{Min: float64(i) * window, Max: float64(i+1) * window, Weight: sum})
			}
		}
		out = append(out, h)
	}
	return out
}

// addLines draws the chart's lines (dashed ones, the offered rate and the
// caps, over the solid ones they often coincide with, so both show) and
// lists lines and stacks in the legend.
func (c Chart) addLines(p *plot.Plot, leg *plot.Legend, yr yRange, ty func(float64) float64, window float64) {
	lines := slices.Clone(c.Lines)
	slices.SortStableFunc(lines, func(a, b Line) int {
		return cmp.Compare(btoi(a.Dashed), btoi(b.Dashed))
	})
	for _, l := range lines {
		y, _ := yr.onScale(l)
		for _, seg := range lineSegments(y, window, c.LogY) {
			for i := range seg {
				seg[i].Y = ty(seg[i].Y)
			}
			p.Add(&plotter.Line{XYs: seg, LineStyle: lineStyle(l)})
		}
	}
	for _, l := range c.Lines {
		name := l.Name
		if _, cut := yr.onScale(l); cut {
			name += " (" + format.Num(format.Round(SeriesMax(l.Y), 1)) + ", off scale)"
		}
		leg.Add(name, &plotter.Line{LineStyle: lineStyle(l)})
	}
	// the legend lists the classes top to bottom, as the bars stack
	for k := len(c.Stacks) - 1; k >= 0; k-- {
		leg.Add(c.Stacks[k].Name, &plotter.Histogram{FillColor: c.Stacks[k].Color})
	}
	if len(c.Stacks) == 0 && len(c.Lines) == 0 {
		leg.Add("no data")
	}
}

// setTicks marks the axes: linear ticks, or a log axis's values.
func setTicks(p *plot.Plot, logY bool) {
	p.X.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick { return linearTicks(min, max, 12) })
	p.Y.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick { return linearTicks(min, max, 5) })
	if logY {
		p.Y.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
			ticks := logTicks(math.Pow(10, min), math.Pow(10, max))
			for i := range ticks {
				ticks[i].Value = math.Log10(ticks[i].Value)
			}
			return ticks
		})
	}
}

// lineStyle is how a series is drawn.
func lineStyle(l Line) draw.LineStyle {
	sty := draw.LineStyle{Color: l.Color, Width: 1.6}
	if l.Dashed {
		sty.Dashes = []vg.Length{5, 3}
	}
	return sty
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// stripCauses are the causes in a strip, known ones in legend order.
func stripCauses(strip []string) []string {
	var out []string
	for _, c := range append(LegendCauses(), strip...) {
		if c != "" && slices.Contains(strip, c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// styleAxis gives an axis the charts' fonts and greys.
func styleAxis(a *plot.Axis, label string) {
	a.Label.Text = label
	a.Label.TextStyle.Font = sans(10, false)
	a.Label.TextStyle.Color = chartInk
	a.Tick.Label.Font = sans(9, false)
	a.Tick.Label.Color = chartInk
	a.Tick.Length = 4
	a.Tick.LineStyle.Color = axisGray
	a.LineStyle.Color = axisGray
	a.Padding = 2
}

// yRange is a chart's vertical extent.
type yRange struct {
	min, max float64
	capTop   float64 // cap values above this are off the scale
}

// onScale is a cap line's values within the scale, NaN elsewhere, and
// whether any were left out.
func (r yRange) onScale(l Line) ([]float64, bool) {
	if !l.Cap {
		return l.Y, false
	}
	out, cut := make([]float64, len(l.Y)), false
	for i, v := range l.Y {
		if v > r.capTop {
			v, cut = math.NaN(), true
		}
		out[i] = v
	}
	return out, cut
}

// yRange fits the data, the caps within 3 times the data (a
// max_connections of 100 would flatten a pool of 5), stacks and
// horizontal lines, with headroom for the fault labels; a log scale
// spans the positive values.
func (c Chart) yRange() yRange {
	r := yRange{capTop: math.Inf(1)}
	dataMax, capMax, lo := 0.0, 0.0, math.Inf(1)
	for _, l := range c.Lines {
		if l.Cap {
			capMax = math.Max(capMax, SeriesMax(l.Y))
		} else {
			dataMax = math.Max(dataMax, SeriesMax(l.Y))
		}
	}
	if dataMax > 0 {
		r.capTop = 3 * dataMax
	}
	top := dataMax
	for _, l := range c.Lines {
		y, _ := r.onScale(l)
		top = math.Max(top, SeriesMax(y))
		for _, v := range y {
			if v > 0 {
				lo = math.Min(lo, v)
			}
		}
	}
	if top == 0 {
		top = capMax
	}
	if len(c.Stacks) > 0 {
		for i := range c.Stacks[0].Y {
			sum := 0.0
			for _, s := range c.Stacks {
				if i < len(s.Y) && s.Y[i] > 0 {
					sum += s.Y[i]
				}
			}
			top = math.Max(top, sum)
		}
	}
	for _, h := range c.HLines {
		top = math.Max(top, h.Y)
		if h.Y > 0 {
			lo = math.Min(lo, h.Y)
		}
	}
	if c.LogY {
		if math.IsInf(lo, 1) {
			lo, top = 1, 10
		}
		r.min, r.max = lo/1.6, math.Max(top, lo)*2.2
		return r
	}
	if top <= 0 {
		top = 1
	}
	r.min, r.max = 0, top*1.15
	return r
}

// SeriesMax is the largest value, NaN ignored; 0 for none.
func SeriesMax(y []float64) float64 {
	m := 0.0
	for _, v := range y {
		if !math.IsNaN(v) {
			m = math.Max(m, v)
		}
	}
	return m
}

// lineSegments splits a per-window series at its gaps (NaN, and values
// a log scale cannot show), each point at its window's middle. A lone
// point becomes a short level line, so it shows.
func lineSegments(y []float64, window float64, log bool) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	flush := func() {
		switch len(cur) {
		case 0:
			return
		case 1:
			x, v := cur[0].X, cur[0].Y
			cur = plotter.XYs{{X: x - 0.3*window, Y: v}, {X: x + 0.3*window, Y: v}}
		}
		out = append(out, cur)
		cur = nil
	}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) || (log && v <= 0) {
			flush()
			continue
		}
		cur = append(cur, plotter.XY{X: (float64(i) + 0.5) * window, Y: v})
	}
	flush()
	return out
}

// linearTicks labels about n steps of 1, 2 or 5 times a power of ten,
// with a minor tick between labels.
func linearTicks(min, max float64, n int) []plot.Tick {
	if !(max > min) || n < 1 {
		return nil
	}
	raw := (max - min) / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * p
	for _, m := range []float64{1, 2, 5} {
		if m*p >= raw {
			step = m * p
			break
		}
	}
	var ticks []plot.Tick
	for k := math.Ceil(min / step * 2); k/2*step <= max*(1+1e-12); k++ {
		t := plot.Tick{Value: k / 2 * step}
		if math.Mod(k, 2) == 0 {
			t.Label = format.Num(format.Round(t.Value, 6))
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// logTicks labels 1, 2 and 5 times the powers of ten in range, with
// minor ticks between.
func logTicks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	if min <= 0 || max <= min {
		return nil
	}
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		p := math.Pow(10, e)
		for m := 1; m < 10; m++ {
			v := float64(m) * p
			if v < min || v > max {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = format.Num(format.Round(v, 3))
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// inlineSVG finishes a vgsvg canvas as an element to inline in HTML: its
// own root (viewBox, full width, titled), generic font fallbacks, and the
// hover targets on top.
func inlineSVG(cv *vgsvg.Canvas, title string, hover []hoverRect) (template.HTML, error) {
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("report: chart %q: %w", title, err)
	}
	s := buf.String()
	open := strings.Index(s, "<svg")
	end := strings.LastIndex(s, "</svg>")
	if open < 0 || end < 0 {
		return "", fmt.Errorf("report: chart %q: no <svg> element in vgsvg's output", title)
	}
	body := s[open:end]
	gt := strings.IndexByte(body, '>')
	if gt < 0 {
		return "", fmt.Errorf("report: chart %q: unterminated <svg> tag", title)
	}
	body = strings.ReplaceAll(body[gt+1:], "font-family:Liberation Sans;", "font-family:"+chartFontFamily+";")

	w, h := cv.Size()
	var b strings.Builder
	b.Grow(len(body) + 512)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %g %g" width="100%%" role="img" aria-label="%s">`,
		w.Points(), h.Points(), html.EscapeString(title))
	fmt.Fprintf(&b, "<title>%s</title>\n", html.EscapeString(title))
	b.WriteString(body)
	if len(hover) > 0 {
		b.WriteString(`<g class="hover" fill="#000" fill-opacity="0">`)
		for _, r := range hover {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s</title></rect>`,
				r.R.Min.X.Points(), (h - r.R.Max.Y).Points(), r.R.Size().X.Points(), r.R.Size().Y.Points(), html.EscapeString(r.Title))
		}
		b.WriteString("</g>\n")
	}
	b.WriteString("</svg>")
	return template.HTML(b.String()), nil
}
