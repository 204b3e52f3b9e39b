// Package problem is the API's error format: RFC 9457 problem details, with a stable type
// per kind of problem and a title and detail in the caller's language.
package problem

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/shizuishan/culturecloud/internal/i18n"
)

// ContentType is the media type of every error answer.
const ContentType = "application/problem+json"

// Kind is a stable name of a problem; the type URI is derived from it.
type Kind string

const (
	BadRequest Kind = "bad_request"
	// BadQuery: query parameters (filters of a list) that are not valid; Errors names each.
	BadQuery             Kind = "bad_query"
	BodyTooLarge         Kind = "body_too_large"
	UnsupportedMediaType Kind = "unsupported_media_type"
	Validation           Kind = "validation"
	Unauthorized         Kind = "unauthorized"
	BadCredentials       Kind = "bad_credentials"
	Forbidden            Kind = "forbidden"
	// OtherUnit: a member of staff asked to change a record of a unit outside theirs.
	OtherUnit        Kind = "other_unit"
	CSRF             Kind = "csrf"
	NotFound         Kind = "not_found"
	MethodNotAllowed Kind = "method_not_allowed"
	Conflict         Kind = "conflict"
	// NotNow: a lecture cannot go live now (outside its go-live window, or not scheduled).
	NotNow Kind = "not_now"
	// PublisherLost: a live lecture's lecturer is gone for now; viewers wait for a return.
	PublisherLost        Kind = "publisher_lost"
	PreconditionFailed   Kind = "precondition_failed"
	PreconditionRequired Kind = "precondition_required"
	RateLimited          Kind = "rate_limited"
	Unavailable          Kind = "unavailable"
	Internal             Kind = "internal"
	Damaged              Kind = "damaged"
	MetricsToken         Kind = "metrics_token"
	MetricsLoopback      Kind = "metrics_loopback"
	ReviewRequired       Kind = "review_required"
	ReviewOwnWork        Kind = "review_own_work"
	ReviewRepeated       Kind = "review_repeated"
	// ResetLinkInvalid: a password reset link is unknown, used, expired, or older than the
	// account's last password change.
	ResetLinkInvalid Kind = "reset_link_invalid"
)

var statusOf = map[Kind]int{
	BadRequest:           http.StatusBadRequest,
	BadQuery:             http.StatusBadRequest,
	BodyTooLarge:         http.StatusRequestEntityTooLarge,
	UnsupportedMediaType: http.StatusUnsupportedMediaType,
	Validation:           http.StatusUnprocessableEntity,
	Unauthorized:         http.StatusUnauthorized,
	BadCredentials:       http.StatusUnauthorized,
	Forbidden:            http.StatusForbidden,
	OtherUnit:            http.StatusForbidden,
	CSRF:                 http.StatusForbidden,
	NotFound:             http.StatusNotFound,
	MethodNotAllowed:     http.StatusMethodNotAllowed,
	Conflict:             http.StatusConflict,
	NotNow:               http.StatusConflict,
	PublisherLost:        http.StatusConflict,
	PreconditionFailed:   http.StatusPreconditionFailed,
	PreconditionRequired: http.StatusPreconditionRequired,
	RateLimited:          http.StatusTooManyRequests,
	Unavailable:          http.StatusServiceUnavailable,
	Internal:             http.StatusInternalServerError,
	Damaged:              http.StatusInternalServerError,
	MetricsToken:         http.StatusUnauthorized,
	MetricsLoopback:      http.StatusForbidden,
	ReviewRequired:       http.StatusForbidden,
	ReviewOwnWork:        http.StatusForbidden,
	ReviewRepeated:       http.StatusConflict,
	ResetLinkInvalid:     http.StatusBadRequest,
}

// Kinds lists every kind, for documentation and tests.
func Kinds() []Kind {
	out := make([]Kind, 0, len(statusOf))
	for k := range statusOf {
		out = append(out, k)
	}
	return out
}

// TypeURI is the stable identifier of a kind.
func (k Kind) TypeURI() string { return "/problems/" + string(k) }

// Status is the HTTP status that goes with a kind.
func (k Kind) Status() int { return statusOf[k] }

// FieldError is one field that failed validation.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Details is the JSON body.
type Details struct {
	Type       string       `json:"type"`
	Title      string       `json:"title"`
	Status     int          `json:"status"`
	Detail     string       `json:"detail"`
	Instance   string       `json:"instance,omitempty"`
	RequestID  string       `json:"request_id,omitempty"`
	Dependency string       `json:"dependency,omitempty"`
	RetryAfter int          `json:"retry_after,omitempty"`
	Errors     []FieldError `json:"errors,omitempty"`
}

// New builds the details of kind in lang; detailArgs fill the detail text's placeholders.
// Kinds share a title with a related kind where they have no title of their own.
func New(lang i18n.Lang, kind Kind, detailArgs ...any) Details {
	titleKey := "problem." + string(kind) + ".title"
	if !i18n.Has(titleKey) {
		titleKey = "problem.bad_request.title"
	}
	return Details{
		Type:   kind.TypeURI(),
		Title:  i18n.T(lang, titleKey),
		Status: kind.Status(),
		Detail: i18n.T(lang, "problem."+string(kind)+".detail", detailArgs...),
	}
}

// Write sends d as the response.
func Write(w http.ResponseWriter, d Details) {
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Cache-Control", "no-store")
	if d.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(d.RetryAfter))
	}
	w.WriteHeader(d.Status)
	_ = json.NewEncoder(w).Encode(d)
}
