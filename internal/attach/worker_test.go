package attach_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/shizuishan/culturecloud/internal/attach"
	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/media/upload"
	"github.com/shizuishan/culturecloud/search"
	"github.com/shizuishan/culturecloud/storage"
)

// TestAttachJobWaitsOnlyForWhatPasses: an attach job waits (requeued) for a dependency that
// is down, MinIO failing or not answering, and an item version still claimed by a dead
// writer; it fails, with the reason, for what no waiting changes.
func TestAttachJobWaitsOnlyForWhatPasses(t *testing.T) {
	// wrap is an error of the upload manager, as the job classifies it.
	wrap := func(err error) error { return fmt.Errorf("upload: hash completed object: %w", err) }
	stored := func(kind error, code string) error {
		return &storage.Error{Kind: kind, Op: "get", Key: "uploads/staging/x", Code: code, Message: "as MinIO said"}
	}
	for _, tc := range []struct {
		name string
		err  error
		wait bool
	}{
		{"MinIO does not answer", wrap(stored(storage.ErrUnavailable, "")), true},
		{"MinIO answers 503", wrap(stored(storage.ErrUnavailable, "XMinioServerNotInitialized")), true},
		{"MinIO refuses the request", wrap(stored(storage.ErrRefused, "InvalidPart")), false},
		{"MinIO holds damaged bytes", wrap(stored(storage.ErrCorrupt, "XMinioStorageFileCorrupt")), false},
		{"the uploaded file is gone", wrap(fmt.Errorf("%w: the uploaded file x.png is gone", upload.ErrNotFound)), false},
		{"the object is shorter than the session", wrap(fmt.Errorf("%w: object has 1 bytes", upload.ErrIncomplete)), false},
		{"a refused type", wrap(&upload.TypeError{Detected: "application/x-elf"}), false},
		{"Redis down", dep.Unavailable(dep.Redis, errors.New("i/o timeout")), true},
		{"Meilisearch down", search.ErrUnavailable, true},
		{"the next version is claimed by a dead writer", library.ErrStale, true},
		{"the item is gone", library.ErrNotFound, false},
		{"the librarian may no longer edit it", library.ErrForbidden, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := attach.Retryable(tc.err); got != tc.wait {
				t.Errorf("waits = %v, want %v (%v)", got, tc.wait, tc.err)
			}
		})
	}
}
