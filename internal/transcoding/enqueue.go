package transcoding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/jobs"
	"github.com/shizuishan/culturecloud/internal/library"
)

// input is a job's input, as stored with the job.
type input struct {
	Item   string `json:"item"`
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// progress is a running job's Result until it is done.
type progress struct {
	ETASeconds float64 `json:"eta_seconds"`
}

func etaOf(j jobs.Job) (time.Duration, bool) {
	var p progress
	if len(j.Result) == 0 || json.Unmarshal(j.Result, &p) != nil || p.ETASeconds <= 0 {
		return 0, false
	}
	return time.Duration(p.ETASeconds * float64(time.Second)).Round(time.Second), true
}

// queueScript points the file's key at a new job and adds the job to the stream, both or
// neither, provided the key still holds what the caller saw (ARGV[1], "" for nothing).
var queueScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[6])
redis.call('XADD', KEYS[2], '*', 'job', ARGV[2], 'item', ARGV[3], 'path', ARGV[4], 'sha256', ARGV[5])
return 1
`)

// Enqueue queues the transcoding of a file of an item. Files that are neither video nor audio
// give a zero Job and no error. There is one job per (item, content): when the content is
// already done, queued or running, the existing job is returned and nothing new is queued;
// a failed job is replaced by a new one, which is how staff retry.
func (r *Runner) Enqueue(ctx context.Context, item string, f library.File) (jobs.Job, error) {
	if !IsMedia(f.MediaType) {
		return jobs.Job{}, nil
	}
	if !idRe.MatchString(item) || !sha256Re.MatchString(f.SHA256) {
		return jobs.Job{}, fmt.Errorf("transcoding %s %s: %w", item, f.Path, ErrNotFound)
	}
	key := r.filePrefix + item + ":" + f.SHA256
	for range saveTries {
		cur, err := r.rdb.Get(ctx, key).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return jobs.Job{}, dep.Unavailable(dep.Redis, err)
		}
		if cur != "" {
			j, err := r.jobs.Get(ctx, cur)
			switch {
			case err == nil && j.State != jobs.Failed:
				return j, r.track(ctx, item, f, j)
			case err != nil && !errors.Is(err, jobs.ErrNotFound):
				return jobs.Job{}, err
			}
		}
		// Redis forgets jobs after a week; the record in MinIO does not.
		if fm, ok, err := r.doneMedia(ctx, item, f.SHA256); err != nil {
			return jobs.Job{}, err
		} else if ok {
			return r.recreateDone(ctx, item, f, fm)
		}
		j, err := r.jobs.Create(ctx, Kind, "", input{Item: item, Path: f.Path, SHA256: f.SHA256})
		if err != nil {
			return jobs.Job{}, err
		}
		ok, err := queueScript.Run(ctx, r.rdb, []string{key, r.stream},
			cur, j.ID, item, f.Path, f.SHA256, strconv.FormatInt(jobTTL.Milliseconds(), 10)).Bool()
		if err != nil {
			return jobs.Job{}, dep.Unavailable(dep.Redis, err)
		}
		if !ok { // another request queued the file meanwhile: use its job
			_ = r.jobs.Fail(ctx, j.ID, "superseded by a concurrent request for the same file")
			continue
		}
		r.log.InfoContext(ctx, "transcoding queued", "item", item, "path", f.Path, "job", j.ID)
		return j, r.track(ctx, item, f, j)
	}
	return jobs.Job{}, fmt.Errorf("transcoding of %s %s: the job kept changing", item, f.Path)
}

// track shows the file's job in the item's record, unless the record already follows it.
func (r *Runner) track(ctx context.Context, item string, f library.File, j jobs.Job) error {
	return r.update(ctx, item, func(files map[string]FileMedia) bool {
		prev, ok := files[f.Path]
		if ok && prev.SHA256 == f.SHA256 && (prev.Job == j.ID || prev.State == Done) {
			return false
		}
		// The same content done under another path serves this one too.
		for _, fm := range files {
			if fm.SHA256 == f.SHA256 && fm.State == Done {
				fm.Path = f.Path
				files[f.Path] = fm
				return true
			}
		}
		files[f.Path] = FileMedia{Path: f.Path, SHA256: f.SHA256, State: j.State, Job: j.ID, Error: j.Error,
			Updated: r.now().UTC()}
		return true
	})
}

// doneMedia finds the content's finished media in the item's record.
func (r *Runner) doneMedia(ctx context.Context, item, sha256 string) (FileMedia, bool, error) {
	rec, _, err := r.load(ctx, item)
	if err != nil {
		return FileMedia{}, false, err
	}
	for _, fm := range rec.Files {
		if fm.SHA256 == sha256 && fm.State == Done {
			return fm, true, nil
		}
	}
	return FileMedia{}, false, nil
}

// recreateDone gives content whose job Redis forgot a done job again, without any work.
func (r *Runner) recreateDone(ctx context.Context, item string, f library.File, fm FileMedia) (jobs.Job, error) {
	j, err := r.jobs.Create(ctx, Kind, "", input{Item: item, Path: f.Path, SHA256: f.SHA256})
	if err != nil {
		return jobs.Job{}, err
	}
	if err := r.jobs.Finish(ctx, j.ID, fm); err != nil {
		return jobs.Job{}, err
	}
	if err := r.rdb.Set(ctx, r.filePrefix+item+":"+f.SHA256, j.ID, jobTTL).Err(); err != nil {
		return jobs.Job{}, dep.Unavailable(dep.Redis, err)
	}
	j, err = r.jobs.Get(ctx, j.ID)
	if err != nil {
		return jobs.Job{}, err
	}
	return j, r.track(ctx, item, f, j)
}
