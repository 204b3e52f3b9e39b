package sessions

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/dep"
)

// ErrResetInvalid means a password reset link is unknown, used already, or expired.
var ErrResetInvalid = errors.New("reset link is invalid, used or expired")

// Resets keeps password reset links. Like sessions, a link is stored by a keyed hash of its
// secret, so a copy of Redis cannot reset anyone's password; Redis expiry ends it, and taking
// a password change raises the account's epoch, which every earlier link names, so each link
// works once even before Forget removes it.
type Resets struct {
	rdb    *redis.Client
	prefix string
	key    []byte
	ttl    time.Duration
}

// NewResets keeps links under prefix+"reset:" for ttl; key keys the hashes.
func NewResets(rdb *redis.Client, prefix string, key []byte, ttl time.Duration) *Resets {
	return &Resets{rdb: rdb, prefix: prefix + "reset:", key: key, ttl: ttl}
}

// TTL is how long a link works.
func (r *Resets) TTL() time.Duration { return r.ttl }

func (r *Resets) redisKey(secret string) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte("reset:" + secret))
	return r.prefix + hex.EncodeToString(m.Sum(nil))
}

// Issue makes a link secret for account, whose SessionEpoch is epoch: a password change in
// between raises the epoch, and the link then no longer works.
func (r *Resets) Issue(ctx context.Context, account string, epoch int) (string, error) {
	secret := random()
	err := r.rdb.Set(ctx, r.redisKey(secret), strconv.Itoa(epoch)+":"+account, r.ttl).Err()
	return secret, dep.Unavailable(dep.Redis, err)
}

// Find returns the account and epoch of the link secret. It leaves the link in place, so that
// a new password refused as too weak does not use the link up.
func (r *Resets) Find(ctx context.Context, secret string) (account string, epoch int, err error) {
	if secret == "" || len(secret) > 128 {
		return "", 0, ErrResetInvalid
	}
	v, err := r.rdb.Get(ctx, r.redisKey(secret)).Result()
	if errors.Is(err, redis.Nil) {
		return "", 0, ErrResetInvalid
	}
	if err != nil {
		return "", 0, dep.Unavailable(dep.Redis, err)
	}
	e, name, ok := strings.Cut(v, ":")
	epoch, convErr := strconv.Atoi(e)
	if !ok || convErr != nil || name == "" {
		return "", 0, ErrResetInvalid
	}
	return name, epoch, nil
}

// Forget removes the link secret after it was used.
func (r *Resets) Forget(ctx context.Context, secret string) error {
	return dep.Unavailable(dep.Redis, r.rdb.Del(ctx, r.redisKey(secret)).Err())
}
