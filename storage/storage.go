// Package storage is the one adapter to the object store (MinIO, through minio-go): the
// system of record keeps its JSON records, OCFL objects, uploads, derivatives, streams and
// recordings in one versioned bucket. Every method answers with io.ReadCloser and plain
// structs, and every failure is an *Error of one of the kinds ErrNotFound, ErrPrecondition,
// ErrRefused, ErrCorrupt or ErrUnavailable, so that no other package knows the driver. The
// contract every backend must keep is the suite in storage/storagetest.
package storage

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Options configure Connect.
type Options struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	Bucket    string
	UseTLS    bool
	// Timeout bounds the wait for an answer's headers (and a connection), so that a dead
	// store gives a quick error rather than a hang. Long gives a Store without it.
	Timeout time.Duration
	// Connections is how many idle connections to the store are kept for reuse (0: the
	// driver's default, 16); raise it for many readers at once.
	Connections int
}

// Store reads and writes the objects of one bucket.
type Store struct {
	client *minio.Client
	long   *Store // the same bucket without the answer timeout; nil on a long Store
	bucket string
}

// Connect builds the clients; it does not contact the store.
func Connect(o Options) (*Store, error) {
	client, err := newClient(o, o.Timeout)
	if err != nil {
		return nil, err
	}
	// Server-side copies and completions of multi-GB files answer only when done, so the
	// client for them has no answer timeout; callers bound them with a context.
	long, err := newClient(o, 0)
	if err != nil {
		return nil, err
	}
	return &Store{client: client, bucket: o.Bucket, long: &Store{client: long, bucket: o.Bucket}}, nil
}

func newClient(o Options, answerTimeout time.Duration) (*minio.Client, error) {
	tr, err := minio.DefaultTransport(o.UseTLS)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	tr.DialContext = (&net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = answerTimeout
	if o.Connections > 0 {
		tr.MaxIdleConnsPerHost = o.Connections
		tr.MaxIdleConns = max(tr.MaxIdleConns, o.Connections)
	}
	client, err := minio.New(o.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(o.AccessKey, o.SecretKey, ""),
		Secure:    o.UseTLS,
		Transport: tr,
		// One retry at most: the request waiting on us has its own deadline.
		MaxRetries: 2,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return client, nil
}

// Long is the same store for transfers that may take minutes (copies, completions, whole
// reads for hashing): no answer timeout of its own.
func (s *Store) Long() *Store {
	if s.long == nil {
		return s
	}
	return s.long
}

// Bucket is the bucket's name.
func (s *Store) Bucket() string { return s.bucket }

// Setup creates the bucket if needed and turns versioning on.
func (s *Store) Setup(ctx context.Context) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return translate("bucket exists", s.bucket, err)
	}
	if !exists {
		if err := s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{}); err != nil {
			return translate("make bucket", s.bucket, err)
		}
	}
	return translate("enable versioning", s.bucket, s.client.EnableVersioning(ctx, s.bucket))
}

// Versioned reports whether versioning is on for the bucket.
func (s *Store) Versioned(ctx context.Context) (bool, error) {
	cfg, err := s.client.GetBucketVersioning(ctx, s.bucket)
	if err != nil {
		return false, translate("get versioning", s.bucket, err)
	}
	return cfg.Enabled(), nil
}

// Answers reports whether the store answers signed requests now (the bucket may be missing).
func (s *Store) Answers(ctx context.Context) error {
	_, err := s.client.BucketExists(ctx, s.bucket)
	return translate("bucket exists", s.bucket, err)
}

// Check answers whether the store serves the bucket right now.
func (s *Store) Check(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return translate("bucket exists", s.bucket, err)
	}
	if !ok {
		return errorf(ErrUnavailable, "bucket exists", s.bucket, "bucket %s is missing", s.bucket)
	}
	return nil
}
