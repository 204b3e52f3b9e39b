package web

import (
	"math"
	"testing"
)

func TestNiceCeiling(t *testing.T) {
	for _, tc := range []struct{ in, want int64 }{
		{0, 4}, {1, 4}, {4, 4}, {5, 8}, {9, 20}, {20, 20}, {21, 40}, {41, 80}, {81, 200}, {12345, 20000},
	} {
		if got := niceCeiling(tc.in); got != tc.want {
			t.Errorf("niceCeiling(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestFormatCount(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {1234567, "1,234,567"}, {-4200, "-4,200"}} {
		if got := FormatCount(tc.in); got != tc.want {
			t.Errorf("FormatCount(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestDayChart: bar heights are proportional to the values on a scale whose top is the
// highest tick, bars stand on the baseline, and every fifth day and the last are labelled.
func TestDayChart(t *testing.T) {
	days := make([]DayValues, 12)
	for i := range days {
		days[i] = DayValues{Day: "2026-11-" + string(rune('0'+(i+10)/10)) + string(rune('0'+(i+10)%10)), A: int64(i), B: int64(i / 2)}
	}
	c := NewDayChart(days)
	if len(c.Bars) != 12 || len(c.Ticks) != 5 {
		t.Fatalf("%d bars, %d ticks", len(c.Bars), len(c.Ticks))
	}
	top := c.Ticks[4]
	if top.Value != 20 || c.Ticks[0].Value != 0 || c.Ticks[0].Y != c.Baseline {
		t.Fatalf("ticks %+v, baseline %v", c.Ticks, c.Baseline)
	}
	unit := (c.Baseline - top.Y) / float64(top.Value)
	for i, b := range c.Bars {
		if math.Abs(b.HA-unit*float64(b.A)) > 1e-9 || math.Abs(b.HB-unit*float64(b.B)) > 1e-9 {
			t.Errorf("bar %d: heights %v, %v for values %d, %d", i, b.HA, b.HB, b.A, b.B)
		}
		if math.Abs(b.YA+b.HA-c.Baseline) > 1e-9 || math.Abs(b.YB+b.HB-c.Baseline) > 1e-9 {
			t.Errorf("bar %d does not stand on the baseline", i)
		}
		if b.XB <= b.XA || b.XA < chartLeft || b.XB+b.W > float64(c.Width) {
			t.Errorf("bar %d outside the plot: %v, %v, width %v", i, b.XA, b.XB, b.W)
		}
		if shown := i%5 == 0 || i == 11; b.LabelShown != shown || shown && b.Label != days[i].Day[5:] {
			t.Errorf("bar %d: label %q shown %v", i, b.Label, b.LabelShown)
		}
	}
	if empty := NewDayChart(nil); len(empty.Bars) != 0 || len(empty.Ticks) != 5 {
		t.Errorf("no days: %+v", empty)
	}
}
