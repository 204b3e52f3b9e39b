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

// Thumbs gives the thumbnail URL of an item, "" when it has none yet.
type Thumbs interface {
	Thumb(ctx context.Context, it library.Item) string
}

// ItemTarget is the name of an item in the view counters.
func ItemTarget(id string) string { return "item:" + id }

// indexItem puts an item into the staff index in any status, and into the public index
// only while it is published.
func (ix *Indexer) indexItem(ctx context.Context, id string) error {
	it, err := ix.items.Get(ctx, id)
	if errors.Is(err, library.ErrNotFound) {
		return ix.deleteEverywhere(ctx, id, search.ItemsIndex, search.StaffItemsIndex)
	}
	if err != nil {
		return err
	}
	tree, _, err := ix.units.LoadUnits(ctx)
	if err != nil {
		return err
	}
	views := ix.views(ctx, []string{id})
	doc := ItemDoc(it, &tree, views[ItemTarget(id)])
	if ix.thumbs != nil {
		doc.Thumb = ix.thumbs.Thumb(ctx, it)
	}
	// Both tasks are queued before waiting: Meilisearch runs them back to back. The public
	// index goes first, so that citizens see a publication or a withdrawal even when the
	// staff index's task is slow (single tasks were seen to take 1.7 s in make bench-library,
	// each commit waiting for a busy disk). An item never published is not in the public
	// index, so its many draft edits cost no deletion there.
	var public []int64
	switch {
	case it.Status == library.Published:
		task, err := ix.search.Upsert(ctx, search.ItemsIndex, []search.ItemDoc{doc})
		if err != nil {
			return err
		}
		public = append(public, task)
	case it.PublishedAt != nil:
		task, err := ix.search.Delete(ctx, search.ItemsIndex, id)
		if err != nil {
			return err
		}
		public = append(public, task)
	}
	staff, err := ix.search.Upsert(ctx, search.StaffItemsIndex, []search.ItemDoc{doc})
	if err != nil {
		return err
	}
	for _, task := range append(public, staff) {
		if err := ix.search.Wait(ctx, task); err != nil {
			return err
		}
	}
	return nil
}

func (ix *Indexer) upsertWait(ctx context.Context, index string, docs any) error {
	task, err := ix.search.Upsert(ctx, index, docs)
	if err != nil {
		return err
	}
	return ix.search.Wait(ctx, task)
}

func (ix *Indexer) deleteEverywhere(ctx context.Context, id string, indexes ...string) error {
	for _, index := range indexes {
		task, err := ix.search.Delete(ctx, index, id)
		if err != nil {
			return err
		}
		if err := ix.search.Wait(ctx, task); err != nil {
			return err
		}
	}
	return nil
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
	return ix.itemDocs(ctx, true, add)
}

// AllItemDocs is PublishedItemDocs for items of every status (the staff index).
func (ix *Indexer) AllItemDocs(ctx context.Context, add func(docs []search.ItemDoc) error) error {
	return ix.itemDocs(ctx, false, add)
}

func (ix *Indexer) itemDocs(ctx context.Context, publishedOnly bool, add func(docs []search.ItemDoc) error) error {
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
			if it.Status == library.Published || !publishedOnly {
				doc := ItemDoc(it, &tree, views[ItemTarget(id)])
				if ix.thumbs != nil {
					doc.Thumb = ix.thumbs.Thumb(ctx, it)
				}
				docs = append(docs, doc)
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

// RebuildItems builds fresh item indexes (public and staff) from MinIO and swaps each in
// atomically (culturecloud reindex).
func (ix *Indexer) RebuildItems(ctx context.Context, progress func(index string, done int)) error {
	for _, name := range []string{search.ItemsIndex, search.StaffItemsIndex} {
		if err := ix.rebuild(ctx, name, progress); err != nil {
			return err
		}
	}
	return nil
}

func (ix *Indexer) rebuild(ctx context.Context, name string, progress func(index string, done int)) error {
	def, _ := search.IndexNamed(name)
	done := 0
	return ix.search.Rebuild(ctx, def, func(add func(docs any) error) error {
		return ix.itemDocs(ctx, name == search.ItemsIndex, func(docs []search.ItemDoc) error {
			if err := add(docs); err != nil {
				return err
			}
			done += len(docs)
			if progress != nil {
				progress(name, done)
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
		u, ok := tree.Get(id)
		if !ok {
			continue
		}
		if u.Kind == "district" || u.Kind == "county" {
			d.District = u.ID
		}
		for _, name := range u.PlaceNames() {
			if !slices.Contains(d.UnitNames, name) {
				d.UnitNames = append(d.UnitNames, name)
			}
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
	d.CreatedAt, d.UpdatedAt, d.Status = it.CreatedAt.Unix(), it.UpdatedAt.Unix(), string(it.Status)
	text := []string{it.Title, it.Place.Name}
	text = append(text, it.Creator...)
	text = append(text, it.Subject...)
	text = append(text, it.Tags...)
	text = append(text, d.UnitNames...)
	d.Pinyin = search.Pinyin(text...)
	if prose := search.PinyinProse(it.Description); prose != "" {
		d.Pinyin += " " + prose
	}
	text = append(text, it.Description)
	d.Grams = search.Bigrams(text...)
	d.Synonyms = search.SynonymsIn(text...)
	return d
}
