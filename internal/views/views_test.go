package views_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/devservices"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
	"github.com/shizuishan/culturecloud/internal/views"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	testSecret = []byte("test-secret-0123456789abcdef")
	shanghai   = mustLocation("Asia/Shanghai")
	// today is the current day in Shanghai at midnight: Redis keys expire from the day of a
	// view, so tests record views near the real now, never on a fixed calendar date.
	today = func() time.Time {
		y, m, d := time.Now().In(shanghai).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, shanghai)
	}()
)

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// env is one test's Redis client, document store and key prefix.
type env struct {
	rdb    *redis.Client
	docs   *docstore.Store
	prefix string
}

func newEnv(t testing.TB) env {
	t.Helper()
	return newEnvOn(t, testenv.Shared(t))
}

func newEnvOn(t testing.TB, stack *devservices.Stack) env {
	t.Helper()
	cfg := testenv.Config(t, stack)
	e := env{rdb: newRedis(cfg), docs: testenv.Docs(t, cfg), prefix: cfg.Redis.KeyPrefix}
	t.Cleanup(func() {
		deletePrefix(context.Background(), e.rdb, e.prefix)
		_ = e.rdb.Close()
	})
	return e
}

// newRedis builds a client the way the product does (internal/app).
func newRedis(cfg *config.Config) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: cfg.Redis.Addr, DialTimeout: cfg.Redis.Timeout, ReadTimeout: cfg.Redis.Timeout,
		WriteTimeout: cfg.Redis.Timeout, PoolTimeout: cfg.Redis.Timeout, MaxRetries: 1, PoolSize: 64,
	})
}

func (e env) counter(o views.Options) *views.Counter {
	o.KeyPrefix = e.prefix
	if o.Secret == nil {
		o.Secret = testSecret
	}
	c, err := views.New(e.rdb, e.docs, o)
	if err != nil {
		panic(err) // the tests' secrets are long enough
	}
	return c
}

func TestNewRefusesAShortSecret(t *testing.T) {
	for _, secret := range [][]byte{nil, []byte("short"), []byte("fifteen-bytes!!")} {
		if _, err := views.New(nil, nil, views.Options{Secret: secret}); !errors.Is(err, views.ErrShortSecret) {
			t.Errorf("New with a %d-byte secret: %v, want ErrShortSecret", len(secret), err)
		}
	}
	if _, err := views.New(nil, nil, views.Options{Secret: []byte("sixteen-bytes-ok")}); err != nil {
		t.Errorf("New with a 16-byte secret: %v", err)
	}
}

// deletePrefix removes every key under prefix; the shared Redis serves other tests too, so
// a test never flushes the whole database.
func deletePrefix(ctx context.Context, rdb *redis.Client, prefix string) {
	iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			rdb.Unlink(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		rdb.Unlink(ctx, batch...)
	}
}

func record(t *testing.T, c *views.Counter, target, viewer string, now time.Time) bool {
	t.Helper()
	counted, err := c.Record(t.Context(), target, viewer, now)
	if err != nil {
		t.Fatalf("Record(%s, %s): %v", target, viewer, err)
	}
	return counted
}

// recordN records n views of target by n new viewers.
func recordN(t *testing.T, c *views.Counter, target string, n int, now time.Time) {
	t.Helper()
	for i := range n {
		if !record(t, c, target, fmt.Sprintf("c:%s-%s-%d", target, now.Format(time.RFC3339), i), now) {
			t.Fatalf("view %d of %s by a new viewer not counted", i, target)
		}
	}
}

func stats(t *testing.T, c *views.Counter, target string, now time.Time) views.Stats {
	t.Helper()
	s, err := c.Stats(t.Context(), target, now)
	if err != nil {
		t.Fatalf("Stats(%s): %v", target, err)
	}
	return s
}

