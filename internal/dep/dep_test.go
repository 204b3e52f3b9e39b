package dep_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestFromRedis classifies real go-redis failures: a reply that is the caller's bug stays a
// plain error; a transport failure makes Redis unavailable.
func TestFromRedis(t *testing.T) {
	ctx := context.Background()
	cfg := testenv.Config(t, testenv.Shared(t))
	rdb := redis.NewClient(&redis.Options{Addr: cfg.Redis.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	key := cfg.Redis.KeyPrefix + "dep-test"
	if err := rdb.Set(ctx, key, "x", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	wrongType := rdb.LPush(ctx, key, "y").Err() // WRONGTYPE: a bug, not an outage
	badScript := rdb.Eval(ctx, "return redis.call('NOSUCHCOMMAND')", nil).Err()
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = down.Close() })
	refused := down.Ping(ctx).Err()

	for _, tc := range []struct {
		name        string
		err         error
		unavailable bool
	}{
		{"nil", nil, false},
		{"WRONGTYPE reply", wrongType, false},
		{"script error reply", badScript, false},
		{"wrapped WRONGTYPE reply", fmt.Errorf("views: record: %w", wrongType), false},
		{"connection refused", refused, true},
		{"wrapped connection refused", fmt.Errorf("liveroom: join: %w", refused), true},
		{"context cancelled", context.Canceled, true},
		// A restarting server's reply (hard to provoke here); go-redis's replies have this shape.
		{"LOADING reply", replyError("LOADING Redis is loading the dataset in memory"), true},
		{"READONLY reply", replyError("READONLY You can't write against a read only replica."), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name != "nil" && tc.err == nil {
				t.Fatal("the case's Redis call did not fail")
			}
			got := dep.FromRedis(tc.err)
			if errors.Is(got, dep.ErrUnavailable) != tc.unavailable {
				t.Errorf("FromRedis(%v) = %v, unavailable want %v", tc.err, got, tc.unavailable)
			}
			if tc.err == nil && got != nil {
				t.Errorf("FromRedis(nil) = %v", got)
			}
			if tc.err != nil && !errors.Is(got, tc.err) {
				t.Errorf("FromRedis lost the cause %v", tc.err)
			}
		})
	}
}

// replyError has the shape of a go-redis error reply.
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}
