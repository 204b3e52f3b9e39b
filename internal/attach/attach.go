// Package attach adds an upload to an item of the library, in two halves. The request half
// (Start) seals the upload — every part present, completed, type checked from its first
// bytes: seconds, even for 20 GB — claims it for one job and queues that job, so that a
// missing part or a refused type is answered at once and asking again returns the same job.
// The worker half (Handle) hashes the whole file (the first half of the job's percent) and
// preserves it in the item's OCFL object.
package attach

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/jobs"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/outbox"
	"github.com/shizuishan/culturecloud/internal/validate"
	"github.com/shizuishan/culturecloud/media/upload"
)

// Kind is the kind of the jobs and outbox events of attaching.
const Kind = "attach"

// Stale is how long a running attach job may go without an update before it is taken for
// dead: another worker may begin it, and a repeated request appends its event again. The
// heartbeat updates it four times as often.
const Stale = time.Minute

// claimGrace is how long a claim may point at a job not yet recorded: the request that
// claimed it records the job next, within seconds.
const claimGrace = time.Minute

// Job is the input of an attach job: the sealed upload that becomes a file of the item.
// Jobs queued before uploads were sealed in the request carry no Sealed.
type Job struct {
	Item   string         `json:"item"`
	Upload string         `json:"upload"`
	Sealed *upload.Sealed `json:"sealed,omitempty"`
}

// UploadError is a refusal or failure of the upload manager (missing parts, a refused type,
// someone else's upload, storage failing), for the caller to answer as it answers uploads.
type UploadError struct{ Err error }

func (e *UploadError) Error() string { return e.Err.Error() }
func (e *UploadError) Unwrap() error { return e.Err }

// Service is both halves.
type Service struct {
	library  *library.Service
	uploads  *upload.Manager
	jobs     *jobs.Store
	outbox   *outbox.Outbox
	accounts *accounts.Store
	now      func() time.Time
}

// New wires a Service.
func New(lib *library.Service, uploads *upload.Manager, js *jobs.Store, ob *outbox.Outbox, acc *accounts.Store) *Service {
	return &Service{library: lib, uploads: uploads, jobs: js, outbox: ob, accounts: acc, now: time.Now}
}

// Start seals actor's upload and queues the job that adds it to the item itemID, and
// returns that job (its Input left out). Asking again returns the same job (a retry after a
// lost answer), or a new one on the same stored file if that job failed. Errors of the upload
// manager come as *UploadError.
func (s *Service) Start(ctx context.Context, actor accounts.Account, itemID, uploadID string) (jobs.Job, error) {
	if err := s.library.CheckEditable(ctx, actor, itemID); err != nil {
		return jobs.Job{}, err
	}
	sess, err := s.uploads.Get(ctx, uploadID, actor.Name)
	if err != nil {
		return jobs.Job{}, &UploadError{err}
	}
	jobID, job, err := s.claimedJob(ctx, sess)
	if err != nil {
		return jobs.Job{}, &UploadError{err}
	}
	created := false
	if job == nil {
		// No job recorded yet: seal (again, harmlessly), claim, record the job.
		in := Job{Item: itemID, Upload: sess.ID}
		if in.Sealed, err = s.uploads.Seal(ctx, sess.ID, actor.Name); err != nil {
			return jobs.Job{}, &UploadError{err}
		}
		if jobID == "" {
			if jobID, err = s.uploads.Claim(ctx, sess.ID, actor.Name, jobs.NewID()); err != nil {
				return jobs.Job{}, &UploadError{err}
			}
		}
		var j jobs.Job
		if j, created, err = s.jobs.CreateOnce(ctx, jobID, Kind, actor.Name, in); err != nil {
			return jobs.Job{}, err
		}
		job = &j
	}
	var first Job
	if job.State != jobs.Failed && (json.Unmarshal(job.Input, &first) != nil || first.Item != itemID) {
		return jobs.Job{}, validate.Errors{{Field: "upload", Code: "upload_attached"}}
	}
	// A job still queued may have lost its event (Redis failed between the two writes), and
	// one running but silent lost its worker: append the event again; a worker begins a job
	// only when it is queued or silent.
	silent := job.State == jobs.Running && s.now().Sub(job.Updated) > Stale
	if created || job.State == jobs.Queued || silent {
		if err := s.outbox.Append(ctx, outbox.Event{Kind: Kind, ID: itemID, Ref: jobs.Ref(job.ID)}); err != nil {
			return jobs.Job{}, err
		}
	}
	job.Input = nil
	return *job, nil
}

// Abort cancels owner's upload, unless a job is adding it to an item (or has): a failed job
// gives its claim up here, and the upload manager refuses an upload a job still holds.
func (s *Service) Abort(ctx context.Context, owner, uploadID string) error {
	sess, err := s.uploads.Get(ctx, uploadID, owner)
	if err != nil {
		return err
	}
	if _, _, err := s.claimedJob(ctx, sess); err != nil {
		return err
	}
	return s.uploads.Abort(ctx, sess.ID, owner)
}

// claimedJob returns the job that holds the session and, once recorded, that job. It
// returns "" when no job holds the session: a job that failed gives its claim up, so that
// the librarian can try again or cancel; so does one whose request never recorded it, after
// claimGrace (a failed job is recorded under its id first, so that request cannot record it
// late).
func (s *Service) claimedJob(ctx context.Context, sess *upload.Session) (string, *jobs.Job, error) {
	if sess.ClaimedBy == "" {
		return "", nil, nil
	}
	job, err := s.jobs.Get(ctx, sess.ClaimedBy)
	switch {
	case errors.Is(err, jobs.ErrNotFound) && s.now().Sub(sess.ClaimedAt) < claimGrace:
		return sess.ClaimedBy, nil, nil // its request may still be recording it
	case errors.Is(err, jobs.ErrNotFound):
		job, err = s.jobs.Abandon(ctx, sess.ClaimedBy, Kind, sess.Owner, "the request that started this job did not finish")
		if err != nil {
			return "", nil, err
		}
	case err != nil:
		return "", nil, err
	}
	if job.State != jobs.Failed {
		return job.ID, &job, nil
	}
	holder, err := s.uploads.Release(ctx, sess.ID, sess.Owner, job.ID)
	return holder, nil, err // holder: another request claimed it meanwhile
}
