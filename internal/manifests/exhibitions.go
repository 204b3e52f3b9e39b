package manifests

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/shizuishan/culturecloud/internal/derivatives"
	"github.com/shizuishan/culturecloud/internal/exhibitions"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/transcoding"
	"github.com/shizuishan/culturecloud/internal/units"
)

// ExhibitionManifestURL is the address of an exhibition's Manifest.
func ExhibitionManifestURL(base, id string) string {
	return base + "/iiif/exhibitions/" + id + "/manifest"
}

// Exhibition is the Manifest of a published exhibition as the public sees it
// (exhibitions.Service.Public): one Canvas per exhibit, with its interpretive text as the
// Canvas's summary, and one Range per section, in order, pointing at its exhibits (at their
// region, where they show one), so that a viewer offers the rooms as a table of contents.
func (b *Builder) Exhibition(ctx context.Context, base string, e exhibitions.Exhibition) (Manifest, error) {
	if e.Status != library.Published {
		return Manifest{}, exhibitions.ErrNotFound
	}
	tree, _, err := b.Units.LoadUnits(ctx)
	if err != nil {
		return Manifest{}, err
	}
	id := ExhibitionManifestURL(base, e.ID)
	m := Manifest{Descriptive: b.describeExhibition(base, e, &tree)}
	m.Context, m.ID, m.Type = Context, id, "Manifest"
	items := map[string]*exhibitItem{}
	for i, sec := range e.Sections {
		r := Ref{ID: fmt.Sprintf("%s/range/s%d", id, i+1), Type: "Range", Label: LanguageMap{"zh": {sec.Title}}}
		for j, ex := range sec.Exhibits {
			canvasID := fmt.Sprintf("%s/canvas/s%de%d", id, i+1, j+1)
			c, ok, err := b.exhibitCanvas(ctx, base, canvasID, ex, items)
			if err != nil {
				return Manifest{}, err
			}
			if !ok {
				continue
			}
			m.Items = append(m.Items, c)
			target := canvasID
			if ex.Region != nil {
				target += fmt.Sprintf("#xywh=%d,%d,%d,%d", ex.Region.X, ex.Region.Y, ex.Region.W, ex.Region.H)
			}
			r.Items = append(r.Items, Ref{ID: target, Type: "Canvas"})
		}
		if len(r.Items) > 0 {
			m.Structures = append(m.Structures, r)
		}
	}
	if len(m.Items) == 0 {
		return Manifest{}, ErrNoContent
	}
	if e.Cover != nil {
		if it, ok := items[e.Cover.Item]; ok {
			m.Thumbnail = thumbnail(base, it.item, it.derived)
		}
	}
	if len(m.Thumbnail) == 0 {
		m.Thumbnail = m.Items[0].Thumbnail
	}
	return m, nil
}

// exhibitItem is an item an exhibition shows, read once however many exhibits show it.
type exhibitItem struct {
	item    library.Item
	media   transcoding.Record
	derived derivatives.Record
}

func (b *Builder) exhibitItem(ctx context.Context, id string, seen map[string]*exhibitItem) (*exhibitItem, error) {
	if it, ok := seen[id]; ok {
		return it, nil
	}
	it, err := b.Library.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	media, derived, err := b.records(ctx, id)
	if err != nil {
		return nil, err
	}
	seen[id] = &exhibitItem{item: it, media: media, derived: derived}
	return seen[id], nil
}