func TestRecordConcurrentCountsOncePerViewer(t *testing.T) {
	e := newEnv(t)
	c := e.counter(views.Options{})
	const (
		viewers    = 500
		calls      = 10000
		goroutines = 50
	)
	now := time.Now()
	ids := make([]string, viewers)
	for i := range ids {
		if i%2 == 0 {
			ids[i] = c.ViewerID(fmt.Sprintf("cookie-%012d", i), "", "")
		} else {
			ids[i] = c.ViewerID("", fmt.Sprintf("10.0.%d.%d", i/256, i%256), "Mozilla/5.0")
		}
	}
	var next, counted atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= calls {
					return
				}
				ok, err := c.Record(t.Context(), "item:abc123", ids[i%viewers], now)
				if err != nil {
					errs <- err
					return
				}
				if ok {
					counted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Record: %v", err)
	}
	if got := counted.Load(); got != viewers {
		t.Errorf("counted = true %d times, want exactly %d", got, viewers)
	}
	s := stats(t, c, "item:abc123", now)
	if s.Total != viewers || s.Today != viewers {
		t.Errorf("Total = %d, Today = %d, want %d", s.Total, s.Today, viewers)
	}
	if s.Unique < viewers*98/100 || s.Unique > viewers*102/100 {
		t.Errorf("Unique = %d, want within 2%% of %d", s.Unique, viewers)
	}
}

func TestRecordWindow(t *testing.T) {
	e := newEnv(t)
	c := e.counter(views.Options{Window: time.Second})
	now := time.Now()
	steps := []struct {
		name string
		// afterWindow polls until the window, which runs on the Redis clock that a test cannot
		// move, has passed: a repeat inside it is not counted and does not extend it.
		afterWindow bool
		want        bool
	}{
		{"first view", false, true},
		{"repeat inside the window", false, false},
		{"after the window", true, true},
		{"repeat inside the new window", false, false},
	}
	for _, st := range steps {
		if st.afterWindow {
			testwait.Until(t, st.name, func() bool { return record(t, c, "item:w", "c:viewer-window-0001", now) })
			continue
		}
		if got := record(t, c, "item:w", "c:viewer-window-0001", now); got != st.want {
			t.Fatalf("%s: counted = %v, want %v", st.name, got, st.want)
		}
	}
	if s := stats(t, c, "item:w", now); s.Total != 2 {
		t.Fatalf("Total = %d, want 2", s.Total)
	}
}

