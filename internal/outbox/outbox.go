// Package outbox carries "this record changed" events from writers to the indexer over a
// Redis stream with a consumer group: at-least-once, retried while the consumer's target is
// down, parked in a dead-letter stream when the handler rejects an event for good.
//
// An event that cannot reach Redis is kept in MinIO under SpoolPrefix, beside the record it
// names, and handed to the stream by DrainSpool as soon as Redis answers again.
package outbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/docstore"
)

// Event names one changed record.
type Event struct {
	Kind string `json:"kind"` // "account", "item", "course", "lecture", "derive"
	ID   string `json:"id"`
	Ref  string `json:"ref,omitempty"` // what within the record, e.g. a file path
}

// ErrRetry marks a handler failure that should be tried again later (the target is down).
var ErrRetry = errors.New("retry later")

// Outbox is one stream and its dead-letter stream.
type Outbox struct {
	rdb    *redis.Client
	stream string
	dead   string
	log    *slog.Logger
	spool  *docstore.Store
}

// New uses the stream prefix+"outbox".
func New(rdb *redis.Client, prefix string, log *slog.Logger) *Outbox {
	return &Outbox{rdb: rdb, stream: prefix + "outbox", dead: prefix + "outbox:dead", log: log}
}

// SpoolPrefix is where events that could not reach Redis wait, one document each.
const SpoolPrefix = "outbox-spool/"

// WithSpool keeps the notifiers' events in docs while Redis is down.
func (o *Outbox) WithSpool(docs *docstore.Store) *Outbox {
	o.spool = docs
	return o
}

// Append adds an event.
func (o *Outbox) Append(ctx context.Context, ev Event) error {
	err := o.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: o.stream,
		MaxLen: 100_000,
		Approx: true,
		Values: map[string]any{"kind": ev.Kind, "id": ev.ID, "ref": ev.Ref},
	}).Err()
	return dep.Unavailable(dep.Redis, err)
}

// AccountChanged implements accounts.Notifier.
func (o *Outbox) AccountChanged(ctx context.Context, name string) {
	o.notify(ctx, Event{Kind: "account", ID: name})
}

// ItemChanged implements library.Notifier.
func (o *Outbox) ItemChanged(ctx context.Context, id string) {
	o.notify(ctx, Event{Kind: "item", ID: id})
}

// CourseChanged implements courses.Notifier.
func (o *Outbox) CourseChanged(ctx context.Context, id string) {
	o.notify(ctx, Event{Kind: "course", ID: id})
}

// ExhibitionChanged implements exhibitions.Notifier.
func (o *Outbox) ExhibitionChanged(ctx context.Context, id string) {
	o.notify(ctx, Event{Kind: "exhibition", ID: id})
}

// LectureChanged implements lectures.Notifier. Lectures are listed from MinIO, so nothing
// consumes the event yet; it keeps the outbox a complete log of writes.
func (o *Outbox) LectureChanged(ctx context.Context, id string) {
	o.notify(ctx, Event{Kind: "lecture", ID: id})
}

// FileAdded implements library.Notifier: it asks the workers for the file's derivatives.
func (o *Outbox) FileAdded(ctx context.Context, id, path string) {
	o.notify(ctx, Event{Kind: "derive", ID: id, Ref: path})
}

// notify appends ev, or keeps it in the spool when Redis is down: the record is already
// written, so the write counts either way. Only when MinIO refuses the spooled copy too is
// the event left to the indexer's periodic reconcile.
func (o *Outbox) notify(ctx context.Context, ev Event) {
	err := o.Append(ctx, ev)
	if err == nil {
		return
	}
	if o.spool != nil {
		// The caller's request may be ending; the record it wrote is not.
		key := fmt.Sprintf("%s%020d-%s", SpoolPrefix, time.Now().UnixNano(), rand.Text()[:10])
		_, serr := o.spool.Put(context.WithoutCancel(ctx), key, ev, docstore.Create())
		if serr == nil {
			o.log.InfoContext(ctx, "Redis down; event kept in MinIO until it is back", "kind", ev.Kind, "id", ev.ID, "ref", ev.Ref, "err", err)
			return
		}
		err = errors.Join(err, serr)
	}
	o.log.WarnContext(ctx, "event lost; the periodic reconcile will repair the index", "kind", ev.Kind, "id", ev.ID, "ref", ev.Ref, "err", err)
}

