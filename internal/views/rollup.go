package views

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/docstore"
)

// Document keys in MinIO.
const (
	// TotalsDocKey holds a TotalsRollup.
	TotalsDocKey = "records/views/totals.json"
	// dailyDocPrefix + "2006-01-02.json" holds a DailyRollup.
	dailyDocPrefix = "records/views/daily/"
)

// ErrNotRestored says that Redis lost its counters (the marker key is absent) and Restore has not run
// yet. Rollup refuses to run then, so that a rollup of the counts recorded since the loss
// never overwrites, or is later added to, the counts kept in MinIO.
var ErrNotRestored = errors.New("views: counters not restored since Redis lost them; run Restore first")

// DailyDocKey is the MinIO key of the DailyRollup of day ("2006-01-02").
func DailyDocKey(day string) string { return dailyDocPrefix + day + ".json" }

// DailyRollup is the document of one day's counts.
type DailyRollup struct {
	Day    string           `json:"day"`
	Views  map[string]int64 `json:"views"`           // target → views that day
	Unique map[string]int64 `json:"unique"`          // target → unique visitors that day (estimate)
	Dwell  map[string]Dwell `json:"dwell,omitempty"` // target → dwell histogram of that day
	Peak   map[string]int64 `json:"peak,omitempty"`  // target → most viewers at once that day
}

// TotalsRollup is the document of the all-time counts.
type TotalsRollup struct {
	UpdatedAt time.Time        `json:"updated_at"`
	Totals    map[string]int64 `json:"totals"`          // target → all-time views
	Unique    map[string]int64 `json:"unique"`          // target → all-time unique visitors (estimate)
	Dwell     map[string]Dwell `json:"dwell,omitempty"` // target → all-time dwell histogram
	Peak      map[string]int64 `json:"peak,omitempty"`  // target → all-time peak
}

// pfBatch is the number of PFCOUNTs sent in one pipeline.
const pfBatch = 1000

// Rollup writes the counts of day (any time within it, in the counter's location) to
// DailyDocKey, and the all-time counts to TotalsDocKey.
//
// Counts only grow, so each number written is the larger of the stored one and Redis's: a
// rollup never lowers what MinIO holds, even for a day whose Redis keys have expired. A
// document is written only when that changes it, and then with If-Match, so running Rollup
// twice for the same state writes the same content (no new version), and concurrent rollups
// do not lose each other's numbers. Rollup returns ErrNotRestored when Redis lost its data and
// Restore has not run.
func (c *Counter) Rollup(ctx context.Context, day time.Time) error {
	d := c.day(day)
	// One transaction: the marker and the counts are read at the same instant.
	var marker *redis.IntCmd
	var dayViews, totals, bases, dayDwell, dayPeak, allDwell, allPeak *redis.MapStringStringCmd
	_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		marker = p.Exists(ctx, c.prefix+keyMarker)
		dayViews = p.HGetAll(ctx, c.dayKey(d))
		totals = p.HGetAll(ctx, c.prefix+keyTotals)
		bases = p.HGetAll(ctx, c.prefix+keyUniqueBase)
		dayDwell = p.HGetAll(ctx, c.dwellDayKey(d))
		dayPeak = p.HGetAll(ctx, c.peakDayKey(d))
		allDwell = p.HGetAll(ctx, c.prefix+keyDwell)
		allPeak = p.HGetAll(ctx, c.prefix+keyPeak)
		return nil
	})
	if err != nil {
		return redisErr("rollup", err)
	}
	if marker.Val() == 0 {
		return ErrNotRestored
	}

	views := parseCounts(dayViews.Val())
	dayUnique, err := c.pfCounts(ctx, slices.Sorted(maps.Keys(views)), func(t string) string { return c.uniqueDayKey(d, t) })
	if err != nil {
		return err
	}
	dayStr := d.Format(dayLayout)
	dayMeasures := parseMeasures(dayDwell.Val(), dayPeak.Val())
	err = update(ctx, c.docs, DailyDocKey(dayStr), func(doc *DailyRollup) bool {
		changed := doc.Day != dayStr || doc.Views == nil || doc.Unique == nil
		doc.Day = dayStr
		changed = raise(&doc.Views, views) || changed
		changed = raiseDwell(&doc.Dwell, dayMeasures.dwell) || changed
		changed = raiseSome(&doc.Peak, dayMeasures.peak) || changed
		return raise(&doc.Unique, dayUnique) || changed
	})
	if err != nil {
		return err
	}

	all := parseCounts(totals.Val())
	unique, err := c.pfCounts(ctx, slices.Sorted(maps.Keys(all)), func(t string) string { return c.prefix + keyUnique + t })
	if err != nil {
		return err
	}
	for t, b := range parseCounts(bases.Val()) {
		unique[t] = max(unique[t], b)
	}
	allMeasures := parseMeasures(allDwell.Val(), allPeak.Val())
	return update(ctx, c.docs, TotalsDocKey, func(doc *TotalsRollup) bool {
		changed := doc.Totals == nil || doc.Unique == nil
		changed = raise(&doc.Totals, all) || changed
		changed = raise(&doc.Unique, unique) || changed
		changed = raiseDwell(&doc.Dwell, allMeasures.dwell) || changed
		changed = raiseSome(&doc.Peak, allMeasures.peak) || changed
		if changed {
			doc.UpdatedAt = c.now().UTC().Truncate(time.Second)
		}
		return changed
	})
}

