package views

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Two measures beside the view counts, kept in the same Redis and rolled up to the same
// documents, so that statistics can add them up with the views:
//
//   - dwell: how long a view held its viewer, counted in DwellBuckets (a histogram per target:
//     curators see which exhibits hold attention);
//   - peak: the most viewers of a target at once (a live lecture or tour), a maximum that only
//     rises.
//
// Keys, under the same prefix P as the package comment's:
//
//	P dwell                      hash target|bucket → n    all-time dwell histogram (no TTL)
//	P dwellday:<day>             hash target|bucket → n    dwell histogram of one day; expires like day:
//	P peak                       hash target → n           all-time peak (no TTL)
//	P peakday:<day>              hash target → n           peak of one day; expires like day:
const (
	keyDwell    = "dwell"
	keyDwellDay = "dwellday:"
	keyPeak     = "peak"
	keyPeakDay  = "peakday:"
)

// DwellBucket is one bar of a dwell histogram: the dwells shorter than Under (the last bucket
// has no bound) are counted under ID.
type DwellBucket struct {
	ID    string
	Under time.Duration // 0 for the last, open bucket
}

// DwellBuckets are the bars of every dwell histogram, shortest first. Under five seconds is a
// glance; over three minutes someone read, listened to the audio guide, or zoomed in.
func DwellBuckets() []DwellBucket { return slices.Clone(dwellBuckets) }

var dwellBuckets = []DwellBucket{
	{"lt5s", 5 * time.Second},
	{"lt15s", 15 * time.Second},
	{"lt30s", 30 * time.Second},
	{"lt1m", time.Minute},
	{"lt3m", 3 * time.Minute},
	{"ge3m", 0},
}

// MaxDwell is the longest dwell AddDwell accepts: a page left open overnight is not attention.
const MaxDwell = 4 * time.Hour

// bucketOf is the id of the bucket d falls in.
func bucketOf(d time.Duration) string {
	for _, b := range dwellBuckets {
		if b.Under == 0 || d < b.Under {
			return b.ID
		}
	}
	return dwellBuckets[len(dwellBuckets)-1].ID
}

func validBucket(id string) bool {
	for _, b := range dwellBuckets {
		if b.ID == id {
			return true
		}
	}
	return false
}

// AddDwell counts one dwell of d on target at now (which picks the day) and returns its
// bucket. d must be between 0 and MaxDwell.
func (c *Counter) AddDwell(ctx context.Context, target string, d time.Duration, now time.Time) (string, error) {
	if _, err := kindOf(target); err != nil {
		return "", err
	}
	if d < 0 || d > MaxDwell {
		return "", fmt.Errorf("%w: dwell %s", ErrInvalid, d)
	}
	bucket := bucketOf(d)
	day := c.day(now)
	field := target + "|" + bucket
	_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, c.prefix+keyDwell, field, 1)
		p.HIncrBy(ctx, c.dwellDayKey(day), field, 1)
		p.ExpireAt(ctx, c.dwellDayKey(day), time.Unix(c.expireAt(day, dayKeepDays), 0))
		return nil
	})
	return bucket, redisErr("dwell", err)
}

// Dwell is a histogram: bucket id → dwells counted in it. Buckets without any are absent.
type Dwell map[string]int64

// DwellOf reads the all-time dwell histograms of targets in one round trip, in their order.
func (c *Counter) DwellOf(ctx context.Context, targets []string) ([]Dwell, error) {
	fields := make([]string, 0, len(targets)*len(dwellBuckets))
	for _, t := range targets {
		if _, err := kindOf(t); err != nil {
			return nil, err
		}
		for _, b := range dwellBuckets {
			fields = append(fields, t+"|"+b.ID)
		}
	}
	out := make([]Dwell, len(targets))
	if len(targets) == 0 {
		return out, nil
	}
	vals, err := c.rdb.HMGet(ctx, c.prefix+keyDwell, fields...).Result()
	if err != nil {
		return nil, redisErr("dwell", err)
	}
	for i := range targets {
		h := Dwell{}
		for j, b := range dwellBuckets {
			if n := parseCount(vals[i*len(dwellBuckets)+j]); n > 0 {
				h[b.ID] = n
			}
		}
		out[i] = h
	}
	return out, nil
}

// raisePeakScript sets each hash's field to ARGV[2] where that is higher, and returns the
// all-time peak. KEYS: peak, peakday. ARGV: target, n, the day key's expiry (unix s).
const raisePeakScript = `
local n = tonumber(ARGV[2])
for i = 1, 2 do
  local cur = tonumber(redis.call('HGET', KEYS[i], ARGV[1]) or '0')
  if n > cur then redis.call('HSET', KEYS[i], ARGV[1], n) end
end
redis.call('EXPIREAT', KEYS[2], ARGV[3])
return tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
`

