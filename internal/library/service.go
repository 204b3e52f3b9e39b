package library

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/ids"
	"github.com/shizuishan/culturecloud/internal/ocfl"
	"github.com/shizuishan/culturecloud/internal/review"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
	"github.com/shizuishan/culturecloud/storage"
)

var (
	// ErrNotFound means no item with that id.
	ErrNotFound = errors.New("item not found")
	// ErrStale means the item has a newer version than the one the caller edited.
	ErrStale = errors.New("item changed since it was read")
	// ErrForbidden means the actor may not change this item.
	ErrForbidden = errors.New("not allowed to change this item")
)

const metadataPath = "metadata.json"

// versionRe is the name of an OCFL version: "v" and a number from 1, without padding.
var versionRe = regexp.MustCompile(`^v[1-9][0-9]*$`)

// Notifier hears about every item written (for the search index and derivative jobs).
type Notifier interface {
	ItemChanged(ctx context.Context, id string)
	// FileAdded hears of a file added at path (derivatives and transcoding follow).
	FileAdded(ctx context.Context, id, path string)
}

// Service reads and writes items.
type Service struct {
	store  *ocfl.Store
	units  accounts.UnitSource
	vocab  *Vocabulary
	notify Notifier
	now    func() time.Time
}

// NewService wires a Service.
func NewService(store *ocfl.Store, unitSource accounts.UnitSource, vocab *Vocabulary, notify Notifier) *Service {
	return &Service{store: store, units: unitSource, vocab: vocab, notify: notify, now: time.Now}
}

// Vocabulary is the controlled vocabulary in use.
func (s *Service) Vocabulary() *Vocabulary { return s.vocab }

// Store is the OCFL store of the items.
func (s *Service) Store() *ocfl.Store { return s.store }

// CanEdit reports whether actor may change items of unit: admins all, librarians their own
// unit and the units below it, and so lecturers, whose lesson recordings are items too.
func CanEdit(actor accounts.Account, unit string, tree *units.Tree) bool {
	switch actor.Role {
	case accounts.Admin:
		return true
	case accounts.Librarian, accounts.Lecturer:
		return tree.Within(actor.Unit, unit)
	}
	return false
}

// CanSee reports whether actor may see the item: anyone a published one, those who may edit
// it every state. Whatever takes an item by reference (a collection, a cover) asks this, and
// treats an item it may not see as one that does not exist.
func CanSee(actor accounts.Account, it Item, tree *units.Tree) bool {
	return it.Status == Published || CanEdit(actor, it.Unit, tree)
}

// UnitError refuses a member of staff a change to an item of a unit outside theirs, and
// says which unit: staff may know that the item exists. The public is told nothing
// (ErrNotFound for an unpublished item).
type UnitError struct{ Unit units.Unit }

func (e *UnitError) Error() string { return "the item belongs to unit " + e.Unit.ID }

// Is makes a UnitError an ErrForbidden to whoever does not need the unit.
func (e *UnitError) Is(target error) bool { return target == ErrForbidden }

// Refusal is the answer to an actor who may not change it.
func Refusal(actor accounts.Account, it Item, tree *units.Tree) error {
	switch actor.Role {
	case accounts.Admin, accounts.Librarian, accounts.Lecturer:
		u, ok := tree.Get(it.Unit)
		if !ok {
			u = units.Unit{ID: it.Unit, NameZH: it.Unit, NameEN: it.Unit}
		}
		return &UnitError{Unit: u}
	}
	if it.Status != Published {
		return ErrNotFound // unpublished items stay unguessable
	}
	return ErrForbidden
}

func newID() string { return ids.New("szm") }

func (s *Service) tree(ctx context.Context) (*units.Tree, error) {
	t, _, err := s.units.LoadUnits(ctx)
	return &t, err
}

// Create stores a new draft item.
func (s *Service) Create(ctx context.Context, actor accounts.Account, f Fields) (Item, error) {
	tree, err := s.tree(ctx)
	if err != nil {
		return Item{}, err
	}
	f.Normalize()
	if err := f.Validate(s.vocab, tree, s.now()); err != nil {
		return Item{}, err
	}
	if !CanEdit(actor, f.Unit, tree) {
		return Item{}, ErrForbidden
	}
	now := s.now().UTC().Truncate(time.Second)
	it := Item{ID: newID(), Status: Draft, Fields: f, Files: []File{}, CreatedAt: now, CreatedBy: actor.Name, UpdatedAt: now, UpdatedBy: actor.Name}
	return s.commit(ctx, it, nil, "", actor, revision{message: "created"})
}

