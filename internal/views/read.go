package views

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxBatch bounds Trending's n and Changed's n, so that one script stays short.
const maxBatch = 1000

// DayCount is the number of views on one day, "2006-01-02" in the counter's location.
type DayCount struct {
	Day   string `json:"day"`
	Views int64  `json:"views"`
}

// Stats are the counts of one target.
type Stats struct {
	Total  int64 `json:"total"`
	Unique int64 `json:"unique"` // HyperLogLog estimate, about 1% error
	Today  int64 `json:"today"`
	// Days are the last HistoryDays days, oldest first, today last, zeros included.
	Days []DayCount `json:"days"`
}

// Stats reads the counts of target as of now, in one round trip.
//
// After Restore, Unique is the larger of the restored count and the visitors seen since, a
// lower bound: the viewer ids behind the restored count were not kept.
func (c *Counter) Stats(ctx context.Context, target string, now time.Time) (Stats, error) {
	all, err := c.StatsOf(ctx, []string{target}, now)
	if err != nil {
		return Stats{}, err
	}
	return all[0], nil
}

// StatsOf reads the counts of several targets (a course's lessons, say) in one round trip:
// the per-day hashes hold every target, so a day costs one HMGET however many there are.
func (c *Counter) StatsOf(ctx context.Context, targets []string, now time.Time) ([]Stats, error) {
	for _, t := range targets {
		if _, err := kindOf(t); err != nil {
			return nil, err
		}
	}
	if len(targets) == 0 {
		return []Stats{}, nil
	}
	today := c.day(now)
	days := make([]*redis.SliceCmd, HistoryDays)
	unique := make([]*redis.IntCmd, len(targets))
	var totals, bases *redis.SliceCmd
	cmds, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		totals = p.HMGet(ctx, c.prefix+keyTotals, targets...)
		bases = p.HMGet(ctx, c.prefix+keyUniqueBase, targets...)
		for i, t := range targets {
			unique[i] = p.PFCount(ctx, c.prefix+keyUnique+t)
		}
		for i := range days {
			days[i] = p.HMGet(ctx, c.dayKey(today.AddDate(0, 0, i-HistoryDays+1)), targets...)
		}
		return nil
	})
	if err := pipelineErr(cmds, err); err != nil {
		return nil, redisErr("stats", err)
	}
	out := make([]Stats, len(targets))
	for k := range targets {
		s := Stats{Total: parseCount(totals.Val()[k]), Unique: max(unique[k].Val(), parseCount(bases.Val()[k])),
			Days: make([]DayCount, HistoryDays)}
		for i, cmd := range days {
			s.Days[i] = DayCount{Day: today.AddDate(0, 0, i-HistoryDays+1).Format(dayLayout), Views: parseCount(cmd.Val()[k])}
		}
		s.Today = s.Days[HistoryDays-1].Views
		out[k] = s
	}
	return out, nil
}

// pipelineErr is the first error of a pipeline other than a missing key or field.
func pipelineErr(cmds []redis.Cmder, err error) error {
	if err == nil {
		return nil
	}
	for _, cmd := range cmds {
		if e := cmd.Err(); e != nil && !errors.Is(e, redis.Nil) {
			return e
		}
	}
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}

// Totals returns the all-time views of each target in one round trip; unknown targets are 0.
func (c *Counter) Totals(ctx context.Context, targets []string) (map[string]int64, error) {
	out := make(map[string]int64, len(targets))
	if len(targets) == 0 {
		return out, nil
	}
	vals, err := c.rdb.HMGet(ctx, c.prefix+keyTotals, targets...).Result()
	if err != nil {
		return nil, redisErr("totals", err)
	}
	for i, t := range targets {
		out[t] = parseCount(vals[i])
	}
	return out, nil
}

func parseCount(v any) int64 {
	switch v := v.(type) {
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	case int64:
		return v
	}
	return 0
}

// Scored is a target and its trending score.
type Scored struct {
	Target string  `json:"target"`
	Score  float64 `json:"score"`
}

