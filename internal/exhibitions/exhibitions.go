// Package exhibitions owns the cloud exhibitions (云展览): a curated walk through items of the
// library, in ordered sections ("rooms") of ordered exhibits, each exhibit an item (or one
// file of it, or a region of an image) with its own label, interpretive text and audio guide.
// Exhibitions follow the items' workflow and unit rights; every write is a new version of
// the record in the versioned bucket, as for courses.
package exhibitions

import (
	"context"
	"errors"
	"time"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/ids"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/review"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
)

var (
	// ErrNotFound means no exhibition with that id (or one the caller may not see).
	ErrNotFound = errors.New("exhibition not found")
	// ErrStale means the exhibition changed since the caller read it.
	ErrStale = errors.New("exhibition changed since it was read")
)

const prefix = "records/exhibitions/"

// Section kinds: a gallery is a list of exhibits; a panorama is a 720° hall, an
// equirectangular photo (the scene) in which hotspots open the room's exhibits and links lead
// to other panorama rooms.
const (
	Gallery  = "gallery"
	Panorama = "panorama"
)

// Region is a rectangle of an image file, in pixels of that file.
type Region struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

// FileRef names an item and, optionally, one of its files by SHA-256 (the IIIF image
// identifier is "{item}~{sha256}"); without a file, the item's first image is meant.
type FileRef struct {
	Item string `json:"item"`
	File string `json:"file,omitempty"`
}

// Exhibit is one thing shown in a section.
type Exhibit struct {
	FileRef
	Region *Region `json:"region,omitempty"`
	Label  string  `json:"label"`
	TextZH string  `json:"text_zh"`
	TextEN string  `json:"text_en,omitempty"`
	// AudioGuide is a library item of type Sound, read aloud beside the exhibit.
	AudioGuide string `json:"audio_guide,omitempty"`
}

// Section is one room of the exhibition.
type Section struct {
	Title    string    `json:"title"`
	Kind     string    `json:"kind"`
	Intro    string    `json:"intro,omitempty"`
	Exhibits []Exhibit `json:"exhibits"`
	// Scene is the equirectangular image (about 2:1) of a panorama room; Hotspots and
	// Links are placed in it. A gallery has none of the three.
	Scene    *FileRef  `json:"scene,omitempty"`
	Hotspots []Hotspot `json:"hotspots,omitempty"`
	Links    []Link    `json:"links,omitempty"`
}

// Hotspot is a place in a panorama that opens one of the room's exhibits. Yaw (-180..180)
// and Pitch (-90..90) are degrees, as a guide's position counts them (liveroom.Position).
type Hotspot struct {
	Exhibit int     `json:"exhibit"` // index into the room's exhibits
	Yaw     float64 `json:"yaw"`
	Pitch   float64 `json:"pitch"`
}

// Link is a place in a panorama that leads to another panorama room.
type Link struct {
	Section int     `json:"section"` // index of the other room
	Yaw     float64 `json:"yaw"`
	Pitch   float64 `json:"pitch"`
}

// Input is what a curator edits.
type Input struct {
	Title        string   `json:"title"`
	Subtitle     string   `json:"subtitle,omitempty"`
	Curator      string   `json:"curator"`
	Unit         string   `json:"unit"`
	Theme        string   `json:"theme"`
	Cover        *FileRef `json:"cover,omitempty"`
	Introduction string   `json:"introduction,omitempty"`
	// Opens is the first day open and Closes the last (YYYY-MM-DD, Beijing time); a
	// permanent exhibition has no last day.
	Opens     string    `json:"opens"`
	Closes    string    `json:"closes,omitempty"`
	Permanent bool      `json:"permanent"`
	Sections  []Section `json:"sections"`
}

