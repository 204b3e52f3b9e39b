package exhibitions

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/library"
)

// Note tells the curators of something the public no longer sees: an item withdrawn from the
// library (or a file removed from it) since the exhibition was published.
type Note struct {
	Field string `json:"field"` // e.g. sections[1].exhibits[2].item
	Item  string `json:"item"`
	Code  string `json:"code"` // not_published or unknown_file
}

// isPublished reports whether the item is published and, when sha is given, has that file.
func (s *Service) isPublished(ctx context.Context, id, sha string) (bool, error) {
	if s.published != nil && (sha == "" && s.published.Has(id) || sha != "" && s.published.HasFile(id, sha)) {
		return true, nil
	}
	it, err := s.items.Get(ctx, id)
	if errors.Is(err, library.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if it.Status != library.Published {
		return false, nil
	}
	if s.published != nil {
		s.published.Add(it)
	}
	return sha == "" || fileBySHA(&it, sha) != nil, nil
}

// visit calls hidden for every reference of e that the public cannot see now, with its
// field path; it stops at the first error of the store.
func (s *Service) visit(ctx context.Context, e Exhibition, hidden func(field, item, code string)) error {
	// check reports ref under itemField when its item is hidden, under fileField when its
	// file is gone.
	check := func(itemField, fileField string, ref FileRef) error {
		ok, err := s.isPublished(ctx, ref.Item, "")
		switch {
		case err != nil:
			return err
		case !ok:
			hidden(itemField, ref.Item, "not_published")
		case ref.File != "":
			if ok, err = s.isPublished(ctx, ref.Item, ref.File); err != nil {
				return err
			} else if !ok {
				hidden(fileField, ref.Item, "unknown_file")
			}
		}
		return nil
	}
	if e.Cover != nil {
		if err := check("cover.item", "cover.file", *e.Cover); err != nil {
			return err
		}
	}
	for i, sec := range e.Sections {
		if sec.Scene != nil {
			field := fmt.Sprintf("sections[%d].scene", i)
			if err := check(field+".item", field+".file", *sec.Scene); err != nil {
				return err
			}
		}
		for j, ex := range sec.Exhibits {
			field := fmt.Sprintf("sections[%d].exhibits[%d]", i, j)
			if err := check(field+".item", field+".file", ex.FileRef); err != nil {
				return err
			}
			if ex.AudioGuide != "" {
				if err := check(field+".audio_guide", "", FileRef{Item: ex.AudioGuide}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Notes lists what the public of a published exhibition no longer sees, for its curators.
func (s *Service) Notes(ctx context.Context, e Exhibition) ([]Note, error) {
	notes := []Note{}
	err := s.visit(ctx, e, func(field, item, code string) {
		notes = append(notes, Note{Field: field, Item: item, Code: code})
	})
	return notes, err
}

// Public is e as the public sees it: an exhibit whose item was withdrawn from the library
// (or whose file was removed) is left out, as are an audio guide or a cover that went the
// same way, and a section left without exhibits. A panorama room whose scene went is shown
// as a gallery of its exhibits. Hotspots and links follow the exhibits and rooms that stay
// (their indexes are renumbered) and go with those that go. The page never shows a broken
// exhibit.
func (s *Service) Public(ctx context.Context, e Exhibition) (Exhibition, error) {
	gone := map[string]bool{}
	if err := s.visit(ctx, e, func(field, _, _ string) { gone[field] = true }); err != nil {
		return Exhibition{}, err
	}
	if len(gone) == 0 {
		return e, nil
	}
	out := e
	if e.Cover != nil && (gone["cover.item"] || gone["cover.file"]) {
		out.Cover = nil
	}
	out.Sections = make([]Section, 0, len(e.Sections))
	room := make([]int, len(e.Sections)) // old room index → new, -1 when left out
	for i, sec := range e.Sections {
		kept := sec
		kept.Exhibits = make([]Exhibit, 0, len(sec.Exhibits))
		place := make([]int, len(sec.Exhibits)) // old exhibit index → new, -1 when left out
		for j, ex := range sec.Exhibits {
			field := fmt.Sprintf("sections[%d].exhibits[%d]", i, j)
			place[j] = -1
			if gone[field+".item"] || gone[field+".file"] {
				continue
			}
			if gone[field+".audio_guide"] {
				ex.AudioGuide = ""
			}
			place[j] = len(kept.Exhibits)
			kept.Exhibits = append(kept.Exhibits, ex)
		}
		kept.Hotspots = nil
		for _, h := range sec.Hotspots {
			if h.Exhibit >= 0 && h.Exhibit < len(place) && place[h.Exhibit] >= 0 {
				h.Exhibit = place[h.Exhibit]
				kept.Hotspots = append(kept.Hotspots, h)
			}
		}
		scene := fmt.Sprintf("sections[%d].scene", i)
		if sec.Scene != nil && (gone[scene+".item"] || gone[scene+".file"]) {
			kept.Kind, kept.Scene, kept.Hotspots, kept.Links = Gallery, nil, nil, nil
		}
		room[i] = -1
		if len(kept.Exhibits) > 0 || len(sec.Exhibits) == 0 {
			room[i] = len(out.Sections)
			out.Sections = append(out.Sections, kept)
		}
	}
	for i := range out.Sections {
		sec := &out.Sections[i]
		links := sec.Links
		sec.Links = nil
		for _, l := range links {
			if l.Section >= 0 && l.Section < len(room) && room[l.Section] >= 0 && out.Sections[room[l.Section]].Kind == Panorama {
				l.Section = room[l.Section]
				sec.Links = append(sec.Links, l)
			}
		}
	}
	return out, nil
}

// View is an exhibition as one reader sees it: the whole record and the notes for those who
// may edit it, what the public sees (Public) for everyone else.
type View struct {
	Exhibition
	Notes []Note `json:"notes,omitempty"`
	// Staff: the reader may edit it (and sees it whole).
	Staff bool `json:"-"`
}

// View reads the exhibition id for actor (nil for an anonymous reader): an unpublished one
// only for those who may edit it; for anyone else it does not exist.
func (s *Service) View(ctx context.Context, actor *accounts.Account, id string) (View, error) {
	e, err := s.Get(ctx, id)
	if err != nil {
		return View{}, err
	}
	staff := false
	if actor != nil {
		tree, _, err := s.units.LoadUnits(ctx)
		if err != nil {
			return View{}, err
		}
		staff = CanEdit(*actor, e.Unit, &tree)
	}
	switch {
	case staff:
		notes, err := s.Notes(ctx, e)
		return View{Exhibition: e, Notes: notes, Staff: true}, err
	case e.Status != library.Published:
		return View{}, ErrNotFound
	}
	public, err := s.Public(ctx, e)
	return View{Exhibition: public}, err
}

// Editable lists the exhibitions actor may edit, newest first, for the curators' console.
func (s *Service) Editable(ctx context.Context, actor accounts.Account) ([]Exhibition, error) {
	ids, err := s.IDs(ctx)
	if err != nil {
		return nil, err
	}
	tree, _, err := s.units.LoadUnits(ctx)
	if err != nil {
		return nil, err
	}
	out := []Exhibition{}
	for _, id := range ids {
		e, err := s.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if CanEdit(actor, e.Unit, &tree) {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b Exhibition) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	return out, nil
}
