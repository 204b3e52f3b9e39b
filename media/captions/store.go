package captions

import (
	"context"
	"errors"
	"fmt"

	"github.com/shizuishan/culturecloud/storage"
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

// Store keeps captions files as objects in the object store; the caller chooses the keys.
type Store struct {
	objects *storage.Store
}

// NewStore stores captions in objects.
func NewStore(objects *storage.Store) *Store {
	return &Store{objects: objects}
}

// Put stores data under key as text/vtt, replacing what was there.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	_, err := s.objects.PutBytes(ctx, key, data, storage.PutOptions{ContentType: ContentType})
	if err != nil {
		return fmt.Errorf("%w: put %s: %w", ErrUnavailable, key, err)
	}
	return nil
}

// Get returns what is stored under key, or ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	data, _, err := s.objects.ReadAll(ctx, key, maxStoredBytes)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("%w: get %s: %w", ErrUnavailable, key, err)
	}
	return data, nil
}
