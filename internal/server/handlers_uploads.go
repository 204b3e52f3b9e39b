package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/attach"
	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/jobs"
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
	if parts != nil { // none stored yet stays an empty list, as the document says, not null
		view.Uploaded = parts
	}
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
	if err := s.Attach.Abort(c.Request.Context(), caller(c).account.Name, c.Param("id")); err != nil {
		s.uploadError(c, err)
		return
	}
	noContent(c)
}

type attachRequest struct {
	UploadID string `json:"upload_id"`
}

// attachFile seals an upload and queues the job that hashes it and adds it to the item; the
// answer is that job (package attach says how asking again is answered).
func (s *Server) attachFile(c *gin.Context) {
	var req attachRequest
	if !s.decode(c, &req) {
		return
	}
	job, err := s.Attach.Start(c.Request.Context(), caller(c).account, c.Param("id"), req.UploadID)
	var upErr *attach.UploadError
	if errors.As(err, &upErr) {
		s.uploadError(c, upErr.Err)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/jobs/"+job.ID)
	c.JSON(http.StatusAccepted, job)
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
