// Package views counts views of items, media and live streams in Redis: one view per viewer
// per target per window, all-time and daily totals, unique visitors (HyperLogLog), and a
// seven-day trending ranking. Daily rollups go to MinIO (the system of record) through
// docstore, and Restore loads them back after Redis lost its data.
//
// A target is "kind:id", e.g. "item:abc123" or "live:42"; the kind picks the trending set.
// A viewer is an id from ViewerID. Every count is written at once by one Lua script, so a
// count is visible to the next read and concurrent views are never counted twice.
//
// Redis keys, all under Options.KeyPrefix+"views:" (shown here as P):
//
//	P seen:<target>|<viewer>     string, TTL Window        the viewer's last counted view; present = repeat
//	                             (no TTL when counted by RecordOnce: a once-only event, e.g. a completion)
//	P totals                     hash target → views       all-time views (no TTL)
//	P day:<day>                  hash target → views       views of one day; expires 40 days after the day
//	P uniq:<target>              HyperLogLog of viewers    all-time unique visitors (no TTL)
//	P uniqday:<day>:<target>     HyperLogLog of viewers    unique visitors of one day; expires like day:
//	P uniqbase                   hash target → n           unique visitors restored from MinIO (see Restore)
//	P trend:<day>:<kind>         sorted set target → views views of one day per kind; expires 9 days after the day
//	P trend:tmp                  sorted set                scratch of the Trending script, deleted by it
//	P kinds                      set of kinds              every kind ever counted (for Trending by a short prefix)
//	P dirty                      set of targets            totals changed since Changed last returned them
//	P restored                   string (RFC 3339)         marker: Redis holds the counters (see Restore)
//	P dwell, dwellday:<day>,     dwell histograms and peaks beside the views (see measures.go)
//	  peak, peakday:<day>
//
// <day> is "2006-01-02" in Options.Location. The marker key has no TTL; Redis must not evict
// it (use maxmemory-policy noeviction or a volatile-* policy), since its absence means "Redis
// lost the counters".
package views

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/docstore"
)

// Redis key names, relative to Options.KeyPrefix+"views:"; see the package comment.
const (
	keySeen       = "seen:"
	keyTotals     = "totals"
	keyDay        = "day:"
	keyUnique     = "uniq:"
	keyUniqueDay  = "uniqday:"
	keyUniqueBase = "uniqbase"
	keyTrend      = "trend:"
	keyTrendTmp   = "trend:tmp"
	keyKinds      = "kinds"
	keyDirty      = "dirty"
	keyMarker     = "restored"
)

const (
	// DefaultWindow is the dedupe window when Options.Window is zero.
	DefaultWindow = 30 * time.Minute
	// HistoryDays is the number of days in Stats.Days and reloaded by Restore.
	HistoryDays = 30
	// TrendingDays is the number of days, today included, that Trending adds up.
	TrendingDays = 7
	// dayKeepDays is how long per-day keys live after their day.
	dayKeepDays = 40
	// trendKeepDays is how long per-day trending sets live after their day.
	trendKeepDays = TrendingDays + 2
	dayLayout     = "2006-01-02"
	maxTargetLen  = 200
	maxViewerLen  = 100
	minSecretLen  = 16
)

// ErrInvalid says that a target or viewer id is not one this package accepts.
var ErrInvalid = errors.New("views: invalid target or viewer")

// Options configure New.
type Options struct {
	// KeyPrefix is the Redis key prefix, e.g. "cc:"; all keys live under KeyPrefix+"views:".
	KeyPrefix string
	// Window is the dedupe window; DefaultWindow when zero.
	Window time.Duration
	// Secret is the HMAC key for anonymous viewer ids; at least 16 bytes, the same on every node.
	Secret []byte
	// Location sets day boundaries; Asia/Shanghai when nil (UTC+8 when tzdata is missing).
	Location *time.Location
}

// Counter records and reads view counts. It is safe for concurrent use.
type Counter struct {
	rdb    *redis.Client
	docs   *docstore.Store
	prefix string
	window time.Duration
	secret []byte
	loc    *time.Location
	now    func() time.Time // wall clock for updated_at and the restore marker

	record   *redis.Script
	trending *redis.Script
	changed  *redis.Script
	// raisePeak raises the peaks of measures.go.
	raisePeak *redis.Script
}

// ErrShortSecret refuses a key that anonymous ids could be guessed back from.
var ErrShortSecret = fmt.Errorf("views: Options.Secret must be at least %d bytes", minSecretLen)

// New builds a Counter. It refuses an opts.Secret shorter than 16 bytes: anonymous ids
// hashed with a guessable key could be reversed to IP addresses.
func New(rdb *redis.Client, docs *docstore.Store, opts Options) (*Counter, error) {
	if len(opts.Secret) < minSecretLen {
		return nil, ErrShortSecret
	}
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.Location == nil {
		opts.Location = shanghai()
	}
	return &Counter{
		rdb:       rdb,
		docs:      docs,
		prefix:    opts.KeyPrefix + "views:",
		window:    opts.Window,
		secret:    append([]byte(nil), opts.Secret...),
		loc:       opts.Location,
		now:       time.Now,
		record:    redis.NewScript(recordScript),
		trending:  redis.NewScript(trendingScript),
		changed:   redis.NewScript(changedScript),
		raisePeak: redis.NewScript(raisePeakScript),
	}, nil
}

func shanghai() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}

