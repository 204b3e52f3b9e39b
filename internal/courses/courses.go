// Package courses owns the online art courses (线上艺术课堂 / 全民艺术普及): a course made by
// a lecturer for a school, enterprise, culture centre or library, with ordered lessons that
// are video or audio items of the library, and the same publishing workflow as items.
package courses

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	// ErrNotFound means no course with that id (or one the caller may not see).
	ErrNotFound = errors.New("course not found")
	// ErrStale means the course changed since the caller read it.
	ErrStale = errors.New("course changed since it was read")
	// ErrForbidden means the caller may not change this course.
	ErrForbidden = errors.New("not allowed to change this course")
)

const (
	prefix     = "records/courses/"
	maxLessons = 200
)

// Institution is who contributed the course.
type Institution struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// FileRef names a file of a library item.
type FileRef struct {
	Item string `json:"item"`
	Path string `json:"path"`
	Name string `json:"name,omitempty"`
}

// Lesson is one step of a course: a video or audio file, with attachments (scores, sheets).
type Lesson struct {
	Title       string    `json:"title"`
	Media       FileRef   `json:"media"`
	Attachments []FileRef `json:"attachments,omitempty"`
}

// Input is what a lecturer edits.
type Input struct {
	Title       string      `json:"title"`
	Category    string      `json:"category"`
	Level       string      `json:"level"`
	Lecturer    string      `json:"lecturer"`
	Unit        string      `json:"unit"`
	Institution Institution `json:"institution"`
	Cover       *FileRef    `json:"cover,omitempty"`
	Description string      `json:"description"`
	Lessons     []Lesson    `json:"lessons"`
	AllowGuests bool        `json:"allow_guests"`
}

// Course is the stored record.
type Course struct {
	ID string `json:"id"`
	Input
	LecturerName string         `json:"lecturer_name"`
	Status       library.Status `json:"status"`
	CreatedAt    time.Time      `json:"created_at"`
	CreatedBy    string         `json:"created_by"`
	UpdatedAt    time.Time      `json:"updated_at"`
	PublishedAt  *time.Time     `json:"published_at,omitempty"`
	Review       review.State   `json:"review"`
	Version      string         `json:"-"`
}

// Notifier hears about every course written (for the search index).
type Notifier interface {
	CourseChanged(ctx context.Context, id string)
}

// Service reads and writes courses.
type Service struct {
	docs     *docstore.Store
	items    *library.Service
	accounts *accounts.Store
	units    accounts.UnitSource
	notify   Notifier
	now      func() time.Time
}

// New wires a Service.
func New(docs *docstore.Store, items *library.Service, acc *accounts.Store, unitSource accounts.UnitSource, notify Notifier) *Service {
	return &Service{docs: docs, items: items, accounts: acc, units: unitSource, notify: notify, now: time.Now}
}

// CanEdit reports whether actor may change courses of unit: admins all; lecturers and
// librarians their unit and the units below it.
func CanEdit(actor accounts.Account, unit string, tree *units.Tree) bool {
	switch actor.Role {
	case accounts.Admin:
		return true
	case accounts.Lecturer, accounts.Librarian:
		return tree.Within(actor.Unit, unit)
	}
	return false
}

func key(id string) string { return prefix + id + ".json" }

func validID(id string) bool { return ids.Valid(id, "crs") }

func newID() string { return ids.New("crs") }

// Get reads one course.
func (s *Service) Get(ctx context.Context, id string) (Course, error) {
	if !validID(id) {
		return Course{}, ErrNotFound
	}
	var c Course
	etag, err := s.docs.Get(ctx, key(id), &c)
	if errors.Is(err, docstore.ErrNotFound) {
		return Course{}, ErrNotFound
	}
	if err != nil {
		return Course{}, err
	}
	c.Version = etag
	return c, nil
}

// IDs lists every course id.
func (s *Service) IDs(ctx context.Context) ([]string, error) {
	return s.docs.IDs(ctx, prefix, validID)
}

