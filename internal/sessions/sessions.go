// Package sessions keeps login sessions and rate limits in Redis. A session is found by a
// keyed hash of its cookie value, so a copy of Redis does not hold usable cookies.
package sessions

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/dep"
)

// ErrNoSession means the cookie names no live session.
var ErrNoSession = errors.New("no such session")

// Session is one login.
type Session struct {
	Account string
	CSRF    string
}

// Store keeps sessions under prefix+"sess:".
type Store struct {
	rdb    *redis.Client
	prefix string
	key    []byte
	ttl    time.Duration
}

// NewStore wraps rdb; key is the secret that keys the hashes; ttl is the idle lifetime.
func NewStore(rdb *redis.Client, prefix string, key []byte, ttl time.Duration) *Store {
	return &Store{rdb: rdb, prefix: prefix, key: key, ttl: ttl}
}

func (s *Store) redisKey(token string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(token))
	return s.prefix + "sess:" + hex.EncodeToString(m.Sum(nil))
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Create starts a session for account and returns the cookie value.
func (s *Store) Create(ctx context.Context, account string) (string, Session, error) {
	token := random()
	sess := Session{Account: account, CSRF: random()}
	k := s.redisKey(token)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k, "account", sess.Account, "csrf", sess.CSRF, "created", time.Now().Unix())
		p.Expire(ctx, k, s.ttl)
		return nil
	})
	if err != nil {
		return "", Session{}, dep.Unavailable(dep.Redis, err)
	}
	return token, sess, nil
}

// Get finds the session for a cookie value and extends its life.
func (s *Store) Get(ctx context.Context, token string) (Session, error) {
	if token == "" || len(token) > 128 {
		return Session{}, ErrNoSession
	}
	k := s.redisKey(token)
	var vals *redis.SliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		vals = p.HMGet(ctx, k, "account", "csrf")
		p.Expire(ctx, k, s.ttl)
		return nil
	})
	if err != nil {
		return Session{}, dep.Unavailable(dep.Redis, err)
	}
	v := vals.Val()
	account, _ := v[0].(string)
	csrf, _ := v[1].(string)
	if account == "" || csrf == "" {
		return Session{}, ErrNoSession
	}
	return Session{Account: account, CSRF: csrf}, nil
}

// Delete ends a session.
func (s *Store) Delete(ctx context.Context, token string) error {
	return dep.Unavailable(dep.Redis, s.rdb.Del(ctx, s.redisKey(token)).Err())
}
