package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/jobs"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/outbox"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/validate"
	"github.com/shizuishan/culturecloud/media/upload"
)

type newUploadRequest struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

type uploadView struct {
	*upload.Session
	ChecksumAlgorithm upload.Checksum `json:"checksum_algorithm"`
	ChecksumHeader    string          `json:"checksum_header"`
	Uploaded          []upload.Part   `json:"uploaded"`
	Job               string          `json:"job,omitempty"`    // the attach job that took the upload
	Sealed            bool            `json:"sealed,omitempty"` // completed; attach it again
}

func newUploadView(sess *upload.Session, uploaded []upload.Part) uploadView {
	if uploaded == nil {
		uploaded = []upload.Part{}
	}
	return uploadView{Session: sess, ChecksumAlgorithm: sess.PartChecksum(), ChecksumHeader: sess.PartChecksum().Header(), Uploaded: uploaded}
}

// uploadError turns the upload manager's errors into answers.
func (s *Server) uploadError(c *gin.Context, err error) {
	var typeErr *upload.TypeError
	var inc *upload.IncompleteError
	switch {
	case errors.Is(err, upload.ErrNotFound), errors.Is(err, upload.ErrForbidden):
		s.abort(c, problem.NotFound) // another librarian's upload is not ours to see
	case errors.As(err, &inc):
		s.fail(c, validate.Errors{{Field: "parts", Code: "missing_parts", Args: []any{fmt.Sprint(append(inc.Missing, inc.WrongSize...))}}})
	case errors.Is(err, upload.ErrIncomplete):
		s.fail(c, validate.Errors{{Field: "upload", Code: "invalid_upload", Args: []any{err.Error()}}})
	case errors.As(err, &typeErr):
		s.fail(c, validate.Errors{{Field: "file", Code: "file_type", Args: []any{typeErr.Detected}}})
	case errors.Is(err, upload.ErrTooLarge):
		s.fail(c, validate.Errors{{Field: "size", Code: "too_large", Args: []any{strconv.FormatInt(s.Config.Library.MaxUploadBytes>>30, 10) + " GiB"}}})
	case errors.Is(err, upload.ErrQuota):
		// Full until the account finishes or cancels an upload: a minute is a fair wait.
		const wait = 60
		lib := s.Config.Library
		d := problem.New(lang(c), problem.RateLimited)
		d.Detail = i18n.T(lang(c), "problem.upload_quota.detail", lib.MaxOpenUploads, strconv.FormatInt(lib.MaxOpenUploadBytes>>30, 10)+" GiB", wait)
		d.RetryAfter = wait
		s.abortWith(c, d)
	case errors.Is(err, upload.ErrClaimed):
		s.fail(c, validate.Errors{{Field: "upload", Code: "upload_attached"}})
	case errors.Is(err, upload.ErrInvalid):
		s.fail(c, validate.Errors{{Field: "upload", Code: "invalid_upload", Args: []any{err.Error()}}})
	default:
		s.fail(c, dep.Unavailable(dep.MinIO, err)) // storage failed (kept as it is if Redis did)
	}
}

func (s *Server) createUpload(c *gin.Context) {
	var req newUploadRequest
	if !s.decode(c, &req) {
		return
	}
	account := caller(c).account
	quota := upload.Quota{MaxOpen: s.Config.Library.MaxOpenUploads, MaxOpenBytes: s.Config.Library.MaxOpenUploadBytes}
	if account.Role == accounts.Admin {
		quota = upload.Quota{}
	}
	sess, err := s.Uploads.CreateWithin(c.Request.Context(), account.Name, req.Name, req.Size, quota)
	if err != nil {
		s.uploadError(c, err)
		return
	}
	c.Header("Location", "/api/v1/uploads/"+sess.ID)
	c.JSON(http.StatusCreated, newUploadView(sess, nil))
}

// getUpload tells a resuming client which parts MinIO already holds.
func (s *Server) getUpload(c *gin.Context) {
	owner := caller(c).account.Name
	sess, err := s.Uploads.Get(c.Request.Context(), c.Param("id"), owner)
	if err != nil {
		s.uploadError(c, err)
		return
	}
	view := newUploadView(sess, nil)
	if sess.ClaimedBy != "" {
		// Sealed and taken by a job: the client follows the job instead of sending parts.
		view.Job = sess.ClaimedBy
		c.JSON(http.StatusOK, view)
		return
	}
	parts, err := s.Uploads.ListParts(c.Request.Context(), sess.ID, owner)
	if errors.Is(err, upload.ErrNotFound) {
		// No multipart upload: sealed by a request that then died before its job. Every part
		// is stored; the client asks to attach it again.
		var sealed bool
		if sealed, err = s.Uploads.IsSealed(c.Request.Context(), sess); sealed {
			view.Sealed, parts = true, sess.AllParts()
		} else if err == nil {
			err = upload.ErrNotFound
		}
	}
	if err != nil {
		s.uploadError(c, err)
		return
	}
	view.Uploaded = parts
	c.JSON(http.StatusOK, view)
}

type partURLsRequest struct {
	Parts []int `json:"parts"`
}

// partURLs presigns PUT URLs for up to 100 parts; the bytes go straight to MinIO.
func (s *Server) partURLs(c *gin.Context) {
	var req partURLsRequest
	if !s.decode(c, &req) {
		return
	}
	if len(req.Parts) == 0 || len(req.Parts) > 100 {
		s.fail(c, validate.Errors{{Field: "parts", Code: "range", Args: []any{1, 100}}})
		return
	}
	sess, presigned, err := s.Uploads.PresignParts(c.Request.Context(), c.Param("id"), caller(c).account.Name, req.Parts)
	if err != nil {
		s.uploadError(c, err)
		return
	}
	urls := make(map[string]string, len(presigned))
	for n, u := range presigned {
		urls[strconv.Itoa(n)] = u
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"urls": urls, "method": http.MethodPut,
		"checksum_algorithm": sess.PartChecksum(), "checksum_header": sess.PartChecksum().Header()})
}

