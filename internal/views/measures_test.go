package views_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/views"
)

func TestDwellBuckets(t *testing.T) {
	e := newEnv(t)
	c := e.counter(views.Options{})
	now := today.Add(9 * time.Hour)
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "lt5s"}, {4999 * time.Millisecond, "lt5s"}, {5 * time.Second, "lt15s"}, {29 * time.Second, "lt30s"},
		{30 * time.Second, "lt1m"}, {2 * time.Minute, "lt3m"}, {3 * time.Minute, "ge3m"}, {views.MaxDwell, "ge3m"},
	} {
		got, err := c.AddDwell(t.Context(), "exhibit:x/a", tc.d, now)
		if err != nil || got != tc.want {
			t.Errorf("AddDwell(%s) = %q, %v; want %q", tc.d, got, err, tc.want)
		}
	}
	h, err := c.DwellOf(t.Context(), []string{"exhibit:x/a", "exhibit:x/none"})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([]views.Dwell{{"lt5s": 2, "lt15s": 1, "lt30s": 1, "lt1m": 1, "lt3m": 1, "ge3m": 2}, {}})
	if fmt.Sprint(h) != want {
		t.Errorf("DwellOf = %v, want %v", h, want)
	}
	for _, tc := range []struct {
		target string
		d      time.Duration
	}{
		{"exhibit:x/a", -time.Second}, {"exhibit:x/a", views.MaxDwell + time.Second}, {"no-kind", time.Second}, {"a:b|c", time.Second},
	} {
		if _, err := c.AddDwell(t.Context(), tc.target, tc.d, now); !errors.Is(err, views.ErrInvalid) {
			t.Errorf("AddDwell(%q, %s) = %v, want ErrInvalid", tc.target, tc.d, err)
		}
	}
}

func TestPeaksOnlyRise(t *testing.T) {
	e := newEnv(t)
	c := e.counter(views.Options{})
	now := today.Add(9 * time.Hour)
	// Joins on several nodes report the audience at once; the peak is the largest of them.
	var wg sync.WaitGroup
	for n := range int64(40) {
		wg.Go(func() {
			if _, err := c.RaisePeak(t.Context(), "live:tour1", n%17, now); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p, err := c.RaisePeak(t.Context(), "live:tour1", 3, now); err != nil || p != 16 {
		t.Errorf("RaisePeak(3) after 16 = %d, %v; want 16", p, err)
	}
	peaks, err := c.PeaksOf(t.Context(), []string{"live:tour1", "live:other"})
	if err != nil || fmt.Sprint(peaks) != fmt.Sprint(map[string]int64{"live:tour1": 16, "live:other": 0}) {
		t.Errorf("PeaksOf = %v, %v", peaks, err)
	}
	if _, err := c.RaisePeak(t.Context(), "live:tour1", -1, now); !errors.Is(err, views.ErrInvalid) {
		t.Errorf("RaisePeak(-1) = %v, want ErrInvalid", err)
	}
}

// TestMeasuresRollUpAndRestore: dwell histograms and peaks go to the same daily and totals
// documents as the views, and come back after Redis lost them, keeping what was recorded since.
func TestMeasuresRollUpAndRestore(t *testing.T) {
	e := newEnv(t)
	c := e.counter(views.Options{})
	now := today.Add(10 * time.Hour)
	yesterday := now.AddDate(0, 0, -1)
	restore(t, c, now, true)

	dwell(t, c, "exhibit:x/a", 2*time.Second, yesterday)
	dwell(t, c, "exhibit:x/a", 40*time.Second, now)
	dwell(t, c, "exhibit:x/a", 41*time.Second, now)
	raisePeak(t, c, "live:t", 7, yesterday)
	raisePeak(t, c, "live:t", 5, now)
	for _, day := range []time.Time{yesterday, now} {
		if err := c.Rollup(t.Context(), day); err != nil {
			t.Fatal(err)
		}
	}
	var y, d views.DailyRollup
	getDoc(t, e, views.DailyDocKey(yesterday.Format("2006-01-02")), &y)
	getDoc(t, e, views.DailyDocKey(now.Format("2006-01-02")), &d)
	if fmt.Sprint(y.Dwell, y.Peak) != fmt.Sprint(map[string]views.Dwell{"exhibit:x/a": {"lt5s": 1}}, map[string]int64{"live:t": 7}) ||
		fmt.Sprint(d.Dwell, d.Peak) != fmt.Sprint(map[string]views.Dwell{"exhibit:x/a": {"lt1m": 2}}, map[string]int64{"live:t": 5}) {
		t.Fatalf("daily rollups: yesterday %v %v, today %v %v", y.Dwell, y.Peak, d.Dwell, d.Peak)
	}
	var totals views.TotalsRollup
	getDoc(t, e, views.TotalsDocKey, &totals)
	if fmt.Sprint(totals.Dwell, totals.Peak) != fmt.Sprint(map[string]views.Dwell{"exhibit:x/a": {"lt5s": 1, "lt1m": 2}}, map[string]int64{"live:t": 7}) {
		t.Fatalf("totals rollup: %v %v", totals.Dwell, totals.Peak)
	}

	deletePrefix(t.Context(), e.rdb, e.prefix)
	// Recorded after the loss, before Restore: kept.
	dwell(t, c, "exhibit:x/a", time.Second, now)
	raisePeak(t, c, "live:t", 9, now)
	restore(t, c, now, true)
	h, err := c.DwellOf(t.Context(), []string{"exhibit:x/a"})
	if err != nil || fmt.Sprint(h) != fmt.Sprint([]views.Dwell{{"lt5s": 2, "lt1m": 2}}) {
		t.Errorf("DwellOf after Restore = %v, %v", h, err)
	}
	peaks, err := c.PeaksOf(t.Context(), []string{"live:t"})
	if err != nil || peaks["live:t"] != 9 {
		t.Errorf("peak after Restore = %v, %v; want 9", peaks, err)
	}
	if err := c.Rollup(t.Context(), now); err != nil {
		t.Fatal(err)
	}
	getDoc(t, e, views.DailyDocKey(now.Format("2006-01-02")), &d)
	if fmt.Sprint(d.Dwell, d.Peak) != fmt.Sprint(map[string]views.Dwell{"exhibit:x/a": {"lt5s": 1, "lt1m": 2}}, map[string]int64{"live:t": 9}) {
		t.Errorf("today's rollup after Restore: %v %v", d.Dwell, d.Peak)
	}
}

func dwell(t *testing.T, c *views.Counter, target string, d time.Duration, now time.Time) {
	t.Helper()
	if _, err := c.AddDwell(t.Context(), target, d, now); err != nil {
		t.Fatal(err)
	}
}

func raisePeak(t *testing.T, c *views.Counter, target string, n int64, now time.Time) {
	t.Helper()
	if _, err := c.RaisePeak(t.Context(), target, n, now); err != nil {
		t.Fatal(err)
	}
}
