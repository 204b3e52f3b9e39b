package indexer

import (
	"context"
	"fmt"

	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/search"
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
	return eachRecordDoc(ctx, ix, rs, func(docs []D) error {
		if len(docs) == 0 {
			return nil
		}
		return ix.upsertWait(ctx, rs.index, docs)
	})
}

// eachRecordDoc hands the search documents of every published record of the kind to add, in
// one batch (records are few: hundreds, not the library's hundreds of thousands).
func eachRecordDoc[R, D any](ctx context.Context, ix *Indexer, rs records[R, D], add func(docs []D) error) error {
	ids, err := rs.ids(ctx)
	if err != nil {
		return err
	}
	tree, _, err := ix.units.LoadUnits(ctx)
	if err != nil {
		return err
	}
	docs := []D{}
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
	return add(docs)
}

// rebuildRecords builds a fresh index of the kind's published records and swaps it in, so
// that a record unpublished while its event was lost leaves the index.
func rebuildRecords[R, D any](ctx context.Context, ix *Indexer, rs records[R, D]) error {
	def, ok := search.IndexNamed(rs.index)
	if !ok {
		return fmt.Errorf("rebuild: no index %q", rs.index)
	}
	return ix.search.Rebuild(ctx, def, func(add func(docs any) error) error {
		return eachRecordDoc(ctx, ix, rs, func(docs []D) error {
			if len(docs) == 0 {
				return nil // an empty fresh index is swapped in all the same
			}
			return add(docs)
		})
	})
}

// RebuildRecords rebuilds the indexes of the courses and the exhibitions (those wired).
func (ix *Indexer) RebuildRecords(ctx context.Context) error {
	if ix.courses != nil {
		if err := rebuildRecords(ctx, ix, ix.courseRecords()); err != nil {
			return err
		}
	}
	if ix.exhibitions != nil {
		return rebuildRecords(ctx, ix, ix.exhibitionRecords())
	}
	return nil
}