// pfCounts returns PFCOUNT of key(t) for each target, in pipelines of pfBatch.
func (c *Counter) pfCounts(ctx context.Context, targets []string, key func(string) string) (map[string]int64, error) {
	out := make(map[string]int64, len(targets))
	for batch := range slices.Chunk(targets, pfBatch) {
		cmds := make([]*redis.IntCmd, len(batch))
		_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, t := range batch {
				cmds[i] = p.PFCount(ctx, key(t))
			}
			return nil
		})
		if err != nil {
			return nil, redisErr("rollup unique", err)
		}
		for i, t := range batch {
			out[t] = cmds[i].Val()
		}
	}
	return out, nil
}

func parseCounts(m map[string]string) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = parseCount(v)
	}
	return out
}

// raise sets (*dst)[k] to v where v is larger, and reports whether anything changed.
func raise(dst *map[string]int64, src map[string]int64) bool {
	if *dst == nil {
		*dst = make(map[string]int64, len(src))
	}
	changed := false
	for k, v := range src {
		if cur, ok := (*dst)[k]; !ok || v > cur {
			(*dst)[k] = max(v, cur)
			changed = true
		}
	}
	return changed
}

// update reads the document at key (zero when absent), lets merge change it, and writes it
// back with If-Match (or If-None-Match) when merge reports a change, retrying on conflict.
func update[T any](ctx context.Context, docs *docstore.Store, key string, merge func(*T) bool) error {
	const attempts = 5
	for range attempts {
		var doc T
		etag, err := docs.Get(ctx, key, &doc)
		found := err == nil
		if err != nil && !errors.Is(err, docstore.ErrNotFound) {
			return fmt.Errorf("views: read %s: %w", key, err)
		}
		if !merge(&doc) && found {
			return nil
		}
		cond := docstore.Create()
		if found {
			cond = docstore.Match(etag)
		}
		_, err = docs.Put(ctx, key, &doc, cond)
		if errors.Is(err, docstore.ErrPrecondition) {
			continue
		}
		if err != nil {
			return fmt.Errorf("views: write %s: %w", key, err)
		}
		return nil
	}
	return fmt.Errorf("views: write %s: %w after %d attempts", key, docstore.ErrPrecondition, attempts)
}

