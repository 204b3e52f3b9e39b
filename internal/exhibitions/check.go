package exhibitions

import (
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // decoders for the sizes of image files that regions are cut from
	_ "image/jpeg" // (only the header is read)
	_ "image/png"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
)

// Limits of one exhibition: a walkthrough, not an archive (collections hold more).
const (
	MaxSections         = 30
	MaxExhibits         = 60  // in one section
	MaxExhibitsInAll    = 300 // in the whole exhibition
	maxText             = 5000
	maxLabel            = 200
	soundType           = "Sound"
	imageHeaderMaxBytes = 1 << 20 // enough for any image header, however much metadata precedes it
)

var sha256Re = regexp.MustCompile(`^[0-9a-f]{64}$`)

// beijing is the city's time zone, in which opening days begin and end (China keeps no
// summer time, so a fixed offset is exact).
var beijing = time.FixedZone("CST", 8*3600)

// OpenSpan is when the exhibition is open, in Unix seconds: from the start of its first day
// until the end of its last (closes is 0 for a permanent exhibition); ok is false when the
// dates do not read.
func (in Input) OpenSpan() (opens, closes int64, ok bool) {
	first, err := time.ParseInLocation(time.DateOnly, in.Opens, beijing)
	if err != nil {
		return 0, 0, false
	}
	if in.Permanent {
		return first.Unix(), 0, true
	}
	last, err := time.ParseInLocation(time.DateOnly, in.Closes, beijing)
	if err != nil || last.Before(first) {
		return 0, 0, false
	}
	return first.Unix(), last.AddDate(0, 0, 1).Unix(), true
}

// OpenAt reports whether the exhibition is open at t.
func (in Input) OpenAt(t time.Time) bool {
	opens, closes, ok := in.OpenSpan()
	return ok && t.Unix() >= opens && (closes == 0 || t.Unix() < closes)
}

// checker validates one input, reading each referenced item once.
type checker struct {
	s     *Service
	actor accounts.Account
	tree  *units.Tree
	errs  validate.Errors
	items map[string]*library.Item // nil: missing or not visible to the actor
}

// check validates in (trimming its texts) against the vocabulary, the unit tree and the
// library as the actor sees it; every problem names its field path.
func (s *Service) check(ctx context.Context, actor accounts.Account, in *Input, tree *units.Tree) error {
	c := &checker{s: s, actor: actor, tree: tree, items: map[string]*library.Item{}}
	for _, f := range []*string{&in.Title, &in.Subtitle, &in.Curator, &in.Unit, &in.Theme, &in.Introduction, &in.Opens, &in.Closes} {
		*f = strings.TrimSpace(*f)
	}
	c.errs.Text("title", in.Title, true, 1, 100)
	c.errs.Text("subtitle", in.Subtitle, false, 0, 200)
	c.errs.Text("curator", in.Curator, true, 1, 100)
	c.errs.Text("introduction", in.Introduction, false, 0, maxText)
	if _, ok := library.Find(s.items.Vocabulary().Themes, in.Theme); !ok {
		c.errs.Add("theme", "vocabulary")
	}
	if _, ok := tree.Get(in.Unit); !ok {
		c.errs.Add("unit", "unit")
	}
	c.dates(in)
	if in.Sections == nil {
		in.Sections = []Section{}
	}
	if in.Cover != nil {
		if err := c.image(ctx, "cover", in.Cover, nil); err != nil {
			return err
		}
	}
	if err := c.sections(ctx, in.Sections); err != nil {
		return err
	}
	return c.errs.Err()
}

func (c *checker) dates(in *Input) {
	if _, err := time.Parse(time.DateOnly, in.Opens); err != nil {
		c.errs.Add("opens", "day")
		return
	}
	switch {
	case in.Permanent && in.Closes != "":
		c.errs.Add("closes", "permanent")
	case in.Permanent:
	case in.Closes == "":
		c.errs.Add("closes", "required")
	default:
		if _, err := time.Parse(time.DateOnly, in.Closes); err != nil {
			c.errs.Add("closes", "day")
		} else if in.Closes < in.Opens {
			c.errs.Add("closes", "day_order")
		}
	}
}