// abortUpload cancels an upload, unless a job is adding it to an item (or has).
func (s *Server) abortUpload(c *gin.Context) {
	ctx := c.Request.Context()
	owner := caller(c).account.Name
	sess, err := s.Uploads.Get(ctx, c.Param("id"), owner)
	if err != nil {
		s.uploadError(c, err)
		return
	}
	// A failed job gives its claim up here; Abort refuses an upload a job still holds.
	_, _, err = s.claimedJob(c, sess)
	if err == nil {
		err = s.Uploads.Abort(ctx, sess.ID, owner)
	}
	if err != nil {
		s.uploadError(c, err)
		return
	}
	noContent(c)
}

type attachRequest struct {
	UploadID string `json:"upload_id"`
}

// attachFile seals an upload (every part present, completed, type checked from its first
// bytes: seconds, even for 20 GB) and queues the job that hashes it and adds it to the item;
// the answer is that job. The upload is then done for the librarian: a missing part or a
// refused type is answered now. Asking again returns the same job (a retry after a lost
// answer), or a new one on the same stored file if that job failed.
func (s *Server) attachFile(c *gin.Context) {
	var req attachRequest
	if !s.decode(c, &req) {
		return
	}
	ctx := c.Request.Context()
	actor := caller(c).account
	itemID := c.Param("id")
	if err := s.Library.CheckEditable(ctx, actor, itemID); err != nil {
		s.fail(c, err)
		return
	}
	sess, err := s.Uploads.Get(ctx, req.UploadID, actor.Name)
	if err != nil {
		s.uploadError(c, err)
		return
	}
	jobID, job, err := s.claimedJob(c, sess)
	if err != nil {
		s.uploadError(c, err)
		return
	}
	created := false
	if job == nil {
		// No job recorded yet: seal (again, harmlessly), claim, record the job.
		in := library.AttachJob{Item: itemID, Upload: sess.ID}
		if in.Sealed, err = s.Uploads.Seal(ctx, sess.ID, actor.Name); err != nil {
			s.uploadError(c, err)
			return
		}
		if jobID == "" {
			if jobID, err = s.Uploads.Claim(ctx, sess.ID, actor.Name, jobs.NewID()); err != nil {
				s.uploadError(c, err)
				return
			}
		}
		var j jobs.Job
		if j, created, err = s.Jobs.CreateOnce(ctx, jobID, "attach", actor.Name, in); err != nil {
			s.fail(c, err)
			return
		}
		job = &j
	}
	var first library.AttachJob
	if job.State != jobs.Failed && (json.Unmarshal(job.Input, &first) != nil || first.Item != itemID) {
		s.fail(c, validate.Errors{{Field: "upload", Code: "upload_attached"}})
		return
	}
	// A job still queued may have lost its event (Redis failed between the two writes), and
	// one running but silent lost its worker: append the event again; a worker begins a job
	// only when it is queued or silent.
	silent := job.State == jobs.Running && time.Since(job.Updated) > library.AttachStale
	if created || job.State == jobs.Queued || silent {
		if err := s.Outbox.Append(ctx, outbox.Event{Kind: "attach", ID: itemID, Ref: jobs.Ref(job.ID)}); err != nil {
			s.fail(c, err)
			return
		}
	}
	job.Input = nil
	c.Header("Location", "/api/v1/jobs/"+job.ID)
	c.JSON(http.StatusAccepted, job)
}

// claimGrace is how long a claim may point at a job not yet recorded: the request that
// claimed it records the job next, within seconds.
const claimGrace = time.Minute

// claimedJob returns the job that holds the session and, once recorded, that job. It
// returns "" when no job holds the session: a job that failed gives its claim up, so that
// the librarian can try again or cancel; so does one whose request never recorded it, after
// claimGrace (a failed job is recorded under its id first, so that request cannot record it
// late).
func (s *Server) claimedJob(c *gin.Context, sess *upload.Session) (string, *jobs.Job, error) {
	if sess.ClaimedBy == "" {
		return "", nil, nil
	}
	ctx := c.Request.Context()
	job, err := s.Jobs.Get(ctx, sess.ClaimedBy)
	switch {
	case errors.Is(err, jobs.ErrNotFound) && time.Since(sess.ClaimedAt) < claimGrace:
		return sess.ClaimedBy, nil, nil // its request may still be recording it
	case errors.Is(err, jobs.ErrNotFound):
		job, err = s.Jobs.Abandon(ctx, sess.ClaimedBy, "attach", sess.Owner, "the request that started this job did not finish")
		if err != nil {
			return "", nil, err
		}
	case err != nil:
		return "", nil, err
	}
	if job.State != jobs.Failed {
		return job.ID, &job, nil
	}
	holder, err := s.Uploads.Release(ctx, sess.ID, sess.Owner, job.ID)
	return holder, nil, err // holder: another request claimed it meanwhile
}

func (s *Server) getJob(c *gin.Context) {
	j, err := s.Jobs.Get(c.Request.Context(), c.Param("id"))
	if errors.Is(err, jobs.ErrNotFound) {
		s.abort(c, problem.NotFound)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if actor := caller(c).account; j.Owner != actor.Name && actor.Role != "admin" {
		s.abort(c, problem.NotFound)
		return
	}
	j.Input = nil
	j.Observe(time.Now(), jobs.StallAfter)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, j)
}
