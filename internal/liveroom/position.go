package liveroom

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/validate"
)

// Moved is the event type of a guide's new position, in the guide's track.
const Moved EventType = "position"

// Defaults of the guide's track.
const (
	// DefaultTrackLen is about how many positions a tour keeps: two hours at three moves a
	// second, the pace a viewer's page can follow.
	DefaultTrackLen = 20_000
	// DefaultMoveInterval is the shortest time between two positions of one tour; a guide's
	// page sends at most one a quarter second, so this only stops a runaway client.
	DefaultMoveInterval = 100 * time.Millisecond
	maxIndex            = 999
	maxPixels           = 1 << 20 // a region's coordinates, in the pixels of the largest scan
)

// Position is where a guide of a live tour is: an exhibit, given by its section and its
// place in the section, and what of it the guide shows — a region of its image in the
// image's pixels, or the direction and zoom in a panorama. Whether the exhibit belongs to the
// tour's exhibition is the caller's to check.
type Position struct {
	Section int      `json:"section"`
	Exhibit int      `json:"exhibit"`
	Region  []int    `json:"region,omitempty"` // x, y, w, h
	Yaw     *float64 `json:"yaw,omitempty"`    // degrees, -180 to 180
	Pitch   *float64 `json:"pitch,omitempty"`  // degrees, -90 to 90
	Zoom    *float64 `json:"zoom,omitempty"`   // 0 to 100, as panorama viewers count it
	// Key names what the exhibit shows (exhibitions.ExhibitKey), set by the server when it
	// checked the position: a replay's page finds the exhibit by it even when the rooms were
	// renumbered since (an item withdrawn after the tour).
	Key string `json:"key,omitempty"`
}

// Validate names every field that is out of range.
func (p Position) Validate() error {
	var errs validate.Errors
	if p.Section < 0 || p.Section > maxIndex {
		errs.Add("section", "range", 0, maxIndex)
	}
	if p.Exhibit < 0 || p.Exhibit > maxIndex {
		errs.Add("exhibit", "range", 0, maxIndex)
	}
	if p.Region != nil && !validRegion(p.Region) {
		errs.Add("region", "region")
	}
	angle := func(field string, v *float64, limit int) {
		if v != nil && (math.IsNaN(*v) || *v < float64(-limit) || *v > float64(limit)) {
			errs.Add(field, "range", -limit, limit)
		}
	}
	angle("yaw", p.Yaw, 180)
	angle("pitch", p.Pitch, 90)
	if p.Zoom != nil && (math.IsNaN(*p.Zoom) || *p.Zoom < 0 || *p.Zoom > 100) {
		errs.Add("zoom", "range", 0, 100)
	}
	return errs.Err()
}

// moveScript appends a position to the track unless the last one is newer than the interval.
// KEYS: track. ARGV: interval ms, track length, keep s, position JSON.
// Returns {"ok", id} or {"limited", wait ms}.
const moveScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last > 0 then
  local ms = tonumber(string.match(last[1][1], '^(%d+)'))
  local wait = ms + tonumber(ARGV[1]) - now
  if wait > 0 then
    return {'limited', wait}
  end
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'type', 'position', 'pos', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {'ok', id}
`

// Move records the guide's new position in lecture's track and tells every follower, on
// every node. Moves closer together than Options.MoveInterval are refused with a
// *RetryError (ErrRateLimited): the guide's page sends the latest position again.
func (r *Room) Move(ctx context.Context, lecture string, p Position) (Event, error) {
	if err := checkLecture(lecture); err != nil {
		return Event{}, err
	}
	if err := p.Validate(); err != nil {
		return Event{}, err
	}
	pos, err := json.Marshal(p)
	if err != nil {
		return Event{}, err
	}
	vals, err := r.move.Run(ctx, r.rdb, []string{r.trackKey(lecture)},
		r.opts.MoveInterval.Milliseconds(), r.opts.TrackLen, int64(r.opts.Keep/time.Second), string(pos)).Slice()
	if err != nil {
		return Event{}, redisErr("move", err)
	}
	status, _ := vals[0].(string)
	switch status {
	case "ok":
		id, _ := vals[1].(string)
		ev := decode(redis.XMessage{ID: id})
		ev.Type, ev.Position = Moved, &p
		return ev, nil
	case "limited":
		ms, _ := vals[1].(int64)
		return Event{}, &RetryError{Err: ErrRateLimited, After: time.Duration(max(ms, 1)) * time.Millisecond}
	}
	return Event{}, fmt.Errorf("liveroom: move: unexpected reply %v", vals)
}

// Guide is the guide's latest position in lecture; ok is false before the first move.
func (r *Room) Guide(ctx context.Context, lecture string) (ev Event, ok bool, err error) {
	if err := checkLecture(lecture); err != nil {
		return Event{}, false, err
	}
	msgs, err := r.rdb.XRevRangeN(ctx, r.trackKey(lecture), "+", "-", 1).Result()
	if err != nil {
		return Event{}, false, redisErr("guide", err)
	}
	if len(msgs) == 0 {
		return Event{}, false, nil
	}
	return decode(msgs[0]), true, nil
}

// Track is every position of lecture's guide still kept, oldest first: what a replay
// follows, each position at its time.
func (r *Room) Track(ctx context.Context, lecture string) ([]Event, error) {
	if err := checkLecture(lecture); err != nil {
		return nil, err
	}
	msgs, err := r.rdb.XRange(ctx, r.trackKey(lecture), "-", "+").Result()
	if err != nil {
		return nil, redisErr("track", err)
	}
	out := make([]Event, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, decode(m))
	}
	return out, nil
}

// FollowGuide returns the guide's positions after lastID, then every new one, as Subscribe
// does for the chat: "" starts from now, an event id resumes after it.
func (r *Room) FollowGuide(ctx context.Context, lecture, lastID string) (<-chan Event, error) {
	if err := checkLecture(lecture); err != nil {
		return nil, err
	}
	return r.subscribe(ctx, r.trackKey(lecture), lastID)
}

// validRegion: x, y ≥ 0, w, h ≥ 1, all within maxPixels (each checked alone first, so that
// a sum cannot overflow).
func validRegion(r []int) bool {
	if len(r) != 4 {
		return false
	}
	for _, v := range r {
		if v < 0 || v > maxPixels {
			return false
		}
	}
	return r[2] >= 1 && r[3] >= 1 && r[0]+r[2] <= maxPixels && r[1]+r[3] <= maxPixels
}
