package outbox_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/outbox"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// TestNotifiersSpoolWhileRedisDown: every kind of record event written while Redis is down
// is kept in MinIO and reaches the consumers once Redis is back, and the spool empties.
func TestNotifiersSpoolWhileRedisDown(t *testing.T) {
	t.Parallel()
	stack := testenv.NewStack(t)
	cfg := testenv.Config(t, stack)
	rdb := newRedis(cfg.Redis.Addr, cfg.Redis.Timeout)
	t.Cleanup(func() { _ = rdb.Close() })
	docs, err := docstore.Connect(docstore.Options{Endpoint: cfg.MinIO.Endpoint, AccessKey: cfg.MinIO.AccessKey,
		SecretKey: cfg.MinIO.SecretKey.Reveal(), Bucket: cfg.MinIO.Bucket, Timeout: cfg.MinIO.Timeout})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := docs.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	box := outbox.New(rdb, cfg.Redis.KeyPrefix, discard).WithSpool(docs)

	stack.Kill("redis")
	notifications := []struct {
		notify func()
		want   outbox.Event
	}{
		{func() { box.AccountChanged(ctx, "li.si") }, outbox.Event{Kind: "account", ID: "li.si"}},
		{func() { box.ItemChanged(ctx, "item-9") }, outbox.Event{Kind: "item", ID: "item-9"}},
		{func() { box.CourseChanged(ctx, "course-3") }, outbox.Event{Kind: "course", ID: "course-3"}},
		{func() { box.LectureChanged(ctx, "lecture-5") }, outbox.Event{Kind: "lecture", ID: "lecture-5"}},
		{func() { box.FileAdded(ctx, "item-9", "files/a.tif") }, outbox.Event{Kind: "derive", ID: "item-9", Ref: "files/a.tif"}},
	}
	var want []outbox.Event
	for _, n := range notifications {
		n.notify()
		want = append(want, n.want)
	}
	if keys, err := docs.List(ctx, outbox.SpoolPrefix); err != nil || len(keys) != len(want) {
		t.Fatalf("spool holds %d events (%v), want %d", len(keys), err, len(want))
	}
	// Draining while Redis is still down moves nothing and loses nothing.
	if n, err := box.DrainSpoolOnce(ctx); n != 0 || err == nil {
		t.Fatalf("DrainSpoolOnce with Redis down = %d, %v; want 0 and an error", n, err)
	}

	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := stack.Start(startCtx, "redis"); err != nil {
		t.Fatalf("restart redis: %v", err)
	}
	drainCtx, stop := context.WithCancel(ctx)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		box.DrainSpool(drainCtx, 100*time.Millisecond)
	}()
	t.Cleanup(func() { stop(); <-drained })
	var got journal
	consume(t, box, "indexer", "c1", func(_ context.Context, ev outbox.Event) error { got.add("c1", ev); return nil })
	testwait.Until(t, "every spooled event handled", func() bool { return len(got.all()) >= len(want) })
	var evs []outbox.Event
	for _, h := range got.all() {
		evs = append(evs, h.ev)
	}
	if !slices.Equal(evs, want) {
		t.Errorf("events = %+v, want %+v (in the order written)", evs, want)
	}
	testwait.Until(t, "the spool is empty", func() bool {
		keys, err := docs.List(ctx, outbox.SpoolPrefix)
		return err == nil && len(keys) == 0
	})
}
