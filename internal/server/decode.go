package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// decodeError says why a request body could not be read, in terms a client can fix.
type decodeError struct {
	kind     string // "syntax", "unknown_field", "wrong_type", "too_large", "media_type", "empty", "trailing"
	field    string
	expected string
	limit    int64
	msg      string
}

func (e *decodeError) Error() string { return "decode: " + e.kind + ": " + e.msg }

// decodeJSON reads exactly one JSON object into dst: the right media type, no unknown
// fields, the right types, nothing after it, and no more than the body limit allows.
func decodeJSON(contentType string, body io.Reader, dst any) error {
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "application/json" {
		return &decodeError{kind: "media_type", msg: contentType}
	}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return classify(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &decodeError{kind: "too_large", limit: tooLarge.Limit}
		}
		return &decodeError{kind: "trailing", msg: "data after the JSON object"}
	}
	return nil
}

func classify(err error) error {
	var (
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		tooLarge  *http.MaxBytesError
		invalidUn *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &tooLarge):
		return &decodeError{kind: "too_large", limit: tooLarge.Limit}
	case errors.Is(err, io.EOF):
		return &decodeError{kind: "empty", msg: "empty body"}
	case errors.As(err, &syntax):
		return &decodeError{kind: "syntax", msg: fmt.Sprintf("%v (at byte %d)", syntax, syntax.Offset)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &decodeError{kind: "syntax", msg: "the JSON ends too early"}
	case errors.As(err, &typeErr):
		return &decodeError{kind: "wrong_type", field: typeErr.Field, expected: jsonKind(typeErr.Type.Kind().String())}
	case errors.As(err, &invalidUn):
		return err // a programming error (dst is not a pointer): answered as internal
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return &decodeError{kind: "unknown_field", field: strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)}
	}
	return &decodeError{kind: "syntax", msg: err.Error()}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int64", "int32", "uint", "uint32", "uint64", "float64":
		return "number"
	case "slice", "array":
		return "array"
	}
	return "object"
}
