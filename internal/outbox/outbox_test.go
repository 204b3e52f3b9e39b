package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/outbox"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// waitFor is how long asynchronous things may take before a test gives up.
const waitFor = 10 * time.Second

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

type env struct {
	rdb    *redis.Client
	prefix string
	box    *outbox.Outbox
}

func newRedis(addr string, timeout time.Duration) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: addr, DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout,
		PoolTimeout: timeout, MaxRetries: 1,
	})
}

func newEnv(t *testing.T) env {
	t.Helper()
	stack := testenv.Shared(t)
	cfg := testenv.Config(t, stack)
	rdb := newRedis(cfg.Redis.Addr, cfg.Redis.Timeout)
	t.Cleanup(func() { _ = rdb.Close() })
	return env{rdb: rdb, prefix: cfg.Redis.KeyPrefix, box: outbox.New(rdb, cfg.Redis.KeyPrefix, discard)}
}

// journal records handled events, safe for concurrent handlers.
type journal struct {
	mu     sync.Mutex
	events []handled
}

type handled struct {
	consumer string
	ev       outbox.Event
	at       time.Time
}

func (l *journal) add(consumer string, ev outbox.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, handled{consumer, ev, time.Now()})
}

func (l *journal) all() []handled {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// count returns how often the event with id was handled.
func (l *journal) count(id string) int {
	n := 0
	for _, h := range l.all() {
		if h.ev.ID == id {
			n++
		}
	}
	return n
}

// consume runs Consume in the background until the test ends, and checks it returns.
func consume(t *testing.T, box *outbox.Outbox, group, consumer string, h outbox.Handler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		box.Consume(ctx, group, consumer, h)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitFor):
			t.Errorf("Consume(%s/%s) did not return within %v of cancel", group, consumer, waitFor)
		}
	})
}

func (e env) pending(t *testing.T, group string) int64 {
	t.Helper()
	p, err := e.rdb.XPending(t.Context(), e.prefix+"outbox", group).Result()
	if err != nil {
		t.Fatalf("XPENDING: %v", err)
	}
	return p.Count
}

func (e env) dead(t *testing.T) []redis.XMessage {
	t.Helper()
	msgs, err := e.rdb.XRange(t.Context(), e.prefix+"outbox:dead", "-", "+").Result()
	if err != nil {
		t.Fatalf("XRANGE dead: %v", err)
	}
	return msgs
}

func TestDeliversEachEventOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	var want []outbox.Event
	for i := range 20 {
		ev := outbox.Event{Kind: "account", ID: fmt.Sprintf("user-%02d", i)}
		want = append(want, ev)
		if err := e.box.Append(ctx, ev); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	var got journal
	consume(t, e.box, "indexer", "c1", func(_ context.Context, ev outbox.Event) error {
		got.add("c1", ev)
		return nil
	})
	// Events appended while the consumer runs arrive too, with every field.
	late := outbox.Event{Kind: "derive", ID: "item-1", Ref: "files/老照片.jpg"}
	want = append(want, late)
	if err := e.box.Append(ctx, late); err != nil {
		t.Fatalf("Append: %v", err)
	}
	testwait.Until(t, "all events handled", func() bool { return len(got.all()) >= len(want) })
	testwait.Until(t, "nothing pending", func() bool { return e.pending(t, "indexer") == 0 })

	var evs []outbox.Event
	for _, h := range got.all() {
		evs = append(evs, h.ev)
	}
	if !slices.Equal(evs, want) {
		t.Errorf("handled %v,\nwant each once in order: %v", evs, want)
	}
	if d := e.dead(t); len(d) != 0 {
		t.Errorf("dead letters after clean handling: %v", d)
	}
}

func TestNotifiers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	e.box.AccountChanged(ctx, "zhang.san")
	e.box.ItemChanged(ctx, "item-7")
	e.box.FileAdded(ctx, "item-7", "files/scan.tif")
	var got journal
	consume(t, e.box, "indexer", "c1", func(_ context.Context, ev outbox.Event) error { got.add("c1", ev); return nil })
	testwait.Until(t, "three events handled", func() bool { return len(got.all()) >= 3 })
	var evs []outbox.Event
	for _, h := range got.all() {
		evs = append(evs, h.ev)
	}
	want := []outbox.Event{
		{Kind: "account", ID: "zhang.san"},
		{Kind: "item", ID: "item-7"},
		{Kind: "derive", ID: "item-7", Ref: "files/scan.tif"},
	}
	if !slices.Equal(evs, want) {
		t.Errorf("events = %+v, want %+v", evs, want)
	}
}

