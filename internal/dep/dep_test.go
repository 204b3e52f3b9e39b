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
	"github.com/shizuishan/culturecloud/search"
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

// libraryDown is how a library outside the product (search/) says which dependency failed.
type libraryDown struct{ err error }

func (e libraryDown) Error() string                 { return "library: " + e.err.Error() }
func (e libraryDown) Unwrap() error                 { return e.err }
func (e libraryDown) DependencyUnavailable() string { return dep.Meilisearch }

// TestIsUnavailable: one check tells every dependency failure, ours or a library's, and
// names the dependency; other errors are not taken for one.
func TestIsUnavailable(t *testing.T) {
	cause := errors.New("connection refused")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"ours", dep.Unavailable(dep.Redis, cause), dep.Redis},
		{"ours, wrapped", fmt.Errorf("outbox: %w", dep.Unavailable(dep.MinIO, cause)), dep.MinIO},
		{"a library's", fmt.Errorf("index: %w", libraryDown{cause}), dep.Meilisearch},
		{"search's own", searchDown(t), dep.Meilisearch},
		{"something else", cause, ""},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dep.Name(tt.err); got != tt.want {
				t.Errorf("Name = %q, want %q", got, tt.want)
			}
			if got := dep.IsUnavailable(tt.err); got != (tt.want != "") {
				t.Errorf("IsUnavailable = %v", got)
			}
		})
	}
}

// searchDown is a real error of the search client, against a port where nothing listens.
func searchDown(t *testing.T) error {
	c := search.Connect("http://127.0.0.1:1", "key-0123456789abcdef", "t_", time.Second)
	err := c.Check(t.Context())
	if err == nil || !errors.Is(err, search.ErrUnavailable) {
		t.Fatalf("Check against a closed port: %v", err)
	}
	return err
}