func TestDayBuckets(t *testing.T) {
	atMidnight := today                            // 16:00:00 UTC the day before
	beforeMidnight := atMidnight.Add(-time.Second) // 15:59:59 UTC, the same UTC day
	day := func(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01-02") }
	yesterday, todayStr := day(beforeMidnight, shanghai), day(atMidnight, shanghai)
	first := func(t time.Time, loc *time.Location) string {
		return day(t.In(loc).AddDate(0, 0, 1-views.HistoryDays), loc)
	}
	tests := []struct {
		name     string
		loc      *time.Location
		now      time.Time
		wantDays map[string]int64
		today    int64
		first    string
	}{
		{"default is Shanghai", nil, atMidnight.Add(time.Hour),
			map[string]int64{yesterday: 1, todayStr: 1}, 1, first(atMidnight, shanghai)},
		{"Shanghai", shanghai, atMidnight,
			map[string]int64{yesterday: 1, todayStr: 1}, 1, first(atMidnight, shanghai)},
		{"UTC", time.UTC, atMidnight.Add(time.Hour),
			map[string]int64{day(beforeMidnight, time.UTC): 2}, 2, first(atMidnight.Add(time.Hour), time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newEnv(t).counter(views.Options{Location: tc.loc})
			record(t, c, "item:d", "c:viewer-before-midnight", beforeMidnight)
			record(t, c, "item:d", "c:viewer-at-midnight-0", atMidnight)
			s := stats(t, c, "item:d", tc.now)
			if len(s.Days) != views.HistoryDays {
				t.Fatalf("len(Days) = %d, want %d", len(s.Days), views.HistoryDays)
			}
			if s.Days[0].Day != tc.first {
				t.Errorf("Days[0] = %s, want %s", s.Days[0].Day, tc.first)
			}
			var sum int64
			for i, d := range s.Days {
				if i > 0 {
					prev, _ := time.Parse("2006-01-02", s.Days[i-1].Day)
					if cur, _ := time.Parse("2006-01-02", d.Day); cur.Sub(prev) != 24*time.Hour {
						t.Errorf("Days[%d] = %s follows %s", i, d.Day, s.Days[i-1].Day)
					}
				}
				if d.Views != tc.wantDays[d.Day] {
					t.Errorf("day %s: %d views, want %d", d.Day, d.Views, tc.wantDays[d.Day])
				}
				sum += d.Views
			}
			if s.Total != 2 || sum != 2 || s.Today != tc.today {
				t.Errorf("Total = %d, sum of days = %d, Today = %d; want 2, 2, %d", s.Total, sum, s.Today, tc.today)
			}
		})
	}
}

// TestStatsOf: several targets read at once give what each read alone gives, in order,
// with a target never viewed at zero.
func TestStatsOf(t *testing.T) {
	c := newEnv(t).counter(views.Options{})
	now := today.Add(10 * time.Hour)
	record(t, c, "lesson:crs-a.0", "c:viewer-one", now.AddDate(0, 0, -3))
	record(t, c, "lesson:crs-a.0", "c:viewer-two", now)
	record(t, c, "completion:crs-a.0", "c:viewer-one", now)
	targets := []string{"lesson:crs-a.0", "lesson:crs-a.1", "completion:crs-a.0"}
	all, err := c.StatsOf(context.Background(), targets, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(targets) {
		t.Fatalf("%d results for %d targets", len(all), len(targets))
	}
	for i, target := range targets {
		if one := stats(t, c, target, now); !reflect.DeepEqual(one, all[i]) {
			t.Errorf("%s: StatsOf %+v, Stats %+v", target, all[i], one)
		}
	}
	if all[0].Total != 2 || all[0].Unique != 2 || all[0].Today != 1 || all[1].Total != 0 || all[2].Total != 1 {
		t.Errorf("totals %d/%d/%d, unique %d, today %d", all[0].Total, all[1].Total, all[2].Total, all[0].Unique, all[0].Today)
	}
	if _, err := c.StatsOf(context.Background(), []string{"lesson:crs-a.0", "no kind"}, now); err == nil {
		t.Error("StatsOf accepted a target without a kind")
	}
}

func TestTrending(t *testing.T) {
	c := newEnv(t).counter(views.Options{})
	now := today.Add(12 * time.Hour)
	day := func(n int) time.Time { return now.AddDate(0, 0, -n) }
	recordN(t, c, "item:a", 3, now)
	recordN(t, c, "item:b", 5, day(3))
	recordN(t, c, "item:d", 1, day(6))  // the 7th day back counts
	recordN(t, c, "item:e", 20, day(7)) // the 8th calendar day does not
	recordN(t, c, "item:c", 10, day(9))
	recordN(t, c, "live:x", 7, now)
	tests := []struct {
		prefix string
		n      int
		want   []views.Scored
	}{
		{"item:", 10, []views.Scored{{"item:b", 5}, {"item:a", 3}, {"item:d", 1}}},
		{"item:", 2, []views.Scored{{"item:b", 5}, {"item:a", 3}}},
		{"", 10, []views.Scored{{"live:x", 7}, {"item:b", 5}, {"item:a", 3}, {"item:d", 1}}},
		{"li", 10, []views.Scored{{"live:x", 7}}},
		{"course:", 10, nil},
		{"item:", 0, nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q top %d", tc.prefix, tc.n), func(t *testing.T) {
			got, err := c.Trending(t.Context(), tc.prefix, tc.n, now)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("Trending = %v, want %v", got, tc.want)
			}
		})
	}
	// A week later only the newest views are left in the window.
	got, err := c.Trending(t.Context(), "item:", 10, now.AddDate(0, 0, 6))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint([]views.Scored{{"item:a", 3}}) {
		t.Fatalf("Trending six days later = %v, want only item:a", got)
	}
}

