package live

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/lectures"
)

// A live lecture has one origin node: the node its publisher is connected to. The origin
// keeps a Redis key per lecture alive while the publisher is there. A lecture that is live
// without a living origin key lost its node (a crash or a restart): Sweep ends it, which
// also joins whatever its recording had stored into the replay.

// Origins are the Redis side of the origin keys.
type Origins struct {
	RDB       *redis.Client
	KeyPrefix string
	Node      string
	// TTL is how long an origin key lives without a refresh; the sweep runs at a third
	// of it. Default 45 s.
	TTL time.Duration
}

func (o Origins) key(lecture string) string { return o.KeyPrefix + "live:origin:" + lecture }

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
	t := time.NewTicker(s.o.Origins.ttl() / 3)
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
	if o := s.o.Origins; o.RDB != nil {
		if err := o.RDB.Set(ctx, o.key(id), o.Node, o.ttl()).Err(); err != nil {
			s.log.WarnContext(ctx, "live: origin key", "lecture", id, "err", err)
		}
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
	o := s.o.Origins
	for _, id := range ids {
		if err := o.RDB.Set(ctx, o.key(id), o.Node, o.ttl()).Err(); err != nil {
			s.log.WarnContext(ctx, "live: origin key", "lecture", id, "err", err)
		}
	}
}

// Sweep ends the live lectures whose origin node is gone, after the usual grace period.
func (s *Service) Sweep(ctx context.Context) {
	live, err := s.lectures.LiveNow(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "live: sweep", "err", err)
		return
	}
	o := s.o.Origins
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
		n, err := o.RDB.Exists(ctx, o.key(l.ID)).Result()
		if err != nil {
			s.log.WarnContext(ctx, "live: sweep", "lecture", l.ID, "err", err)
			continue
		}
		if n == 0 {
			s.log.InfoContext(ctx, "live: lecture lost its origin node; ending it", "lecture", l.ID)
			s.publisherEnded(l.ID)
		}
	}
}
