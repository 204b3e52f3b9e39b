package server

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func httptestLimit(rec *httptest.ResponseRecorder, body []byte, limit int64) io.Reader {
	return http.MaxBytesReader(rec, io.NopCloser(strings.NewReader(string(body))), limit)
}

func TestDecodeJSONClassifies(t *testing.T) {
	type target struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	tests := []struct {
		body, contentType, kind, field string
	}{
		{`{"name":"a","count":1}`, "application/json", "", ""},
		{`{"name":"a"}`, "application/json; charset=utf-8", "", ""},
		{`{"name":1}`, "application/json", "wrong_type", "name"},
		{`{"count":"x"}`, "application/json", "wrong_type", "count"},
		{`{"other":1}`, "application/json", "unknown_field", "other"},
		{`{"name":`, "application/json", "syntax", ""},
		{`{}{}`, "application/json", "trailing", ""},
		{``, "application/json", "empty", ""},
		{`{}`, "text/plain", "media_type", ""},
		{`{}`, "", "media_type", ""},
		{`{"name":"` + strings.Repeat("x", 100) + `"}`, "application/json", "too_large", ""},
	}
	for _, tt := range tests {
		t.Run(tt.kind+tt.body[:min(len(tt.body), 20)], func(t *testing.T) {
			var dst target
			err := decodeJSON(tt.contentType, httptestLimit(httptest.NewRecorder(), []byte(tt.body), 64), &dst)
			if tt.kind == "" {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			var de *decodeError
			if !errors.As(err, &de) || de.kind != tt.kind || de.field != tt.field {
				t.Fatalf("got %#v, want kind %s field %s", err, tt.kind, tt.field)
			}
		})
	}
}
