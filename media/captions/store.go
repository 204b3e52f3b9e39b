package captions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"
)

// ContentType is the media type of a stored captions file.
const ContentType = "text/vtt; charset=utf-8"

// maxStoredBytes bounds a read: normalisation may grow a file (a ">" becomes "&gt;").
const maxStoredBytes = 32 << 20

var (
	// ErrNotFound means no captions are stored under the key.
	ErrNotFound = errors.New("captions not found")
	// ErrUnavailable wraps any other failure of the storage.
	ErrUnavailable = errors.New("captions storage unavailable")
)

// Store keeps captions files as objects in a MinIO bucket; the caller chooses the keys.
type Store struct {
	client *minio.Client
	bucket string
}

// NewStore stores captions in bucket through client.
func NewStore(client *minio.Client, bucket string) *Store {
	return &Store{client: client, bucket: bucket}
}

// Put stores data under key as text/vtt, replacing what was there.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	_, err := s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: ContentType})
	if err != nil {
		return fmt.Errorf("%w: put %s: %w", ErrUnavailable, key, err)
	}
	return nil
}

// Get returns what is stored under key, or ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, translate(key, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(io.LimitReader(obj, maxStoredBytes+1))
	if err != nil {
		return nil, translate(key, err)
	}
	if len(data) > maxStoredBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrUnavailable, key, maxStoredBytes)
	}
	return data, nil
}

func translate(key string, err error) error {
	if minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return ErrNotFound
	}
	return fmt.Errorf("%w: get %s: %w", ErrUnavailable, key, err)
}
