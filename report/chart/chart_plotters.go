package chart

import (
	"image/color"

	"github.com/stampede-load/stampede/report/format"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// What the charts need and gonum/plot has no plotter for, drawn through
// its plot.Plotter and plot.Thumbnailer interfaces on its canvas.

// faultShade shades each fault period across the data area, under the
// data. It has no DataRange: it never moves the axes.
type faultShade struct {
	bands []Band
	hover *[]hoverRect
}

func (f *faultShade) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	edge := draw.LineStyle{Color: chartFaultEdge, Width: 0.6, Dashes: []vg.Length{3, 2}}
	for _, b := range f.bands {
		x0, x1 := trX(max(b.From, p.X.Min)), trX(min(b.To, p.X.Max))
		if x1 < x0+1 {
			x1 = x0 + 1
		}
		r := vg.Rectangle{Min: vg.Point{X: x0, Y: c.Min.Y}, Max: vg.Point{X: x1, Y: c.Max.Y}}
		c.SetColor(chartFaultFill)
		c.Fill(r.Path())
		c.StrokeLine2(edge, x0, c.Min.Y, x0, c.Max.Y)
		c.StrokeLine2(edge, x1, c.Min.Y, x1, c.Max.Y)
		*f.hover = append(*f.hover, hoverRect{R: r, Title: b.Label})
	}
}

// chartOverlay draws over the data: each fault's name at the top of its
// period (a label that would run into the one before drops a line), and
// the degraded windows as a strip just above the data area, one colour
// a cause.
type chartOverlay struct {
	window float64
	strip  []string
	bands  []Band
	label  text.Style
	hover  *[]hoverRect
}

func (o *chartOverlay) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	var rowEnd []vg.Length // right end of the last label on each row
	lineH := o.label.Height("M") + 1
	for _, b := range o.bands {
		x := trX(max(b.From, p.X.Min)) + 2
		row := 0
		for row < len(rowEnd) && x < rowEnd[row]+4 {
			row++
		}
		if row == len(rowEnd) {
			rowEnd = append(rowEnd, 0)
		}
		rowEnd[row] = x + o.label.Width(b.Label)
		c.FillText(o.label, vg.Point{X: x, Y: c.Max.Y - 2 - vg.Length(row)*lineH}, b.Label)
	}

	y0 := c.Max.Y + stripGap
	for i := 0; i < len(o.strip); {
		j := i + 1
		for j < len(o.strip) && o.strip[j] == o.strip[i] {
			j++
		}
		if cause := o.strip[i]; cause != "" {
			from, to := float64(i)*o.window, float64(j)*o.window
			r := vg.Rectangle{Min: vg.Point{X: trX(from), Y: y0}, Max: vg.Point{X: trX(min(to, p.X.Max)), Y: y0 + stripH}}
			c.FillPolygon(RGB(CauseRGB(cause)), rectPoints(r))
			*o.hover = append(*o.hover, hoverRect{R: r,
				Title: "SLO missed " + format.Num(format.Round(from, 1)) + "s to " + format.Num(format.Round(to, 1)) + "s: " + cause})
		}
		i = j
	}
}

// swatch is a legend thumbnail: a filled box, or a thin bar like the
// degraded-window strip.
type swatch struct {
	fill color.Color
	edge color.Color // nil: none
	thin bool
}

func (s swatch) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	if s.thin {
		mid := c.Center().Y
		r.Min.Y, r.Max.Y = mid-stripH/2, mid+stripH/2
	} else {
		r.Min.Y, r.Max.Y = r.Min.Y+1, r.Max.Y-1
	}
	c.FillPolygon(s.fill, rectPoints(r))
	if s.edge != nil {
		c.StrokeLines(draw.LineStyle{Color: s.edge, Width: 0.6}, append(rectPoints(r), r.Min))
	}
}

func rectPoints(r vg.Rectangle) []vg.Point {
	return []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}}
}
