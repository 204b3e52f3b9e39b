// Package collections owns curated collections of library items (专题合集): a title, a
// description and an ordered list of items, optionally featured on the home page.
package collections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/ids"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/validate"
)

var (
	// ErrNotFound means no collection with that id.
	ErrNotFound = errors.New("collection not found")
	// ErrStale means the collection changed since the caller read it.
	ErrStale = errors.New("collection changed since it was read")
)

const (
	prefix   = "records/collections/"
	maxItems = 500
)

// Collection is the stored record.
type Collection struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	Featured    bool      `json:"featured"`
	Unit        string    `json:"unit"`
	Items       []string  `json:"items"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	UpdatedAt   time.Time `json:"updated_at"`
	Version     string    `json:"-"`
}

// Input is what a librarian edits.
type Input struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Featured    bool     `json:"featured"`
	Unit        string   `json:"unit"`
	Items       []string `json:"items"`
}

// Service reads and writes collections.
type Service struct {
	docs  *docstore.Store
	items *library.Service
	units accounts.UnitSource
}

// New wires a Service.
func New(docs *docstore.Store, items *library.Service, unitSource accounts.UnitSource) *Service {
	return &Service{docs: docs, items: items, units: unitSource}
}

func key(id string) string { return prefix + id + ".json" }

func validID(id string) bool { return ids.Valid(id, "col") }

func newID() string { return ids.New("col") }

// Get reads one collection.
func (s *Service) Get(ctx context.Context, id string) (Collection, error) {
	if !validID(id) {
		return Collection{}, ErrNotFound
	}
	var c Collection
	etag, err := s.docs.Get(ctx, key(id), &c)
	if errors.Is(err, docstore.ErrNotFound) {
		return Collection{}, ErrNotFound
	}
	if err != nil {
		return Collection{}, err
	}
	c.Version = etag
	return c, nil
}

// List reads every collection, featured first, then newest.
func (s *Service) List(ctx context.Context) ([]Collection, error) {
	keys, err := s.docs.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	out := []Collection{}
	for _, k := range keys {
		c, err := s.Get(ctx, strings.TrimSuffix(strings.TrimPrefix(k, prefix), ".json"))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(a, b Collection) int {
		if a.Featured != b.Featured {
			if a.Featured {
				return -1
			}
			return 1
		}
		return b.CreatedAt.Compare(a.CreatedAt)
	})
	return out, nil
}

func (s *Service) check(ctx context.Context, actor accounts.Account, in *Input) error {
	in.Title, in.Description, in.Unit = strings.TrimSpace(in.Title), strings.TrimSpace(in.Description), strings.TrimSpace(in.Unit)
	var errs validate.Errors
	errs.Text("title", in.Title, true, 1, 100)
	errs.Text("description", in.Description, false, 0, 2000)
	tree, _, err := s.units.LoadUnits(ctx)
	if err != nil {
		return err
	}
	if _, ok := tree.Get(in.Unit); !ok {
		errs.Add("unit", "unit")
	}
	if len(in.Items) > maxItems {
		errs.Add("items", "too_many", maxItems)
	}
	seen := map[string]bool{}
	for i, id := range in.Items {
		if seen[id] {
			errs.Add(fmt.Sprintf("items[%d]", i), "duplicate")
			continue
		}
		seen[id] = true
		it, err := s.items.Get(ctx, id)
		if err != nil && !errors.Is(err, library.ErrNotFound) {
			return err
		}
		if err != nil || !library.CanSee(actor, it, &tree) {
			errs.Add(fmt.Sprintf("items[%d]", i), "unknown_item")
		}
	}
	if err := errs.Err(); err != nil {
		return err
	}
	if !library.CanEdit(actor, in.Unit, &tree) {
		return library.ErrForbidden
	}
	return nil
}

// Create stores a new collection.
func (s *Service) Create(ctx context.Context, actor accounts.Account, in Input) (Collection, error) {
	if err := s.check(ctx, actor, &in); err != nil {
		return Collection{}, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	c := Collection{ID: newID(), Title: in.Title, Description: in.Description, Featured: in.Featured, Unit: in.Unit,
		Items: append([]string{}, in.Items...), CreatedAt: now, CreatedBy: actor.Name, UpdatedAt: now}
	etag, err := s.docs.Put(ctx, key(c.ID), c, docstore.Create())
	if err != nil {
		return Collection{}, err
	}
	c.Version = etag
	return c, nil
}

// Update replaces a collection if it is still at version ifMatch.
func (s *Service) Update(ctx context.Context, actor accounts.Account, id, ifMatch string, in Input) (Collection, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return Collection{}, err
	}
	if !docstore.SameVersion(ifMatch, c.Version) {
		return Collection{}, ErrStale
	}
	tree, _, err := s.units.LoadUnits(ctx)
	if err != nil {
		return Collection{}, err
	}
	if !library.CanEdit(actor, c.Unit, &tree) {
		return Collection{}, library.ErrForbidden
	}
	if err := s.check(ctx, actor, &in); err != nil {
		return Collection{}, err
	}
	c.Title, c.Description, c.Featured, c.Unit, c.Items = in.Title, in.Description, in.Featured, in.Unit, append([]string{}, in.Items...)
	c.UpdatedAt = time.Now().UTC().Truncate(time.Second)
	etag, err := s.docs.Put(ctx, key(c.ID), c, docstore.Match(c.Version))
	if errors.Is(err, docstore.ErrPrecondition) {
		return Collection{}, ErrStale
	}
	if err != nil {
		return Collection{}, err
	}
	c.Version = etag
	return c, nil
}
