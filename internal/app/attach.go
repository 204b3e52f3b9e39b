package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/jobs"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/outbox"
	"github.com/shizuishan/culturecloud/media/upload"
	"github.com/shizuishan/culturecloud/search"
)

// handleAttach runs an "attach" outbox event: hash a sealed upload (the first half of the
// job's percent) and add it to an item.
func (c *Core) handleAttach(ctx context.Context, ev outbox.Event) error {
	if ev.Kind != "attach" {
		return nil
	}
	jobID, ok := jobs.FromRef(ev.Ref)
	if !ok {
		return fmt.Errorf("attach event without a job: %q", ev.Ref)
	}
	// Begin, not Get: the same job can arrive twice (an event taken back from a busy node, a
	// repeated request), and two workers must not both add the file.
	job, begun, err := c.Jobs.Begin(ctx, jobID, attachStale)
	if errors.Is(err, jobs.ErrNotFound) {
		return nil // expired: nobody waits for it any more
	}
	if err != nil {
		return fmt.Errorf("%w: %w", outbox.ErrRetry, err)
	}
	if !begun {
		if job.State == jobs.Running {
			return fmt.Errorf("%w: job %s is running elsewhere", outbox.ErrRetry, jobID)
		}
		return nil // delivered twice: already handled
	}
	stopBeat := c.heartbeat(ctx, jobID)
	defer stopBeat()
	var in library.AttachJob
	if err := json.Unmarshal(job.Input, &in); err != nil {
		return c.Jobs.Fail(ctx, jobID, "bad job input")
	}
	actor, err := c.Accounts.Store().Get(ctx, job.Owner)
	if err != nil {
		return c.retryOrFail(ctx, jobID, err)
	}
	// The hashed file is kept in the job, so that a retry after a later failure does not read
	// the whole file again.
	var progress struct {
		Completed *upload.File `json:"completed"`
	}
	if len(job.Result) > 0 {
		_ = json.Unmarshal(job.Result, &progress)
	}
	if progress.Completed == nil {
		if err := c.Library.CheckEditable(ctx, actor, in.Item); err != nil {
			return c.retryOrFail(ctx, jobID, err)
		}
		var f *upload.File
		if in.Sealed != nil {
			f, err = c.Uploads.Hash(ctx, in.Sealed, func(read int64) {
				_ = c.Jobs.Progress(ctx, jobID, int(read*50/max(in.Sealed.Size, 1)))
			})
		} else {
			f, err = c.Uploads.Complete(ctx, in.Upload, actor.Name) // a job queued before sealing
		}
		var answered minio.ErrorResponse
		if err != nil && !upload.IsRefusal(err) && !errors.As(err, &answered) {
			err = dep.Unavailable(dep.MinIO, err) // MinIO did not answer: try again later
		}
		if err != nil {
			return c.retryOrFail(ctx, jobID, err)
		}
		progress.Completed = f
		data, _ := json.Marshal(progress)
		if err := c.Jobs.Update(ctx, jobID, func(j *jobs.Job) { j.Result, j.Percent = data, 50 }); err != nil {
			return c.retryOrFail(ctx, jobID, dep.Unavailable(dep.Redis, err))
		}
	}
	it, f, err := c.Library.AddCompleted(ctx, actor, in.Item, progress.Completed, c.Uploads)
	if err != nil {
		return c.retryOrFail(ctx, jobID, err)
	}
	return c.Jobs.Finish(ctx, jobID, map[string]any{"item": it.ID, "version": it.Version, "file": f})
}

// attachStale is how long a running attach job may go without an update before another
// worker takes it over; heartbeat updates it four times as often.
const attachStale = time.Minute

// heartbeat touches the job until the returned function is called, so that a long copy
// (20 GB into the OCFL object) is not taken for a dead worker.
func (c *Core) heartbeat(ctx context.Context, jobID string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(attachStale / 4)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				_ = c.Jobs.Touch(ctx, jobID)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// retryOrFail leaves a job for another try when a dependency was down (queued again, so that
// the next delivery may begin it at once), and otherwise records why it failed, in words for
// the librarian.
func (c *Core) retryOrFail(ctx context.Context, jobID string, err error) error {
	if errors.Is(err, dep.ErrUnavailable) || errors.Is(err, search.ErrUnavailable) {
		_ = c.Jobs.Update(ctx, jobID, func(j *jobs.Job) { j.State = jobs.Queued })
		return fmt.Errorf("%w: %w", outbox.ErrRetry, err)
	}
	var typeErr *upload.TypeError
	msg := err.Error()
	switch {
	case errors.As(err, &typeErr):
		msg = typeErr.Error()
	case errors.Is(err, upload.ErrIncomplete):
		msg = err.Error()
	}
	return c.Jobs.Fail(ctx, jobID, msg)
}