// check validates in and fills the lecturer's display name.
func (s *Service) check(ctx context.Context, in *Input, tree *units.Tree) (string, error) {
	in.Title, in.Description = strings.TrimSpace(in.Title), strings.TrimSpace(in.Description)
	in.Institution.Name = strings.TrimSpace(in.Institution.Name)
	vocab := s.items.Vocabulary()
	var errs validate.Errors
	errs.Text("title", in.Title, true, 1, 100)
	errs.Text("description", in.Description, false, 0, 5000)
	errs.Text("institution.name", in.Institution.Name, true, 1, 100)
	for _, v := range []struct {
		field, value string
		list         []library.Term
	}{{"category", in.Category, vocab.CourseCategories}, {"level", in.Level, vocab.CourseLevels},
		{"institution.kind", in.Institution.Kind, vocab.InstitutionKinds}} {
		if _, ok := library.Find(v.list, v.value); !ok {
			errs.Add(v.field, "vocabulary")
		}
	}
	if _, ok := tree.Get(in.Unit); !ok {
		errs.Add("unit", "unit")
	}
	lecturerName := ""
	if lec, err := s.accounts.Get(ctx, in.Lecturer); errors.Is(err, accounts.ErrNotFound) || err == nil && lec.Role != accounts.Lecturer {
		errs.Add("lecturer", "lecturer")
	} else if err != nil {
		return "", err
	} else {
		lecturerName = lec.DisplayName
	}
	if len(in.Lessons) > maxLessons {
		errs.Add("lessons", "too_many", maxLessons)
	}
	for i, l := range in.Lessons {
		field := fmt.Sprintf("lessons[%d]", i)
		in.Lessons[i].Title = strings.TrimSpace(l.Title)
		errs.Text(field+".title", in.Lessons[i].Title, true, 1, 100)
		if err := s.checkFile(ctx, &errs, field+".media", l.Media, true); err != nil {
			return "", err
		}
		if len(l.Attachments) > 20 {
			errs.Add(field+".attachments", "too_many", 20)
		}
		for j, a := range l.Attachments {
			if err := s.checkFile(ctx, &errs, fmt.Sprintf("%s.attachments[%d]", field, j), a, false); err != nil {
				return "", err
			}
		}
	}
	if in.Cover != nil {
		if err := s.checkFile(ctx, &errs, "cover", *in.Cover, false); err != nil {
			return "", err
		}
	}
	return lecturerName, errs.Err()
}

// checkFile makes sure the referenced file exists (and, for lesson media, plays).
func (s *Service) checkFile(ctx context.Context, errs *validate.Errors, field string, ref FileRef, playable bool) error {
	it, err := s.items.Get(ctx, ref.Item)
	if errors.Is(err, library.ErrNotFound) {
		errs.Add(field, "unknown_item")
		return nil
	}
	if err != nil {
		return err
	}
	for _, f := range it.Files {
		if f.Path == ref.Path {
			if playable && !strings.HasPrefix(f.MediaType, "video/") && !strings.HasPrefix(f.MediaType, "audio/") {
				errs.Add(field, "not_playable")
			}
			return nil
		}
	}
	errs.Add(field, "unknown_item")
	return nil
}

// Create stores a new draft course.
func (s *Service) Create(ctx context.Context, actor accounts.Account, in Input) (Course, error) {
	tree, _, err := s.units.LoadUnits(ctx)
	if err != nil {
		return Course{}, err
	}
	name, err := s.check(ctx, &in, &tree)
	if err != nil {
		return Course{}, err
	}
	if !CanEdit(actor, in.Unit, &tree) {
		return Course{}, ErrForbidden
	}
	now := s.now().UTC().Truncate(time.Second)
	c := Course{ID: newID(), Input: in, LecturerName: name, Status: library.Draft, CreatedAt: now, CreatedBy: actor.Name, UpdatedAt: now}
	etag, err := s.docs.Put(ctx, key(c.ID), c, docstore.Create())
	if err != nil {
		return Course{}, err
	}
	c.Version = etag
	s.notify.CourseChanged(ctx, c.ID)
	return c, nil
}

