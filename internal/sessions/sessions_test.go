package sessions_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/sessions"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const sessionTTL = time.Hour

type env struct {
	rdb    *redis.Client
	prefix string
	cfg    *config.Config
}

func newEnv(t *testing.T) env {
	t.Helper()
	stack := testenv.Shared(t)
	cfg := testenv.Config(t, stack)
	rdb := newRedis(cfg.Redis.Addr, cfg.Redis.Timeout)
	t.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("ping redis: %v", err)
	}
	return env{rdb: rdb, prefix: cfg.Redis.KeyPrefix, cfg: cfg}
}

// newRedis builds a client the way the product does (internal/app).
func newRedis(addr string, timeout time.Duration) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: addr, DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout,
		PoolTimeout: timeout, MaxRetries: 1,
	})
}

func (e env) store(key string) *sessions.Store {
	return sessions.NewStore(e.rdb, e.prefix, []byte(key), sessionTTL)
}

// keys lists every Redis key under the test's prefix.
func (e env) keys(t *testing.T) []string {
	t.Helper()
	var out []string
	iter := e.rdb.Scan(t.Context(), 0, e.prefix+"*", 100).Iterator()
	for iter.Next(t.Context()) {
		out = append(out, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("scan: %v", err)
	}
	return out
}

func TestCreateGetDelete(t *testing.T) {
	e := newEnv(t)
	s := e.store("session-secret-0123456789abcdef")
	ctx := t.Context()

	token, sess, err := s.Create(ctx, "zhang.san", 0)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if sess.Account != "zhang.san" || sess.CSRF == "" || sess.CSRF == token {
		t.Fatalf("Create = %+v with token %q; want account zhang.san and a CSRF token of its own", sess, token)
	}
	for name, v := range map[string]string{"token": token, "csrf": sess.CSRF} {
		raw, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(raw) != 32 {
			t.Errorf("%s %q is not 32 random bytes in URL-safe base64 (%d bytes, %v)", name, v, len(raw), err)
		}
	}

	got, err := s.Get(ctx, token)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got != sess {
		t.Errorf("Get = %+v, want %+v", got, sess)
	}

	// Another session of the same account is separate.
	token2, sess2, err := s.Create(ctx, "zhang.san", 0)
	if err != nil {
		t.Fatalf("second Create: %v", err)
	}
	if token2 == token || sess2.CSRF == sess.CSRF {
		t.Errorf("two sessions share a token or CSRF token")
	}

	if err := s.Delete(ctx, token); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, token); !errors.Is(err, sessions.ErrNoSession) {
		t.Fatalf("Get after Delete: err = %v, want ErrNoSession", err)
	}
	if got, err := s.Get(ctx, token2); err != nil || got != sess2 {
		t.Errorf("the other session after Delete: %+v, %v; want %+v", got, err, sess2)
	}
	if err := s.Delete(ctx, token); err != nil {
		t.Errorf("second Delete: %v, want nil", err)
	}
}

func TestGetUnknown(t *testing.T) {
	e := newEnv(t)
	s := e.store("session-secret-0123456789abcdef")
	ctx := t.Context()
	real, _, err := s.Create(ctx, "zhang.san", 0)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	tests := []struct{ name, token string }{
		{"empty", ""},
		{"unknown", "bm90LWEtcmVhbC1zZXNzaW9uLXRva2VuLWF0LWFsbC0xMjM"},
		{"one character off", real[:len(real)-1] + map[bool]string{true: "B", false: "A"}[real[len(real)-1] == 'A']},
		{"prefix of a real token", real[:len(real)/2]},
		{"real token plus more", real + "x"},
		{"128 characters", strings.Repeat("a", 128)},
		{"too long", strings.Repeat("a", 129)},
		{"very long real-token repeat", strings.Repeat(real, 100)},
		{"redis glob", "*"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := s.Get(ctx, tc.token); !errors.Is(err, sessions.ErrNoSession) {
				t.Fatalf("Get(%q) = %+v, %v; want ErrNoSession", tc.token, got, err)
			}
		})
	}
	// Looking up unknown tokens must not create keys.
	if keys := e.keys(t); len(keys) != 1 {
		t.Errorf("after failed lookups Redis holds %d keys %v, want the one real session", len(keys), keys)
	}
}