// ViewerID returns "c:"+cookieID for a well-formed cookie id (16 to 64 characters of
// [A-Za-z0-9_-]), else "h:" and the first 32 hex digits of HMAC-SHA256(secret, ip+"\x00"+userAgent).
// The raw IP address is never part of the id.
func (c *Counter) ViewerID(cookieID, ip, userAgent string) string {
	if validCookieID(cookieID) {
		return "c:" + cookieID
	}
	mac := hmac.New(sha256.New, c.secret)
	mac.Write([]byte(ip))
	mac.Write([]byte{0})
	mac.Write([]byte(userAgent))
	return "h:" + hex.EncodeToString(mac.Sum(nil))[:32]
}

func validCookieID(s string) bool {
	if len(s) < 16 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '-') {
			return false
		}
	}
	return true
}

// recordScript counts one view unless the viewer's seen key exists.
// KEYS: seen, totals, day, uniq, uniqday, trend, kinds, dirty.
// ARGV: window ms (0: the seen key never expires), target, viewer, day keys' expiry (unix s),
// trend key's expiry (unix s), kind.
const recordScript = `
local fresh
if ARGV[1] == '0' then
  fresh = redis.call('SET', KEYS[1], '1', 'NX')
else
  fresh = redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'NX')
end
if not fresh then
  return 0
end
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
redis.call('EXPIREAT', KEYS[3], ARGV[4])
redis.call('PFADD', KEYS[4], ARGV[3])
redis.call('PFADD', KEYS[5], ARGV[3])
redis.call('EXPIREAT', KEYS[5], ARGV[4])
redis.call('ZINCRBY', KEYS[6], 1, ARGV[2])
redis.call('EXPIREAT', KEYS[6], ARGV[5])
redis.call('SADD', KEYS[7], ARGV[6])
redis.call('SADD', KEYS[8], ARGV[2])
return 1
`

// Record counts one view of target by viewer at now; counted is false when the viewer's
// previous counted view of target is less than Window ago. now picks the day bucket; the
// window runs on the Redis clock. The whole update is one atomic script.
func (c *Counter) Record(ctx context.Context, target, viewer string, now time.Time) (counted bool, err error) {
	return c.record1(ctx, target, viewer, now, max(c.window.Milliseconds(), 1))
}

// RecordOnce counts an event that happens once per viewer and target, however often it is
// reported and however far apart (a learner completing a lesson): counted is false for every
// report after the first. Its seen key never expires, one small key per viewer and target.
func (c *Counter) RecordOnce(ctx context.Context, target, viewer string, now time.Time) (counted bool, err error) {
	return c.record1(ctx, target, viewer, now, 0)
}

// record1 counts a view of target by viewer unless one was counted less than windowMS
// milliseconds ago; 0 means ever.
func (c *Counter) record1(ctx context.Context, target, viewer string, now time.Time, windowMS int64) (bool, error) {
	kind, err := kindOf(target)
	if err != nil {
		return false, err
	}
	if viewer == "" || len(viewer) > maxViewerLen || strings.ContainsFunc(viewer, isSpaceOrControl) {
		return false, fmt.Errorf("%w: viewer %q", ErrInvalid, viewer)
	}
	day := c.day(now)
	keys := []string{
		c.prefix + keySeen + target + "|" + viewer,
		c.prefix + keyTotals,
		c.dayKey(day),
		c.prefix + keyUnique + target,
		c.uniqueDayKey(day, target),
		c.trendKey(day, kind),
		c.prefix + keyKinds,
		c.prefix + keyDirty,
	}
	n, err := c.record.Run(ctx, c.rdb, keys,
		windowMS, target, viewer,
		c.expireAt(day, dayKeepDays), c.expireAt(day, trendKeepDays), kind).Int64()
	if err != nil {
		return false, redisErr("record", err)
	}
	return n == 1, nil
}

// kindOf validates target and returns its kind, the text before the first ':'.
func kindOf(target string) (string, error) {
	kind, id, ok := strings.Cut(target, ":")
	if !ok || kind == "" || id == "" || len(target) > maxTargetLen ||
		strings.ContainsFunc(target, isSpaceOrControl) || strings.ContainsRune(target, '|') {
		return "", fmt.Errorf("%w: target %q", ErrInvalid, target)
	}
	for i := 0; i < len(kind); i++ {
		b := kind[i]
		if !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b == '-') {
			return "", fmt.Errorf("%w: target %q", ErrInvalid, target)
		}
	}
	return kind, nil
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// day returns midnight of t's day in the counter's location.
func (c *Counter) day(t time.Time) time.Time {
	y, m, d := t.In(c.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, c.loc)
}

// expireAt is the unix time keepDays days after the end of day.
func (c *Counter) expireAt(day time.Time, keepDays int) int64 {
	return day.AddDate(0, 0, keepDays+1).Unix()
}

func (c *Counter) dayKey(day time.Time) string {
	return c.prefix + keyDay + day.Format(dayLayout)
}

func (c *Counter) uniqueDayKey(day time.Time, target string) string {
	return c.prefix + keyUniqueDay + day.Format(dayLayout) + ":" + target
}

func (c *Counter) trendKey(day time.Time, kind string) string {
	return c.prefix + keyTrend + day.Format(dayLayout) + ":" + kind
}

// redisErr names the failed operation and classifies the failure (see dep.FromRedis).
func redisErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return dep.FromRedis(fmt.Errorf("views: %s: %w", op, err))
}
