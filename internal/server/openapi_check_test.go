package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	validator "github.com/pb33f/libopenapi-validator"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/router"
)

// The contract validator is built once per test binary: compiling every schema of the
// document is costly, and the validator is safe for concurrent use.
var contract struct {
	once   sync.Once
	v      validator.Validator
	router router.Router
	err    error
}

func contractValidator(t testing.TB) (validator.Validator, router.Router) {
	t.Helper()
	contract.once.Do(func() {
		doc, model := loadOpenAPI(t)
		contract.router = router.NewRouter(model, router.WithPathOnlyMatching())
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			contract.err = fmt.Errorf("contract validator: %v", errs)
		}
		contract.v = v
	})
	if contract.err != nil {
		t.Fatal(contract.err)
	}
	return contract.v, contract.router
}

// fileTail matches the routes whose last parameter spans several segments (a file's path
// inside an item); OpenAPI cannot say so, so the check sees the tail as one segment.
var fileTail = regexp.MustCompile(`^(/api/v1/items/[^/]+/files/)(.+)$`)

// checkContract holds one API exchange of the test suite against /api/openapi.json, so
// the document cannot drift from the code. The response is always checked. The request
// is checked only when the server accepted it (status below 400) and the test did not
// send a broken body on purpose (malformed): refusing bad requests is the server's job,
// and what the document must then describe is the problem answer.
func checkContract(t testing.TB, req *http.Request, reqBody []byte, malformed bool, status int, header http.Header, body []byte) {
	t.Helper()
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return
	}
	v, routes := contractValidator(t)
	replay := req.Clone(req.Context())
	if m := fileTail.FindStringSubmatch(req.URL.Path); m != nil {
		u := *req.URL
		u.Path = m[1] + strings.ReplaceAll(m[2], "/", "%2F")
		u.RawPath = ""
		replay.URL = &u
	}
	if _, err := routes.FindRoute(replay); err != nil && (status == http.StatusNotFound || status == http.StatusMethodNotAllowed) {
		return // neither the server nor the document knows the path: they agree
	}
	replay.Body = io.NopCloser(bytes.NewReader(reqBody))
	replay.ContentLength = int64(len(reqBody))
	var errs []*verrors.ValidationError
	if status < 400 && !malformed {
		_, reqErrs := v.ValidateHttpRequestSync(replay)
		errs = append(errs, reqErrs...)
		replay.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp := &http.Response{
		StatusCode: status, Header: header, Request: replay,
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
	}
	_, respErrs := v.ValidateHttpResponse(replay, resp)
	errs = append(errs, respErrs...)
	if len(errs) == 0 {
		return
	}
	var msg strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&msg, "\n  %s", e.Error())
		for _, se := range e.SchemaValidationErrors {
			fmt.Fprintf(&msg, "\n    %s (at %s)", se.Reason, se.FieldPath)
		}
	}
	t.Errorf("%s %s → %d does not match /api/openapi.json:%s\n  request body: %.300s\n  response body: %.300s",
		req.Method, req.URL.RequestURI(), status, msg.String(), reqBody, body)
}