// Get reads the head version of an item.
func (s *Service) Get(ctx context.Context, id string) (Item, error) {
	it, _, _, err := s.load(ctx, id, "")
	return it, err
}

// GetVersion reads an earlier version of an item.
func (s *Service) GetVersion(ctx context.Context, id, version string) (Item, error) {
	it, _, _, err := s.load(ctx, id, version)
	return it, err
}

func (s *Service) load(ctx context.Context, id, version string) (Item, *ocfl.Inventory, string, error) {
	inv, etag, err := s.store.Read(ctx, id)
	if errors.Is(err, ocfl.ErrNotFound) || errors.Is(err, ocfl.ErrBadID) {
		return Item{}, nil, "", ErrNotFound
	}
	if err != nil {
		return Item{}, nil, "", err
	}
	if version == "" {
		version = inv.Head
	}
	if _, ok := inv.Versions[version]; !ok {
		return Item{}, nil, "", ErrNotFound
	}
	data, err := s.store.ReadSmall(ctx, id, inv, version, metadataPath)
	if err != nil {
		return Item{}, nil, "", err
	}
	var it Item
	if err := json.Unmarshal(data, &it); err != nil {
		return Item{}, nil, "", fmt.Errorf("item %s %s: %w", id, version, err)
	}
	it.Version = version
	return it, inv, etag, nil
}

// revision is what one change does to an item's OCFL object, besides its new metadata.
type revision struct {
	message     string
	put         []ocfl.Content
	remove      []string
	restoreFrom string
}

// edit loads the head, checks the version the caller saw and the actor's rights, applies
// change and commits a new version.
func (s *Service) edit(ctx context.Context, actor accounts.Account, id, ifVersion string,
	change func(it *Item, tree *units.Tree) (revision, error)) (Item, error) {
	it, inv, etag, err := s.load(ctx, id, "")
	if err != nil {
		return Item{}, err
	}
	if ifVersion != "" && strings.Trim(ifVersion, `"`) != inv.Head {
		return Item{}, ErrStale
	}
	tree, err := s.tree(ctx)
	if err != nil {
		return Item{}, err
	}
	if !CanEdit(actor, it.Unit, tree) {
		return Item{}, Refusal(actor, it, tree)
	}
	rev, err := change(&it, tree)
	if err != nil {
		return Item{}, err
	}
	it.UpdatedAt, it.UpdatedBy = s.now().UTC().Truncate(time.Second), actor.Name
	return s.commit(ctx, it, inv, etag, actor, rev)
}

func (s *Service) commit(ctx context.Context, it Item, prev *ocfl.Inventory, etag string, actor accounts.Account, rev revision) (Item, error) {
	it.Version = ""
	meta, err := json.MarshalIndent(it, "", "  ")
	if err != nil {
		return Item{}, err
	}
	put := append(rev.put, ocfl.Content{Logical: metadataPath, Data: meta, Type: "application/json"})
	inv, _, err := s.store.Commit(ctx, it.ID, prev, etag, ocfl.Change{
		Put: put, Remove: rev.remove, RestoreFrom: rev.restoreFrom, Message: rev.message, User: ocfl.User{Name: actor.Name},
	}, s.now())
	if errors.Is(err, ocfl.ErrConflict) {
		return Item{}, ErrStale
	}
	if err != nil {
		return Item{}, err
	}
	it.Version = inv.Head
	s.notify.ItemChanged(ctx, it.ID)
	return it, nil
}

// Update replaces the descriptive fields.
func (s *Service) Update(ctx context.Context, actor accounts.Account, id, ifVersion string, f Fields) (Item, error) {
	f.Normalize()
	return s.edit(ctx, actor, id, ifVersion, func(it *Item, tree *units.Tree) (revision, error) {
		if err := f.Validate(s.vocab, tree, s.now()); err != nil {
			return revision{}, err
		}
		if f.Unit != it.Unit && !CanEdit(actor, f.Unit, tree) {
			return revision{}, ErrForbidden
		}
		changed := ChangedFields(it.Fields, f)
		if len(changed) == 0 {
			return revision{}, validate.Errors{{Field: "title", Code: "unchanged"}}
		}
		if f.Type != it.Type {
			it.TypeGuessed = false // chosen by hand: the files no longer decide it
		}
		it.Fields = f
		if it.Status == InReview {
			it.Review.Recall() // reviewers approved other metadata
		}
		return revision{message: "metadata: " + strings.Join(changed, ", ")}, nil
	})
}

