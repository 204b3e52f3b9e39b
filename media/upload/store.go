package upload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/shizuishan/culturecloud/storage"
)

// maxSessionDoc bounds the size of a session document read back from MinIO.
const maxSessionDoc = 64 << 10

func (m *Manager) sessionKey(id string) string { return m.opts.Prefix + "sessions/" + id + ".json" }

// errSessionChanged means a conditional session write lost to another writer.
var errSessionChanged = errors.New("upload: session changed concurrently")

// putSession writes the session document; with an etag, only over the version that has it.
func (m *Manager) putSession(ctx context.Context, s *Session, etag string) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("upload: encode session: %w", err)
	}
	_, err = m.objects.PutBytes(ctx, m.sessionKey(s.ID), b, storage.PutOptions{ContentType: "application/json", IfMatch: etag})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrPrecondition):
		return errSessionChanged
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("%w: session %s was removed", ErrNotFound, s.ID)
	}
	return fmt.Errorf("upload: write session: %w", err)
}

func (m *Manager) getSession(ctx context.Context, id string) (*Session, error) {
	s, _, err := m.getSessionETag(ctx, id)
	return s, err
}

// getSessionETag reads a session document and its ETag, for a conditional write.
func (m *Manager) getSessionETag(ctx context.Context, id string) (*Session, string, error) {
	if !validID(id) {
		return nil, "", ErrNotFound
	}
	body, info, err := m.objects.Get(ctx, m.sessionKey(id), storage.GetOptions{})
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, "", ErrNotFound
		}
		return nil, "", fmt.Errorf("upload: read session: %w", err)
	}
	defer body.Close()
	var s Session
	dec := json.NewDecoder(io.LimitReader(body, maxSessionDoc))
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, "", ErrNotFound
		}
		return nil, "", fmt.Errorf("upload: decode session %s: %w", id, err)
	}
	if s.ID != id || s.Parts < 1 {
		return nil, "", fmt.Errorf("upload: session %s is damaged", id)
	}
	return &s, info.ETag, nil
}

// purge removes every version (and delete marker) of key, so that nothing of it stays in a
// versioned bucket (MinIO lists the "null" version of an unversioned bucket too). A key that
// does not exist is not an error.
func (m *Manager) purge(ctx context.Context, key string) error {
	if err := m.objects.Purge(ctx, key); err != nil {
		return fmt.Errorf("upload: remove %s: %w", key, err)
	}
	return nil
}

// openPrefix is where the open-session markers of owner live.
func (m *Manager) openPrefix(owner string) string {
	return m.opts.Prefix + "open/" + url.PathEscape(owner) + "/"
}

// openKey names the session's marker: its id and declared size, so that one listing of the
// owner's markers gives both figures of the quota.
func (m *Manager) openKey(owner, id string, size int64) string {
	return m.openPrefix(owner) + id + "." + strconv.FormatInt(size, 10)
}

// markOpen writes the empty marker of an open session.
func (m *Manager) markOpen(ctx context.Context, s *Session) error {
	_, err := m.objects.PutBytes(ctx, m.openKey(s.Owner, s.ID, s.Size), nil, storage.PutOptions{})
	if err != nil {
		return fmt.Errorf("upload: mark session open: %w", err)
	}
	return nil
}

// purgeOpen removes the session's open marker, every version of it.
func (m *Manager) purgeOpen(ctx context.Context, s *Session) error {
	return m.purge(ctx, m.openKey(s.Owner, s.ID, s.Size))
}

// dropSession removes a session document and its open marker. The marker's key needs the
// declared size, so it is found by listing the owner's markers.
func (m *Manager) dropSession(ctx context.Context, id, owner string) error {
	if err := m.purge(ctx, m.sessionKey(id)); err != nil {
		return err
	}
	prefix := m.openPrefix(owner) + id + "."
	for obj, err := range m.objects.List(ctx, prefix, storage.ListOptions{}) {
		if err != nil {
			return fmt.Errorf("upload: list open markers: %w", err)
		}
		if err := m.purge(ctx, obj.Key); err != nil {
			return err
		}
	}
	return nil
}

// openOf counts the owner's open sessions and the bytes they declared.
func (m *Manager) openOf(ctx context.Context, owner string) (n int, declared int64, err error) {
	for obj, err := range m.objects.List(ctx, m.openPrefix(owner), storage.ListOptions{}) {
		if err != nil {
			return 0, 0, fmt.Errorf("upload: list open markers: %w", err)
		}
		_, size, _ := strings.Cut(strings.TrimPrefix(obj.Key, m.openPrefix(owner)), ".")
		v, _ := strconv.ParseInt(size, 10, 64)
		n, declared = n+1, declared+v
	}
	return n, declared, nil
}
