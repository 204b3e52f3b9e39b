package indexer

import (
	"context"
	"errors"

	"github.com/shizuishan/culturecloud/internal/exhibitions"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/search"
)

func (ix *Indexer) exhibitionRecords() records[exhibitions.Exhibition, search.ExhibitionDoc] {
	return records[exhibitions.Exhibition, search.ExhibitionDoc]{index: search.ExhibitionsIndex, ids: ix.exhibitions.IDs,
		get:       ix.exhibitions.Get,
		notFound:  func(err error) bool { return errors.Is(err, exhibitions.ErrNotFound) },
		published: func(e exhibitions.Exhibition) bool { return e.Status == library.Published }, doc: ExhibitionDoc}
}

// indexExhibition keeps an exhibition in the public index while it is published.
func (ix *Indexer) indexExhibition(ctx context.Context, id string) error {
	if ix.exhibitions == nil {
		return nil
	}
	return indexRecord(ctx, ix, ix.exhibitionRecords(), id)
}

func (ix *Indexer) reconcileExhibitions(ctx context.Context) error {
	if ix.exhibitions == nil {
		return nil
	}
	return reconcileRecords(ctx, ix, ix.exhibitionRecords())
}

// WithExhibitions makes the indexer keep the exhibitions index too.
func (ix *Indexer) WithExhibitions(e *exhibitions.Service) *Indexer {
	ix.exhibitions = e
	return ix
}

// ExhibitionDoc is the search document of a published exhibition.
func ExhibitionDoc(e exhibitions.Exhibition, _ *units.Tree) search.ExhibitionDoc {
	d := search.ExhibitionDoc{ID: e.ID, Title: e.Title, Subtitle: e.Subtitle, Curator: e.Curator, Introduction: e.Introduction,
		Theme: e.Theme, Unit: e.Unit, Permanent: e.Permanent, Sections: len(e.Sections)}
	opens, closes, _ := e.OpenSpan()
	d.OpensAt, d.ClosesAt = opens, closes
	if e.Permanent {
		d.ClosesAt = search.Permanent
	}
	for _, s := range e.Sections {
		d.Exhibits += len(s.Exhibits)
	}
	if e.PublishedAt != nil {
		d.PublishedAt = e.PublishedAt.Unix()
	}
	if e.Cover != nil {
		d.CoverItem, d.CoverFile = e.Cover.Item, e.Cover.File
	}
	d.Pinyin = search.Pinyin(e.Title, e.Subtitle, e.Curator)
	d.Grams = search.Bigrams(e.Title, e.Subtitle, e.Curator, e.Introduction)
	return d
}
