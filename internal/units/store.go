package units

import (
	"context"
	"errors"

	"github.com/shizuishan/culturecloud/internal/docstore"
)

// DocKey is where the tree is stored.
const DocKey = "records/units.json"

// DocStore keeps the tree in the document store.
type DocStore struct {
	docs *docstore.Store
}

// NewDocStore wraps docs.
func NewDocStore(docs *docstore.Store) *DocStore { return &DocStore{docs: docs} }

// LoadUnits reads the tree and its version; a missing tree is empty.
func (s *DocStore) LoadUnits(ctx context.Context) (Tree, string, error) {
	var t Tree
	etag, err := s.docs.Get(ctx, DocKey, &t)
	if errors.Is(err, docstore.ErrNotFound) {
		return Tree{}, "", nil
	}
	return t, etag, err
}

// SaveUnits writes the tree if it is still at version etag ("" means: only if none exists).
func (s *DocStore) SaveUnits(ctx context.Context, t Tree, etag string) (string, error) {
	cond := docstore.Match(etag)
	if etag == "" {
		cond = docstore.Create()
	}
	newTag, err := s.docs.Put(ctx, DocKey, t, cond)
	if errors.Is(err, docstore.ErrPrecondition) {
		return "", ErrChanged
	}
	return newTag, err
}

// Seed stores the tree when none exists yet.
func (s *DocStore) Seed(ctx context.Context, t Tree) (bool, error) {
	_, err := s.SaveUnits(ctx, t, "")
	if errors.Is(err, ErrChanged) {
		return false, nil
	}
	return err == nil, err
}