// exhibitCanvas paints the exhibit's file (its first image when it names none); ok false
// when the file cannot be painted (yet), as for an item's Manifest.
func (b *Builder) exhibitCanvas(ctx context.Context, base, id string, ex exhibitions.Exhibit, seen map[string]*exhibitItem) (Canvas, bool, error) {
	x, err := b.exhibitItem(ctx, ex.Item, seen)
	if errors.Is(err, library.ErrNotFound) {
		return Canvas{}, false, nil
	}
	if err != nil {
		return Canvas{}, false, err
	}
	if x.item.Status != library.Published {
		return Canvas{}, false, nil
	}
	var file *library.File
	for i, f := range x.item.Files {
		if ex.File == f.SHA256 || ex.File == "" && strings.HasPrefix(f.MediaType, "image/") {
			file = &x.item.Files[i]
			break
		}
	}
	if file == nil && ex.File == "" && len(x.item.Files) > 0 {
		file = &x.item.Files[0]
	}
	if file == nil {
		return Canvas{}, false, nil
	}
	licence, _ := library.Find(b.Library.Vocabulary().Licences, x.item.Licence)
	label := LanguageMap{"zh": {cmp.Or(ex.Label, x.item.Title)}}
	c, ok, err := b.canvas(ctx, base, id, label, x.item, *file, x.media, x.derived, licence.Download)
	if !ok || err != nil {
		return c, ok, err
	}
	c.Summary = LanguageMap{"zh": {ex.TextZH}}
	if ex.TextEN != "" {
		c.Summary["en"] = []string{ex.TextEN}
	}
	if ex.TextZH == "" && ex.TextEN == "" {
		c.Summary = nil
	}
	c.Homepage = []Content{{ID: itemPage(base, x.item.ID), Type: "Text", Format: "text/html",
		Label: LanguageMap{"zh": {x.item.Title}}}}
	return c, true, nil
}

// describeExhibition fills the descriptive properties of an exhibition.
func (b *Builder) describeExhibition(base string, e exhibitions.Exhibition, tree *units.Tree) Descriptive {
	vocab := b.Library.Vocabulary()
	d := Descriptive{Label: LanguageMap{"zh": {e.Title}}}
	if summary := joinNonEmpty("。", e.Subtitle, e.Introduction); summary != "" {
		d.Summary = LanguageMap{"zh": {summary}}
	}
	unit, _ := tree.Get(e.Unit)
	add := func(zh, en string, value LanguageMap) {
		if len(value) > 0 && len(value["zh"]) > 0 && value["zh"][0] != "" {
			d.Metadata = append(d.Metadata, Entry{Label: LanguageMap{"zh": {zh}, "en": {en}}, Value: value})
		}
	}
	add("策展人", "Curator", LanguageMap{"zh": {e.Curator}})
	add("主办单位", "Organised by", LanguageMap{"zh": {unit.NameZH}, "en": {unit.NameEN}})
	if t, ok := library.Find(vocab.Themes, e.Theme); ok {
		add("专题", "Theme", LanguageMap{"zh": {t.ZH}, "en": {t.EN}})
	}
	dates := e.Opens + " 起，常设"
	datesEN := "from " + e.Opens + ", permanent"
	if !e.Permanent && e.Closes != "" {
		dates, datesEN = e.Opens+" 至 "+e.Closes, e.Opens+" to "+e.Closes
	}
	add("展期", "Dates", LanguageMap{"zh": {dates}, "en": {datesEN}})
	d.RequiredStatement = &Entry{Label: LanguageMap{"zh": {"主办单位"}, "en": {"Organised by"}},
		Value: LanguageMap{"zh": {cmp.Or(unit.NameZH, "石嘴山数字文化云")}, "en": {cmp.Or(unit.NameEN, "Shizuishan Culture Cloud")}}}
	d.Provider = []Agent{provider(base, unit)}
	d.Homepage = []Content{{ID: base + "/exhibitions/" + e.ID, Type: "Text", Format: "text/html", Language: []string{"zh"},
		Label: LanguageMap{"zh": {e.Title + " - 云展览"}, "en": {"Cloud exhibition page"}}}}
	d.SeeAlso = []Content{{ID: base + "/api/v1/exhibitions/" + e.ID, Type: "Dataset", Format: "application/json",
		Label: LanguageMap{"zh": {"展览记录 (JSON)"}, "en": {"Exhibition record (JSON)"}}}}
	if e.PublishedAt != nil {
		d.NavDate = e.PublishedAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	return d
}
