package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// panel is one of the chart's bar charts: a figure of every server.
type panel struct {
	title  string
	goal   string // what the dashed line is
	value  func(Summary) float64
	label  func(float64) string
	target float64 // the handler's goal on this figure, 0 for none
	// measured, when set, says whether a server has the figure at all:
	// the Tasks rows have no cold start of their own.
	measured func(Summary) bool
	// note, when set, follows a server's label: a figure taken otherwise
	// than the title says.
	note func(Summary) string
}

// Chart draws the summaries as an SVG: four horizontal bar charts, one
// per figure, the servers in the same order in each, and the handler's
// goal as a dashed line where there is one.
func (r *Results) Chart() ([]byte, error) {
	sums := r.Summaries()
	if len(sums) == 0 {
		return nil, fmt.Errorf("report: no server to chart")
	}
	sans := font.Font{Typeface: "Liberation", Variant: "Sans"}
	plot.DefaultFont = sans
	plotter.DefaultFont = sans

	toMS := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	var ceilingRPS float64
	for _, s := range sums {
		if s.Server.Key == Ceiling {
			ceilingRPS = s.RPS
		}
	}
	panels := []panel{
		{title: fmt.Sprintf("requests/s, closed loop, %d connections", r.Settings.Conns),
			value: func(s Summary) float64 { return s.RPS }, label: func(x float64) string { return thousands(x) },
			target: 0.8 * ceilingRPS, goal: "0.8 × ceiling"},
		{title: fmt.Sprintf("p99 latency (ms) at %s req/s", thousands(float64(r.Settings.Rate))),
			value: func(s Summary) float64 { return toMS(s.OpenP99) }, label: func(x float64) string { return fmt.Sprintf("%.2f", x) }, target: 2, goal: "goal",
			note: func(s Summary) string {
				if s.OpenRate != 0 && s.OpenRate != r.Settings.Rate {
					return " at " + thousands(float64(s.OpenRate)) + "/s"
				}
				return ""
			}},
		{title: "cold start (ms), exec to first authenticated 200",
			value: func(s Summary) float64 { return toMS(s.ColdStart) }, label: func(x float64) string { return fmt.Sprintf("%.1f", x) }, target: 50, goal: "goal",
			measured: func(s Summary) bool { return s.ColdStartsMeasured > 0 }},
		{title: "RSS under load (MB)",
			value: func(s Summary) float64 { return s.RSSKB * 1024 / 1e6 }, label: func(x float64) string { return fmt.Sprintf("%.1f", x) }, target: 30, goal: "goal"},
	}

	// Bars bottom to top: plot's nominal Y axis starts at the bottom, and
	// the table lists the ceiling first.
	names := make([]string, len(sums))
	for i, s := range sums {
		names[len(sums)-1-i] = s.Server.Name
	}
	const cols = 2
	rows := (len(panels) + cols - 1) / cols
	width := 12 * vg.Inch
	height := vg.Length(rows) * (1.0*vg.Inch + vg.Length(len(sums))*0.32*vg.Inch)
	canvas := vgsvg.New(width, height)
	dc := draw.New(canvas)
	// Generous padding on the left of each tile: the SVG names its font
	// without embedding it, and a viewer that substitutes a wider one
	// would clip the server names.
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: 0.6 * vg.Inch, PadY: 0.3 * vg.Inch, PadTop: 0.1 * vg.Inch, PadBottom: 0.1 * vg.Inch, PadLeft: 0.5 * vg.Inch, PadRight: 0.3 * vg.Inch}

	for i, pn := range panels {
		plt := plot.New()
		plt.Title.Text = pn.title
		if pn.target > 0 {
			plt.Title.Text += " (dashed: " + pn.goal + ")"
		}
		plt.Title.TextStyle.Font.Size = 11
		vals := make(plotter.Values, len(sums))
		none := make([]bool, len(sums)) // bottom to top, as vals
		notes := make([]string, len(sums))
		for j, s := range sums {
			none[len(sums)-1-j] = pn.measured != nil && !pn.measured(s)
			if pn.note != nil {
				notes[len(sums)-1-j] = pn.note(s)
			}
			v := pn.value(s)
			if math.IsNaN(v) {
				v = 0
			}
			vals[len(sums)-1-j] = v
		}
		// A server far off the goal (the Node peer's latency and cold
		// start) would squash every other bar: the axis stops at four
		// times the goal, and a longer bar is cut there, its label still
		// giving the figure.
		full := slices.Clone(vals)
		clip := math.Inf(1)
		if pn.target > 0 && slices.Max(vals) > 4*pn.target {
			clip = 4 * pn.target
			for j := range vals {
				vals[j] = math.Min(vals[j], clip)
			}
		}
		bars, err := plotter.NewBarChart(vals, 0.22*vg.Inch)
		if err != nil {
			return nil, err
		}
		bars.Horizontal = true
		bars.Color = color.RGBA{R: 0x4c, G: 0x72, B: 0xb0, A: 0xff}
		bars.LineStyle.Width = 0
		plt.Add(bars)
		// The handler's own bars stand out.
		for j, s := range sums {
			if !strings.HasPrefix(s.Server.Key, Handler) {
				continue
			}
			one := make(plotter.Values, len(sums))
			one[len(sums)-1-j] = vals[len(sums)-1-j]
			hb, err := plotter.NewBarChart(one, 0.22*vg.Inch)
			if err != nil {
				return nil, err
			}
			hb.Horizontal = true
			hb.Color = color.RGBA{R: 0xdd, G: 0x84, B: 0x52, A: 0xff}
			hb.LineStyle.Width = 0
			plt.Add(hb)
		}
		hi := slices.Max(vals)
		if pn.target > 0 {
			hi = math.Max(hi, pn.target)
			goal := plotter.XYs{{X: pn.target, Y: -0.5}, {X: pn.target, Y: float64(len(sums)) - 0.5}}
			line, err := plotter.NewLine(goal)
			if err != nil {
				return nil, err
			}
			line.Color = color.Gray{Y: 0x55}
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			plt.Add(line)
		}
		xys := make(plotter.XYs, len(vals))
		labels := make([]string, len(vals))
		for j, v := range vals {
			xys[j] = plotter.XY{X: v + hi*0.01, Y: float64(j)}
			labels[j] = pn.label(full[j])
			labels[j] += notes[j]
			if none[j] {
				labels[j] = "–"
			}
			if full[j] > clip {
				labels[j] += " (cut)"
			}
		}
		lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
		if err != nil {
			return nil, err
		}
		for k := range lbl.TextStyle {
			lbl.TextStyle[k].Font.Size = 9
			lbl.TextStyle[k].YAlign = draw.YCenter
		}
		plt.Add(lbl)
		plt.X.Min, plt.X.Max = 0, hi*1.18
		if hi == 0 {
			plt.X.Max = 1
		}
		plt.X.Tick.Marker = thousandsTicks{}
		plt.NominalY(names...)
		plt.Draw(tiles.At(dc, i%cols, i/cols))
	}
	var b bytes.Buffer
	if _, err := canvas.WriteTo(&b); err != nil {
		return nil, err
	}
	// The layout was measured with Liberation Sans; Arial has the same
	// metrics, so a viewer without the one gets the other rather than a
	// wider default that would run the names into the axis.
	return bytes.ReplaceAll(b.Bytes(), []byte("font-family:Liberation Sans;"), []byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")), nil
}

// thousandsTicks are plot's default ticks labelled with thousands
// separators and no needless decimals.
type thousandsTicks struct{}

func (thousandsTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i, t := range ticks {
		if t.Label == "" {
			continue
		}
		if t.Value == math.Trunc(t.Value) {
			ticks[i].Label = thousands(t.Value)
		} else {
			ticks[i].Label = strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", t.Value), "0"), ".")
		}
	}
	return ticks
}
