package transcoding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/jobs"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/scratch"
	"github.com/shizuishan/culturecloud/media/transcode"
)

// How the stream carries jobs:
//
//   - A worker takes one job at a time: first a message whose worker has been silent for
//     MinIdle (XAUTOCLAIM; that worker died), else a new one (XREADGROUP).
//   - While a job runs, its worker re-claims its own message every Heartbeat (XCLAIM JUSTID,
//     in a script that first checks the message is still its own), which keeps the message's
//     idle time near zero. A worker that finds its message taken over stops the attempt and
//     leaves the job to the new owner.
//   - A failed attempt leaves the message pending and writes the time before which it must not
//     run again in the hash <prefix>transcode:due: Backoff·2^(n-1) after the n-th failure. A
//     worker that claims a message before that time leaves it alone; the claim reset its idle
//     time, so it comes back MinIdle later. A retry therefore waits for its backoff, rounded
//     up to the next reclaim.
//   - After MaxAttempts attempts (counting those whose worker died), the job is dead: failed
//     with the last error, copied to <prefix>jobs:transcode:dead. A file ffmpeg cannot read
//     (transcode.InputError) fails at once. Either way the record says so.
//   - A message is acknowledged only when its job is done or failed; delivery is at least
//     once, and a repeated delivery of a finished job only acknowledges it.