func TestTotals(t *testing.T) {
	e := newEnv(t)
	c := e.counter(views.Options{})
	now := time.Now()
	const targets = 300
	var names []string
	for i := range targets {
		name := fmt.Sprintf("item:t%03d", i)
		names = append(names, name)
		recordN(t, c, name, i%4, now)
	}
	names = append(names, "item:never-viewed")
	got, err := c.Totals(t.Context(), names)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(names) {
		t.Fatalf("Totals returned %d targets, want %d", len(got), len(names))
	}
	for i, name := range names {
		want := int64(i % 4)
		if i == targets {
			want = 0
		}
		if got[name] != want {
			t.Errorf("Totals[%s] = %d, want %d", name, got[name], want)
		}
	}
	if empty, err := c.Totals(t.Context(), nil); err != nil || len(empty) != 0 {
		t.Fatalf("Totals(nil) = %v, %v", empty, err)
	}
}

func TestViewerID(t *testing.T) {
	c := newEnv(t).counter(views.Options{})
	other := newEnv(t).counter(views.Options{Secret: []byte("another-secret-0123456789")})
	const ip, ua = "203.0.113.7", "Mozilla/5.0 (X11; Linux x86_64)"
	hashed := c.ViewerID("", ip, ua)
	tests := []struct {
		name       string
		cookie     string
		ip, ua     string
		wantCookie bool
	}{
		{"cookie of 16", "abcdefghijklmnop", ip, ua, true},
		{"cookie of 64", strings.Repeat("aZ0_-", 12) + "abcd", ip, ua, true},
		{"cookie too short", "abcdefghijklmno", ip, ua, false},
		{"cookie too long", strings.Repeat("a", 65), ip, ua, false},
		{"cookie with a dot", "abcdefgh.ijklmnop", ip, ua, false},
		{"cookie with a space", "abcdefgh ijklmnop", ip, ua, false},
		{"no cookie", "", ip, ua, false},
		{"IPv6", "", "2001:db8::1", ua, false},
		{"no user agent", "", ip, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := c.ViewerID(tc.cookie, tc.ip, tc.ua)
			if id != c.ViewerID(tc.cookie, tc.ip, tc.ua) {
				t.Fatal("ViewerID is not stable")
			}
			if tc.wantCookie {
				if id != "c:"+tc.cookie {
					t.Fatalf("ViewerID = %q, want the cookie id", id)
				}
				return
			}
			if !strings.HasPrefix(id, "h:") || len(id) != 34 || strings.Trim(id[2:], "0123456789abcdef") != "" {
				t.Fatalf("ViewerID = %q, want h: and 32 hex digits", id)
			}
			if strings.Contains(id, tc.ip) || (tc.ua != "" && strings.Contains(id, tc.ua)) {
				t.Fatalf("ViewerID %q contains the raw IP or user agent", id)
			}
			if other.ViewerID(tc.cookie, tc.ip, tc.ua) == id {
				t.Fatal("ViewerID does not depend on the secret")
			}
		})
	}
	if c.ViewerID("", ip, ua+" Edge") == hashed {
		t.Error("ViewerID is the same for another user agent")
	}
	if c.ViewerID("", "203.0.113.8", ua) == hashed {
		t.Error("ViewerID is the same for another IP")
	}
	if c.ViewerID("", ip+ua[:1], ua[1:]) == hashed {
		t.Error("ViewerID does not separate IP from user agent")
	}
}

func TestInvalidInput(t *testing.T) {
	c := newEnv(t).counter(views.Options{})
	tests := []struct{ target, viewer string }{
		{"", "c:v"}, {"item", "c:v"}, {":x", "c:v"}, {"item:", "c:v"}, {"Item:x", "c:v"},
		{"item:a b", "c:v"}, {"item:a|b", "c:v"}, {"item:" + strings.Repeat("x", 300), "c:v"},
		{"item:x", ""}, {"item:x", "c:a b"},
	}
	for _, tc := range tests {
		if _, err := c.Record(t.Context(), tc.target, tc.viewer, time.Now()); !errors.Is(err, views.ErrInvalid) {
			t.Errorf("Record(%q, %q) = %v, want ErrInvalid", tc.target, tc.viewer, err)
		}
	}
	if _, err := c.Stats(t.Context(), "bad", time.Now()); !errors.Is(err, views.ErrInvalid) {
		t.Errorf("Stats(bad) = %v, want ErrInvalid", err)
	}
}

