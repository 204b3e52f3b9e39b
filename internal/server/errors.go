package server

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/collections"
	"github.com/shizuishan/culturecloud/internal/courses"
	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/exhibitions"
	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/review"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
	"github.com/shizuishan/culturecloud/storage"
)

// lang is the language of the answer: Accept-Language for the API, cookie then header for pages.
func lang(c *gin.Context) i18n.Lang {
	if v, ok := c.Get(ctxLang); ok {
		return v.(i18n.Lang)
	}
	return i18n.Negotiate(c.GetHeader("Accept-Language"))
}

// abort answers with problem details of kind and stops the chain.
func (s *Server) abort(c *gin.Context, kind problem.Kind, args ...any) {
	s.abortWith(c, problem.New(lang(c), kind, args...))
}

func (s *Server) abortWith(c *gin.Context, d problem.Details) {
	d.Instance = c.Request.URL.Path
	d.RequestID = c.GetString(ctxRequestID)
	problem.Write(c.Writer, d)
	c.Abort()
}

// unitName is the unit's display name in l.
func unitName(l i18n.Lang, u units.Unit) string {
	if l == i18n.EN && u.NameEN != "" || u.NameZH == "" {
		return u.NameEN
	}
	return u.NameZH
}

// fieldErrors are the problems of each field, in the caller's language.
func fieldErrors(l i18n.Lang, errs validate.Errors) []problem.FieldError {
	out := make([]problem.FieldError, 0, len(errs))
	for _, v := range errs {
		out = append(out, problem.FieldError{Field: v.Field, Code: v.Code, Message: i18n.T(l, "field."+v.Code, v.Args...)})
	}
	return out
}

// fail translates a domain or dependency error into the answer a client can act on.
func (s *Server) fail(c *gin.Context, err error) { s.abortWith(c, s.problemFor(c, err)) }

// problemFor is the problem a domain or dependency error is to its caller (fail answers it;
// a batch answers one per entry).
func (s *Server) problemFor(c *gin.Context, err error) problem.Details {
	l := lang(c)
	var verrs validate.Errors
	var derr *decodeError
	var unitErr *library.UnitError
	switch {
	case errors.As(err, &unitErr):
		return problem.New(l, problem.OtherUnit, unitName(l, unitErr.Unit))
	case errors.As(err, &derr):
		return decodeProblem(l, derr)
	case errors.As(err, &verrs):
		d := problem.New(l, problem.Validation)
		d.Errors = fieldErrors(l, verrs)
		return d
	case errors.Is(err, accounts.ErrNotFound), errors.Is(err, units.ErrNotFound), errors.Is(err, library.ErrNotFound),
		errors.Is(err, collections.ErrNotFound), errors.Is(err, courses.ErrNotFound), errors.Is(err, lectures.ErrNotFound),
		errors.Is(err, exhibitions.ErrNotFound),
		errors.Is(err, storage.ErrNotFound):
		return problem.New(l, problem.NotFound)
	case errors.Is(err, accounts.ErrExists):
		return problem.New(l, problem.Conflict, c.GetString(ctxConflictName))
	case errors.Is(err, accounts.ErrStale), errors.Is(err, units.ErrChanged), errors.Is(err, library.ErrStale),
		errors.Is(err, collections.ErrStale), errors.Is(err, courses.ErrStale), errors.Is(err, lectures.ErrStale),
		errors.Is(err, exhibitions.ErrStale):
		return problem.New(l, problem.PreconditionFailed)
	case errors.Is(err, accounts.ErrForbidden), errors.Is(err, library.ErrForbidden), errors.Is(err, courses.ErrForbidden),
		errors.Is(err, lectures.ErrForbidden):
		return problem.New(l, problem.Forbidden)
	case errors.Is(err, review.ErrRequired):
		return problem.New(l, problem.ReviewRequired)
	case errors.Is(err, review.ErrOwnWork):
		return problem.New(l, problem.ReviewOwnWork)
	case errors.Is(err, review.ErrAlreadyApproved):
		return problem.New(l, problem.ReviewRepeated)
	case errors.Is(err, accounts.ErrBadCredentials):
		return problem.New(l, problem.BadCredentials)
	case errors.Is(err, accounts.ErrBusy):
		d := problem.New(l, problem.Unavailable, "auth")
		d.RetryAfter = s.Accounts.HashRetryAfter()
		return d
	case errors.Is(err, errUnavailableLive):
		d := problem.New(l, problem.Unavailable, "live")
		d.RetryAfter = 5
		return d
	case errors.Is(err, storage.ErrCorrupt):
		s.log.ErrorContext(c.Request.Context(), "stored bytes are damaged", "err", err, "request_id", c.GetString(ctxRequestID))
		return problem.New(l, problem.Damaged, c.GetString(ctxRequestID))
	case dep.IsUnavailable(err):
		name := dep.Name(err)
		s.metrics.depErrors.WithLabelValues(name).Inc()
		s.log.WarnContext(c.Request.Context(), "dependency unavailable", "dependency", name, "err", err)
		d := problem.New(l, problem.Unavailable, name)
		d.Dependency = name
		d.RetryAfter = 5
		return d
	default:
		s.log.ErrorContext(c.Request.Context(), "internal error", "err", err, "request_id", c.GetString(ctxRequestID))
		return problem.New(l, problem.Internal, c.GetString(ctxRequestID))
	}
}

func decodeProblem(l i18n.Lang, e *decodeError) problem.Details {
	switch e.kind {
	case "media_type":
		return problem.New(l, problem.UnsupportedMediaType)
	case "too_large":
		return problem.New(l, problem.BodyTooLarge, e.limit)
	case "unknown_field":
		d := problem.New(l, problem.BadRequest)
		d.Detail = i18n.T(l, "problem.unknown_field.detail", e.field)
		return d
	case "wrong_type":
		d := problem.New(l, problem.BadRequest)
		d.Detail = i18n.T(l, "problem.wrong_type.detail", e.field, e.expected)
		return d
	}
	return problem.New(l, problem.BadRequest, e.msg)
}

// decode reads the JSON body into dst, answering the client itself when it cannot.
func (s *Server) decode(c *gin.Context, dst any) bool {
	if err := decodeJSON(c.GetHeader("Content-Type"), c.Request.Body, dst); err != nil {
		s.fail(c, err)
		return false
	}
	return true
}

func noContent(c *gin.Context) { c.Status(http.StatusNoContent) }