// Exhibition is the stored record.
type Exhibition struct {
	ID string `json:"id"`
	Input
	Status      library.Status `json:"status"`
	CreatedAt   time.Time      `json:"created_at"`
	CreatedBy   string         `json:"created_by"`
	UpdatedAt   time.Time      `json:"updated_at"`
	UpdatedBy   string         `json:"updated_by"`
	PublishedAt *time.Time     `json:"published_at,omitempty"`
	Review      review.State   `json:"review"`
	Version     string         `json:"-"`
}

// Notifier hears about every exhibition written (for the search index).
type Notifier interface {
	ExhibitionChanged(ctx context.Context, id string)
}

// Options configure New.
type Options struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Published remembers which items were published when last read, so that showing an
	// exhibition costs no MinIO read per exhibit; nil reads every item each time.
	Published *library.PublishedCache
}

// Service reads and writes exhibitions.
type Service struct {
	docs      *docstore.Store
	items     *library.Service
	units     accounts.UnitSource
	notify    Notifier
	now       func() time.Time
	published *library.PublishedCache
}

// New wires a Service.
func New(docs *docstore.Store, items *library.Service, unitSource accounts.UnitSource, notify Notifier, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{docs: docs, items: items, units: unitSource, notify: notify, now: opts.Now, published: opts.Published}
}

// Now is the service's clock, for whoever asks what is open now.
func (s *Service) Now() time.Time { return s.now() }

// CanEdit reports whether actor may change exhibitions of unit: the same rights as for
// the unit's items.
func CanEdit(actor accounts.Account, unit string, tree *units.Tree) bool {
	return library.CanEdit(actor, unit, tree)
}

func key(id string) string { return prefix + id + ".json" }

func validID(id string) bool { return ids.Valid(id, "exh") }

// Get reads one exhibition.
func (s *Service) Get(ctx context.Context, id string) (Exhibition, error) {
	if !validID(id) {
		return Exhibition{}, ErrNotFound
	}
	var e Exhibition
	etag, err := s.docs.Get(ctx, key(id), &e)
	if errors.Is(err, docstore.ErrNotFound) {
		return Exhibition{}, ErrNotFound
	}
	if err != nil {
		return Exhibition{}, err
	}
	e.Version = etag
	return e, nil
}

// Published reports whether the exhibition exists and is published: a guided tour may be
// held only in one the public can walk.
func (s *Service) Published(ctx context.Context, id string) (bool, error) {
	e, err := s.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil && e.Status == library.Published, err
}

// IDs lists every exhibition id.
func (s *Service) IDs(ctx context.Context) ([]string, error) { return s.docs.IDs(ctx, prefix, validID) }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Second) }

// Create stores a new draft exhibition.
func (s *Service) Create(ctx context.Context, actor accounts.Account, in Input) (Exhibition, error) {
	tree, _, err := s.units.LoadUnits(ctx)
	if err != nil {
		return Exhibition{}, err
	}
	if err := s.check(ctx, actor, &in, &tree); err != nil {
		return Exhibition{}, err
	}
	if !CanEdit(actor, in.Unit, &tree) {
		return Exhibition{}, library.ErrForbidden
	}
	now := s.clock()
	e := Exhibition{ID: ids.New("exh"), Input: in, Status: library.Draft, CreatedAt: now, CreatedBy: actor.Name,
		UpdatedAt: now, UpdatedBy: actor.Name}
	etag, err := s.docs.Put(ctx, key(e.ID), e, docstore.Create())
	if err != nil {
		return Exhibition{}, err
	}
	e.Version = etag
	s.notify.ExhibitionChanged(ctx, e.ID)
	return e, nil
}

