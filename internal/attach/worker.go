package attach

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/jobs"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/outbox"
	"github.com/shizuishan/culturecloud/media/upload"
)

// Handle runs an "attach" outbox event: hash a sealed upload (the first half of the
// job's percent) and add it to an item.
func (s *Service) Handle(ctx context.Context, ev outbox.Event) error {
	if ev.Kind != Kind {
		return nil
	}
	jobID, ok := jobs.FromRef(ev.Ref)
	if !ok {
		return fmt.Errorf("attach event without a job: %q", ev.Ref)
	}
	// Begin, not Get: the same job can arrive twice (an event taken back from a busy node, a
	// repeated request); only one worker holds it at a time, and only its writes count.
	job, lease, err := s.jobs.Begin(ctx, jobID, Stale)
	if errors.Is(err, jobs.ErrNotFound) {
		return nil // expired: nobody waits for it any more
	}
	if err != nil {
		return fmt.Errorf("%w: %w", outbox.ErrRetry, err)
	}
	if lease == nil {
		if job.State == jobs.Running {
			return fmt.Errorf("%w: job %s is running elsewhere", outbox.ErrRetry, jobID)
		}
		return nil // delivered twice: already handled
	}
	work, stop := heartbeat(ctx, lease)
	defer stop()
	result, err := s.attach(work, job, lease)
	// The job's last word is written even when the worker is shutting down.
	final := context.WithoutCancel(ctx)
	switch {
	case errors.Is(err, jobs.ErrLost) || errors.Is(context.Cause(work), jobs.ErrLost):
		return fmt.Errorf("%w: job %s: %w", outbox.ErrRetry, jobID, jobs.ErrLost)
	case err == nil:
		err = lease.Finish(final, result)
	case Retryable(err) || ctx.Err() != nil: // a dependency is down, or the worker is stopping
		if rerr := lease.Requeue(final); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return fmt.Errorf("%w: %w", outbox.ErrRetry, err)
	default:
		err = lease.Fail(final, failureMessage(err))
	}
	if err != nil {
		// Finishing failed (or another worker holds the job now): the event comes back, and
		// the next run finds the job ended, or the file added.
		return fmt.Errorf("%w: %w", outbox.ErrRetry, err)
	}
	return nil
}

// attach does the job's work and returns its result.
func (s *Service) attach(ctx context.Context, job jobs.Job, lease *jobs.Lease) (any, error) {
	var in Job
	if err := json.Unmarshal(job.Input, &in); err != nil {
		return nil, errors.New("bad job input")
	}
	actor, err := s.accounts.Get(ctx, job.Owner)
	if err != nil {
		return nil, err
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
		if err := s.library.CheckEditable(ctx, actor, in.Item); err != nil {
			return nil, err
		}
		var f *upload.File
		if in.Sealed != nil {
			var digests []upload.Digest
			if digests, err = s.digestsFor(ctx, in.Item); err != nil {
				return nil, err
			}
			f, err = s.uploads.Hash(ctx, in.Sealed, digests, func(read int64) {
				_ = lease.Progress(ctx, int(read*50/max(in.Sealed.Size, 1)))
			})
		} else {
			f, err = s.uploads.Complete(ctx, in.Upload, actor.Name) // a job queued before sealing
		}
		if err != nil {
			return nil, err // the storage kinds tell an outage from a refusal
		}
		progress.Completed = f
		data, _ := json.Marshal(progress)
		if err := lease.Update(ctx, func(j *jobs.Job) { j.Result, j.Percent = data, 50 }); err != nil {
			return nil, err
		}
	}
	it, f, err := s.library.AddCompleted(ctx, actor, in.Item, progress.Completed, s.uploads)
	if err != nil {
		return nil, err
	}
	return map[string]any{"item": it.ID, "version": it.Version, "file": f}, nil
}

// digestsFor is what a file added to the item must be hashed with: SHA-256, by which
// derivatives and captions name every file, and the digest of the item's OCFL object if
// that is another (sha512 for objects written before). Asking no more keeps the read of a
// 20 GB file at SHA-256's pace.
func (s *Service) digestsFor(ctx context.Context, itemID string) ([]upload.Digest, error) {
	algorithm, err := s.library.DigestAlgorithm(ctx, itemID)
	if err != nil {
		return nil, err
	}
	digests := []upload.Digest{upload.SHA256}
	if d := upload.Digest(algorithm); d != upload.SHA256 {
		digests = append(digests, d)
	}
	return digests, nil
}

// Retryable says whether a job's error will pass by waiting: a dependency was down, or the
// item's next version is still claimed by a writer that died (its claim clears itself).
func Retryable(err error) bool {
	return dep.IsUnavailable(err) || errors.Is(err, library.ErrStale)
}

// failureMessage is why a job failed, in words for the librarian.
func failureMessage(err error) string {
	var typeErr *upload.TypeError
	if errors.As(err, &typeErr) {
		return typeErr.Error()
	}
	return err.Error()
}

// heartbeat touches the job while the work runs, so that a long copy (20 GB into the OCFL
// object) is not taken for a dead worker. The returned context ends, with cause
// jobs.ErrLost, when the lease is lost or could not be renewed for half of Stale: by
// then another worker may take the job over, and this one must stop writing.
func heartbeat(ctx context.Context, lease *jobs.Lease) (context.Context, func()) {
	work, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(Stale / 4)
		defer tick.Stop()
		renewed := time.Now()
		for {
			select {
			case <-work.Done():
				return
			case <-tick.C:
			}
			err := lease.Touch(work)
			switch {
			case errors.Is(err, jobs.ErrLost):
				cancel(jobs.ErrLost)
				return
			case err == nil:
				renewed = time.Now()
			case time.Since(renewed) >= Stale/2:
				cancel(jobs.ErrLost)
				return
			}
		}
	}()
	return work, func() { cancel(nil); <-done }
}
