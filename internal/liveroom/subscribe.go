package liveroom

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// block is how long one XREAD waits for new entries; a stopped reader notices within it.
	block = time.Second
	// catchUpPage is how many entries one catch-up read returns.
	catchUpPage = 200
)

// hub reads one stream (a lecture's chat, or a guide's track) on this node and hands each
// event to the node's subscribers of it. It runs while the stream has subscribers here.
type hub struct {
	key    string // the stream's Redis key
	subs   map[*subscriber]struct{}
	cancel context.CancelFunc
	ready  chan struct{} // closed when the hub knows the stream's end, its starting point
	done   chan struct{} // closed when the hub stopped
}

// subscriber is one Subscribe call: in is fed by the hub (under Room.mu) and closed when the
// subscriber leaves or falls more than Options.Buffer events behind.
type subscriber struct {
	in chan Event
}

// Subscribe returns the events of lecture's stream after lastID, then every new one as it
// is written, from any node, until ctx ends. lastID is an event id (from History, or the
// SSE Last-Event-ID header), "0-0" for everything still in the stream, or "" for only what
// comes from now on. The channel also closes when the reader fell more than Options.Buffer
// events behind; subscribing again from the last id received loses nothing.
func (r *Room) Subscribe(ctx context.Context, lecture, lastID string) (<-chan Event, error) {
	if err := checkLecture(lecture); err != nil {
		return nil, err
	}
	return r.subscribe(ctx, r.chatKey(lecture), lastID)
}

// subscribe follows the stream at key; see Subscribe.
func (r *Room) subscribe(ctx context.Context, key, lastID string) (<-chan Event, error) {
	switch {
	case lastID == "":
		// "From now" is from this call: later events come through the catch-up read.
		tail, err := r.tail(ctx, key)
		if err != nil {
			return nil, err
		}
		lastID = tail
	case !ValidID(lastID):
		return nil, fmt.Errorf("%w: event id %q", ErrInvalid, lastID)
	}
	s := &subscriber{in: make(chan Event, r.opts.Buffer)}
	h := r.register(key, s)
	// Return once this node follows the stream, so that what is written from now on reaches
	// the subscriber as it happens (the catch-up read covers what came before). While Redis
	// is down that waits until it is back or ctx ends.
	select {
	case <-h.ready:
	case <-h.done: // Close: the channel closes at once
	case <-ctx.Done():
		r.unregister(h, s)
		return nil, ctx.Err()
	}
	out := make(chan Event)
	go r.forward(ctx, h, s, lastID, out)
	return out, nil
}

func (r *Room) register(key string, s *subscriber) *hub {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.hubs[key]
	if h == nil {
		ctx, cancel := context.WithCancel(context.Background())
		h = &hub{key: key, subs: map[*subscriber]struct{}{}, cancel: cancel,
			ready: make(chan struct{}), done: make(chan struct{})}
		r.hubs[key] = h
		r.hubWG.Add(1)
		go func() {
			defer r.hubWG.Done()
			defer close(h.done)
			r.read(ctx, h)
		}()
	}
	h.subs[s] = struct{}{}
	return h
}

// unregister removes s; the last subscriber to leave stops the hub.
func (r *Room) unregister(h *hub, s *subscriber) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.in)
	}
	if len(h.subs) == 0 && r.hubs[h.key] == h {
		h.cancel()
		delete(r.hubs, h.key)
	}
}

// broadcast hands ev to every subscriber of h without waiting: one that is Buffer events
// behind is dropped (its channel closes, and it resumes from its last id).
func (r *Room) broadcast(h *hub, ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for s := range h.subs {
		select {
		case s.in <- ev:
		default:
			delete(h.subs, s)
			close(s.in)
		}
	}
}

// read follows the stream from its end at the start, until ctx ends; Redis failures are
// retried with backoff from the last entry read, so nothing is skipped.
func (r *Room) read(ctx context.Context, h *hub) {
	var cursor string
	if !r.retry(ctx, "find the stream's end", func() (err error) {
		cursor, err = r.tail(ctx, h.key)
		return err
	}) {
		return
	}
	close(h.ready)
	key := h.key
	r.retry(ctx, "read the stream", func() error {
		for ctx.Err() == nil {
			streams, err := r.rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{key, cursor}, Count: 100, Block: block}).Result()
			if errors.Is(err, redis.Nil) {
				continue
			}
			if err != nil {
				return redisErr("read", err)
			}
			for _, st := range streams {
				for _, m := range st.Messages {
					cursor = m.ID
					r.broadcast(h, decode(m))
				}
			}
		}
		return nil
	})
}

// tail is the id of the newest entry of the stream at key, "0-0" when it is empty.
func (r *Room) tail(ctx context.Context, key string) (string, error) {
	msgs, err := r.rdb.XRevRangeN(ctx, key, "+", "-", 1).Result()
	if err != nil {
		return "", redisErr("tail", err)
	}
	if len(msgs) == 0 {
		return "0-0", nil
	}
	return msgs[0].ID, nil
}

// retry runs fn until it succeeds, waiting longer after each failure (up to 5 s); false
// means ctx ended first.
func (r *Room) retry(ctx context.Context, what string, fn func() error) bool {
	backoff := 100 * time.Millisecond
	for {
		err := fn()
		if ctx.Err() != nil {
			return false
		}
		if err == nil {
			return true
		}
		r.opts.Log.WarnContext(ctx, "live room: "+what+" failed; retrying", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// forward sends the subscriber its events: first those after lastID still in the stream,
// then what the hub hands over, skipping what it already sent. The hub was registered before
// the catch-up read, and started reading at the end the stream had before, so every event
// comes either from the catch-up or from the hub.
func (r *Room) forward(ctx context.Context, h *hub, s *subscriber, lastID string, out chan<- Event) {
	defer close(out)
	defer r.unregister(h, s)
	select {
	case <-h.ready:
	case <-h.done:
		return
	case <-ctx.Done():
		return
	}
	last := lastID
	send := func(ev Event) bool {
		select {
		case out <- ev:
			last = ev.ID
			return true
		case <-ctx.Done():
			return false
		}
	}
	done := false
	if !r.retry(ctx, "catch up with the stream", func() error {
		for !done {
			msgs, err := r.rdb.XRangeN(ctx, h.key, "("+last, "+", catchUpPage).Result()
			if err != nil {
				return redisErr("catch up", err)
			}
			for _, m := range msgs {
				if !send(decode(m)) {
					return nil
				}
			}
			done = len(msgs) < catchUpPage
		}
		return nil
	}) {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-s.in:
			if !ok {
				return
			}
			if after(ev.ID, last) && !send(ev) {
				return
			}
		}
	}
}

// Close stops this node's stream readers (closing every subscription) and waits for them.
func (r *Room) Close() {
	r.mu.Lock()
	for key, h := range r.hubs {
		h.cancel()
		for s := range h.subs {
			delete(h.subs, s)
			close(s.in)
		}
		delete(r.hubs, key)
	}
	r.mu.Unlock()
	r.hubWG.Wait()
}
