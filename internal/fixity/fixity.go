// Package fixity checks that the preserved files of each item still match their digests,
// and keeps the last result of every object in MinIO (fixity/<id>.json) so that staff see
// it beside the item, whichever node or command ran the check.
package fixity

import (
	"context"
	"errors"
	"time"

	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/ocfl"
)

// ErrNeverChecked means no fixity check of that object has been recorded.
var ErrNeverChecked = errors.New("never checked")

// Result is the outcome of checking one object.
type Result struct {
	Object    string          `json:"object"`
	CheckedAt time.Time       `json:"checked_at"`
	Bytes     int64           `json:"bytes"`
	OK        bool            `json:"ok"`
	Damaged   []ocfl.Mismatch `json:"damaged,omitempty"`
}

// Service checks objects and records the results.
type Service struct {
	store *ocfl.Store
	docs  *docstore.Store
	now   func() time.Time
}

// New wires a Service; now is the clock of the recorded check times.
func New(store *ocfl.Store, docs *docstore.Store, now func() time.Time) *Service {
	return &Service{store: store, docs: docs, now: now}
}

func key(id string) string { return "fixity/" + id + ".json" }

// Check re-reads one object and records what it found. An error means the check could not
// be done (MinIO down): damaged files are a result, not an error.
func (s *Service) Check(ctx context.Context, id string, progress func(n int64)) (Result, error) {
	r := Result{Object: id}
	damaged, err := s.store.CheckObject(ctx, id, func(n int64) {
		r.Bytes = n
		if progress != nil {
			progress(n)
		}
	})
	if err != nil {
		return r, err
	}
	r.CheckedAt, r.OK, r.Damaged = s.now().UTC(), len(damaged) == 0, damaged
	if _, err := s.docs.Put(ctx, key(id), r, docstore.Always()); err != nil {
		return r, err
	}
	return r, nil
}

// Last is the recorded result of the latest check of an object.
func (s *Service) Last(ctx context.Context, id string) (Result, error) {
	var r Result
	_, err := s.docs.Get(ctx, key(id), &r)
	if errors.Is(err, docstore.ErrNotFound) {
		return r, ErrNeverChecked
	}
	return r, err
}