// edit reads the exhibition, checks the version the caller saw and her rights, applies
// change and writes the result only if change succeeds: nothing is ever half-saved.
func (s *Service) edit(ctx context.Context, actor accounts.Account, id, ifMatch string,
	change func(e *Exhibition, tree *units.Tree) error) (Exhibition, error) {
	e, err := s.Get(ctx, id)
	if err != nil {
		return Exhibition{}, err
	}
	tree, _, err := s.units.LoadUnits(ctx)
	if err != nil {
		return Exhibition{}, err
	}
	if !CanEdit(actor, e.Unit, &tree) {
		if e.Status != library.Published {
			return Exhibition{}, ErrNotFound
		}
		return Exhibition{}, library.ErrForbidden
	}
	// The version is compared only for those who may edit: to anyone else a draft does not
	// exist, whatever entity tag they send.
	if !docstore.SameVersion(ifMatch, e.Version) {
		return Exhibition{}, ErrStale
	}
	if err := change(&e, &tree); err != nil {
		return Exhibition{}, err
	}
	e.UpdatedAt, e.UpdatedBy = s.clock(), actor.Name
	etag, err := s.docs.Put(ctx, key(e.ID), e, docstore.Match(e.Version))
	if errors.Is(err, docstore.ErrPrecondition) {
		return Exhibition{}, ErrStale
	}
	if err != nil {
		return Exhibition{}, err
	}
	e.Version = etag
	s.notify.ExhibitionChanged(ctx, e.ID)
	return e, nil
}

// Update replaces what the curator edits.
func (s *Service) Update(ctx context.Context, actor accounts.Account, id, ifMatch string, in Input) (Exhibition, error) {
	return s.edit(ctx, actor, id, ifMatch, func(e *Exhibition, tree *units.Tree) error {
		if err := s.check(ctx, actor, &in, tree); err != nil {
			return err
		}
		if in.Unit != e.Unit && !CanEdit(actor, in.Unit, tree) {
			return library.ErrForbidden
		}
		e.Input = in
		if e.Status == library.InReview {
			e.Review.Recall() // reviewers approved another exhibition
		}
		return nil
	})
}

// Move takes the exhibition through the workflow (submit, back to draft, withdraw);
// publishing needs a reviewer (Review) unless the unit's review policy is none.
func (s *Service) Move(ctx context.Context, actor accounts.Account, id, ifMatch string, to library.Status) (Exhibition, error) {
	return s.edit(ctx, actor, id, ifMatch, func(e *Exhibition, tree *units.Tree) error {
		_, err := e.flow().Move(actor.Name, to, tree.ReviewPolicy(e.Unit), s.clock())
		if err == nil && e.Status == library.Published {
			err = s.showable(ctx, e)
		}
		return err
	})
}

// Review is a reviewer's decision on an exhibition in review (see library.Service.Review):
// an approval that publishes it needs every exhibit published in the library.
func (s *Service) Review(ctx context.Context, actor accounts.Account, id, ifMatch string, d review.Decision) (Exhibition, error) {
	return s.edit(ctx, actor, id, ifMatch, func(e *Exhibition, tree *units.Tree) error {
		_, err := e.flow().Decide(actor.Name, e.CreatedBy, tree.ReviewPolicy(e.Unit), d, s.clock())
		if err == nil && e.Status == library.Published {
			err = s.showable(ctx, e)
		}
		return err
	})
}

// Delete removes a draft; what was submitted or published stays (withdraw it instead).
// Earlier versions stay in the versioned bucket.
func (s *Service) Delete(ctx context.Context, actor accounts.Account, id, ifMatch string) error {
	_, err := s.edit(ctx, actor, id, ifMatch, func(e *Exhibition, _ *units.Tree) error {
		if e.Status != library.Draft {
			return validate.Errors{{Field: "status", Code: "not_draft"}}
		}
		return errDeleting
	})
	if !errors.Is(err, errDeleting) {
		return err
	}
	if err := s.docs.Delete(ctx, key(id)); err != nil {
		return err
	}
	s.notify.ExhibitionChanged(ctx, id)
	return nil
}

// errDeleting ends the edit of a draft about to be deleted: the checks passed, and the
// record is removed rather than written.
var errDeleting = errors.New("deleting")

func (e *Exhibition) flow() library.Flow {
	return library.Flow{Status: &e.Status, PublishedAt: &e.PublishedAt, Review: &e.Review}
}
