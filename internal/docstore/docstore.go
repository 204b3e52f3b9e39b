// Package docstore keeps the product's records as JSON documents in MinIO, the system of
// record. Writes are optimistic: a caller names the ETag it read, and MinIO refuses the write
// when the object changed since (If-Match), or when it should not exist yet (If-None-Match).
// The bucket is versioned, so every earlier state of a record stays recoverable.
package docstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shizuishan/culturecloud/storage"
)

// The errors of Get and Put are the storage kinds, so that errors.Is works with either name.
var (
	// ErrNotFound: no document under that key.
	ErrNotFound = storage.ErrNotFound
	// ErrPrecondition: the document changed since it was read, or already exists.
	ErrPrecondition = storage.ErrPrecondition
)

// maxDocBytes bounds one record; records are small, media lives elsewhere.
const maxDocBytes = 4 << 20

// Options configure Connect: the object store's, whose Timeout also bounds each document
// request, so that a dead MinIO gives a quick 503 rather than a hang.
type Options = storage.Options

// Store reads and writes JSON documents in one bucket.
type Store struct {
	objects *storage.Store
	timeout time.Duration
}

// Connect connects the object store and keeps documents in it; it does not contact MinIO.
func Connect(o Options) (*Store, error) {
	objects, err := storage.Connect(o)
	if err != nil {
		return nil, fmt.Errorf("docstore: %w", err)
	}
	return New(objects, o.Timeout), nil
}

// New keeps documents in objects, each request bounded by timeout.
func New(objects *storage.Store, timeout time.Duration) *Store {
	return &Store{objects: objects, timeout: timeout}
}

// Objects is the object store the documents live in, for the files beside them.
func (s *Store) Objects() *storage.Store { return s.objects }

// Bucket is the bucket name.
func (s *Store) Bucket() string { return s.objects.Bucket() }

// Setup creates the bucket if needed and turns versioning on.
func (s *Store) Setup(ctx context.Context) error { return s.objects.Setup(ctx) }

// Versioned reports whether versioning is on for the bucket.
func (s *Store) Versioned(ctx context.Context) (bool, error) { return s.objects.Versioned(ctx) }

// Check answers whether MinIO serves the bucket right now.
func (s *Store) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.objects.Check(ctx)
}

// Get decodes the document at key into v and returns its ETag.
func (s *Store) Get(ctx context.Context, key string, v any) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	data, info, err := s.objects.ReadAll(ctx, key, maxDocBytes)
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return "", fmt.Errorf("docstore: decode %s: %w", key, err)
	}
	return info.ETag, nil
}

// Condition says when a Put may replace what is stored.
type Condition struct {
	ifMatch     string
	ifNoneMatch bool
}

// Always writes whatever is stored.
func Always() Condition { return Condition{} }

// Create writes only when nothing is stored under the key.
func Create() Condition { return Condition{ifNoneMatch: true} }

// Match writes only when the stored document still has this ETag.
func Match(etag string) Condition { return Condition{ifMatch: etag} }

// Put encodes v as the document at key, if cond holds, and returns the new ETag.
func (s *Store) Put(ctx context.Context, key string, v any, cond Condition) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("docstore: encode %s: %w", key, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	info, err := s.objects.PutBytes(ctx, key, data, storage.PutOptions{ContentType: "application/json",
		IfAbsent: cond.ifNoneMatch, IfMatch: cond.ifMatch})
	if err != nil {
		return "", err
	}
	return info.ETag, nil
}

// Delete removes the document at key (its earlier versions stay in the versioned bucket).
func (s *Store) Delete(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.objects.Remove(ctx, key, "")
}

// Purge removes the document at key with every earlier version, for short-lived documents
// (such as spooled events) that the versioned bucket should not keep forever.
func (s *Store) Purge(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.objects.Purge(ctx, key)
}

// List returns the keys under prefix, in key order.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.objects.Keys(ctx, prefix)
}

// SameVersion reports whether ifMatch, the version a client read (an If-Match value, with
// or without its quotes), is still etag, the version stored.
func SameVersion(ifMatch, etag string) bool {
	return strings.Trim(ifMatch, `"`) == strings.Trim(etag, `"`)
}

// IDs lists the ids of the records stored as "<prefix><id>.json" that valid accepts, in key
// order.
func (s *Store) IDs(ctx context.Context, prefix string, valid func(id string) bool) ([]string, error) {
	keys, err := s.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		if id := strings.TrimSuffix(strings.TrimPrefix(k, prefix), ".json"); valid(id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}
