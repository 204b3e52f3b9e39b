// Package outbox carries "this record changed" events from writers to the indexer over a
// Redis stream with a consumer group: at-least-once, retried while the consumer's target is
// down, parked in a dead-letter stream when the handler rejects an event for good.
package outbox

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/library"
)

// Event names one changed record.
type Event struct {
	Kind string // "account", "item", "derive"
	ID   string
	Ref  string // what within the record, e.g. a file path
}

// ErrRetry marks a handler failure that should be tried again later (the target is down).
var ErrRetry = errors.New("retry later")

// Outbox is one stream and its dead-letter stream.
type Outbox struct {
	rdb    *redis.Client
	stream string
	dead   string
	log    *slog.Logger
}

// New uses the stream prefix+"outbox".
func New(rdb *redis.Client, prefix string, log *slog.Logger) *Outbox {
	return &Outbox{rdb: rdb, stream: prefix + "outbox", dead: prefix + "outbox:dead", log: log}
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

// AccountChanged implements accounts.Notifier. A lost event is repaired by the indexer's
// periodic reconcile, so a failure here is logged and the write still counts.
func (o *Outbox) AccountChanged(ctx context.Context, name string) {
	if err := o.Append(ctx, Event{Kind: "account", ID: name}); err != nil {
		o.log.WarnContext(ctx, "outbox append failed; reconcile will index it", "kind", "account", "id", name, "err", err)
	}
}

// ItemChanged implements library.Notifier.
func (o *Outbox) ItemChanged(ctx context.Context, id string) {
	if err := o.Append(ctx, Event{Kind: "item", ID: id}); err != nil {
		o.log.WarnContext(ctx, "outbox append failed; reconcile will index it", "kind", "item", "id", id, "err", err)
	}
}

// CourseChanged implements courses.Notifier.
func (o *Outbox) CourseChanged(ctx context.Context, id string) {
	if err := o.Append(ctx, Event{Kind: "course", ID: id}); err != nil {
		o.log.WarnContext(ctx, "outbox append failed; reconcile will index it", "kind", "course", "id", id, "err", err)
	}
}

// LectureChanged implements lectures.Notifier. Lectures are listed from MinIO, so nothing
// consumes the event yet; it keeps the outbox a complete log of writes.
func (o *Outbox) LectureChanged(ctx context.Context, id string) {
	if err := o.Append(ctx, Event{Kind: "lecture", ID: id}); err != nil {
		o.log.WarnContext(ctx, "outbox append failed", "kind", "lecture", "id", id, "err", err)
	}
}

// FileAdded implements library.Notifier: it asks the workers for the file's derivatives.
func (o *Outbox) FileAdded(ctx context.Context, id string, f library.File) {
	if err := o.Append(ctx, Event{Kind: "derive", ID: id, Ref: f.Path}); err != nil {
		o.log.WarnContext(ctx, "derivative job not queued; the item page offers a retry", "id", id, "path", f.Path, "err", err)
	}
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
