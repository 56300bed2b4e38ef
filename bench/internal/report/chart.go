package report

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
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

// The chart's geometry, in SVG pixels, and its colours. It is drawn by
// hand: four bar charts need rectangles, lines and text, and a plotting
// library's fonts, PDF and LaTeX packages were most of what this module
// compiled.
const (
	chartWidth    = 1152.0 // two panels side by side
	chartCols     = 2
	barHeight     = 20.0
	barPitch      = 28.0
	panelTop      = 34.0 // the title's band
	panelBottom   = 34.0 // the axis's tick labels
	panelPadX     = 24.0
	labelGap      = 8.0  // between a server's name and the axis
	valueRoom     = 0.18 // of the axis, past the longest bar, for its label
	fontSize      = 11.0
	charWidth     = 6.2 // a generous average advance at fontSize, for layout
	barColour     = "#4c72b0"
	handlerColour = "#dd8452"
	inkColour     = "#222222"
	goalColour    = "#555555"
	gridColour    = "#e5e5e5"
	fontFamily    = "'Liberation Sans',Arial,Helvetica,sans-serif"
)

// Chart draws the summaries as an SVG: four horizontal bar charts, one
// per figure, the servers in the same order in each, and the handler's
// goal as a dashed line where there is one.
func (r *Results) Chart() ([]byte, error) {
	sums := r.Summaries()
	if len(sums) == 0 {
		return nil, fmt.Errorf("report: no server to chart")
	}
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

	nameWidth := 0.0
	for _, s := range sums {
		nameWidth = math.Max(nameWidth, textWidth(s.Server.Name))
	}
	rows := (len(panels) + chartCols - 1) / chartCols
	panelHeight := panelTop + float64(len(sums))*barPitch + panelBottom
	height := float64(rows) * panelHeight

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="%s" font-size="%s" fill="%s">`+"\n",
		num(chartWidth), num(height), num(chartWidth), num(height), fontFamily, num(fontSize), inkColour)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	for i, pn := range panels {
		x0 := float64(i%chartCols) * chartWidth / chartCols
		y0 := float64(i/chartCols) * panelHeight
		drawPanel(&b, pn, sums, x0, y0, chartWidth/chartCols, nameWidth)
	}
	b.WriteString("</svg>\n")
	return b.Bytes(), nil
}

// drawPanel draws one bar chart in the w-wide tile at (x0, y0).
func drawPanel(b *bytes.Buffer, pn panel, sums []Summary, x0, y0, w, nameWidth float64) {
	title := pn.title
	if pn.target > 0 {
		title += " (dashed: " + pn.goal + ")"
	}
	left := x0 + panelPadX + nameWidth + labelGap
	right := x0 + w - panelPadX
	top := y0 + panelTop
	bottom := top + float64(len(sums))*barPitch
	fmt.Fprintf(b, `<text x="%s" y="%s" font-size="%s">%s</text>`+"\n", num(left), num(y0+panelTop-14), num(fontSize+1), esc(title))

	vals := make([]float64, len(sums))
	for j, s := range sums {
		v := pn.value(s)
		if math.IsNaN(v) || v < 0 {
			v = 0
		}
		vals[j] = v
	}
	// A server far off the goal (the Node peer's latency and cold start)
	// would squash every other bar: the axis stops at four times the goal,
	// and a longer bar is cut there, its label still giving the figure.
	clip := math.Inf(1)
	if pn.target > 0 && slices.Max(vals) > 4*pn.target {
		clip = 4 * pn.target
	}
	hi := math.Min(slices.Max(vals), clip)
	if pn.target > 0 {
		hi = math.Max(hi, pn.target)
	}
	ticks := niceTicks(hi)
	axisMax := math.Max(hi*(1+valueRoom), ticks[len(ticks)-1])
	scale := (right - left) / axisMax
	xOf := func(v float64) float64 { return left + v*scale }

	// Grid lines and tick labels.
	for _, t := range ticks {
		x := xOf(t)
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", num(x), num(top), num(x), num(bottom), gridColour)
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`+"\n", num(x), num(bottom+16), esc(tickLabel(t)))
	}
	fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", num(left), num(top), num(left), num(bottom), inkColour)
	fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", num(left), num(bottom), num(right), num(bottom), inkColour)

	// The servers top to bottom, in the table's order: the ceiling first.
	// The labels go last, over the goal line.
	var labels bytes.Buffer
	for j, s := range sums {
		y := top + float64(j)*barPitch + (barPitch-barHeight)/2
		mid := y + barHeight/2 + fontSize/2 - 1.5
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="end">%s</text>`+"\n", num(left-labelGap), num(mid), esc(s.Server.Name))
		label := pn.label(vals[j])
		if pn.note != nil {
			label += pn.note(s)
		}
		if pn.measured != nil && !pn.measured(s) {
			label = "–"
		}
		v := vals[j]
		if v > clip {
			v = clip
			label += " (cut)"
		}
		colour := barColour
		if strings.HasPrefix(s.Server.Key, Handler) {
			colour = handlerColour
		}
		if v > 0 {
			fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n", num(left), num(y), num(v*scale), num(barHeight), colour)
		}
		fmt.Fprintf(&labels, `<text x="%s" y="%s" font-size="%s">%s</text>`+"\n", num(xOf(v)+4), num(mid), num(fontSize-1), esc(label))
	}
	if pn.target > 0 {
		x := xOf(pn.target)
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-dasharray="4 3"/>`+"\n", num(x), num(top), num(x), num(bottom), goalColour)
	}
	b.Write(labels.Bytes())
}

// niceTicks are the axis's tick values from 0 to at least hi: steps of 1,
// 2 or 5 times a power of ten, at most six of them past 0.
func niceTicks(hi float64) []float64 {
	if !(hi > 0) || math.IsInf(hi, 0) {
		return []float64{0, 1}
	}
	step := math.Pow(10, math.Floor(math.Log10(hi/5)))
	for _, m := range []float64{1, 2, 5, 10} {
		if hi/(step*m) <= 6 {
			step *= m
			break
		}
	}
	var ticks []float64
	for i := 0.0; ; i++ {
		t := i * step
		ticks = append(ticks, t)
		if t >= hi {
			return ticks
		}
	}
}

// tickLabel writes a tick with thousands separators and no needless
// decimals.
func tickLabel(t float64) string {
	if t == math.Trunc(t) {
		return thousands(t)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", t), "0"), ".")
}

// textWidth is a generous estimate of s's width at fontSize: the SVG
// names its font without embedding it, so the layout leaves room for a
// wider one.
func textWidth(s string) float64 { return float64(utf8.RuneCountInString(s)) * charWidth }

// num writes a coordinate with at most two decimals.
func num(x float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", x), "0"), ".")
}

// esc escapes text for an SVG text node.
func esc(s string) string { return html.EscapeString(s) }