func TestChanged(t *testing.T) {
	c := newEnv(t).counter(views.Options{})
	now := time.Now()
	recordN(t, c, "item:a", 1, now)
	recordN(t, c, "item:b", 1, now)
	recordN(t, c, "item:c", 2, now)
	got := map[string]int64{}
	for _, want := range []int{2, 1, 0} {
		batch, err := c.Changed(t.Context(), 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) != want {
			t.Fatalf("Changed(2) returned %v, want %d targets", batch, want)
		}
		for k, v := range batch {
			if _, dup := got[k]; dup {
				t.Fatalf("Changed returned %s twice", k)
			}
			got[k] = v
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(map[string]int64{"item:a": 1, "item:b": 1, "item:c": 2}) {
		t.Fatalf("Changed = %v", got)
	}
	recordN(t, c, "item:a", 1, now.Add(time.Second))
	if err := c.MarkChanged(t.Context(), "item:b"); err != nil {
		t.Fatal(err)
	}
	batch, err := c.Changed(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(batch) != fmt.Sprint(map[string]int64{"item:a": 2, "item:b": 1}) {
		t.Fatalf("Changed after a new view and MarkChanged = %v", batch)
	}
}

func TestRedisDown(t *testing.T) {
	stack := testenv.NewStack(t)
	e := newEnvOn(t, stack)
	c := e.counter(views.Options{})
	stack.Kill("redis")
	now := time.Now()
	ops := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"Record", func(ctx context.Context) error { _, err := c.Record(ctx, "item:a", "c:v", now); return err }},
		{"Stats", func(ctx context.Context) error { _, err := c.Stats(ctx, "item:a", now); return err }},
		{"Totals", func(ctx context.Context) error { _, err := c.Totals(ctx, []string{"item:a"}); return err }},
		{"Trending", func(ctx context.Context) error { _, err := c.Trending(ctx, "item:", 5, now); return err }},
		{"Changed", func(ctx context.Context) error { _, err := c.Changed(ctx, 5); return err }},
		{"Rollup", func(ctx context.Context) error { return c.Rollup(ctx, now) }},
		{"Restore", func(ctx context.Context) error { _, err := c.Restore(ctx, now); return err }},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			err := op.run(t.Context())
			if !errors.Is(err, dep.ErrUnavailable) || dep.Name(err) != dep.Redis {
				t.Fatalf("%s with Redis down = %v, want a Redis dep.ErrUnavailable", op.name, err)
			}
		})
	}
}

// TestRecordOnceCountsOncePerViewerEver: a once-only event (a lesson completed) counts once
// per viewer and target, also when it is reported again long after the dedupe window.
func TestRecordOnceCountsOncePerViewerEver(t *testing.T) {
	c := newEnv(t).counter(views.Options{Window: 20 * time.Millisecond})
	ctx := t.Context()
	now := time.Now()
	once := func(target, viewer string) bool {
		t.Helper()
		counted, err := c.RecordOnce(ctx, target, viewer, now)
		if err != nil {
			t.Fatalf("RecordOnce(%s, %s): %v", target, viewer, err)
		}
		return counted
	}
	if !once("completion:crs-a.0", "c:learner-one-0001") {
		t.Fatal("the first completion was not counted")
	}
	if !once("completion:crs-a.0", "c:learner-two-0002") || !once("completion:crs-a.1", "c:learner-one-0001") {
		t.Fatal("another learner's, or another lesson's, completion was not counted")
	}
	// An ordinary view counts again once the window is over: wait for that, then report the
	// completion again.
	record(t, c, "lesson:crs-a.0", "c:learner-one-0001", now)
	testwait.Until(t, "the dedupe window ends", func() bool { return record(t, c, "lesson:crs-a.0", "c:learner-one-0001", now) })
	if once("completion:crs-a.0", "c:learner-one-0001") {
		t.Fatal("a completion reported again after the window counted twice")
	}
	st, err := c.StatsOf(ctx, []string{"completion:crs-a.0", "completion:crs-a.1"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if st[0].Total != 2 || st[0].Unique != 2 || st[1].Total != 1 {
		t.Fatalf("completions %+v, want 2 and 1", st)
	}
}