// heartbeatScript re-claims a pending message (ARGV[2]) for its consumer (ARGV[3]), provided
// it is still that consumer's: a message another worker took over stays with it.
var heartbeatScript = redis.NewScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')
return 1
`)

// errLost ends an attempt whose message another worker took over.
var errLost = errors.New("job taken over by another worker")

// Run consumes the job stream until ctx ends, one job at a time. It survives Redis going
// away and coming back. A job cut short by ctx stays pending for the next worker.
func (r *Runner) Run(ctx context.Context) {
	// A worker killed in the middle of a job left its folder (a whole source and its
	// outputs) behind; nothing else would ever remove it.
	if n, err := scratch.Sweep(r.o.TempDir, ScratchPrefix); err != nil {
		r.log.WarnContext(ctx, "orphaned temporary folders not all removed", "err", err)
	} else if n > 0 {
		r.log.InfoContext(ctx, "orphaned temporary folders removed", "count", n)
	}
	backoff := 100 * time.Millisecond
	ready := false
	cursor := "0-0"
	for ctx.Err() == nil {
		err := func() error {
			if !ready {
				err := r.rdb.XGroupCreateMkStream(ctx, r.stream, Group, "0").Err()
				if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
					return err
				}
				ready = true
			}
			msg, next, err := r.next(ctx, cursor)
			cursor = next
			if err != nil || msg == nil {
				return err
			}
			return r.handle(ctx, *msg)
		}()
		if err != nil && ctx.Err() == nil {
			r.log.WarnContext(ctx, "transcoding consumer", "err", err, "retry_in", backoff)
			ready = false
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
	}
}

// next returns a message to work on: a taken-over one first, else a new one (waiting up to
// a second for it), else nil. cursor walks the pending list across calls.
func (r *Runner) next(ctx context.Context, cursor string) (*redis.XMessage, string, error) {
	claimed, next, err := r.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: r.stream, Group: Group, Consumer: r.o.Consumer, MinIdle: r.o.MinIdle, Start: cursor, Count: 1,
	}).Result()
	if err != nil {
		return nil, "0-0", err
	}
	if len(claimed) > 0 {
		return &claimed[0], next, nil
	}
	streams, err := r.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: Group, Consumer: r.o.Consumer, Streams: []string{r.stream, ">"}, Count: 1, Block: time.Second,
	}).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, next, nil // nothing new within the wait
	case err != nil:
		return nil, next, err // Run ignores it when ctx ended
	}
	for _, s := range streams {
		if len(s.Messages) > 0 {
			return &s.Messages[0], next, nil
		}
	}
	return nil, next, nil
}

// handle works on one message. It returns an error only for a failure of Redis or MinIO that
// left the message's fate undecided; the message then stays pending.
func (r *Runner) handle(ctx context.Context, m redis.XMessage) error {
	field := func(k string) string { s, _ := m.Values[k].(string); return s }
	in := input{Item: field("item"), Path: field("path"), SHA256: field("sha256")}
	id := field("job")
	j, err := r.jobs.Get(ctx, id)
	if errors.Is(err, jobs.ErrNotFound) {
		r.log.WarnContext(ctx, "transcoding message without a job dropped", "msg", m.ID, "job", id)
		return r.ack(ctx, m.ID, id)
	}
	if err != nil {
		return err
	}
	if j.State == jobs.Done || j.State == jobs.Failed {
		return r.ack(ctx, m.ID, id) // a repeated delivery: the job was settled
	}
	due, err := r.rdb.HGet(ctx, r.due, id).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return dep.Unavailable(dep.Redis, err)
	}
	if wait := time.UnixMilli(due).Sub(r.now()); due > 0 && wait > 0 {
		return nil // backing off: the message comes back after MinIdle
	}
	if j.Attempts >= r.o.MaxAttempts {
		msg := fmt.Sprintf("gave up after %d attempts", j.Attempts)
		if j.Error != "" {
			msg += ": " + j.Error
		}
		return r.fail(ctx, m.ID, j, in, msg, true)
	}

	it, err := r.items.Get(ctx, in.Item)
	if err != nil && !errors.Is(err, library.ErrNotFound) {
		return err
	}
	paths := pathsOf(it, in.SHA256)
	if len(paths) == 0 {
		return r.fail(ctx, m.ID, j, in, "the file is no longer part of the item", false)
	}
	if fm, ok, err := r.doneMedia(ctx, in.Item, in.SHA256); err != nil {
		return err
	} else if ok { // done before its worker could say so
		return r.finish(ctx, m.ID, j, in, paths, fm)
	}

	if err := r.jobs.Start(ctx, id); err != nil {
		return err
	}
	if j, err = r.jobs.Get(ctx, id); err != nil {
		return err
	}
	if err := r.mark(ctx, in, paths, j); err != nil {
		return err
	}
	r.log.InfoContext(ctx, "transcoding started", "item", in.Item, "sha256", in.SHA256, "job", id, "attempt", j.Attempts)
	in.Path = paths[0]
	fm, err := r.attempt(ctx, m.ID, j, in)
	return r.settle(ctx, m.ID, j, in, paths, fm, err)
}

// settle decides a job's fate after an attempt that ended with err.
func (r *Runner) settle(ctx context.Context, msgID string, j jobs.Job, in input, paths []string, fm FileMedia, err error) error {
	if err == nil {
		// Work that is done is worth recording even while the worker stops.
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		ctx = c
	}
	if err == nil || ctx.Err() == nil && !errors.Is(err, errLost) {
		// Settle the job only while it is still ours: a worker that stalled past MinIdle
		// leaves it to the one that took it over. This also gives it MinIdle to settle it.
		mine, oerr := r.own(ctx, msgID)
		if oerr != nil {
			return oerr
		}
		if !mine {
			err = errLost
		}
	}
	var inErr *transcode.InputError
	switch {
	case err == nil:
		return r.finish(ctx, msgID, j, in, paths, fm)
	case errors.Is(err, errLost):
		r.log.WarnContext(ctx, "transcoding attempt abandoned", "job", j.ID, "err", err)
		return nil
	case ctx.Err() != nil:
		// The worker is stopping, not the job failing: the attempt does not count.
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return r.jobs.Update(stop, j.ID, func(j *jobs.Job) { j.State, j.Attempts = jobs.Queued, max(j.Attempts-1, 0) })
	case errors.As(err, &inErr), errors.Is(err, errBadSource):
		return r.fail(ctx, msgID, j, in, err.Error(), false)
	case j.Attempts >= r.o.MaxAttempts:
		return r.fail(ctx, msgID, j, in, err.Error(), true)
	}
	return r.retry(ctx, j, in, err)
}

func pathsOf(it library.Item, sha256 string) []string {
	var paths []string
	for _, f := range it.Files {
		if f.SHA256 == sha256 {
			paths = append(paths, f.Path)
		}
	}
	return paths
}

// mark records that an attempt started, for the content's paths.
func (r *Runner) mark(ctx context.Context, in input, paths []string, j jobs.Job) error {
	return r.update(ctx, in.Item, func(files map[string]FileMedia) bool {
		changed := false
		for _, p := range paths {
			prev, ok := files[p]
			if ok && prev.SHA256 != in.SHA256 {
				continue // newer content at that path has its own job
			}
			files[p] = FileMedia{Path: p, SHA256: in.SHA256, State: Running, Job: j.ID, Updated: r.now().UTC()}
			changed = true
		}
		return changed
	})
}

// finish records the outputs, marks the job done and acknowledges it.
func (r *Runner) finish(ctx context.Context, msgID string, j jobs.Job, in input, paths []string, fm FileMedia) error {
	fm.State, fm.Job, fm.Error, fm.Percent, fm.ETA, fm.SHA256 = Done, j.ID, "", 100, "", in.SHA256
	fm.Updated = r.now().UTC()
	err := r.update(ctx, in.Item, func(files map[string]FileMedia) bool {
		changed := false
		for _, p := range paths {
			if prev, ok := files[p]; ok && prev.SHA256 != in.SHA256 {
				continue
			}
			fm.Path = p
			files[p] = fm
			changed = true
		}
		return changed
	})
	if err != nil {
		return err
	}
	if err := r.jobs.Finish(ctx, j.ID, fm); err != nil {
		return err
	}
	r.log.InfoContext(ctx, "transcoding done", "item", in.Item, "sha256", in.SHA256, "job", j.ID,
		"attempts", j.Attempts, "outputs", len(fm.Files))
	return r.ack(ctx, msgID, j.ID)
}

// fail settles a job as failed (dead when it was retried before), records it and
// acknowledges it.
func (r *Runner) fail(ctx context.Context, msgID string, j jobs.Job, in input, msg string, dead bool) error {
	msg = clip(msg)
	err := r.update(ctx, in.Item, func(files map[string]FileMedia) bool {
		changed := false
		for p, fm := range files {
			if fm.SHA256 == in.SHA256 && fm.State != Done {
				fm.State, fm.Job, fm.Error, fm.Percent, fm.ETA, fm.Updated = Failed, j.ID, msg, 0, "", r.now().UTC()
				files[p] = fm
				changed = true
			}
		}
		return changed
	})
	if err != nil {
		return err
	}
	if err := r.jobs.Fail(ctx, j.ID, msg); err != nil {
		return err
	}
	if dead {
		r.log.ErrorContext(ctx, "transcoding job parked as dead", "item", in.Item, "sha256", in.SHA256, "job", j.ID,
			"attempts", j.Attempts, "err", msg)
		if err := r.rdb.XAdd(ctx, &redis.XAddArgs{Stream: r.dead, MaxLen: 10_000, Approx: true,
			Values: map[string]any{"job": j.ID, "item": in.Item, "sha256": in.SHA256, "error": msg}}).Err(); err != nil {
			return dep.Unavailable(dep.Redis, err)
		}
	} else {
		r.log.WarnContext(ctx, "transcoding failed", "item", in.Item, "sha256", in.SHA256, "job", j.ID, "err", msg)
	}
	return r.ack(ctx, msgID, j.ID)
}

// retry puts the job back in the queue with its error, to run again after its backoff.
func (r *Runner) retry(ctx context.Context, j jobs.Job, in input, cause error) error {
	wait := r.o.Backoff << max(j.Attempts-1, 0)
	at := r.now().Add(wait)
	msg := clip(fmt.Sprintf("attempt %d of %d failed (next try after %s): %v",
		j.Attempts, r.o.MaxAttempts, at.UTC().Format(time.RFC3339), cause))
	if err := r.rdb.HSet(ctx, r.due, j.ID, strconv.FormatInt(at.UnixMilli(), 10)).Err(); err != nil {
		return dep.Unavailable(dep.Redis, err)
	}
	r.log.WarnContext(ctx, "transcoding attempt failed; will retry", "item", in.Item, "sha256", in.SHA256,
		"job", j.ID, "attempt", j.Attempts, "retry_in", wait, "err", cause)
	return r.jobs.Update(ctx, j.ID, func(j *jobs.Job) { j.State, j.Error, j.Result = jobs.Queued, msg, nil })
}

// own re-claims the message for this worker if it is still this worker's, and says whether it is.
func (r *Runner) own(ctx context.Context, msgID string) (bool, error) {
	mine, err := heartbeatScript.Run(ctx, r.rdb, []string{r.stream}, Group, msgID, r.o.Consumer).Bool()
	return mine, dep.Unavailable(dep.Redis, err)
}

func (r *Runner) ack(ctx context.Context, msgID, job string) error {
	pipe := r.rdb.TxPipeline()
	pipe.XAck(ctx, r.stream, Group, msgID)
	pipe.HDel(ctx, r.due, job)
	_, err := pipe.Exec(ctx)
	return dep.Unavailable(dep.Redis, err)
}

// keepAlive sends heartbeats for the message and writes the job's progress (at most once a
// second) until ctx ends. It cancels the attempt when another worker took the message over.
func (r *Runner) keepAlive(ctx context.Context, cancel context.CancelCauseFunc, msgID, job string, updates <-chan transcode.Progress) {
	beat := time.NewTicker(r.o.Heartbeat)
	defer beat.Stop()
	flush := time.NewTicker(time.Second)
	defer flush.Stop()
	var latest transcode.Progress
	started, dirty := false, false
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			mine, err := r.own(ctx, msgID)
			switch {
			case err != nil && ctx.Err() == nil:
				r.log.WarnContext(ctx, "transcoding heartbeat failed", "job", job, "err", err)
			case err == nil && !mine:
				cancel(errLost)
				return
			}
		case latest = <-updates:
			if !started { // the first one at once, then once a second
				r.saveProgress(ctx, job, latest)
				started = true
				continue
			}
			dirty = true
		case <-flush.C:
			if dirty {
				r.saveProgress(ctx, job, latest)
				dirty = false
			}
		}
	}
}

func (r *Runner) saveProgress(ctx context.Context, job string, p transcode.Progress) {
	err := r.jobs.Update(ctx, job, func(j *jobs.Job) {
		j.Percent = min(max(int(math.Ceil(p.Percent)), 0), 99) // 100 is for done
		j.Result = nil
		if p.ETA > 0 {
			j.Result, _ = json.Marshal(progress{ETASeconds: p.ETA.Seconds()})
		}
	})
	if err != nil && ctx.Err() == nil {
		r.log.WarnContext(ctx, "transcoding progress not saved", "job", job, "err", err)
	}
}