// Move takes the item to another workflow status; publishing needs a reviewer (Review)
// unless the item's unit has the review policy none.
func (s *Service) Move(ctx context.Context, actor accounts.Account, id, ifVersion string, to Status) (Item, error) {
	return s.edit(ctx, actor, id, ifVersion, func(it *Item, tree *units.Tree) (revision, error) {
		if to == InReview {
			if err := it.readyForReview(); err != nil {
				return revision{}, err
			}
		}
		msg, err := it.flow().Move(actor.Name, to, tree.ReviewPolicy(it.Unit), s.now().UTC().Truncate(time.Second))
		return revision{message: msg}, err
	})
}

// Review is a reviewer's decision on an item in review. The reviewer needs the rights to
// edit the item and must be neither its submitter nor its creator.
func (s *Service) Review(ctx context.Context, actor accounts.Account, id, ifVersion string, d review.Decision) (Item, error) {
	return s.edit(ctx, actor, id, ifVersion, func(it *Item, tree *units.Tree) (revision, error) {
		msg, err := it.flow().Decide(actor.Name, it.CreatedBy, tree.ReviewPolicy(it.Unit), d, s.now().UTC().Truncate(time.Second))
		return revision{message: msg}, err
	})
}

// PublishBroadcast publishes an item that a system actor made from content the public has
// already seen as it happened (a live lecture's recording): there is nothing left to review
// before publication, and the history says so.
func (s *Service) PublishBroadcast(ctx context.Context, system accounts.Account, id string) (Item, error) {
	return s.edit(ctx, system, id, "", func(it *Item, _ *units.Tree) (revision, error) {
		now := s.now().UTC().Truncate(time.Second)
		f := it.flow()
		if _, err := f.Move(system.Name, InReview, review.None, now); err != nil {
			return revision{}, err
		}
		msg, err := f.Move(system.Name, Published, review.None, now)
		return revision{message: msg + " (broadcast live already: review not needed)"}, err
	})
}

func (it *Item) flow() Flow {
	return Flow{Status: &it.Status, PublishedAt: &it.PublishedAt, Review: &it.Review}
}

// Upload is a completed upload to attach: a staging object and what is known of it.
type Upload struct {
	Key, Name, SafeName, MediaType, SHA256, SHA512 string
	Size                                           int64
	// ID is the upload session's id, kept with the file so that adding the same upload
	// again (a job run twice) changes nothing.
	ID string
}

// errAlreadyAdded ends an edit that would add an upload the item has already.
var errAlreadyAdded = errors.New("upload already added")

// AddFile preserves an uploaded file as part of the item (a server-side copy into the
// item's OCFL object).
func (s *Service) AddFile(ctx context.Context, actor accounts.Account, id, ifVersion string, up Upload) (Item, File, error) {
	var added File
	it, err := s.edit(ctx, actor, id, ifVersion, func(it *Item, _ *units.Tree) (revision, error) {
		for _, f := range it.Files {
			if up.ID != "" && f.Upload == up.ID {
				added = f
				return revision{}, errAlreadyAdded
			}
		}
		logical := uniquePath(it.Files, "files/"+up.SafeName)
		added = File{Path: logical, Name: up.Name, Size: up.Size, MediaType: up.MediaType, SHA256: up.SHA256, SHA512: up.SHA512,
			Upload: up.ID}
		before := it.Files
		it.Files = append(slices.Clip(it.Files), added)
		it.followFiles(before)
		return revision{message: "file added: " + up.Name, put: []ocfl.Content{{Logical: logical, FromKey: up.Key, Size: up.Size,
			SHA512: up.SHA512, SHA256: up.SHA256, Type: up.MediaType}}}, nil
	})
	if errors.Is(err, errAlreadyAdded) {
		// A worker that added it died before it could say so: say it now (a second
		// derivatives event is harmless).
		s.notify.FileAdded(ctx, id, added.Path)
		it, err = s.Get(ctx, id)
		return it, added, err
	}
	if err != nil {
		return Item{}, File{}, err
	}
	s.notify.FileAdded(ctx, id, added.Path)
	return it, added, nil
}

