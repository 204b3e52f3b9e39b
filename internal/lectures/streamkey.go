package lectures

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/validate"
)

// keyLen is the length of a stream key: 32 random bytes in unpadded base64url.
var keyLen = base64.RawURLEncoding.EncodedLen(32)

// keyDoc is the stored stream key of one lecture. A plain SHA-256 is enough: the key has
// 256 random bits, so there is nothing to guess that a slow hash would protect.
type keyDoc struct {
	SHA256    string    `json:"sha256"`
	RotatedAt time.Time `json:"rotated_at"`
	RotatedBy string    `json:"rotated_by"`
}

func keyKey(id string) string { return keyPrefix + id + ".json" }

func hashKey(k string) string {
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:])
}

// putKey makes a new stream key for lecture id, stores its hash under cond and returns it.
func (s *Service) putKey(ctx context.Context, id, by string, cond docstore.Condition) (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand does not fail on Linux
	k := base64.RawURLEncoding.EncodeToString(b)
	if _, err := s.docs.Put(ctx, keyKey(id), keyDoc{SHA256: hashKey(k), RotatedAt: s.clock(), RotatedBy: by}, cond); err != nil {
		return "", err
	}
	return k, nil
}

// RotateKey replaces the stream key of a scheduled or live lecture and returns the new key,
// shown this once. The old key stops working at once for new connections; a publisher
// already connected stays until it disconnects.
func (s *Service) RotateKey(ctx context.Context, actor accounts.Account, id string) (string, error) {
	l, err := s.Get(ctx, id)
	if err != nil {
		return "", err
	}
	tree, _, err := s.units.LoadUnits(ctx)
	if err != nil {
		return "", err
	}
	if !CanEdit(actor, l, &tree) {
		return "", ErrForbidden
	}
	if l.State != Scheduled && l.State != Live {
		return "", validate.Errors{{Field: "state", Code: "transition"}}
	}
	return s.putKey(ctx, id, actor.Name, docstore.Always())
}

// CheckKey says whether k may publish lecture id now: nil, ErrNotFound, ErrWrongKey (checked
// first, so a wrong key learns nothing about the lecture's state) or ErrNotScheduledNow.
func (s *Service) CheckKey(ctx context.Context, id, k string) error {
	l, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	var doc keyDoc
	_, err = s.docs.Get(ctx, keyKey(id), &doc)
	if errors.Is(err, docstore.ErrNotFound) {
		return ErrWrongKey
	}
	if err != nil {
		return err
	}
	// The length of a key is no secret; its hash is compared in constant time.
	if len(k) != keyLen || subtle.ConstantTimeCompare([]byte(hashKey(k)), []byte(doc.SHA256)) != 1 {
		return ErrWrongKey
	}
	return s.CheckWindow(l)
}
