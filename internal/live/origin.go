package live

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/lectures"
)

// A live lecture has one origin node: the node its publisher is connected to. The origin
// keeps two Redis keys per lecture while the publisher is there:
//
//	P origin:<lecture>       node name, TTL Origins.TTL      the node is alive and has it
//	P origin:seen:<lecture>  unix ms of its last packet, 1 h  when media last came
//
// (P is the Redis key prefix; liveroom's keys are under P live:, so the two never meet.) A live lecture whose origin key is gone, or whose last
// packet is older than staleAfter, lost its publisher: a node that crashed, or one that
// drained for a deploy. Any node then accepts the publisher back (its encoder retries), and
// if none comes within the grace period, Sweep ends the lecture at its last packet's time;
// ending also joins whatever its recording had stored into the replay.

// Origins are the Redis side of the origin keys.
type Origins struct {
	RDB       *redis.Client
	KeyPrefix string
	Node      string
	// TTL is how long an origin key lives without a refresh. Default 45 s.
	TTL time.Duration
}

// refreshEvery is how often an origin writes its keys (and the sweep runs): the last
// packet time it records is at most this old when a node crashes.
const refreshEvery = 5 * time.Second

// staleAfter is how old a last packet time may be before its origin is taken as lost:
// three refreshes missed.
const staleAfter = 3 * refreshEvery

// seenTTL keeps a lost lecture's last packet time long enough for any grace period.
const seenTTL = time.Hour

func (o Origins) key(lecture string) string  { return o.KeyPrefix + "origin:" + lecture }
func (o Origins) seen(lecture string) string { return o.KeyPrefix + "origin:seen:" + lecture }

func (o Origins) ttl() time.Duration {
	if o.TTL <= 0 {
		return 45 * time.Second
	}
	return o.TTL
}

// Run refreshes this node's origin keys and ends orphaned live lectures until ctx ends.
func (s *Service) Run(ctx context.Context) {
	if s.o.Origins.RDB == nil {
		return
	}
	t := time.NewTicker(min(refreshEvery, s.o.Origins.ttl()/3))
	defer t.Stop()
	for {
		s.refreshOrigins(ctx)
		s.Sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// claimOrigin records that this node is the lecture's origin.
func (s *Service) claimOrigin(ctx context.Context, id string) {
	s.mu.Lock()
	s.origin[id] = true
	s.mu.Unlock()
	s.writeOrigin(ctx, id, time.Now())
}

func (s *Service) writeOrigin(ctx context.Context, id string, lastPacket time.Time) {
	o := s.o.Origins
	if o.RDB == nil {
		return
	}
	_, err := o.RDB.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, o.key(id), o.Node, o.ttl())
		p.Set(ctx, o.seen(id), lastPacket.UnixMilli(), seenTTL)
		return nil
	})
	if err != nil {
		s.log.WarnContext(ctx, "live: origin key", "lecture", id, "err", err)
	}
}

// releaseOrigin forgets the lecture; its key runs out by itself.
func (s *Service) releaseOrigin(id string) {
	s.mu.Lock()
	delete(s.origin, id)
	s.mu.Unlock()
}

func (s *Service) refreshOrigins(ctx context.Context) {
	s.mu.Lock()
	ids := make([]string, 0, len(s.origin))
	for id := range s.origin {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		last, ok := s.sfu.LastPacket(id)
		if !ok {
			last = time.Now()
		}
		s.writeOrigin(ctx, id, last)
	}
}

// handOver gives up this node's lectures for a deploy: their last packet is now, and
// their origin keys go, so that the publisher is taken back at once by another node.
func (s *Service) handOver(ctx context.Context) {
	o := s.o.Origins
	s.mu.Lock()
	ids := make([]string, 0, len(s.origin))
	for id := range s.origin {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	if o.RDB == nil {
		return
	}
	for _, id := range ids {
		last, ok := s.sfu.LastPacket(id)
		if !ok {
			last = time.Now()
		}
		_, err := o.RDB.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, o.seen(id), last.UnixMilli(), seenTTL)
			p.Del(ctx, o.key(id))
			return nil
		})
		if err != nil {
			s.log.WarnContext(ctx, "live: hand over", "lecture", id, "err", err)
		}
	}
}

// lostSince says whether the lecture's publisher is connected to no living node, and
// since when (its last packet). ok is false when Redis could not say.
func (s *Service) lostSince(ctx context.Context, id string) (lost bool, since time.Time, ok bool) {
	o := s.o.Origins
	if o.RDB == nil {
		return false, time.Time{}, false
	}
	var node, seen *redis.StringCmd
	_, err := o.RDB.Pipelined(ctx, func(p redis.Pipeliner) error {
		node = p.Get(ctx, o.key(id))
		seen = p.Get(ctx, o.seen(id))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		s.log.WarnContext(ctx, "live: origin of lecture", "lecture", id, "err", err)
		return false, time.Time{}, false
	}
	now := time.Now()
	ms, perr := strconv.ParseInt(seen.Val(), 10, 64)
	if perr != nil {
		// No last packet recorded (a node of an older version): lost from now on, and
		// recorded so that the next sweep counts the grace from the same moment.
		if node.Err() == nil {
			return false, time.Time{}, true
		}
		if err := o.RDB.SetNX(ctx, o.seen(id), now.UnixMilli(), seenTTL).Err(); err != nil {
			s.log.WarnContext(ctx, "live: origin of lecture", "lecture", id, "err", err)
		}
		return true, now, true
	}
	since = time.UnixMilli(ms)
	return node.Err() != nil || now.Sub(since) > staleAfter, since, true
}

// Sweep ends the live lectures whose origin node is gone, at the grace period's end
// counted from their last packet, and records that last packet as their end.
func (s *Service) Sweep(ctx context.Context) {
	live, err := s.lectures.LiveNow(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "live: sweep", "err", err)
		return
	}
	for _, l := range live {
		if l.State != lectures.Live {
			continue
		}
		s.mu.Lock()
		mine, pending := s.origin[l.ID], s.ending[l.ID] != nil
		s.mu.Unlock()
		if mine || pending {
			continue
		}
		lost, since, ok := s.lostSince(ctx, l.ID)
		if ok && lost {
			s.log.InfoContext(ctx, "live: lecture lost its origin node; ending it after the grace period", "lecture", l.ID, "last_packet", since)
			s.endAfterGrace(l.ID, since)
		}
	}
}