func (s *Service) edit(ctx context.Context, actor accounts.Account, id, ifMatch string, change func(c *Course, tree *units.Tree) error) (Course, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return Course{}, err
	}
	tree, _, err := s.units.LoadUnits(ctx)
	if err != nil {
		return Course{}, err
	}
	if !CanEdit(actor, c.Unit, &tree) {
		if c.Status != library.Published {
			return Course{}, ErrNotFound
		}
		return Course{}, ErrForbidden
	}
	// The version is compared only for those who may edit: to anyone else a draft does not
	// exist, whatever entity tag they send.
	if !docstore.SameVersion(ifMatch, c.Version) {
		return Course{}, ErrStale
	}
	if err := change(&c, &tree); err != nil {
		return Course{}, err
	}
	c.UpdatedAt = s.now().UTC().Truncate(time.Second)
	etag, err := s.docs.Put(ctx, key(c.ID), c, docstore.Match(c.Version))
	if errors.Is(err, docstore.ErrPrecondition) {
		return Course{}, ErrStale
	}
	if err != nil {
		return Course{}, err
	}
	c.Version = etag
	s.notify.CourseChanged(ctx, c.ID)
	return c, nil
}

// Update replaces what the lecturer edits.
func (s *Service) Update(ctx context.Context, actor accounts.Account, id, ifMatch string, in Input) (Course, error) {
	return s.edit(ctx, actor, id, ifMatch, func(c *Course, tree *units.Tree) error {
		name, err := s.check(ctx, &in, tree)
		if err != nil {
			return err
		}
		if in.Unit != c.Unit && !CanEdit(actor, in.Unit, tree) {
			return ErrForbidden
		}
		c.Input, c.LecturerName = in, name
		if c.Status == library.InReview {
			c.Review.Recall() // reviewers approved another course
		}
		return nil
	})
}

// Move takes the course through the workflow; publishing needs a reviewer (Review) unless
// the course's unit has the review policy none.
func (s *Service) Move(ctx context.Context, actor accounts.Account, id, ifMatch string, to library.Status) (Course, error) {
	return s.edit(ctx, actor, id, ifMatch, func(c *Course, tree *units.Tree) error {
		_, err := c.flow().Move(actor.Name, to, tree.ReviewPolicy(c.Unit), s.now().UTC().Truncate(time.Second))
		if err == nil && to == library.Published {
			err = s.playable(ctx, c)
		}
		return err
	})
}

// Review is a reviewer's decision on a course in review (see library.Service.Review).
func (s *Service) Review(ctx context.Context, actor accounts.Account, id, ifMatch string, d review.Decision) (Course, error) {
	return s.edit(ctx, actor, id, ifMatch, func(c *Course, tree *units.Tree) error {
		_, err := c.flow().Decide(actor.Name, c.CreatedBy, tree.ReviewPolicy(c.Unit), d, s.now().UTC().Truncate(time.Second))
		if err == nil && c.Status == library.Published {
			err = s.playable(ctx, c)
		}
		return err
	})
}

func (c *Course) flow() library.Flow {
	return library.Flow{Status: &c.Status, PublishedAt: &c.PublishedAt, Review: &c.Review}
}

// playable checks that every lesson is a published item, so that citizens can play all of
// the course once it is published.
func (s *Service) playable(ctx context.Context, c *Course) error {
	var errs validate.Errors
	if len(c.Lessons) == 0 {
		errs.Add("lessons", "required")
	}
	for i, l := range c.Lessons {
		it, err := s.items.Get(ctx, l.Media.Item)
		if err != nil && !errors.Is(err, library.ErrNotFound) {
			return err
		}
		if err != nil || it.Status != library.Published {
			errs.Add(fmt.Sprintf("lessons[%d].media", i), "not_published")
		}
	}
	return errs.Err()
}