// DrainSpool hands spooled events to the stream every interval until ctx ends. Several
// nodes may drain at once: an event appended twice is handled twice, which handlers allow.
func (o *Outbox) DrainSpool(ctx context.Context, every time.Duration) {
	if o.spool == nil {
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		n, err := o.DrainSpoolOnce(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			o.log.DebugContext(ctx, "spooled events wait", "err", err)
		case n > 0:
			o.log.InfoContext(ctx, "spooled events handed to Redis", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// DrainSpoolOnce appends every spooled event to the stream and removes it, oldest first. It
// stops at the first failure (Redis or MinIO still down) and says how many it moved.
func (o *Outbox) DrainSpoolOnce(ctx context.Context) (int, error) {
	keys, err := o.spool.List(ctx, SpoolPrefix)
	if err != nil {
		return 0, err
	}
	moved := 0
	for _, key := range keys {
		var ev Event
		_, err := o.spool.Get(ctx, key, &ev)
		switch {
		case errors.Is(err, docstore.ErrNotFound):
			continue // another node moved it
		case err != nil && !dep.IsUnavailable(err):
			o.log.ErrorContext(ctx, "unreadable spooled event removed", "key", key, "err", err)
		case err != nil:
			return moved, err
		default:
			if err := o.Append(ctx, ev); err != nil {
				return moved, err
			}
			moved++
		}
		if err := o.spool.Purge(ctx, key); err != nil {
			return moved, err
		}
	}
	return moved, nil
}

// Handler processes one event. Returning an error wrapping ErrRetry leaves the event
// pending for a later try; any other error parks it in the dead-letter stream.
type Handler func(ctx context.Context, ev Event) error

// Consume runs until ctx ends, handling events as consumer of group. It survives Redis
// going away and coming back.
func (o *Outbox) Consume(ctx context.Context, group, consumer string, h Handler) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if err := o.round(ctx, group, consumer, h); err != nil && ctx.Err() == nil {
			o.log.WarnContext(ctx, "outbox consumer", "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
	}
}

// retryIdle is how long a failed or orphaned event waits before another try.
const retryIdle = 3 * time.Second

func (o *Outbox) round(ctx context.Context, group, consumer string, h Handler) error {
	err := o.rdb.XGroupCreateMkStream(ctx, o.stream, group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return err
	}
	// Events another consumer took and never acknowledged, or that failed here, come first.
	claimed, _, err := o.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: o.stream, Group: group, Consumer: consumer, MinIdle: retryIdle, Start: "0-0", Count: 50,
	}).Result()
	if err != nil {
		return err
	}
	msgs := claimed
	if len(msgs) == 0 {
		streams, err := o.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: group, Consumer: consumer, Streams: []string{o.stream, ">"}, Count: 50, Block: time.Second,
		}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		for _, s := range streams {
			msgs = append(msgs, s.Messages...)
		}
	}
	// Handlers re-read the record, so one call covers every event of the batch about it.
	done := map[Event]error{}
	for _, m := range msgs {
		kind, _ := m.Values["kind"].(string)
		id, _ := m.Values["id"].(string)
		ref, _ := m.Values["ref"].(string)
		ev := Event{Kind: kind, ID: id, Ref: ref}
		herr, seen := done[ev]
		if !seen {
			herr = h(ctx, ev)
			done[ev] = herr
		}
		switch {
		case herr == nil:
		case errors.Is(herr, ErrRetry):
			continue // stays pending; XAutoClaim brings it back after retryIdle
		default:
			o.log.ErrorContext(ctx, "outbox event parked as dead", "kind", kind, "id", id, "ref", ref, "err", herr)
			if err := o.rdb.XAdd(ctx, &redis.XAddArgs{Stream: o.dead, MaxLen: 10_000, Approx: true,
				Values: map[string]any{"kind": kind, "id": id, "ref": ref, "error": herr.Error()}}).Err(); err != nil {
				return err
			}
		}
		if err := o.rdb.XAck(ctx, o.stream, group, m.ID).Err(); err != nil {
			return err
		}
	}
	return nil
}
