package views_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/views"
)

func TestRollupRestore(t *testing.T) {
	e := newEnv(t)
	c := e.counter(views.Options{})
	now := today.Add(10 * time.Hour)
	yesterday := now.AddDate(0, 0, -1)
	yesterdayDay := yesterday.Format("2006-01-02")

	if err := c.Rollup(t.Context(), now); !errors.Is(err, views.ErrNotRestored) {
		t.Fatalf("Rollup before the first Restore = %v, want ErrNotRestored", err)
	}
	restore(t, c, now, true) // a fresh system: nothing to load, sets the marker
	restore(t, c, now, false)

	recordN(t, c, "item:a", 4, now)
	recordN(t, c, "item:a", 2, yesterday)
	recordN(t, c, "item:b", 3, yesterday)
	recordN(t, c, "live:x", 1, now)
	for _, day := range []time.Time{yesterday, now} {
		if err := c.Rollup(t.Context(), day); err != nil {
			t.Fatalf("Rollup(%s): %v", day, err)
		}
	}

	var daily views.DailyRollup
	etag := getDoc(t, e, views.DailyDocKey(yesterdayDay), &daily)
	want := views.DailyRollup{Day: yesterdayDay,
		Views: map[string]int64{"item:a": 2, "item:b": 3}, Unique: map[string]int64{"item:a": 2, "item:b": 3}}
	if fmt.Sprint(daily) != fmt.Sprint(want) {
		t.Fatalf("daily rollup = %+v, want %+v", daily, want)
	}
	var totals views.TotalsRollup
	totalsETag := getDoc(t, e, views.TotalsDocKey, &totals)
	wantTotals := map[string]int64{"item:a": 6, "item:b": 3, "live:x": 1}
	if fmt.Sprint(totals.Totals) != fmt.Sprint(wantTotals) || fmt.Sprint(totals.Unique) != fmt.Sprint(wantTotals) {
		t.Fatalf("totals rollup = %+v, want totals and unique %v", totals, wantTotals)
	}
	if totals.UpdatedAt.IsZero() {
		t.Error("totals rollup has no updated_at")
	}

	// Idempotent: the same state writes nothing new.
	if err := c.Rollup(t.Context(), yesterday); err != nil {
		t.Fatal(err)
	}
	var again views.DailyRollup
	if getDoc(t, e, views.DailyDocKey(yesterdayDay), &again) != etag || getDoc(t, e, views.TotalsDocKey, &views.TotalsRollup{}) != totalsETag {
		t.Fatal("a second Rollup of the same state wrote a new version")
	}

	before := map[string]views.Stats{}
	for _, target := range []string{"item:a", "item:b", "live:x"} {
		before[target] = stats(t, c, target, now)
	}

	// Redis loses everything of this test.
	deletePrefix(t.Context(), e.rdb, e.prefix)
	if s := stats(t, c, "item:a", now); s.Total != 0 {
		t.Fatalf("Total after the loss = %d, want 0", s.Total)
	}
	if err := c.Rollup(t.Context(), now); !errors.Is(err, views.ErrNotRestored) {
		t.Fatalf("Rollup after the loss = %v, want ErrNotRestored", err)
	}
	// A view recorded after the loss and before Restore is kept, not overwritten.
	recordN(t, c, "item:a", 1, now.Add(time.Minute))

	var wg sync.WaitGroup
	var restored atomic.Int32
	for range 5 {
		wg.Go(func() {
			ok, err := c.Restore(t.Context(), now)
			if err != nil {
				t.Errorf("Restore: %v", err)
			}
			if ok {
				restored.Add(1)
			}
		})
	}
	wg.Wait()
	if restored.Load() != 1 {
		t.Fatalf("%d of 5 concurrent Restores restored, want exactly 1", restored.Load())
	}
	restore(t, c, now, false)

	wantAfter := map[string]views.Stats{
		"item:a": plus(before["item:a"], 1),
		"item:b": before["item:b"],
		"live:x": before["live:x"],
	}
	for target, want := range wantAfter {
		if got := stats(t, c, target, now); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Stats(%s) after Restore = %+v, want %+v", target, got, want)
		}
	}
	trend, err := c.Trending(t.Context(), "item:", 5, now)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(trend) != fmt.Sprint([]views.Scored{{"item:a", 7}, {"item:b", 3}}) {
		t.Errorf("Trending after Restore = %v", trend)
	}
	changed, err := c.Changed(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(changed) != fmt.Sprint(map[string]int64{"item:a": 7, "item:b": 3, "live:x": 1}) {
		t.Errorf("Changed after Restore = %v", changed)
	}

	// The next rollup carries the new view into MinIO.
	if err := c.Rollup(t.Context(), now); err != nil {
		t.Fatal(err)
	}
	getDoc(t, e, views.TotalsDocKey, &totals)
	if totals.Totals["item:a"] != 7 || totals.Unique["item:a"] != 6 {
		t.Errorf("totals rollup after Restore: item:a = %d views, %d unique; want 7, 6", totals.Totals["item:a"], totals.Unique["item:a"])
	}
}

// plus adds n views of today to s; the unique count stays (the restored count is a lower bound).
func plus(s views.Stats, n int64) views.Stats {
	s.Total += n
	s.Today += n
	s.Days = append([]views.DayCount(nil), s.Days...)
	s.Days[len(s.Days)-1].Views += n
	return s
}

func restore(t *testing.T, c *views.Counter, now time.Time, want bool) {
	t.Helper()
	got, err := c.Restore(t.Context(), now)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got != want {
		t.Fatalf("Restore = %v, want %v", got, want)
	}
}

func getDoc(t *testing.T, e env, key string, v any) string {
	t.Helper()
	etag, err := e.docs.Get(t.Context(), key, v)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return etag
}
