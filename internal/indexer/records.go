package indexer

import (
	"context"

	"github.com/shizuishan/culturecloud/internal/units"
)

// records is how the indexer reads one kind of docstore record that is public while
// published (courses, exhibitions): its ids, one record (notFound when it is gone), whether
// it is published, and its search document.
type records[R, D any] struct {
	index     string
	ids       func(ctx context.Context) ([]string, error)
	get       func(ctx context.Context, id string) (R, error)
	notFound  func(err error) bool
	published func(r R) bool
	doc       func(r R, tree *units.Tree) D
}

// indexRecord keeps one record in its public index while it is published.
func indexRecord[R, D any](ctx context.Context, ix *Indexer, rs records[R, D], id string) error {
	r, err := rs.get(ctx, id)
	if rs.notFound(err) || err == nil && !rs.published(r) {
		return ix.deleteEverywhere(ctx, id, rs.index)
	}
	if err != nil {
		return err
	}
	tree, _, err := ix.units.LoadUnits(ctx)
	if err != nil {
		return err
	}
	return ix.upsertWait(ctx, rs.index, []D{rs.doc(r, &tree)})
}

// reconcileRecords upserts every published record of the kind.
func reconcileRecords[R, D any](ctx context.Context, ix *Indexer, rs records[R, D]) error {
	ids, err := rs.ids(ctx)
	if err != nil {
		return err
	}
	tree, _, err := ix.units.LoadUnits(ctx)
	if err != nil {
		return err
	}
	var docs []D
	for _, id := range ids {
		r, err := rs.get(ctx, id)
		if rs.notFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if rs.published(r) {
			docs = append(docs, rs.doc(r, &tree))
		}
	}
	if len(docs) == 0 {
		return nil
	}
	return ix.upsertWait(ctx, rs.index, docs)
}