func TestRetry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	var got journal
	var mu sync.Mutex
	failures := 0
	consume(t, e.box, "indexer", "c1", func(_ context.Context, ev outbox.Event) error {
		got.add("c1", ev)
		if ev.ID != "flaky" {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if failures < 1 {
			failures++
			return fmt.Errorf("meilisearch down: %w", outbox.ErrRetry)
		}
		return nil
	})
	if err := e.box.Append(ctx, outbox.Event{Kind: "account", ID: "flaky"}); err != nil {
		t.Fatal(err)
	}
	if err := e.box.Append(ctx, outbox.Event{Kind: "account", ID: "steady"}); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the retried event delivered a second time", func() bool { return got.count("flaky") >= 2 })
	testwait.Until(t, "nothing pending", func() bool { return e.pending(t, "indexer") == 0 })

	var times []time.Time
	for _, h := range got.all() {
		if h.ev.ID == "flaky" {
			times = append(times, h.at)
		}
	}
	if n := len(times); n != 2 {
		t.Errorf("flaky event handled %d times, want 2 (one failure, one success)", n)
	}
	// The retry waits for retryIdle (3 s); allow for clock skew between client and server.
	if gap := times[1].Sub(times[0]); gap < 2*time.Second {
		t.Errorf("retried after %v, want after about 3 s", gap)
	}
	if n := got.count("steady"); n != 1 {
		t.Errorf("the other event was handled %d times, want 1", n)
	}
	if d := e.dead(t); len(d) != 0 {
		t.Errorf("a retried event was parked as dead: %v", d)
	}
}

func TestDeadLetter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	var got journal
	consume(t, e.box, "indexer", "c1", func(_ context.Context, ev outbox.Event) error {
		got.add("c1", ev)
		if ev.ID == "poison" {
			return errors.New("document rejected: bad id")
		}
		return nil
	})
	if err := e.box.Append(ctx, outbox.Event{Kind: "account", ID: "poison"}); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the poison event parked", func() bool { return len(e.dead(t)) == 1 })
	d := e.dead(t)[0].Values
	if d["kind"] != "account" || d["id"] != "poison" || d["error"] != "document rejected: bad id" {
		t.Errorf("dead letter = %v, want kind account, id poison and the handler's error", d)
	}
	// It is acknowledged, so it can never come back; a later event passes it by.
	testwait.Until(t, "nothing pending", func() bool { return e.pending(t, "indexer") == 0 })
	if err := e.box.Append(ctx, outbox.Event{Kind: "account", ID: "marker"}); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the marker handled", func() bool { return got.count("marker") == 1 })
	if n := got.count("poison"); n != 1 {
		t.Errorf("the poison event was handled %d times, want 1", n)
	}
	if n := len(e.dead(t)); n != 1 {
		t.Errorf("%d dead letters, want 1", n)
	}
}

func TestDeadLetterKeepsRef(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	consume(t, e.box, "indexer", "c1", func(context.Context, outbox.Event) error { return errors.New("cannot decode") })
	if err := e.box.Append(t.Context(), outbox.Event{Kind: "derive", ID: "item-9", Ref: "files/broken.tif"}); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the event parked", func() bool { return len(e.dead(t)) == 1 })
	if d := e.dead(t)[0].Values; d["ref"] != "files/broken.tif" {
		t.Errorf("dead letter = %v, want ref files/broken.tif", d)
	}
}

func TestTwoConsumersSplitEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	const n = 100
	for i := range n / 2 {
		if err := e.box.Append(ctx, outbox.Event{Kind: "account", ID: fmt.Sprintf("u%03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var got journal
	bHandled := make(chan struct{})
	var bOnce sync.Once
	// Consumer a holds its first event until b has handled one, so that both take part
	// whatever the scheduling.
	var aOnce sync.Once
	consume(t, e.box, "indexer", "a", func(_ context.Context, ev outbox.Event) error {
		aOnce.Do(func() {
			select {
			case <-bHandled:
			case <-time.After(waitFor):
			}
		})
		got.add("a", ev)
		return nil
	})
	consume(t, e.box, "indexer", "b", func(_ context.Context, ev outbox.Event) error {
		got.add("b", ev)
		bOnce.Do(func() { close(bHandled) })
		return nil
	})
	for i := n / 2; i < n; i++ {
		if err := e.box.Append(ctx, outbox.Event{Kind: "account", ID: fmt.Sprintf("u%03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	testwait.Until(t, "all events handled", func() bool { return len(got.all()) >= n })
	testwait.Until(t, "nothing pending", func() bool { return e.pending(t, "indexer") == 0 })

	per := map[string]int{}
	times := map[string]int{}
	for _, h := range got.all() {
		per[h.consumer]++
		times[h.ev.ID]++
	}
	for i := range n {
		id := fmt.Sprintf("u%03d", i)
		if times[id] != 1 {
			t.Errorf("event %s handled %d times, want once", id, times[id])
		}
	}
	if len(times) != n {
		t.Errorf("%d distinct events handled, want %d", len(times), n)
	}
	if per["a"] == 0 || per["b"] == 0 {
		t.Errorf("events per consumer %v: want both to take part", per)
	}
}

func TestSeparateGroupsEachGetEverything(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	for _, id := range []string{"x1", "x2", "x3"} {
		if err := e.box.Append(ctx, outbox.Event{Kind: "account", ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	var got journal
	consume(t, e.box, "indexer", "c", func(_ context.Context, ev outbox.Event) error { got.add("indexer", ev); return nil })
	consume(t, e.box, "audit", "c", func(_ context.Context, ev outbox.Event) error { got.add("audit", ev); return nil })
	testwait.Until(t, "both groups handle all", func() bool { return len(got.all()) >= 6 })
	per := map[string][]string{}
	for _, h := range got.all() {
		per[h.consumer] = append(per[h.consumer], h.ev.ID)
	}
	for _, g := range []string{"indexer", "audit"} {
		if !slices.Equal(per[g], []string{"x1", "x2", "x3"}) {
			t.Errorf("group %s handled %v, want x1 x2 x3", g, per[g])
		}
	}
}

func TestConsumeReturnsOnCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var handling atomic.Bool
	tests := []struct {
		name    string
		handler outbox.Handler
		events  int
	}{
		{"idle", func(context.Context, outbox.Event) error { return nil }, 0},
		{"handler waits for ctx", func(ctx context.Context, _ outbox.Event) error {
			handling.Store(true)
			<-ctx.Done()
			return ctx.Err()
		}, 1},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			handling.Store(false)
			prefix := fmt.Sprintf("%scancel%d:", e.prefix, i)
			box := outbox.New(e.rdb, prefix, discard)
			for range tc.events {
				if err := box.Append(t.Context(), outbox.Event{Kind: "account", ID: "x"}); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				box.Consume(ctx, "g", "c", tc.handler)
			}()
			if tc.events == 0 {
				// The group is created by the round that then blocks reading.
				testwait.UntilState(t, "the consumer's round began", func() (bool, string) {
					groups, err := e.rdb.XInfoGroups(t.Context(), prefix+"outbox").Result()
					return err == nil && len(groups) == 1, fmt.Sprint(groups, err)
				})
			} else {
				testwait.Until(t, "handler called", handling.Load)
			}
			cancel()
			select {
			case <-done:
			case <-time.After(waitFor):
				t.Fatalf("Consume did not return within %v of cancel", waitFor)
			}
		})
	}
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			e.box.Consume(ctx, "g", "c", func(context.Context, outbox.Event) error {
				t.Error("handler called with a cancelled context")
				return nil
			})
		}()
		select {
		case <-done:
		case <-time.After(waitFor):
			t.Fatalf("Consume with a cancelled context did not return within %v", waitFor)
		}
	})
}

func TestRedisDownAndBack(t *testing.T) {
	t.Parallel()
	stack := testenv.NewStack(t)
	cfg := testenv.Config(t, stack)
	rdb := newRedis(cfg.Redis.Addr, cfg.Redis.Timeout)
	t.Cleanup(func() { _ = rdb.Close() })
	box := outbox.New(rdb, cfg.Redis.KeyPrefix, discard)
	ctx := t.Context()

	var got journal
	consume(t, box, "indexer", "c1", func(_ context.Context, ev outbox.Event) error { got.add("c1", ev); return nil })
	if err := box.Append(ctx, outbox.Event{Kind: "account", ID: "before"}); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the first event handled", func() bool { return got.count("before") == 1 })

	stack.Kill("redis")
	err := box.Append(ctx, outbox.Event{Kind: "account", ID: "lost"})
	if !errors.Is(err, dep.ErrUnavailable) || dep.Name(err) != dep.Redis {
		t.Fatalf("Append with Redis down: err = %v, want dep.ErrUnavailable for redis", err)
	}
	box.AccountChanged(ctx, "also.lost") // logs; must not panic or block for long

	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := stack.Start(startCtx, "redis"); err != nil {
		t.Fatalf("restart redis: %v", err)
	}
	testwait.Until(t, "Append to work again", func() bool {
		return box.Append(ctx, outbox.Event{Kind: "account", ID: "after"}) == nil
	})
	// The consumer survived the outage and picks up the new event.
	testwait.Until(t, "the event after the outage handled", func() bool { return got.count("after") >= 1 })
}
