package upload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"
)

// maxSessionDoc bounds the size of a session document read back from MinIO.
const maxSessionDoc = 64 << 10

func (m *Manager) sessionKey(id string) string { return m.opts.Prefix + "sessions/" + id + ".json" }

func (m *Manager) putSession(ctx context.Context, s *Session) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("upload: encode session: %w", err)
	}
	_, err = m.core.Client.PutObject(ctx, m.opts.Bucket, m.sessionKey(s.ID), bytes.NewReader(b), int64(len(b)),
		minio.PutObjectOptions{ContentType: "application/json"})
	if err != nil {
		return fmt.Errorf("upload: write session: %w", err)
	}
	return nil
}

func (m *Manager) getSession(ctx context.Context, id string) (*Session, error) {
	if !validID(id) {
		return nil, ErrNotFound
	}
	body, _, _, err := m.core.GetObject(ctx, m.opts.Bucket, m.sessionKey(id), minio.GetObjectOptions{})
	if err != nil {
		if isCode(err, "NoSuchKey") {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("upload: read session: %w", err)
	}
	defer body.Close()
	var s Session
	dec := json.NewDecoder(io.LimitReader(body, maxSessionDoc))
	if err := dec.Decode(&s); err != nil {
		if isCode(err, "NoSuchKey") {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("upload: decode session %s: %w", id, err)
	}
	if s.ID != id || s.Parts < 1 {
		return nil, fmt.Errorf("upload: session %s is damaged", id)
	}
	return &s, nil
}

// purge removes every version (and delete marker) of key, so that nothing of it stays in a
// versioned bucket (MinIO lists the "null" version of an unversioned bucket too). A key that
// does not exist is not an error.
func (m *Manager) purge(ctx context.Context, key string) error {
	ctx, cancel := context.WithCancel(ctx) // ends the listing if we return early
	defer cancel()
	for obj := range m.core.Client.ListObjects(ctx, m.opts.Bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if obj.Err != nil {
			return fmt.Errorf("upload: list versions of %s: %w", key, obj.Err)
		}
		if obj.Key != key {
			continue
		}
		err := m.core.RemoveObject(ctx, m.opts.Bucket, key, minio.RemoveObjectOptions{VersionID: obj.VersionID})
		if err != nil && !isCode(err, "NoSuchKey") && !isCode(err, "NoSuchVersion") {
			return fmt.Errorf("upload: remove %s: %w", key, err)
		}
	}
	return nil
}
