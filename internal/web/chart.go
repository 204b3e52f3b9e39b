package web

import "strconv"

// DayChart is a bar chart of two daily series (A beside B), drawn as SVG by the server so
// that it shows without script; the template also gives its numbers as a table, for screen
// readers and for anyone who wants the figures.
type DayChart struct {
	Width, Height int
	Bars          []DayBar
	Ticks         []ChartTick // horizontal grid lines with their values
	Baseline      float64     // y of the zero line
}

// DayBar is one day: its values, and the geometry of its two bars and its label.
type DayBar struct {
	DayValues
	Label      string // "11-26" under every fifth bar and the last, else ""
	XA, XB, W  float64
	YA, HA     float64
	YB, HB     float64
	LabelX     float64
	LabelShown bool
}

// DayValues are the two values of one day ("2006-01-02").
type DayValues struct {
	Day  string
	A, B int64
}

// ChartTick is a grid line at Y for Value.
type ChartTick struct {
	Y     float64
	Value int64
}

const (
	chartWidth, chartHeight = 640, 220
	chartLeft, chartRight   = 44, 8
	chartTop, chartBottom   = 10, 26
)

// NewDayChart lays out days, oldest first.
func NewDayChart(days []DayValues) DayChart {
	c := DayChart{Width: chartWidth, Height: chartHeight, Baseline: chartHeight - chartBottom}
	top := niceCeiling(maxValue(days))
	plot := float64(chartHeight - chartTop - chartBottom)
	for i := 0; i <= 4; i++ {
		v := top * int64(i) / 4
		c.Ticks = append(c.Ticks, ChartTick{Y: c.Baseline - plot*float64(v)/float64(top), Value: v})
	}
	if len(days) == 0 {
		return c
	}
	slot := float64(chartWidth-chartLeft-chartRight) / float64(len(days))
	w := slot * 0.38
	for i, d := range days {
		x := chartLeft + slot*float64(i) + slot*0.12
		ha := plot * float64(d.A) / float64(top)
		hb := plot * float64(d.B) / float64(top)
		b := DayBar{DayValues: d, XA: x, XB: x + w, W: w, YA: c.Baseline - ha, HA: ha, YB: c.Baseline - hb, HB: hb,
			LabelX: x + w}
		if i%5 == 0 || i == len(days)-1 {
			b.LabelShown = true
			if len(d.Day) == len("2006-01-02") {
				b.Label = d.Day[5:]
			} else {
				b.Label = d.Day
			}
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

func maxValue(days []DayValues) int64 {
	var m int64
	for _, d := range days {
		m = max(m, d.A, d.B)
	}
	return m
}

// niceCeiling is the smallest of 4, 8, 20, 40, 80, 200, … (four grid steps of 1, 2, 5 times a
// power of ten) at or above m.
func niceCeiling(m int64) int64 {
	for step := int64(1); ; step *= 10 {
		for _, k := range []int64{1, 2, 5} {
			if top := 4 * k * step; top >= m {
				return top
			}
		}
		if step > 1e15 {
			return m
		}
	}
}

// FormatCount writes a count with thousands separators: 12,345.
func FormatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// DwellChart is a horizontal bar per exhibit, as long as its views, divided in the shares of
// its dwell buckets (shortest first), drawn as SVG by the server like DayChart.
type DwellChart struct {
	Width, Height int
	Rows          []DwellRow
}

// DwellRow is one exhibit's bar.
type DwellRow struct {
	Label      string
	Views      int64
	Dwell      []int64 // per bucket, shortest first
	Y, LabelY  float64
	CountX     float64
	Segments   []DwellSegment
	BarX, BarW float64
}

// DwellSegment is one bucket's part of a bar; Bucket is its index (the shade).
type DwellSegment struct {
	Bucket int
	X, W   float64
}

const (
	dwellRowHeight = 30
	dwellBarLeft   = 210 // the labels' column
	dwellBarRight  = 60  // the views' column
	dwellBarHeight = 18
	dwellLabelMax  = 14 // runes of a label shown in the chart; the table has it whole
)

// NewDwellChart lays out rows (Label, Views and Dwell set), in their order.
func NewDwellChart(rows []DwellRow) DwellChart {
	c := DwellChart{Width: chartWidth, Height: max(len(rows), 1)*dwellRowHeight + 8}
	var top int64 = 1
	for _, r := range rows {
		top = max(top, r.Views)
	}
	plot := float64(chartWidth - dwellBarLeft - dwellBarRight)
	for i, r := range rows {
		r.Y = 4 + float64(i*dwellRowHeight) + (dwellRowHeight-dwellBarHeight)/2
		r.LabelY = r.Y + dwellBarHeight/2
		r.BarX, r.BarW = dwellBarLeft, plot*float64(r.Views)/float64(top)
		r.CountX = r.BarX + r.BarW + 6
		if runes := []rune(r.Label); len(runes) > dwellLabelMax {
			r.Label = string(runes[:dwellLabelMax-1]) + "…"
		}
		var sum int64
		for _, n := range r.Dwell {
			sum += n
		}
		x := r.BarX
		for b, n := range r.Dwell {
			if n <= 0 || sum == 0 {
				continue
			}
			w := r.BarW * float64(n) / float64(sum)
			r.Segments = append(r.Segments, DwellSegment{Bucket: b, X: x, W: w})
			x += w
		}
		c.Rows = append(c.Rows, r)
	}
	return c
}