func TestSessionKeyedBySecret(t *testing.T) {
	e := newEnv(t)
	a := e.store("secret-a-0123456789abcdef")
	b := e.store("secret-b-0123456789abcdef")
	token, _, err := a.Create(t.Context(), "zhang.san", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(t.Context(), token); !errors.Is(err, sessions.ErrNoSession) {
		t.Errorf("a store with another secret found the session: err = %v", err)
	}
}

func TestRedisHoldsNoRawToken(t *testing.T) {
	e := newEnv(t)
	s := e.store("session-secret-0123456789abcdef")
	ctx := t.Context()
	token, sess, err := s.Create(ctx, "zhang.san", 0)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	keys := e.keys(t)
	if len(keys) != 1 {
		t.Fatalf("Redis holds %v under the prefix, want one session key", keys)
	}
	k := keys[0]
	if !strings.HasPrefix(k, e.prefix+"sess:") {
		t.Errorf("session key %q does not start with %q", k, e.prefix+"sess:")
	}
	if strings.Contains(k, token) {
		t.Errorf("session key %q contains the raw token", k)
	}
	fields, err := e.rdb.HGetAll(ctx, k).Result()
	if err != nil {
		t.Fatalf("HGETALL: %v", err)
	}
	if fields["account"] != "zhang.san" || fields["csrf"] != sess.CSRF {
		t.Errorf("session hash = %v", fields)
	}
	for f, v := range fields {
		if strings.Contains(v, token) {
			t.Errorf("session field %s holds the raw token", f)
		}
	}
	ttl, err := e.rdb.PTTL(ctx, k).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > sessionTTL {
		t.Errorf("session key TTL %v, want in (0, %v]", ttl, sessionTTL)
	}
}

func TestGetExtendsLifetime(t *testing.T) {
	e := newEnv(t)
	s := e.store("session-secret-0123456789abcdef")
	ctx := t.Context()
	token, _, err := s.Create(ctx, "zhang.san", 0)
	if err != nil {
		t.Fatal(err)
	}
	k := e.keys(t)[0]
	if err := e.rdb.Expire(ctx, k, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, token); err != nil {
		t.Fatalf("Get: %v", err)
	}
	ttl, err := e.rdb.PTTL(ctx, k).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= time.Minute {
		t.Errorf("TTL after Get is %v; want it renewed to about %v", ttl, sessionTTL)
	}
}

func TestSessionExpires(t *testing.T) {
	e := newEnv(t)
	s := e.store("session-secret-0123456789abcdef")
	ctx := t.Context()
	token, _, err := s.Create(ctx, "zhang.san", 0)
	if err != nil {
		t.Fatal(err)
	}
	k := e.keys(t)[0]
	if err := e.rdb.PExpire(ctx, k, 50*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	// Wait for Redis to drop the key without calling Get, which would renew it.
	testwait.Until(t, "Redis drops the session key at its TTL", func() bool {
		n, err := e.rdb.Exists(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
	if got, err := s.Get(ctx, token); !errors.Is(err, sessions.ErrNoSession) {
		t.Fatalf("Get of an expired session = %+v, %v; want ErrNoSession", got, err)
	}
	// Get of an expired session must not bring its key back.
	if keys := e.keys(t); len(keys) != 0 {
		t.Errorf("an expired session left keys %v", keys)
	}
}

func TestLimiter(t *testing.T) {
	e := newEnv(t)
	const window = time.Hour
	l := sessions.NewLimiter(e.rdb, e.prefix, window)
	ctx := t.Context()
	const limit = 5
	for i := range limit {
		blocked, wait, err := l.Blocked(ctx, "login:zhang.san", limit)
		if err != nil || blocked || wait != 0 {
			t.Fatalf("Blocked after %d hits = %v, %v, %v; want false, 0, nil", i, blocked, wait, err)
		}
		if err := l.Hit(ctx, "login:zhang.san"); err != nil {
			t.Fatalf("Hit %d: %v", i+1, err)
		}
	}
	blocked, wait, err := l.Blocked(ctx, "login:zhang.san", limit)
	if err != nil || !blocked {
		t.Fatalf("Blocked after %d hits = %v, %v; want true", limit, blocked, err)
	}
	if wait <= 0 || wait > window {
		t.Errorf("wait = %v, want in (0, %v]", wait, window)
	}
	// A higher limit is not reached yet.
	if blocked, _, err := l.Blocked(ctx, "login:zhang.san", limit+1); err != nil || blocked {
		t.Errorf("Blocked with limit %d after %d hits = %v, %v; want false", limit+1, limit, blocked, err)
	}
	// Other keys are counted apart.
	if blocked, _, err := l.Blocked(ctx, "login:li.si", limit); err != nil || blocked {
		t.Errorf("another key is blocked: %v, %v", blocked, err)
	}
	if err := l.Reset(ctx, "login:zhang.san"); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if blocked, wait, err := l.Blocked(ctx, "login:zhang.san", limit); err != nil || blocked || wait != 0 {
		t.Errorf("Blocked after Reset = %v, %v, %v; want false, 0, nil", blocked, wait, err)
	}
	if err := l.Reset(ctx, "never-hit"); err != nil {
		t.Errorf("Reset of an unknown key: %v", err)
	}
	for _, k := range e.keys(t) {
		if !strings.HasPrefix(k, e.prefix+"rl:") {
			t.Errorf("limiter key %q is not under %q", k, e.prefix+"rl:")
		}
	}
}

func TestLimiterWindowStartsWithFirstHit(t *testing.T) {
	e := newEnv(t)
	l := sessions.NewLimiter(e.rdb, e.prefix, time.Hour)
	ctx := t.Context()
	if err := l.Hit(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	keys := e.keys(t)
	if len(keys) != 1 {
		t.Fatalf("keys after one Hit: %v", keys)
	}
	// Shorten the window as if most of it had passed; further hits must not extend it.
	if err := e.rdb.Expire(ctx, keys[0], 30*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := l.Hit(ctx, "k"); err != nil {
			t.Fatal(err)
		}
	}
	ttl, err := e.rdb.PTTL(ctx, keys[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > 30*time.Second {
		t.Errorf("TTL after more hits = %v; want the first window's remaining ≤ 30s", ttl)
	}
	blocked, wait, err := l.Blocked(ctx, "k", 4)
	if err != nil || !blocked || wait <= 0 || wait > 30*time.Second {
		t.Errorf("Blocked = %v, %v, %v; want true with a wait ≤ 30s", blocked, wait, err)
	}
}

func TestLimiterWindowEnds(t *testing.T) {
	e := newEnv(t)
	l := sessions.NewLimiter(e.rdb, e.prefix, time.Second)
	ctx := t.Context()
	for range 2 {
		if err := l.Hit(ctx, "k"); err != nil {
			t.Fatal(err)
		}
	}
	testwait.Until(t, "the 1 s window ends", func() bool {
		blocked, _, err := l.Blocked(ctx, "k", 2)
		if err != nil {
			t.Fatal(err)
		}
		return !blocked
	})
}

func TestRedisDown(t *testing.T) {
	stack := testenv.NewStack(t)
	cfg := testenv.Config(t, stack)
	rdb := newRedis(cfg.Redis.Addr, cfg.Redis.Timeout)
	t.Cleanup(func() { _ = rdb.Close() })
	s := sessions.NewStore(rdb, cfg.Redis.KeyPrefix, []byte("session-secret-0123456789abcdef"), sessionTTL)
	l := sessions.NewLimiter(rdb, cfg.Redis.KeyPrefix, time.Minute)
	token, _, err := s.Create(t.Context(), "zhang.san", 0)
	if err != nil {
		t.Fatalf("Create while Redis runs: %v", err)
	}

	stack.Kill("redis")

	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Create", func(ctx context.Context) error { _, _, err := s.Create(ctx, "li.si", 0); return err }},
		{"Get", func(ctx context.Context) error { _, err := s.Get(ctx, token); return err }},
		{"Delete", func(ctx context.Context) error { return s.Delete(ctx, token) }},
		{"Blocked", func(ctx context.Context) error { _, _, err := l.Blocked(ctx, "k", 3); return err }},
		{"Hit", func(ctx context.Context) error { return l.Hit(ctx, "k") }},
		{"Reset", func(ctx context.Context) error { return l.Reset(ctx, "k") }},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			const bound = 10 * time.Second
			done := make(chan error, 1)
			go func() { done <- tc.call(context.Background()) }()
			select {
			case err := <-done:
				if !errors.Is(err, dep.ErrUnavailable) {
					t.Fatalf("%s with Redis down: err = %v, want dep.ErrUnavailable", tc.name, err)
				}
				if errors.Is(err, sessions.ErrNoSession) {
					t.Errorf("%s with Redis down looks like a missing session: %v", tc.name, err)
				}
				if name := dep.Name(err); name != dep.Redis {
					t.Errorf("%s: dep.Name = %q, want %q", tc.name, name, dep.Redis)
				}
			case <-time.After(bound):
				t.Fatalf("%s with Redis down did not return within %v", tc.name, bound)
			}
		})
	}
}
