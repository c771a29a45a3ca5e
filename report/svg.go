package report

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Charts are inline SVG written by hand: a few lines, stacked bars,
// horizontal caps and shaded fault periods over per-window data. No
// plotting library: gonum/plot would add a dozen modules (fonts, image
// codecs) to go.mod for what is ~200 lines here, and its SVG embeds fonts;
// hand-written SVG is small, deterministic, and needs nothing at view time.

type svgChart struct {
	Title  string
	YUnit  string
	Window float64 // window width, seconds
	XMax   float64 // seconds
	Lines  []svgLine
	Stacks []svgStack
	HLines []svgHLine
	Bands  []svgBand
	Strip  []string // per window: a colour marking a degraded window, or ""
}

type svgLine struct {
	Name   string
	Color  string
	Dashed bool
	// Cap marks a limit line: it does not stretch the scale beyond 3 times
	// the data (a max_connections of 100 would flatten a pool of 5); one
	// off the scale is named in the legend only.
	Cap bool
	Y   []float64 // per window; NaN leaves a gap
}

type svgStack struct {
	Name  string
	Color string
	Y     []float64
}

type svgHLine struct {
	Name  string
	Color string
	Y     float64
}

type svgBand struct {
	From, To float64
	Label    string
}

const (
	svgW, svgH                   = 960.0, 250.0
	padL, padR, padT, padB       = 56.0, 170.0, 26.0, 34.0
	plotW, plotH                 = svgW - padL - padR, svgH - padT - padB
	faultFill, faultStroke       = "rgba(214,39,40,0.10)", "rgba(214,39,40,0.45)"
	gridColor, axisColor, txtCol = "#e5e5e5", "#999", "#333"
)

