package indexer

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/search"
)

// Popularity gives view totals for the "most viewed" sort; nil means none yet.
type Popularity interface {
	Totals(ctx context.Context, targets []string) (map[string]int64, error)
}

// ItemTarget is the name of an item in the view counters.
func ItemTarget(id string) string { return "item:" + id }

func (ix *Indexer) indexItem(ctx context.Context, id string) error {
	it, err := ix.items.Get(ctx, id)
	if errors.Is(err, library.ErrNotFound) || err == nil && it.Status != library.Published {
		task, err := ix.search.Delete(ctx, search.ItemsIndex, id)
		if err != nil {
			return err
		}
		return ix.search.Wait(ctx, task)
	}
	if err != nil {
		return err
	}
	tree, _, err := ix.units.LoadUnits(ctx)
	if err != nil {
		return err
	}
	views := ix.views(ctx, []string{id})
	task, err := ix.search.Upsert(ctx, search.ItemsIndex, []search.ItemDoc{ItemDoc(it, &tree, views[ItemTarget(id)])})
	if err != nil {
		return err
	}
	return ix.search.Wait(ctx, task)
}

func (ix *Indexer) views(ctx context.Context, ids []string) map[string]int64 {
	if ix.popularity == nil {
		return nil
	}
	targets := make([]string, len(ids))
	for i, id := range ids {
		targets[i] = ItemTarget(id)
	}
	totals, err := ix.popularity.Totals(ctx, targets)
	if err != nil {
		ix.log.WarnContext(ctx, "view totals unavailable; indexing without them", "err", err)
		return nil
	}
	return totals
}

// PublishedItemDocs calls add with batches of the search documents of every published item,
// reading MinIO alone: the basis of reindex and reconcile.
func (ix *Indexer) PublishedItemDocs(ctx context.Context, add func(docs []search.ItemDoc) error) error {
	ids, err := ix.items.IDs(ctx)
	if err != nil {
		return err
	}
	tree, _, err := ix.units.LoadUnits(ctx)
	if err != nil {
		return err
	}
	const batch = 500
	for start := 0; start < len(ids); start += batch {
		chunk := ids[start:min(start+batch, len(ids))]
		views := ix.views(ctx, chunk)
		var docs []search.ItemDoc
		for _, id := range chunk {
			it, err := ix.items.Get(ctx, id)
			if errors.Is(err, library.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if it.Status == library.Published {
				docs = append(docs, ItemDoc(it, &tree, views[ItemTarget(id)]))
			}
		}
		if len(docs) > 0 {
			if err := add(docs); err != nil {
				return err
			}
		}
	}
	return nil
}

// RebuildItems builds a fresh items index from MinIO and swaps it in (culturecloud reindex).
func (ix *Indexer) RebuildItems(ctx context.Context, progress func(done int)) error {
	def, _ := search.IndexNamed(search.ItemsIndex)
	done := 0
	return ix.search.Rebuild(ctx, def, func(add func(docs any) error) error {
		return ix.PublishedItemDocs(ctx, func(docs []search.ItemDoc) error {
			if err := add(docs); err != nil {
				return err
			}
			done += len(docs)
			if progress != nil {
				progress(done)
			}
			return nil
		})
	})
}

// ItemDoc is the search document of a published item.
func ItemDoc(it library.Item, tree *units.Tree, views int64) search.ItemDoc {
	d := search.ItemDoc{
		ID: it.ID, Title: it.Title, Description: it.Description, Creator: it.Creator, Subject: it.Subject,
		Tags: it.Tags, Place: it.Place.Name, Transcript: it.Transcript, Type: it.Type, Theme: it.Theme,
		Unit: it.Unit, UnitPath: tree.Path(it.Unit), Period: it.Period, HasMedia: len(it.Files) > 0,
		Licence: it.Licence, Views: views,
	}
	for _, id := range d.UnitPath {
		if u, ok := tree.Get(id); ok && (u.Kind == "district" || u.Kind == "county") {
			d.District = u.ID
		}
	}
	period := it.Period
	if period == "" {
		period = it.Date
	}
	if p, ok := library.ParsePeriod(period, time.Now()); ok {
		d.YearFrom, d.YearTo, d.Decade = p.From, p.To, p.Decade()
	}
	for _, f := range it.Files {
		if !slices.Contains(d.Format, f.MediaType) {
			d.Format = append(d.Format, f.MediaType)
		}
	}
	if it.PublishedAt != nil {
		d.PublishedAt = it.PublishedAt.Unix()
	}
	text := []string{it.Title, it.Place.Name}
	text = append(text, it.Creator...)
	text = append(text, it.Subject...)
	text = append(text, it.Tags...)
	d.Pinyin = search.Pinyin(text...)
	d.Grams = search.Bigrams(append(text, it.Description)...)
	return d
}
