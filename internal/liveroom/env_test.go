package liveroom_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/liveroom"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// env is one test's Redis client and key prefix.
type env struct {
	rdb    *redis.Client
	prefix string
}

func newEnv(t *testing.T) env {
	t.Helper()
	cfg := testenv.Config(t, testenv.Shared(t))
	e := env{rdb: redis.NewClient(&redis.Options{
		Addr: cfg.Redis.Addr, DialTimeout: cfg.Redis.Timeout, ReadTimeout: cfg.Redis.Timeout,
		WriteTimeout: cfg.Redis.Timeout, PoolTimeout: cfg.Redis.Timeout, MaxRetries: 1, PoolSize: 64,
	}), prefix: cfg.Redis.KeyPrefix}
	t.Cleanup(func() {
		deletePrefix(context.Background(), e.rdb, e.prefix)
		_ = e.rdb.Close()
	})
	return e
}

// room is one simulated server node; it is closed when the test ends.
func (e env) room(t *testing.T, o liveroom.Options) *liveroom.Room {
	t.Helper()
	o.KeyPrefix = e.prefix
	r := liveroom.New(e.rdb, o)
	t.Cleanup(r.Close)
	return r
}

// deletePrefix removes every key under prefix; the shared Redis serves other tests too.
func deletePrefix(ctx context.Context, rdb *redis.Client, prefix string) {
	iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if len(keys) > 0 {
		rdb.Unlink(ctx, keys...)
	}
}

// receive takes the next event from ch, failing the test when none comes.
func receive(t *testing.T, ch <-chan liveroom.Event) liveroom.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed; want an event")
		}
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no event within 20s")
	}
	return liveroom.Event{}
}

// quiet makes sure nothing arrives on ch for a moment.
func quiet(t *testing.T, ch <-chan liveroom.Event) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if ok {
			t.Fatalf("unexpected event %+v", ev)
		}
	case <-time.After(300 * time.Millisecond):
	}
}

func isInvalid(err error) bool { return errors.Is(err, liveroom.ErrInvalid) }

// redisNow is the room's clock: its scripts read Redis TIME, so that every node agrees on
// windows and expiries, and a test cannot set it.
func (e env) redisNow(t *testing.T) time.Time {
	t.Helper()
	now, err := e.rdb.Time(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	return now
}

// waitRedisPast polls the room's clock until it is past at: how a test lets a window or a
// TTL run out when it cannot move the clock, without guessing a sleep. The scripts count
// whole milliseconds, hence the one to spare.
func (e env) waitRedisPast(t *testing.T, what string, at time.Time) {
	t.Helper()
	testwait.UntilState(t, what, func() (bool, string) {
		now := e.redisNow(t)
		return now.After(at.Add(time.Millisecond)), "Redis time " + now.Format(time.RFC3339Nano) + ", waiting for " + at.Format(time.RFC3339Nano)
	})
}