// Restore reloads the all-time counts and the daily counts of the last HistoryDays days from
// MinIO into Redis when Redis lost them, and reports whether it did.
//
// The rule: the marker key P+"restored" says that Redis holds the counters. Restore does
// nothing when it is present. When it is absent, every count in Redis was recorded since the
// loss, so Restore adds (HINCRBY, ZINCRBY) the rolled-up counts to them and sets the marker in
// the same MULTI/EXEC, under WATCH of the marker: views recorded meanwhile are kept, and of
// concurrent or repeated calls exactly one adds anything. Views recorded between the last
// rollup and the loss are lost. Unique visitors come back as a lower bound (see Stats), and
// every restored target is marked changed for the search sync.
//
// Call it at startup (on a fresh system it only sets the marker) and after a Redis loss.
func (c *Counter) Restore(ctx context.Context, now time.Time) (restored bool, err error) {
	marker := c.prefix + keyMarker
	n, err := c.rdb.Exists(ctx, marker).Result()
	if err != nil {
		return false, redisErr("restore", err)
	}
	if n > 0 {
		return false, nil
	}
	totals, daily, err := c.loadRollups(ctx, now)
	if err != nil {
		return false, err
	}
	err = c.rdb.Watch(ctx, func(tx *redis.Tx) error {
		n, err := tx.Exists(ctx, marker).Result()
		if err != nil || n > 0 {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			c.queueRestore(ctx, p, totals, daily, now)
			p.Set(ctx, marker, c.now().UTC().Format(time.RFC3339), 0)
			return nil
		})
		restored = err == nil
		return err
	}, marker)
	if errors.Is(err, redis.TxFailedErr) {
		return false, nil // another caller restored first
	}
	if err != nil {
		return false, redisErr("restore", err)
	}
	return restored, nil
}

// loadRollups reads the totals document and the daily documents of the last HistoryDays days.
func (c *Counter) loadRollups(ctx context.Context, now time.Time) (TotalsRollup, []DailyRollup, error) {
	var totals TotalsRollup
	if _, err := c.docs.Get(ctx, TotalsDocKey, &totals); err != nil && !errors.Is(err, docstore.ErrNotFound) {
		return totals, nil, fmt.Errorf("views: restore: read %s: %w", TotalsDocKey, err)
	}
	today := c.day(now)
	var daily []DailyRollup
	for i := range HistoryDays {
		day := today.AddDate(0, 0, -i).Format(dayLayout)
		var doc DailyRollup
		_, err := c.docs.Get(ctx, DailyDocKey(day), &doc)
		if errors.Is(err, docstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return totals, nil, fmt.Errorf("views: restore: read %s: %w", DailyDocKey(day), err)
		}
		doc.Day = day
		daily = append(daily, doc)
	}
	return totals, daily, nil
}

// queueRestore queues the commands that add the rolled-up counts to Redis.
func (c *Counter) queueRestore(ctx context.Context, p redis.Pipeliner, totals TotalsRollup, daily []DailyRollup, now time.Time) {
	for t, v := range totals.Totals {
		kind, err := kindOf(t)
		if err != nil || v <= 0 {
			continue
		}
		p.HIncrBy(ctx, c.prefix+keyTotals, t, v)
		p.SAdd(ctx, c.prefix+keyDirty, t)
		p.SAdd(ctx, c.prefix+keyKinds, kind)
	}
	for t, u := range totals.Unique {
		if u > 0 {
			p.HSet(ctx, c.prefix+keyUniqueBase, t, u)
		}
	}
	c.queueRestoreMeasures(ctx, p, measuresOf(totals.Dwell, totals.Peak), c.prefix+keyDwell, c.prefix+keyPeak, time.Time{})
	trendFrom := c.day(now).AddDate(0, 0, -(TrendingDays - 1))
	for _, doc := range daily {
		day, err := time.ParseInLocation(dayLayout, doc.Day, c.loc)
		if err != nil {
			continue
		}
		dayKey := c.dayKey(day)
		for t, v := range doc.Views {
			kind, err := kindOf(t)
			if err != nil || v <= 0 {
				continue
			}
			p.HIncrBy(ctx, dayKey, t, v)
			if !day.Before(trendFrom) {
				p.ZIncrBy(ctx, c.trendKey(day, kind), float64(v), t)
				p.ExpireAt(ctx, c.trendKey(day, kind), time.Unix(c.expireAt(day, trendKeepDays), 0))
			}
		}
		p.ExpireAt(ctx, dayKey, time.Unix(c.expireAt(day, dayKeepDays), 0))
		c.queueRestoreMeasures(ctx, p, measuresOf(doc.Dwell, doc.Peak), c.dwellDayKey(day), c.peakDayKey(day),
			time.Unix(c.expireAt(day, dayKeepDays), 0))
	}
}