// RaisePeak records that target had n viewers at once at now: the day's and the all-time peak
// rise to n where they are lower. It returns the all-time peak.
func (c *Counter) RaisePeak(ctx context.Context, target string, n int64, now time.Time) (int64, error) {
	if _, err := kindOf(target); err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, fmt.Errorf("%w: peak %d", ErrInvalid, n)
	}
	day := c.day(now)
	peak, err := c.raisePeak.Run(ctx, c.rdb, []string{c.prefix + keyPeak, c.peakDayKey(day)},
		target, n, c.expireAt(day, dayKeepDays)).Int64()
	return peak, redisErr("peak", err)
}

// PeaksOf reads the all-time peaks of targets in one round trip; unknown targets are 0.
func (c *Counter) PeaksOf(ctx context.Context, targets []string) (map[string]int64, error) {
	out := make(map[string]int64, len(targets))
	if len(targets) == 0 {
		return out, nil
	}
	for _, t := range targets {
		if _, err := kindOf(t); err != nil {
			return nil, err
		}
	}
	vals, err := c.rdb.HMGet(ctx, c.prefix+keyPeak, targets...).Result()
	if err != nil {
		return nil, redisErr("peak", err)
	}
	for i, t := range targets {
		out[t] = parseCount(vals[i])
	}
	return out, nil
}

func (c *Counter) dwellDayKey(day time.Time) string {
	return c.prefix + keyDwellDay + day.Format(dayLayout)
}

func (c *Counter) peakDayKey(day time.Time) string {
	return c.prefix + keyPeakDay + day.Format(dayLayout)
}

// measures are the dwell histograms (field "target|bucket") and peaks of one hash pair, as the
// rollup documents keep them: target → bucket → n, and target → n.
type measures struct {
	dwell map[string]Dwell
	peak  map[string]int64
}

// parseMeasures reads a dwell hash and a peak hash; malformed fields are skipped.
func parseMeasures(dwell, peak map[string]string) measures {
	m := measures{}
	for f, v := range dwell {
		target, bucket, ok := strings.Cut(f, "|")
		n := parseCount(v)
		if !ok || !validBucket(bucket) || n <= 0 {
			continue
		}
		if _, err := kindOf(target); err != nil {
			continue
		}
		if m.dwell == nil {
			m.dwell = map[string]Dwell{}
		}
		if m.dwell[target] == nil {
			m.dwell[target] = Dwell{}
		}
		m.dwell[target][bucket] = n
	}
	for t, v := range peak {
		if n := parseCount(v); n > 0 {
			if m.peak == nil {
				m.peak = map[string]int64{}
			}
			m.peak[t] = n
		}
	}
	return m
}

// raiseDwell raises each count of *dst to src's where src's is larger, like raise, making the
// maps only when there is something to put in them; it reports whether anything changed.
func raiseDwell(dst *map[string]Dwell, src map[string]Dwell) bool {
	changed := false
	for t, h := range src {
		if *dst == nil {
			*dst = map[string]Dwell{}
		}
		cur := map[string]int64((*dst)[t])
		if raise(&cur, h) {
			changed = true
		}
		(*dst)[t] = cur
	}
	return changed
}

// raiseSome is raise for an optional map: nil stays nil while src is empty.
func raiseSome(dst *map[string]int64, src map[string]int64) bool {
	if len(src) == 0 {
		return false
	}
	return raise(dst, src)
}

// queueRestoreMeasures queues the commands that add rolled-up dwell histograms (HINCRBY, as
// dwells recorded since the loss are kept) and raise rolled-up peaks (a maximum: a peak since
// the loss may be higher), and set the keys' expiry unless it is zero (the all-time ones).
func (c *Counter) queueRestoreMeasures(ctx context.Context, p redis.Pipeliner, m measures, dwellKey, peakKey string, expire time.Time) {
	for t, h := range m.dwell {
		for b, n := range h {
			p.HIncrBy(ctx, dwellKey, t+"|"+b, n)
		}
	}
	for t, n := range m.peak {
		p.Eval(ctx, raiseOneScript, []string{peakKey}, t, n)
	}
	if !expire.IsZero() {
		p.ExpireAt(ctx, dwellKey, expire)
		p.ExpireAt(ctx, peakKey, expire)
	}
}

// raiseOneScript sets a hash field to ARGV[2] where that is higher. KEYS: hash. ARGV: field, n.
const raiseOneScript = `
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > cur then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 0
`

// measuresOf checks rolled-up measures read back from MinIO: bad targets, buckets and counts
// are dropped.
func measuresOf(dwell map[string]Dwell, peak map[string]int64) measures {
	m := measures{dwell: map[string]Dwell{}, peak: map[string]int64{}}
	for t, h := range dwell {
		if _, err := kindOf(t); err != nil {
			continue
		}
		for b, n := range h {
			if validBucket(b) && n > 0 {
				if m.dwell[t] == nil {
					m.dwell[t] = Dwell{}
				}
				m.dwell[t][b] = n
			}
		}
	}
	for t, n := range peak {
		if _, err := kindOf(t); err == nil && n > 0 {
			m.peak[t] = n
		}
	}
	return m
}
