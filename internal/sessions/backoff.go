package sessions

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/dep"
)

// BackoffOptions shape a Backoff.
type BackoffOptions struct {
	// Free failures cost nothing; each one after them doubles the delay from Base up to Max.
	Free      int
	Base, Max time.Duration
	// Forget is how long after the last failure the count starts again.
	Forget time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Backoff makes one client wait longer after each failure, instead of locking an account for
// everyone: a guesser slows down while the owner, trying from elsewhere, does not. Keys are
// hashes under prefix+"bo:" with the failure count "n" and the last failure "last" (Unix ns);
// they expire Forget after the last failure.
type Backoff struct {
	rdb    *redis.Client
	prefix string
	opt    BackoffOptions
}

// NewBackoff keeps its counts under prefix+"bo:".
func NewBackoff(rdb *redis.Client, prefix string, opt BackoffOptions) *Backoff {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Backoff{rdb: rdb, prefix: prefix + "bo:", opt: opt}
}

// delay is the wait after n failures.
func (b *Backoff) delay(n int) time.Duration {
	if n <= b.opt.Free {
		return 0
	}
	d := b.opt.Base
	for i := b.opt.Free + 1; i < n && d < b.opt.Max; i++ {
		d *= 2
	}
	return min(d, b.opt.Max)
}

// Wait is how long key must wait before its next attempt; 0 means it may try now.
func (b *Backoff) Wait(ctx context.Context, key string) (time.Duration, error) {
	vals, err := b.rdb.HMGet(ctx, b.prefix+key, "n", "last").Result()
	if err != nil {
		return 0, dep.Unavailable(dep.Redis, err)
	}
	n, last := b.parse(vals)
	now := b.opt.Now()
	if n == 0 || now.Sub(last) >= b.opt.Forget {
		return 0, nil
	}
	return max(last.Add(b.delay(n)).Sub(now), 0), nil
}

func (b *Backoff) parse(vals []any) (int, time.Time) {
	ns, _ := vals[0].(string)
	ls, _ := vals[1].(string)
	n, _ := strconv.Atoi(ns)
	ns64, _ := strconv.ParseInt(ls, 10, 64)
	return n, time.Unix(0, ns64)
}

// Fail counts one failure of key.
func (b *Backoff) Fail(ctx context.Context, key string) error {
	k := b.prefix + key
	vals, err := b.rdb.HMGet(ctx, k, "n", "last").Result()
	if err != nil {
		return dep.Unavailable(dep.Redis, err)
	}
	now := b.opt.Now()
	_, last := b.parse(vals)
	_, err = b.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if now.Sub(last) >= b.opt.Forget {
			p.Del(ctx, k) // the old failures are forgotten: count afresh
		}
		p.HIncrBy(ctx, k, "n", 1)
		p.HSet(ctx, k, "last", now.UnixNano())
		p.PExpire(ctx, k, b.opt.Forget)
		return nil
	})
	return dep.Unavailable(dep.Redis, err)
}

// Reset forgets key's failures, as after a good sign-in.
func (b *Backoff) Reset(ctx context.Context, key string) error {
	return dep.Unavailable(dep.Redis, b.rdb.Del(ctx, b.prefix+key).Err())
}

// Devices issues and checks the "known device" cookie that a browser gets at a good sign-in:
// account, a random device id and an HMAC of both. It lets the owner past the per-account
// ceiling of failed logins that strangers may have reached.
type Devices struct {
	key []byte
}

// NewDevices signs with key.
func NewDevices(key []byte) *Devices { return &Devices{key: key} }

func (d *Devices) mac(account, id string) string {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte("device\x00" + account + "\x00" + id))
	return hex.EncodeToString(m.Sum(nil))
}

// Issue makes a cookie value for a new device of account.
func (d *Devices) Issue(account string) string {
	id := random()
	return account + "." + id + "." + d.mac(account, id)
}

// Check returns the device id if cookie was issued by d for account.
func (d *Devices) Check(cookie, account string) (string, bool) {
	if len(cookie) > 256 {
		return "", false
	}
	rest, ok := strings.CutPrefix(cookie, account+".")
	if !ok {
		return "", false
	}
	id, sig, ok := strings.Cut(rest, ".")
	if !ok || id == "" || !hmac.Equal([]byte(sig), []byte(d.mac(account, id))) {
		return "", false
	}
	return id, true
}
