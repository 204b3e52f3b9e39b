package sessions

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/dep"
)

// Limiter counts events per key in fixed windows, in Redis, so that every server node
// shares the count.
type Limiter struct {
	rdb    *redis.Client
	prefix string
	window time.Duration
}

// NewLimiter counts under prefix+"rl:".
func NewLimiter(rdb *redis.Client, prefix string, window time.Duration) *Limiter {
	return &Limiter{rdb: rdb, prefix: prefix + "rl:", window: window}
}

// Blocked reports whether key has reached max events, and how long until it may try again.
func (l *Limiter) Blocked(ctx context.Context, key string, limit int) (bool, time.Duration, error) {
	var count *redis.StringCmd
	var ttl *redis.DurationCmd
	_, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		count = p.Get(ctx, l.prefix+key)
		ttl = p.PTTL(ctx, l.prefix+key)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, 0, dep.Unavailable(dep.Redis, err)
	}
	n, _ := count.Int()
	if n < limit {
		return false, 0, nil
	}
	wait := ttl.Val()
	if wait <= 0 {
		wait = l.window
	}
	return true, wait, nil
}

// Hit counts one event for key; the window starts with the first event.
func (l *Limiter) Hit(ctx context.Context, key string) error {
	_, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, l.prefix+key)
		p.ExpireNX(ctx, l.prefix+key, l.window)
		return nil
	})
	return dep.Unavailable(dep.Redis, err)
}

// Reset forgets key's count, as after a successful login.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	return dep.Unavailable(dep.Redis, l.rdb.Del(ctx, l.prefix+key).Err())
}

// Limit is the most events a key may count in one window of the limiter.
type Limit struct {
	Key string
	Max int
}

// Take counts one event for every limit's key, in one round trip, and reports whether one
// of them is now over its Max, with the time until the longest such window ends. Counting
// refused events too keeps a client that hammers on blocked, not just at the limit.
func (l *Limiter) Take(ctx context.Context, limits ...Limit) (blocked bool, wait time.Duration, err error) {
	counts := make([]*redis.IntCmd, len(limits))
	ttls := make([]*redis.DurationCmd, len(limits))
	_, err = l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, lim := range limits {
			counts[i] = p.Incr(ctx, l.prefix+lim.Key)
			p.ExpireNX(ctx, l.prefix+lim.Key, l.window)
			ttls[i] = p.PTTL(ctx, l.prefix+lim.Key)
		}
		return nil
	})
	if err != nil {
		return false, 0, dep.Unavailable(dep.Redis, err)
	}
	for i, lim := range limits {
		if counts[i].Val() > int64(lim.Max) {
			blocked = true
			w := ttls[i].Val()
			if w <= 0 {
				w = l.window
			}
			wait = max(wait, w)
		}
	}
	return blocked, wait, nil
}
