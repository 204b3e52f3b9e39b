// Package indexer keeps Meilisearch in step with the records in MinIO: it consumes the
// outbox and, on start and then periodically, reconciles every record, so that an event lost
// while Redis or Meilisearch was down is repaired.
package indexer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/courses"
	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/exhibitions"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/outbox"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/search"
)

// Indexer turns records into search documents.
type Indexer struct {
	items      *library.Service
	popularity Popularity
	thumbs     Thumbs
	courses    *courses.Service
	// exhibitions is nil where nobody wired them (the index then stays empty).
	exhibitions *exhibitions.Service
	accounts    *accounts.Store
	units       accounts.UnitSource
	search      *search.Client
	outbox      *outbox.Outbox
	log         *slog.Logger
}

// New wires an Indexer.
func New(acc *accounts.Store, items *library.Service, popularity Popularity, thumbs Thumbs, unitSource accounts.UnitSource,
	sc *search.Client, ob *outbox.Outbox, log *slog.Logger) *Indexer {
	return &Indexer{accounts: acc, items: items, popularity: popularity, thumbs: thumbs, units: unitSource, search: sc, outbox: ob, log: log}
}

// Run consumes the outbox and reconciles every interval, until ctx ends.
func (ix *Indexer) Run(ctx context.Context, consumer string, interval time.Duration) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		ix.outbox.Consume(ctx, "indexer", consumer, ix.Handle)
	}()
	for {
		if err := ix.Reconcile(ctx); err != nil && ctx.Err() == nil {
			ix.log.WarnContext(ctx, "reconcile failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			<-done
			return
		case <-time.After(interval):
		}
	}
}

// Handle indexes the record an event names.
func (ix *Indexer) Handle(ctx context.Context, ev outbox.Event) error {
	var err error
	switch ev.Kind {
	case "account":
		err = ix.indexAccount(ctx, ev.ID)
	case "item":
		err = ix.indexItem(ctx, ev.ID)
	case "course":
		err = ix.indexCourse(ctx, ev.ID)
	case "exhibition":
		err = ix.indexExhibition(ctx, ev.ID)
	default:
		return nil // another consumer group's event (e.g. derivative jobs)
	}
	if dep.IsUnavailable(err) {
		return fmt.Errorf("%w: %w", outbox.ErrRetry, err)
	}
	return err
}

func (ix *Indexer) indexAccount(ctx context.Context, name string) error {
	a, err := ix.accounts.Get(ctx, name)
	if errors.Is(err, accounts.ErrNotFound) {
		task, err := ix.search.Delete(ctx, search.AccountsIndex, search.DocID(name))
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
	task, err := ix.search.Upsert(ctx, search.AccountsIndex, []search.AccountDoc{AccountDoc(a, &tree)})
	if err != nil {
		return err
	}
	// Waiting makes a rejected document show up here, as a dead letter, not vanish.
	return ix.search.Wait(ctx, task)
}

// Reconcile upserts every account and every published item, in batches. (Items withdrawn
// while their event was lost are removed by `culturecloud reindex`.)
func (ix *Indexer) Reconcile(ctx context.Context) error {
	if err := ix.reconcileAccounts(ctx); err != nil {
		return err
	}
	if err := ix.reconcileCourses(ctx); err != nil {
		return err
	}
	if err := ix.reconcileExhibitions(ctx); err != nil {
		return err
	}
	if err := ix.AllItemDocs(ctx, func(docs []search.ItemDoc) error { return ix.upsertWait(ctx, search.StaffItemsIndex, docs) }); err != nil {
		return err
	}
	return ix.PublishedItemDocs(ctx, func(docs []search.ItemDoc) error { return ix.upsertWait(ctx, search.ItemsIndex, docs) })
}

// RebuildAccounts builds a fresh accounts index and swaps it in.
func (ix *Indexer) RebuildAccounts(ctx context.Context) error {
	def, _ := search.IndexNamed(search.AccountsIndex)
	return ix.search.Rebuild(ctx, def, func(add func(docs any) error) error {
		return ix.accountDocs(ctx, func(docs []search.AccountDoc) error { return add(docs) })
	})
}

func (ix *Indexer) reconcileAccounts(ctx context.Context) error {
	return ix.accountDocs(ctx, func(docs []search.AccountDoc) error {
		task, err := ix.search.Upsert(ctx, search.AccountsIndex, docs)
		if err != nil {
			return err
		}
		return ix.search.Wait(ctx, task)
	})
}

func (ix *Indexer) accountDocs(ctx context.Context, add func(docs []search.AccountDoc) error) error {
	names, err := ix.accounts.Names(ctx)
	if err != nil {
		return err
	}
	tree, _, err := ix.units.LoadUnits(ctx)
	if err != nil {
		return err
	}
	const batch = 500
	docs := make([]search.AccountDoc, 0, batch)
	flush := func() error {
		if len(docs) == 0 {
			return nil
		}
		err := add(docs)
		docs = make([]search.AccountDoc, 0, batch)
		return err
	}
	for _, name := range names {
		a, err := ix.accounts.Get(ctx, name)
		if errors.Is(err, accounts.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		docs = append(docs, AccountDoc(a, &tree))
		if len(docs) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// AccountDoc is the search document of an account.
func AccountDoc(a accounts.Account, tree *units.Tree) search.AccountDoc {
	d := search.AccountDoc{
		ID: search.DocID(a.Name), Name: a.Name, DisplayName: a.DisplayName, Email: a.Email, Role: string(a.Role),
		Unit: a.Unit, Disabled: a.Disabled, CreatedAt: a.CreatedAt.Unix(),
	}
	if a.Unit != "" {
		d.UnitPath = tree.Path(a.Unit)
		if u, ok := tree.Get(a.Unit); ok {
			d.UnitName = u.NameZH + " " + u.NameEN
		}
	}
	return d
}

// WithCourses makes the indexer keep the courses index too.
func (ix *Indexer) WithCourses(c *courses.Service) *Indexer {
	ix.courses = c
	return ix
}