// trendingScript adds up the day sets into a scratch key, reads the best members that start
// with the prefix, and deletes the scratch key, all in one atomic step.
// KEYS: scratch, day sets...; ARGV: prefix, n.
const trendingScript = `
local n = tonumber(ARGV[2])
local prefix = ARGV[1]
redis.call('ZUNIONSTORE', KEYS[1], #KEYS - 1, unpack(KEYS, 2))
local out = {}
local start = 0
while #out < 2 * n do
  local batch = redis.call('ZREVRANGE', KEYS[1], start, start + 499, 'WITHSCORES')
  if #batch == 0 then break end
  for i = 1, #batch, 2 do
    if string.sub(batch[i], 1, #prefix) == prefix then
      out[#out + 1] = batch[i]
      out[#out + 1] = batch[i + 1]
      if #out >= 2 * n then break end
    end
  end
  start = start + 500
end
redis.call('DEL', KEYS[1])
return out
`

// Trending returns the top n targets starting with prefix (e.g. "item:"), ranked by views
// in the TrendingDays days up to now, today included; ties go in target order.
func (c *Counter) Trending(ctx context.Context, prefix string, n int, now time.Time) ([]Scored, error) {
	if n <= 0 {
		return nil, nil
	}
	n = min(n, maxBatch)
	var kinds []string
	if kind, _, ok := strings.Cut(prefix, ":"); ok {
		kinds = []string{kind}
	} else {
		all, err := c.rdb.SMembers(ctx, c.prefix+keyKinds).Result()
		if err != nil {
			return nil, redisErr("trending", err)
		}
		for _, k := range all {
			if strings.HasPrefix(k, prefix) {
				kinds = append(kinds, k)
			}
		}
	}
	if len(kinds) == 0 {
		return nil, nil
	}
	today := c.day(now)
	keys := []string{c.prefix + keyTrendTmp}
	for _, kind := range kinds {
		for i := range TrendingDays {
			keys = append(keys, c.trendKey(today.AddDate(0, 0, -i), kind))
		}
	}
	vals, err := c.trending.Run(ctx, c.rdb, keys, prefix, n).StringSlice()
	if err != nil {
		return nil, redisErr("trending", err)
	}
	out := make([]Scored, 0, len(vals)/2)
	for i := 0; i+1 < len(vals); i += 2 {
		score, err := strconv.ParseFloat(vals[i+1], 64)
		if err != nil {
			return nil, fmt.Errorf("views: trending score %q: %w", vals[i+1], err)
		}
		out = append(out, Scored{Target: vals[i], Score: score})
	}
	slices.SortStableFunc(out, func(a, b Scored) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), strings.Compare(a.Target, b.Target))
	})
	return out, nil
}

// changedScript pops up to n dirty targets and returns them with their totals.
// KEYS: dirty, totals; ARGV: n.
const changedScript = `
local popped = redis.call('SPOP', KEYS[1], ARGV[1])
local out = {}
if #popped == 0 then return out end
local totals = redis.call('HMGET', KEYS[2], unpack(popped))
for i, t in ipairs(popped) do
  out[#out + 1] = t
  out[#out + 1] = totals[i] or '0'
end
return out
`

// Changed returns up to n targets (at most 1000) whose totals changed since they were last
// returned, with their totals; an empty map means nothing changed. Each change is handed out
// once: a caller that fails to use a batch gives it back with MarkChanged.
func (c *Counter) Changed(ctx context.Context, n int) (map[string]int64, error) {
	if n <= 0 {
		return map[string]int64{}, nil
	}
	n = min(n, maxBatch)
	vals, err := c.changed.Run(ctx, c.rdb, []string{c.prefix + keyDirty, c.prefix + keyTotals}, n).StringSlice()
	if err != nil {
		return nil, redisErr("changed", err)
	}
	out := make(map[string]int64, len(vals)/2)
	for i := 0; i+1 < len(vals); i += 2 {
		out[vals[i]] = parseCount(vals[i+1])
	}
	return out, nil
}

// MarkChanged puts targets back in the changed set, e.g. after a failed sync to search.
func (c *Counter) MarkChanged(ctx context.Context, targets ...string) error {
	if len(targets) == 0 {
		return nil
	}
	members := make([]any, len(targets))
	for i, t := range targets {
		members[i] = t
	}
	return redisErr("mark changed", c.rdb.SAdd(ctx, c.prefix+keyDirty, members...).Err())
}