// RemoveFile drops a file from the head version (earlier versions keep it).
func (s *Service) RemoveFile(ctx context.Context, actor accounts.Account, id, ifVersion, path string) (Item, error) {
	return s.edit(ctx, actor, id, ifVersion, func(it *Item, _ *units.Tree) (revision, error) {
		for i, f := range it.Files {
			if f.Path == path {
				before := it.Files
				it.Files = slices.Delete(slices.Clone(it.Files), i, i+1)
				it.followFiles(before)
				return revision{message: "file removed: " + f.Name, remove: []string{path}}, nil
			}
		}
		return revision{}, ErrNotFound
	})
}

// Restore makes an earlier version the new head (as a new version: history is never
// rewritten). The status stays as it is: restoring content neither publishes nor withdraws.
//
// from must name an earlier version ("v2"); anything else, an empty name above all (which
// would read as the head), is a validation error on the field version.
func (s *Service) Restore(ctx context.Context, actor accounts.Account, id, ifVersion, from string) (Item, error) {
	if !versionRe.MatchString(from) {
		if strings.TrimSpace(from) == "" {
			return Item{}, validate.Errors{{Field: "version", Code: "required"}}
		}
		return Item{}, validate.Errors{{Field: "version", Code: "version"}}
	}
	inv, _, err := s.store.Read(ctx, id)
	if errors.Is(err, ocfl.ErrNotFound) || errors.Is(err, ocfl.ErrBadID) {
		return Item{}, ErrNotFound
	}
	if err != nil {
		return Item{}, err
	}
	if _, ok := inv.Versions[from]; !ok {
		return Item{}, validate.Errors{{Field: "version", Code: "version"}}
	}
	old, err := s.GetVersion(ctx, id, from)
	if err != nil {
		return Item{}, err
	}
	return s.edit(ctx, actor, id, ifVersion, func(it *Item, tree *units.Tree) (revision, error) {
		if !CanEdit(actor, old.Unit, tree) {
			return revision{}, ErrForbidden
		}
		status, published := it.Status, it.PublishedAt
		*it = old
		it.Status, it.PublishedAt = status, published
		return revision{message: "restored " + from, restoreFrom: from}, nil
	})
}

// HistoryEntry is one version of an item.
type HistoryEntry struct {
	Version string    `json:"version"`
	Created time.Time `json:"created"`
	User    string    `json:"user"`
	Message string    `json:"message"`
}

// History lists every version, newest first.
func (s *Service) History(ctx context.Context, id string) ([]HistoryEntry, error) {
	inv, _, err := s.store.Read(ctx, id)
	if errors.Is(err, ocfl.ErrNotFound) || errors.Is(err, ocfl.ErrBadID) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	names := inv.VersionNames()
	out := make([]HistoryEntry, 0, len(names))
	for i := len(names) - 1; i >= 0; i-- {
		v := inv.Versions[names[i]]
		e := HistoryEntry{Version: names[i], Created: v.Created, Message: v.Message}
		if v.User != nil {
			e.User = v.User.Name
		}
		out = append(out, e)
	}
	return out, nil
}

// OpenFile streams a file of the head version.
func (s *Service) OpenFile(ctx context.Context, id, path string) (*storage.Object, error) {
	inv, _, err := s.store.Read(ctx, id)
	if errors.Is(err, ocfl.ErrNotFound) || errors.Is(err, ocfl.ErrBadID) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	obj, _, err := s.store.Open(ctx, id, inv, "", path)
	if errors.Is(err, ocfl.ErrNotFound) {
		return nil, ErrNotFound
	}
	return obj, err
}

// IDs lists every item id.
func (s *Service) IDs(ctx context.Context) ([]string, error) { return s.store.IDs(ctx) }

func uniquePath(files []File, want string) string {
	taken := map[string]bool{}
	for _, f := range files {
		taken[f.Path] = true
	}
	if !taken[want] {
		return want
	}
	dot := strings.LastIndex(want, ".")
	stem, ext := want, ""
	if dot > strings.LastIndex(want, "/") {
		stem, ext = want[:dot], want[dot:]
	}
	for n := 2; ; n++ {
		p := fmt.Sprintf("%s-%d%s", stem, n, ext)
		if !taken[p] {
			return p
		}
	}
}
