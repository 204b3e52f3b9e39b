package liveroom

import (
	"context"
	"maps"
	"slices"
	"time"
)

// Stats are the audience of one lecture.
type Stats struct {
	// Current is the viewer sessions now (two tabs of one person are two).
	Current int64 `json:"current"`
	// Peak is the most sessions at once so far.
	Peak int64 `json:"peak"`
	// Total is the distinct viewers (accounts or anonymous cookie ids) who ever joined.
	Total int64 `json:"total"`
}

// redisNow is the Redis clock in milliseconds, for the scripts below.
const redisNow = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// touchScript registers or refreshes sessions, drops expired ones, raises the peak when the
// count rose, and adds the viewer to the distinct viewers.
// KEYS: viewers, peak, uniq. ARGV: TTL ms, keep s, viewer ("" for none), members...
const touchScript = redisNow + `
local exp = now + tonumber(ARGV[1])
for i = 4, #ARGV do
  redis.call('ZADD', KEYS[1], exp, ARGV[i])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local n = redis.call('ZCARD', KEYS[1])
local peak = tonumber(redis.call('GET', KEYS[2]) or '0')
if n > peak then
  peak = n
  redis.call('SET', KEYS[2], n)
end
if ARGV[3] ~= '' then
  redis.call('SADD', KEYS[3], ARGV[3])
end
for i = 1, 3 do
  redis.call('EXPIRE', KEYS[i], ARGV[2])
end
return {n, peak, redis.call('SCARD', KEYS[3])}
`

// countScript counts the unexpired sessions. KEYS: viewers.
const countScript = redisNow + `
return redis.call('ZCOUNT', KEYS[1], string.format('(%d', now), '+inf')
`

// statsScript reads current, peak and total. KEYS: viewers, peak, uniq.
const statsScript = redisNow + `
local n = redis.call('ZCOUNT', KEYS[1], string.format('(%d', now), '+inf')
return {n, tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('SCARD', KEYS[3])}
`

// heartbeatBatch bounds the sessions refreshed by one script call.
const heartbeatBatch = 500

func (r *Room) member(session string) string { return r.opts.Node + "|" + session }

func (r *Room) runTouch(ctx context.Context, lecture, viewer string, sessions []string) (Stats, error) {
	args := make([]any, 0, 3+len(sessions))
	args = append(args, r.opts.ViewerTTL.Milliseconds(), int64(r.opts.Keep/time.Second), viewer)
	for _, s := range sessions {
		args = append(args, r.member(s))
	}
	vals, err := r.touch.Run(ctx, r.rdb, []string{r.viewersKey(lecture), r.peakKey(lecture), r.uniqKey(lecture)}, args...).Int64Slice()
	if err != nil {
		return Stats{}, redisErr("touch", err)
	}
	return Stats{Current: vals[0], Peak: vals[1], Total: vals[2]}, nil
}

// Join registers a viewer session of lecture on this node and returns the audience with it.
// session is unique per connection (a WHEP or SSE session id); viewer is the person: "a:"
// and the account name, or "c:" and the anonymous cookie id. The session counts until
// Leave, or until ViewerTTL after this node's last heartbeat (see Run).
func (r *Room) Join(ctx context.Context, lecture, session, viewer string) (Stats, error) {
	if err := checkLecture(lecture); err != nil {
		return Stats{}, err
	}
	if err := checkID("session", session); err != nil {
		return Stats{}, err
	}
	if err := checkID("viewer", viewer); err != nil {
		return Stats{}, err
	}
	r.mu.Lock()
	if r.sessions[lecture] == nil {
		r.sessions[lecture] = map[string]string{}
	}
	r.sessions[lecture][session] = viewer
	r.mu.Unlock()
	st, err := r.runTouch(ctx, lecture, viewer, []string{session})
	if err != nil {
		// The caller refuses the viewer and will not call Leave: forget the session here,
		// and if Redis did register it, it expires for want of heartbeats.
		r.forget(lecture, session)
	}
	return st, err
}

func (r *Room) forget(lecture, session string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.sessions[lecture], session)
	if len(r.sessions[lecture]) == 0 {
		delete(r.sessions, lecture)
	}
}

// Leave ends a viewer session.
func (r *Room) Leave(ctx context.Context, lecture, session string) error {
	if err := checkLecture(lecture); err != nil {
		return err
	}
	r.forget(lecture, session)
	return redisErr("leave", r.rdb.ZRem(ctx, r.viewersKey(lecture), r.member(session)).Err())
}

// Heartbeat refreshes every session this node holds, in one script call per lecture (and
// per 500 sessions). It also brings back sessions that expired while Redis was unreachable.
func (r *Room) Heartbeat(ctx context.Context) error {
	r.mu.Lock()
	held := make(map[string][]string, len(r.sessions))
	for lecture, sessions := range r.sessions {
		held[lecture] = slices.Collect(maps.Keys(sessions))
	}
	r.mu.Unlock()
	var first error
	for lecture, sessions := range held {
		for batch := range slices.Chunk(sessions, heartbeatBatch) {
			if _, err := r.runTouch(ctx, lecture, "", batch); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// Run sends heartbeats every Options.Heartbeat until ctx ends, then removes this node's
// sessions, so that a node shut down cleanly stops counting at once. A node that crashes
// stops heartbeating and its sessions expire after ViewerTTL.
func (r *Room) Run(ctx context.Context) {
	tick := time.NewTicker(r.opts.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			r.leaveAll()
			return
		case <-tick.C:
			if err := r.Heartbeat(ctx); err != nil && ctx.Err() == nil {
				r.opts.Log.WarnContext(ctx, "live viewers heartbeat failed; sessions expire unless the next one works", "err", err)
			}
		}
	}
}

func (r *Room) leaveAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r.mu.Lock()
	held := r.sessions
	r.sessions = map[string]map[string]string{}
	r.mu.Unlock()
	for lecture, sessions := range held {
		members := make([]any, 0, len(sessions))
		for s := range sessions {
			members = append(members, r.member(s))
		}
		_ = r.rdb.ZRem(ctx, r.viewersKey(lecture), members...).Err() // expiry covers a failure
	}
}

// Count is the number of viewer sessions of lecture now, over all nodes.
func (r *Room) Count(ctx context.Context, lecture string) (int64, error) {
	if err := checkLecture(lecture); err != nil {
		return 0, err
	}
	n, err := r.count.Run(ctx, r.rdb, []string{r.viewersKey(lecture)}).Int64()
	return n, redisErr("count", err)
}

// Stats reads the audience of lecture: current, peak and total, in one round trip. When the
// lecture ends, the caller stores Peak and Total with the lecture (lectures.MarkEnded).
func (r *Room) Stats(ctx context.Context, lecture string) (Stats, error) {
	if err := checkLecture(lecture); err != nil {
		return Stats{}, err
	}
	vals, err := r.stats.Run(ctx, r.rdb, []string{r.viewersKey(lecture), r.peakKey(lecture), r.uniqKey(lecture)}).Int64Slice()
	if err != nil {
		return Stats{}, redisErr("stats", err)
	}
	return Stats{Current: vals[0], Peak: vals[1], Total: vals[2]}, nil
}
