// Package docstore keeps the product's records as JSON documents in MinIO, the system of
// record. Writes are optimistic: a caller names the ETag it read, and MinIO refuses the write
// when the object changed since (If-Match), or when it should not exist yet (If-None-Match).
// The bucket is versioned, so every earlier state of a record stays recoverable.
package docstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/shizuishan/culturecloud/internal/dep"
)

var (
	// ErrNotFound: no document under that key.
	ErrNotFound = errors.New("document not found")
	// ErrPrecondition: the document changed since it was read, or already exists.
	ErrPrecondition = errors.New("document changed or already exists")
)

// maxDocBytes bounds one record; records are small, media lives elsewhere.
const maxDocBytes = 4 << 20

// Options configure Connect.
type Options struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	Bucket    string
	UseTLS    bool
	// Timeout bounds one request, so that a dead MinIO gives a quick 503 rather than a hang.
	Timeout time.Duration
}

// Store reads and writes JSON documents in one bucket.
type Store struct {
	client  *minio.Client
	long    *minio.Client
	bucket  string
	timeout time.Duration
}

// Connect builds the client; it does not contact MinIO.
func Connect(o Options) (*Store, error) {
	tr, err := minio.DefaultTransport(o.UseTLS)
	if err != nil {
		return nil, err
	}
	tr.DialContext = (&net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = o.Timeout
	client, err := minio.New(o.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(o.AccessKey, o.SecretKey, ""),
		Secure:    o.UseTLS,
		Transport: tr,
		// One retry at most: the HTTP request waiting on us has its own deadline.
		MaxRetries: 2,
	})
	if err != nil {
		return nil, fmt.Errorf("docstore: %w", err)
	}
	// Server-side copies and completions of multi-GB files answer only when done, so the
	// client for them has no response-header timeout; callers bound them with a context.
	longTr, err := minio.DefaultTransport(o.UseTLS)
	if err != nil {
		return nil, err
	}
	longTr.DialContext = tr.DialContext
	long, err := minio.New(o.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(o.AccessKey, o.SecretKey, ""), Secure: o.UseTLS, Transport: longTr, MaxRetries: 2,
	})
	if err != nil {
		return nil, fmt.Errorf("docstore: %w", err)
	}
	return &Store{client: client, long: long, bucket: o.Bucket, timeout: o.Timeout}, nil
}

// LongClient is a MinIO client for transfers that may take minutes (file copies, upload
// completion, hashing reads): no response timeout of its own.
func (s *Store) LongClient() *minio.Client { return s.long }

// Client exposes the MinIO client for media code that streams files.
func (s *Store) Client() *minio.Client { return s.client }

// Bucket is the bucket name.
func (s *Store) Bucket() string { return s.bucket }

// Setup creates the bucket if needed and turns versioning on.
func (s *Store) Setup(ctx context.Context) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return dep.Unavailable(dep.MinIO, err)
	}
	if !exists {
		if err := s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{}); err != nil {
			return dep.Unavailable(dep.MinIO, fmt.Errorf("make bucket %s: %w", s.bucket, err))
		}
	}
	if err := s.client.EnableVersioning(ctx, s.bucket); err != nil {
		return dep.Unavailable(dep.MinIO, fmt.Errorf("enable versioning: %w", err))
	}
	return nil
}

// Versioned reports whether versioning is on for the bucket.
func (s *Store) Versioned(ctx context.Context) (bool, error) {
	cfg, err := s.client.GetBucketVersioning(ctx, s.bucket)
	if err != nil {
		return false, dep.Unavailable(dep.MinIO, err)
	}
	return cfg.Enabled(), nil
}

// Check answers whether MinIO serves the bucket right now.
func (s *Store) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return dep.Unavailable(dep.MinIO, err)
	}
	if !ok {
		return dep.Unavailable(dep.MinIO, fmt.Errorf("bucket %s missing", s.bucket))
	}
	return nil
}

// Get decodes the document at key into v and returns its ETag.
func (s *Store) Get(ctx context.Context, key string, v any) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return "", translate(err)
	}
	defer obj.Close()
	// Read first, then Stat: Stat before reading sends a HEAD and then a GET bound to the
	// HEAD's ETag, which a write in between turns into a spurious precondition failure.
	data, err := io.ReadAll(io.LimitReader(obj, maxDocBytes+1))
	if err != nil {
		return "", translate(err)
	}
	info, err := obj.Stat()
	if err != nil {
		return "", translate(err)
	}
	if len(data) > maxDocBytes {
		return "", fmt.Errorf("docstore: %s is larger than %d bytes", key, maxDocBytes)
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
	opts := minio.PutObjectOptions{ContentType: "application/json"}
	switch {
	case cond.ifNoneMatch:
		opts.SetMatchETagExcept("*")
	case cond.ifMatch != "":
		opts.SetMatchETag(strings.Trim(cond.ifMatch, `"`))
	}
	info, err := s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		return "", translate(err)
	}
	return info.ETag, nil
}

// Delete removes the document at key (its earlier versions stay in the versioned bucket).
func (s *Store) Delete(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return translate(s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}))
}

// Purge removes the document at key with every earlier version, for short-lived documents
// (such as spooled events) that the versioned bucket should not keep forever.
func (s *Store) Purge(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if obj.Err != nil {
			return translate(obj.Err)
		}
		if obj.Key != key {
			continue
		}
		if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{VersionID: obj.VersionID}); err != nil {
			return translate(err)
		}
	}
	return nil
}

// List returns the keys under prefix, in key order.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var keys []string
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, translate(obj.Err)
		}
		keys = append(keys, obj.Key)
	}
	return keys, nil
}

// translate maps MinIO answers to this package's errors; anything unexpected means MinIO
// did not do its job, which callers report as the dependency being unavailable.
func translate(err error) error {
	if err == nil {
		return nil
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == "NoSuchKey" || resp.StatusCode == http.StatusNotFound && resp.Code != "NoSuchBucket":
		return ErrNotFound
	case resp.Code == "PreconditionFailed" || resp.StatusCode == http.StatusPreconditionFailed:
		return ErrPrecondition
	}
	return dep.Unavailable(dep.MinIO, err)
}
