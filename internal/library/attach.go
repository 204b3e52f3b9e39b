package library

import (
	"context"
	"errors"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/ocfl"
	"github.com/shizuishan/culturecloud/media/upload"
)

// Uploads is what attaching needs of the upload manager.
type Uploads interface {
	Remove(ctx context.Context, key string) error
}

// CheckEditable reports ErrNotFound or ErrForbidden when actor may not change the item.
func (s *Service) CheckEditable(ctx context.Context, actor accounts.Account, id string) error {
	it, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	tree, err := s.tree(ctx)
	if err != nil {
		return err
	}
	if !CanEdit(actor, it.Unit, tree) {
		return Refusal(actor, it, tree)
	}
	return nil
}

// DigestAlgorithm is the digest algorithm of the item's OCFL object: "sha256", or "sha512"
// for an object written before sha256 became the default. A file added to the item must be
// hashed with it (see ocfl.Content); SHA-256 is known of every file anyway.
func (s *Service) DigestAlgorithm(ctx context.Context, id string) (string, error) {
	inv, _, err := s.store.Read(ctx, id)
	if errors.Is(err, ocfl.ErrNotFound) || errors.Is(err, ocfl.ErrBadID) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	return inv.DigestAlgorithm, nil
}

// AddCompleted preserves a completed upload in the item, then removes the staging copy. A
// file that failed the type check never gets here; a retry after a failure here starts from
// the completed upload, not from the parts, and a retry after the file was added (the worker
// died before it could say so) finds it there and adds nothing.
func (s *Service) AddCompleted(ctx context.Context, actor accounts.Account, itemID string, f *upload.File, up Uploads) (Item, File, error) {
	u := Upload{Key: f.Key, Name: f.DisplayName, SafeName: f.SafeName, MediaType: f.MediaType,
		SHA256: f.SHA256, SHA512: f.SHA512, Size: f.Size, ID: f.ID}
	for attempt := 0; ; attempt++ {
		it, added, err := s.AddFile(ctx, actor, itemID, "", u)
		if errors.Is(err, ErrStale) && attempt < 3 {
			continue // someone saved the item meanwhile: add the file to their version
		}
		if err != nil {
			return Item{}, File{}, err
		}
		_ = up.Remove(context.WithoutCancel(ctx), f.Key)
		return it, added, nil
	}
}