func (c svgChart) render() string {
	ymax, capMax := 0.0, 0.0
	lineMax := func(l svgLine) float64 {
		m := 0.0
		for _, v := range l.Y {
			if !math.IsNaN(v) {
				m = math.Max(m, v)
			}
		}
		return m
	}
	for _, l := range c.Lines {
		if l.Cap {
			capMax = math.Max(capMax, lineMax(l))
		} else {
			ymax = math.Max(ymax, lineMax(l))
		}
	}
	offScale := func(l svgLine) bool { return l.Cap && ymax > 0 && lineMax(l) > 3*ymax }
	for _, l := range c.Lines {
		if l.Cap && !offScale(l) {
			ymax = math.Max(ymax, lineMax(l))
		}
	}
	if ymax == 0 {
		ymax = capMax
	}
	if len(c.Stacks) > 0 {
		for i := range c.Stacks[0].Y {
			sum := 0.0
			for _, s := range c.Stacks {
				if i < len(s.Y) {
					sum += s.Y[i]
				}
			}
			ymax = math.Max(ymax, sum)
		}
	}
	for _, h := range c.HLines {
		ymax = math.Max(ymax, h.Y)
	}
	ymax = niceCeil(ymax * 1.05)
	xmax := math.Max(c.XMax, c.Window)
	x := func(s float64) float64 { return padL + s/xmax*plotW }
	y := func(v float64) float64 { return padT + plotH - v/ymax*plotH }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="100%%" role="img" aria-label="%s" font-family="sans-serif" font-size="11">`,
		svgW, svgH, html.EscapeString(c.Title))
	fmt.Fprintf(&b, `<text x="%g" y="16" font-size="13" font-weight="bold" fill="%s">%s</text>`, padL, txtCol, html.EscapeString(c.Title))

	// fault periods under everything
	for _, band := range c.Bands {
		x0, x1 := x(math.Max(band.From, 0)), x(math.Min(band.To, xmax))
		if x1 <= x0 {
			x1 = x0 + 1
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%g" width="%.1f" height="%g" fill="%s" stroke="%s" stroke-dasharray="3,2"><title>%s</title></rect>`,
			x0, padT, x1-x0, plotH, faultFill, faultStroke, html.EscapeString(band.Label))
		fmt.Fprintf(&b, `<text x="%.1f" y="%g" font-size="10" fill="#b22">%s</text>`, x0+2, padT+10, html.EscapeString(band.Label))
	}

	// grid and axes
	for i := 0; i <= 4; i++ {
		v := ymax * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="%s"/>`, padL, padL+plotW, y(v), y(v), gridColor)
		fmt.Fprintf(&b, `<text x="%g" y="%.1f" text-anchor="end" fill="%s">%s</text>`, padL-4, y(v)+4, txtCol, tick(v))
	}
	fmt.Fprintf(&b, `<text x="12" y="%g" fill="%s" transform="rotate(-90 12 %g)" text-anchor="middle">%s</text>`,
		padT+plotH/2, txtCol, padT+plotH/2, html.EscapeString(c.YUnit))
	step := niceStep(xmax / 10)
	for s := 0.0; s <= xmax+1e-9; s += step {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%g" y2="%g" stroke="%s"/>`, x(s), x(s), padT+plotH, padT+plotH+4, axisColor)
		fmt.Fprintf(&b, `<text x="%.1f" y="%g" text-anchor="middle" fill="%s">%ss</text>`, x(s), padT+plotH+15, txtCol, tick(s))
	}
	fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%g" y2="%g" stroke="%s"/>`, padL, padL+plotW, padT+plotH, padT+plotH, axisColor)

	// stacked bars
	bw := math.Max(plotW*c.Window/xmax-1, 1)
	if len(c.Stacks) > 0 {
		for i := range c.Stacks[0].Y {
			base := 0.0
			for _, s := range c.Stacks {
				if i >= len(s.Y) || s.Y[i] <= 0 {
					continue
				}
				top := base + s.Y[i]
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%ss: %s %s</title></rect>`,
					x(float64(i)*c.Window)+0.5, y(top), bw, y(base)-y(top), s.Color, tick(float64(i)*c.Window), s.Name, tick(s.Y[i]))
				base = top
			}
		}
	}

	// caps
	for _, h := range c.HLines {
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="6,3"/>`, padL, padL+plotW, y(h.Y), y(h.Y), h.Color)
	}

	// lines
	for _, l := range c.Lines {
		if offScale(l) {
			continue
		}
		var pts []string
		flush := func() {
			if len(pts) > 0 {
				dash := ""
				if l.Dashed {
					dash = ` stroke-dasharray="5,3"`
				}
				fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.6"%s points="%s"/>`, l.Color, dash, strings.Join(pts, " "))
				pts = pts[:0]
			}
		}
		for i, v := range l.Y {
			if math.IsNaN(v) {
				flush()
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x((float64(i)+0.5)*c.Window), y(v)))
		}
		flush()
	}

	// degraded windows, as a strip under the axis
	for i, col := range c.Strip {
		if col != "" {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%g" width="%.1f" height="4" fill="%s"/>`, x(float64(i)*c.Window)+0.5, padT+plotH+20, bw, col)
		}
	}

	// legend
	ly := padT + 4
	item := func(color, name string, dashed bool) {
		dash := ""
		if dashed {
			dash = ` stroke-dasharray="5,3"`
		}
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%g" y2="%g" stroke="%s" stroke-width="3"%s/>`, svgW-padR+12, svgW-padR+30, ly, ly, color, dash)
		fmt.Fprintf(&b, `<text x="%g" y="%g" fill="%s">%s</text>`, svgW-padR+35, ly+4, txtCol, html.EscapeString(name))
		ly += 16
	}
	for _, l := range c.Lines {
		name := l.Name
		if offScale(l) {
			name += " (" + tick(lineMax(l)) + ", off scale)"
		}
		item(l.Color, name, l.Dashed)
	}
	for i := len(c.Stacks) - 1; i >= 0; i-- {
		item(c.Stacks[i].Color, c.Stacks[i].Name, false)
	}
	for _, h := range c.HLines {
		item(h.Color, h.Name+" ("+tick(h.Y)+")", true)
	}
	if len(c.Bands) > 0 {
		fmt.Fprintf(&b, `<rect x="%g" y="%g" width="18" height="10" fill="%s" stroke="%s"/>`, svgW-padR+12, ly-5, faultFill, faultStroke)
		fmt.Fprintf(&b, `<text x="%g" y="%g" fill="%s">fault in force</text>`, svgW-padR+35, ly+4, txtCol)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// niceCeil rounds up to 1, 2, 2.5 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// niceStep is a tick step of 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func tick(v float64) string {
	switch {
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
