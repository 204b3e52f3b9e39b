package storage

import (
	"errors"
	"fmt"
	"testing"

	"github.com/minio/minio-go/v7"
)

// TestKinds pins the mapping of the store's answers to kinds: the cases the contract suite
// cannot provoke on a healthy server (corruption, credentials, server errors).
func TestKinds(t *testing.T) {
	cases := []struct {
		code   string
		status int
		want   error
	}{
		{"NoSuchKey", 404, ErrNotFound},
		{"NoSuchVersion", 404, ErrNotFound},
		{"NoSuchUpload", 404, ErrNotFound},
		{"NoSuchBucket", 404, ErrUnavailable},
		{"PreconditionFailed", 412, ErrPrecondition},
		{"InvalidPart", 400, ErrRefused},
		{"EntityTooSmall", 400, ErrRefused},
		{"InvalidArgument", 0, ErrRefused},
		{"AccessDenied", 403, ErrUnavailable},
		{"SignatureDoesNotMatch", 403, ErrUnavailable},
		{"InternalError", 500, ErrUnavailable},
		{"SlowDown", 503, ErrUnavailable},
		{"SlowDownRead", 503, ErrUnavailable}, // until settle finds the store answering (TestDamagedBytesAreCorrupt)
		{"XMinioObjectTampered", 412, ErrCorrupt},
		{"XMinioStorageFileCorrupt", 500, ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			err := translate("get", "k", minio.ErrorResponse{Code: c.code, StatusCode: c.status, Message: "words"})
			if !errors.Is(err, c.want) {
				t.Fatalf("%s %d: %v, want %v", c.code, c.status, err, c.want)
			}
			if Reason(err) != c.code+": words" {
				t.Fatalf("reason %q", Reason(err))
			}
			if again := translate("get", "k", fmt.Errorf("wrapped: %w", err)); !errors.Is(again, c.want) {
				t.Fatalf("translating twice lost the kind: %v", again)
			}
		})
	}
	if err := translate("get", "k", errors.New("dial tcp: connection refused")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a transport failure: %v", err)
	}
}
