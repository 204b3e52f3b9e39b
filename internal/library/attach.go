package library

import (
	"context"
	"errors"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/media/upload"
)

// Uploads is what attaching needs of the upload manager.
type Uploads interface {
	Complete(ctx context.Context, id, owner string) (*upload.File, error)
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
		if it.Status != Published {
			return ErrNotFound
		}
		return ErrForbidden
	}
	return nil
}

// AttachUpload completes an upload (checksums, type check) and preserves the file in the
// item. It may take minutes for a large file, so workers run it, not HTTP handlers. A file
// that fails the type check leaves nothing behind; the staging copy is removed once the
// file is in the item.
func (s *Service) AttachUpload(ctx context.Context, actor accounts.Account, itemID, uploadID string, up Uploads) (Item, File, error) {
	if err := s.CheckEditable(ctx, actor, itemID); err != nil {
		return Item{}, File{}, err
	}
	f, err := up.Complete(ctx, uploadID, actor.Name)
	if err != nil {
		return Item{}, File{}, err
	}
	u := Upload{Key: f.Key, Name: f.DisplayName, SafeName: f.SafeName, MediaType: f.MediaType,
		SHA256: f.SHA256, SHA512: f.SHA512, Size: f.Size}
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
