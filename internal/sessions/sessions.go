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
	"strconv"
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
	// Epoch is the account's SessionEpoch when the session began; a password change
	// raises the account's, which ends the session.
	Epoch int
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

// Create starts a session for account, whose SessionEpoch is epoch, and returns the cookie value.
func (s *Store) Create(ctx context.Context, account string, epoch int) (string, Session, error) {
	token := random()
	sess := Session{Account: account, CSRF: random(), Epoch: epoch}
	k := s.redisKey(token)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k, "account", sess.Account, "csrf", sess.CSRF, "epoch", epoch, "created", time.Now().Unix())
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
		vals = p.HMGet(ctx, k, "account", "csrf", "epoch")
		p.Expire(ctx, k, s.ttl)
		return nil
	})
	if err != nil {
		return Session{}, dep.Unavailable(dep.Redis, err)
	}
	v := vals.Val()
	account, _ := v[0].(string)
	csrf, _ := v[1].(string)
	epoch, _ := v[2].(string) // sessions from before epochs have none: epoch 0
	if account == "" || csrf == "" {
		return Session{}, ErrNoSession
	}
	n, _ := strconv.Atoi(epoch)
	return Session{Account: account, CSRF: csrf, Epoch: n}, nil
}

// SetEpoch moves a live session to a new epoch, so that it outlives the password change
// its own holder made.
func (s *Store) SetEpoch(ctx context.Context, token string, epoch int) error {
	k := s.redisKey(token)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k, "epoch", epoch)
		p.Expire(ctx, k, s.ttl) // a session that ended meanwhile leaves no key without a TTL
		return nil
	})
	return dep.Unavailable(dep.Redis, err)
}

// Delete ends a session.
func (s *Store) Delete(ctx context.Context, token string) error {
	return dep.Unavailable(dep.Redis, s.rdb.Del(ctx, s.redisKey(token)).Err())
}