func (c *checker) sections(ctx context.Context, sections []Section) error {
	if len(sections) > MaxSections {
		c.errs.Add("sections", "too_many", MaxSections)
		return nil
	}
	for i := range sections { // a link's target is checked by its kind, so all are read first
		sec := &sections[i]
		if sec.Kind = strings.TrimSpace(sec.Kind); sec.Kind == "" {
			sec.Kind = Gallery
		}
	}
	total := 0
	for i := range sections {
		sec := &sections[i]
		field := fmt.Sprintf("sections[%d]", i)
		sec.Title, sec.Intro = strings.TrimSpace(sec.Title), strings.TrimSpace(sec.Intro)
		if sec.Exhibits == nil {
			sec.Exhibits = []Exhibit{}
		}
		c.errs.Text(field+".title", sec.Title, true, 1, 100)
		c.errs.Text(field+".intro", sec.Intro, false, 0, maxText)
		switch sec.Kind {
		case Gallery:
			c.gallery(field, sec)
		case Panorama:
			if err := c.panorama(ctx, field, i, sec, sections); err != nil {
				return err
			}
		default:
			c.errs.Add(field+".kind", "section_kind")
		}
		if len(sec.Exhibits) > MaxExhibits {
			c.errs.Add(field+".exhibits", "too_many", MaxExhibits)
			continue
		}
		if total += len(sec.Exhibits); total > MaxExhibitsInAll {
			c.errs.Add(field+".exhibits", "too_many", MaxExhibitsInAll)
			return nil
		}
		for j := range sec.Exhibits {
			if err := c.exhibit(ctx, fmt.Sprintf("%s.exhibits[%d]", field, j), &sec.Exhibits[j]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *checker) exhibit(ctx context.Context, field string, ex *Exhibit) error {
	ex.Item, ex.File, ex.AudioGuide = strings.TrimSpace(ex.Item), strings.ToLower(strings.TrimSpace(ex.File)), strings.TrimSpace(ex.AudioGuide)
	ex.Label, ex.TextZH, ex.TextEN = strings.TrimSpace(ex.Label), strings.TrimSpace(ex.TextZH), strings.TrimSpace(ex.TextEN)
	c.errs.Text(field+".label", ex.Label, true, 1, maxLabel)
	c.errs.Text(field+".text_zh", ex.TextZH, true, 1, maxText)
	c.errs.Text(field+".text_en", ex.TextEN, false, 0, maxText)
	if ex.Region != nil {
		if err := c.image(ctx, field, &ex.FileRef, ex.Region); err != nil {
			return err
		}
	} else if err := c.file(ctx, field, ex.FileRef); err != nil {
		return err
	}
	if ex.AudioGuide != "" {
		it, err := c.item(ctx, ex.AudioGuide)
		switch {
		case err != nil:
			return err
		case it == nil:
			c.errs.Add(field+".audio_guide", "unknown_item")
		case it.Type != soundType:
			c.errs.Add(field+".audio_guide", "not_audio")
		}
	}
	return nil
}

// item reads an item once per check; nil when it does not exist or the actor may not see it
// (the two are one answer, so that a check tells nothing of items outside the actor's units).
func (c *checker) item(ctx context.Context, id string) (*library.Item, error) {
	if it, seen := c.items[id]; seen {
		return it, nil
	}
	it, err := c.s.items.Get(ctx, id)
	if err != nil && !errors.Is(err, library.ErrNotFound) {
		return nil, err
	}
	var found *library.Item
	if err == nil && library.CanSee(c.actor, it, c.tree) {
		found = &it
	}
	c.items[id] = found
	return found, nil
}

// file checks that ref names a visible item and, when it names a file, one of the item's.
func (c *checker) file(ctx context.Context, field string, ref FileRef) error {
	_, _, err := c.ref(ctx, field, ref)
	return err
}

func (c *checker) ref(ctx context.Context, field string, ref FileRef) (*library.Item, *library.File, error) {
	it, err := c.item(ctx, ref.Item)
	if err != nil || it == nil {
		if err == nil {
			c.errs.Add(field+".item", "unknown_item")
		}
		return nil, nil, err
	}
	if ref.File == "" {
		return it, nil, nil
	}
	if f := fileBySHA(it, ref.File); f != nil {
		return it, f, nil
	}
	c.errs.Add(field+".file", "unknown_file")
	return nil, nil, nil
}

// image checks that ref is an image file of a visible item (its first image when ref names
// no file, which is then written into ref), and that region, if any, lies within it.
func (c *checker) image(ctx context.Context, field string, ref *FileRef, region *Region) error {
	it, f, err := c.ref(ctx, field, *ref)
	if err != nil || it == nil {
		return err
	}
	if f == nil {
		if f = firstImage(it); f == nil {
			c.errs.Add(field+".item", "not_image")
			return nil
		}
		ref.File = f.SHA256 // a cover or a region is of one file, which must stay the same
	}
	if !strings.HasPrefix(f.MediaType, "image/") {
		c.errs.Add(field+".file", "not_image")
		return nil
	}
	if region == nil {
		return nil
	}
	if region.X < 0 || region.Y < 0 || region.W < 1 || region.H < 1 {
		c.errs.Add(field+".region", "region")
		return nil
	}
	w, h, err := c.size(ctx, it.ID, f.Path)
	if err != nil {
		return err
	}
	switch {
	case w == 0:
		c.errs.Add(field+".region", "region_format")
	case region.X > w-region.W || region.Y > h-region.H:
		c.errs.Add(field+".region", "region_outside", w, h)
	}
	return nil
}

// size reads the pixel size of an image file from its header; 0, 0 when the format has no
// decoder here.
func (c *checker) size(ctx context.Context, item, path string) (int, int, error) {
	obj, err := c.s.items.OpenFile(ctx, item, path)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = obj.Close() }()
	cfg, _, err := image.DecodeConfig(io.LimitReader(obj, imageHeaderMaxBytes))
	if err != nil {
		return 0, 0, nil //nolint:nilerr // an unreadable header means "size unknown", reported as a bad region
	}
	return cfg.Width, cfg.Height, nil
}

func fileBySHA(it *library.Item, sha string) *library.File {
	if !sha256Re.MatchString(sha) {
		return nil
	}
	for i := range it.Files {
		if it.Files[i].SHA256 == sha {
			return &it.Files[i]
		}
	}
	return nil
}

func firstImage(it *library.Item) *library.File {
	for i := range it.Files {
		if strings.HasPrefix(it.Files[i].MediaType, "image/") {
			return &it.Files[i]
		}
	}
	return nil
}

// showable checks what publication needs: at least one exhibit, and every item it shows
// (exhibits, audio guides, the cover, the scenes of panorama rooms) published in the library, so that the public sees
// the whole exhibition on the day it opens.
func (s *Service) showable(ctx context.Context, e *Exhibition) error {
	var errs validate.Errors
	exhibits := 0
	published := func(field, id string) error {
		ok, err := s.isPublished(ctx, id, "")
		if err == nil && !ok {
			errs.Add(field, "exhibit_not_published")
		}
		return err
	}
	if e.Cover != nil {
		if err := published("cover.item", e.Cover.Item); err != nil {
			return err
		}
	}
	for i, sec := range e.Sections {
		if sec.Scene != nil {
			if err := published(fmt.Sprintf("sections[%d].scene.item", i), sec.Scene.Item); err != nil {
				return err
			}
		}
		for j, ex := range sec.Exhibits {
			exhibits++
			field := fmt.Sprintf("sections[%d].exhibits[%d]", i, j)
			if err := published(field+".item", ex.Item); err != nil {
				return err
			}
			if ex.AudioGuide != "" {
				if err := published(field+".audio_guide", ex.AudioGuide); err != nil {
					return err
				}
			}
		}
	}
	if exhibits == 0 {
		errs.Add("sections", "required")
	}
	return errs.Err()
}
