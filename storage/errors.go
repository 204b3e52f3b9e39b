package storage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
)

// The kinds of failure every method returns, tested with errors.Is. Callers never see a
// driver error type: a second backend maps its own answers to the same kinds.
var (
	// ErrNotFound: no such object, version or multipart upload.
	ErrNotFound = errors.New("storage: not found")
	// ErrPrecondition: the object changed since it was read (If-Match), or exists already
	// (If-None-Match).
	ErrPrecondition = errors.New("storage: object changed or already exists")
	// ErrRefused: the store understood the request and refused it (a part too small, a
	// digest that does not match the bytes, a range outside the object). Retrying the same
	// request will not help; it is not an outage.
	ErrRefused = errors.New("storage: request refused")
	// ErrCorrupt: the store holds the object but cannot hand back its bytes intact.
	ErrCorrupt = errors.New("storage: stored bytes are damaged")
	// ErrUnavailable: the store did not answer, or failed on its side. It names its
	// dependency (DependencyUnavailable), by which the product tells every dependency failure
	// with one check without this library importing it.
	ErrUnavailable error = unavailableError{}
)

type unavailableError struct{}

func (unavailableError) Error() string                 { return "minio unavailable" }
func (unavailableError) DependencyUnavailable() string { return "minio" }

// Error is a failure of one operation: its kind, and the store's own words for it.
type Error struct {
	Kind    error  // one of the Err* kinds above
	Op      string // e.g. "get", "put", "complete multipart"
	Key     string
	Code    string // the store's error code, when it answered with one
	Message string // the store's message, or the transport's
	err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	b.WriteString(": " + e.Op)
	if e.Key != "" {
		b.WriteString(" " + e.Key)
	}
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Unwrap gives the kind, and the context's error when the caller gave up (so that
// errors.Is(err, context.Canceled) still holds).
func (e *Error) Unwrap() []error {
	if e.err != nil {
		return []error{e.Kind, e.err}
	}
	return []error{e.Kind}
}

// Reason is the store's own words for a failure, for reports to people (fixity).
func Reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		if e.Code != "" {
			return e.Code + ": " + e.Message
		}
		return e.Message
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// corruptCodes are the answers by which MinIO says it holds an object whose bytes no longer
// match their checksums.
var corruptCodes = [...]string{"XMinioObjectTampered", "XMinioStorageFileCorrupt", "XMinioBitrot", "FileCorrupt"}

// unreadableCodes are MinIO's answers when it cannot rebuild an object's bytes: bit rot
// caught by its checksums, or too many drives offline (a single drive says "SlowDownRead" for
// a damaged object). Which of the two it is, settle tells by asking whether the store
// answers at all.
var unreadableCodes = [...]string{"SlowDownRead"}

// unavailableCodes are 4xx answers about the deployment rather than the request: wrong
// credentials, a missing bucket, a skewed clock. The product cannot fix them by changing the
// request, so they count as the store being unavailable.
var unavailableCodes = [...]string{"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "NoSuchBucket",
	"RequestTimeTooSkewed", "XMinioServerNotInitialized", "SlowDown", "XMinioStorageFull"}

// translate maps a minio-go error to an *Error of one of the kinds; nil stays nil.
func translate(op, key string, err error) error {
	if err == nil {
		return nil
	}
	var done *Error
	if errors.As(err, &done) {
		return err
	}
	e := &Error{Op: op, Key: key}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		e.Kind, e.Message, e.err = ErrUnavailable, err.Error(), contextOf(err)
		return e
	}
	resp := minio.ToErrorResponse(err)
	e.Code, e.Message = resp.Code, resp.Message
	if e.Message == "" {
		e.Message = err.Error()
	}
	e.Kind = kindOf(resp)
	return e
}

func kindOf(resp minio.ErrorResponse) error {
	code, status := resp.Code, resp.StatusCode
	switch {
	case code == "":
		return ErrUnavailable // no answer at all: the transport failed
	case slices.Contains(corruptCodes[:], code) || strings.Contains(strings.ToLower(code), "corrupt"):
		return ErrCorrupt
	case slices.Contains(unavailableCodes[:], code):
		return ErrUnavailable
	case code == "NoSuchKey" || code == "NoSuchVersion" || code == "NoSuchUpload" || status == http.StatusNotFound:
		return ErrNotFound
	case code == "PreconditionFailed" || status == http.StatusPreconditionFailed:
		return ErrPrecondition
	case status >= 500:
		return ErrUnavailable
	}
	// A 4xx answer, or minio-go refusing the arguments before sending (status 0).
	return ErrRefused
}

// contextOf is the context's own error, kept in the chain so callers can tell a caller that
// gave up from a store that failed.
func contextOf(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return context.Canceled
}

func errorf(kind error, op, key, format string, args ...any) error {
	return &Error{Kind: kind, Op: op, Key: key, Message: fmt.Sprintf(format, args...)}
}

// settle decides an unreadable object (see unreadableCodes): ErrCorrupt when the store
// still answers, so that the object is to blame; ErrUnavailable otherwise.
func (s *Store) settle(ctx context.Context, err error) error {
	var e *Error
	if !errors.As(err, &e) || !slices.Contains(unreadableCodes[:], e.Code) {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if s.Answers(ctx) == nil {
		settled := *e
		settled.Kind = ErrCorrupt
		return &settled
	}
	return err
}

// NotFoundAs names a missing object in a package's own terms: target when err is
// ErrNotFound, err itself otherwise (nil stays nil).
func NotFoundAs(err, target error) error {
	if errors.Is(err, ErrNotFound) {
		return target
	}
	return err
}
