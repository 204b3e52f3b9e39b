package manifests

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/shizuishan/culturecloud/internal/derivatives"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/transcoding"
	"github.com/shizuishan/culturecloud/internal/units"
)

// ErrNoContent means an item has nothing a viewer can show yet (no image, no finished audio
// or video, no thumbnail): it gets no Manifest, since a Manifest must have a Canvas.
var ErrNoContent = errors.New("nothing to show in a viewer yet")

// The records a Manifest is made from.
type (
	// MediaRecords gives an item's transcoded renditions (transcoding.Runner).
	MediaRecords interface {
		Get(ctx context.Context, item string) (transcoding.Record, error)
	}
	// DerivativeRecords gives an item's thumbnails (derivatives.Service).
	DerivativeRecords interface {
		Get(ctx context.Context, item string) (derivatives.Record, error)
	}
	// UnitTree gives the units that hold items (units.DocStore).
	UnitTree interface {
		LoadUnits(ctx context.Context) (units.Tree, string, error)
	}
)

// Builder makes the Presentation documents of the library.
type Builder struct {
	Library     *library.Service
	Media       MediaRecords
	Derivatives DerivativeRecords
	Units       UnitTree
	Sizes       *Sizes
}

// ItemManifestURL is the address of an item's Manifest under the site's public address base.
func ItemManifestURL(base, item string) string { return base + "/iiif/items/" + item + "/manifest" }

// ImageServiceURL is the IIIF Image API service of an image file: its identifier joins the
// item and the content's SHA-256, so that new bytes get a new address and caches stay right.
func ImageServiceURL(base, item, sha256 string) string {
	return base + "/iiif/3/" + item + "~" + sha256
}

func itemPage(base, item string) string   { return base + "/memory/items/" + item }
func itemRecord(base, item string) string { return base + "/api/v1/items/" + item }
func mediaURL(base, item, sha256, name string) string {
	return base + "/api/v1/items/" + item + "/media/" + sha256 + "/" + name
}
func derivativeURL(base, item, sha256, name string) string {
	return base + "/api/v1/items/" + item + "/derivatives/" + sha256 + "/" + name
}

// Item is the Manifest of a published item. base is the site's public address.
func (b *Builder) Item(ctx context.Context, base string, it library.Item) (Manifest, error) {
	if it.Status != library.Published {
		return Manifest{}, library.ErrNotFound
	}
	media, derived, err := b.records(ctx, it.ID)
	if err != nil {
		return Manifest{}, err
	}
	tree, _, err := b.Units.LoadUnits(ctx)
	if err != nil {
		return Manifest{}, err
	}
	id := ItemManifestURL(base, it.ID)
	m := Manifest{Descriptive: b.describe(base, it, &tree)}
	m.Context, m.ID, m.Type = Context, id, "Manifest"
	m.Thumbnail = thumbnail(base, it, derived)
	vocab := b.Library.Vocabulary()
	licence, _ := library.Find(vocab.Licences, it.Licence)
	for i, f := range it.Files {
		id := fmt.Sprintf("%s/canvas/p%d", id, i+1)
		canvas, ok, err := b.canvas(ctx, base, id, LanguageMap{"zh": {f.Name}}, it, f, media, derived, licence.Download)
		if err != nil {
			return Manifest{}, err
		}
		if ok {
			m.Items = append(m.Items, canvas)
		}
	}
	if len(m.Items) == 0 && len(m.Thumbnail) > 0 {
		// A PDF or a document still shows its first page.
		t := m.Thumbnail[0]
		m.Items = append(m.Items, paint(id+"/canvas/p1", LanguageMap{"zh": {it.Title}}, t))
	}
	if len(m.Items) == 0 {
		return Manifest{}, ErrNoContent
	}
	return m, nil
}

// records reads what an item's Canvases are made from besides the item: its renditions
// and its thumbnails; an item without them has empty records.
func (b *Builder) records(ctx context.Context, item string) (transcoding.Record, derivatives.Record, error) {
	media, err := b.Media.Get(ctx, item)
	if err != nil && !errors.Is(err, transcoding.ErrNotFound) {
		return transcoding.Record{}, derivatives.Record{}, err
	}
	derived, err := b.Derivatives.Get(ctx, item)
	if err != nil && !errors.Is(err, derivatives.ErrNotFound) {
		return transcoding.Record{}, derivatives.Record{}, err
	}
	return media, derived, nil
}

// describe fills the descriptive properties of an item.
func (b *Builder) describe(base string, it library.Item, tree *units.Tree) Descriptive {
	vocab := b.Library.Vocabulary()
	d := Descriptive{Label: LanguageMap{"zh": {it.Title}}}
	if it.Description != "" {
		d.Summary = LanguageMap{"zh": {it.Description}}
	}
	d.Metadata = metadata(it, vocab, tree)
	licence, ok := library.Find(vocab.Licences, it.Licence)
	if ok {
		d.Rights = licence.URI
	}
	unit, _ := tree.Get(it.Unit)
	d.RequiredStatement = &Entry{
		Label: LanguageMap{"zh": {"提供单位"}, "en": {"Provided by"}},
		Value: LanguageMap{"zh": {joinNonEmpty("，", unit.NameZH, licence.ZH)}, "en": {joinNonEmpty(", ", unit.NameEN, licence.EN)}},
	}
	d.Provider = []Agent{provider(base, unit)}
	d.Homepage = []Content{{ID: itemPage(base, it.ID), Type: "Text", Format: "text/html", Language: []string{"zh"},
		Label: LanguageMap{"zh": {it.Title + " - 石嘴山记忆"}, "en": {"Shizuishan Memory item page"}}}}
	d.SeeAlso = []Content{{ID: itemRecord(base, it.ID), Type: "Dataset", Format: "application/json",
		Label: LanguageMap{"zh": {"条目记录 (JSON)"}, "en": {"Item record (JSON)"}}}}
	if it.PublishedAt != nil {
		d.NavDate = it.PublishedAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	return d
}

func provider(base string, u units.Unit) Agent {
	a := Agent{ID: base + "/api/v1/units#" + u.ID, Type: "Agent", Label: LanguageMap{"zh": {"石嘴山数字文化云"}, "en": {"Shizuishan Culture Cloud"}},
		Homepage: []Content{{ID: base + "/", Type: "Text", Format: "text/html", Label: LanguageMap{"zh": {"石嘴山数字文化云"}, "en": {"Shizuishan Culture Cloud"}}}}}
	if u.ID != "" {
		a.Label = LanguageMap{"zh": {u.NameZH}, "en": {u.NameEN}}
	}
	return a
}

// metadata lists the item's descriptive fields, labelled in both languages.
func metadata(it library.Item, vocab *library.Vocabulary, tree *units.Tree) []Entry {
	var out []Entry
	add := func(zh, en string, value LanguageMap) {
		if len(value) > 0 {
			out = append(out, Entry{Label: LanguageMap{"zh": {zh}, "en": {en}}, Value: value})
		}
	}
	text := func(values ...string) LanguageMap {
		var keep []string
		for _, v := range values {
			if v = strings.TrimSpace(v); v != "" {
				keep = append(keep, v)
			}
		}
		if len(keep) == 0 {
			return nil
		}
		return LanguageMap{"zh": keep}
	}
	term := func(list []library.Term, id string) LanguageMap {
		if t, ok := library.Find(list, id); ok {
			return LanguageMap{"zh": {t.ZH}, "en": {t.EN}}
		}
		return text(id)
	}
	add("创作者", "Creator", text(it.Creator...))
	add("日期", "Date", text(it.Date))
	add("类型", "Type", term(vocab.Types, it.Type))
	add("专题", "Theme", term(vocab.Themes, it.Theme))
	if u, ok := tree.Get(it.Unit); ok {
		add("收藏单位", "Holding unit", LanguageMap{"zh": {u.NameZH}, "en": {u.NameEN}})
	}
	add("地点", "Place", text(it.Place.Name))
	add("时期", "Period", text(it.Period))
	add("主题词", "Subjects", text(it.Subject...))
	add("贡献者", "Contributors", text(it.Contributor...))
	add("出版者", "Publisher", text(it.Publisher))
	add("语言", "Language", term(vocab.Languages, it.Language))
	add("来源", "Source", text(it.Source))
	add("覆盖范围", "Coverage", text(it.Coverage))
	add("编号", "Identifier", text(it.Identifier))
	return out
}

// thumbnail is the 480-pixel picture of the item's first file that has one.
func thumbnail(base string, it library.Item, rec derivatives.Record) []Content {
	for _, f := range it.Files {
		st, ok := rec.Files[f.Path]
		if !ok || st.State != derivatives.Done || st.SHA256 != f.SHA256 {
			continue
		}
		for _, o := range st.Outputs {
			if o.Name == "thumb-480.jpg" {
				return []Content{{ID: derivativeURL(base, it.ID, st.SHA256, o.Name), Type: "Image", Format: o.MediaType,
					Width: o.Width, Height: o.Height}}
			}
		}
	}
	return nil
}

// canvas is the Canvas id of one file, ok false for a file a viewer cannot paint (a PDF, a
// video whose renditions are not made yet, an image whose size cannot be read).
func (b *Builder) canvas(ctx context.Context, base, id string, label LanguageMap, it library.Item, f library.File,
	media transcoding.Record, derived derivatives.Record, download bool) (Canvas, bool, error) {
	kind, _, _ := strings.Cut(f.MediaType, "/")
	switch kind {
	case "image":
		w, h, err := b.Sizes.Of(ctx, it.ID, f)
		if errors.Is(err, ErrNoSize) || errors.Is(err, library.ErrNotFound) {
			return Canvas{}, false, nil
		}
		if err != nil {
			return Canvas{}, false, err
		}
		service := ImageServiceURL(base, it.ID, f.SHA256)
		body := Content{ID: service + "/full/max/0/default.jpg", Type: "Image", Format: "image/jpeg", Width: w, Height: h,
			Service: []Service{{ID: service, Type: "ImageService3", Profile: "level2"}}}
		c := paint(id, label, body)
		c.Thumbnail = thumbnail(base, library.Item{ID: it.ID, Files: []library.File{f}}, derived)
		return c, true, nil
	case "video", "audio":
		fm, ok := media.Files[f.Path]
		if !ok || fm.State != transcoding.Done || fm.SHA256 != f.SHA256 || fm.Master == "" || fm.Duration <= 0 {
			return Canvas{}, false, nil
		}
		return timed(base, it.ID, id, label, kind, fm, download), true, nil
	}
	return Canvas{}, false, nil
}

// timed is the Canvas of a sound or a video: its HLS stream, and its MP4 or M4A file as
// the alternative where the licence lets people download it.
func timed(base, item, id string, label LanguageMap, kind string, fm transcoding.FileMedia, download bool) Canvas {
	typ := map[string]string{"video": "Video", "audio": "Sound"}[kind]
	hls := Content{ID: mediaURL(base, item, fm.SHA256, fm.Master), Type: typ, Format: "application/vnd.apple.mpegurl", Duration: fm.Duration}
	var w, h int
	for _, r := range fm.Rungs {
		if r.Width*r.Height > w*h {
			w, h = r.Width, r.Height
		}
	}
	if kind == "video" {
		hls.Width, hls.Height = w, h
	}
	body := hls
	if download && fm.Download != "" {
		file := hls
		file.ID = mediaURL(base, item, fm.SHA256, fm.Download)
		file.Format = map[string]string{"video": "video/mp4", "audio": "audio/mp4"}[kind]
		body = Content{ID: id + "/choice", Type: "Choice", Items: []Content{hls, file}}
	}
	c := paint(id, label, body)
	c.Duration = fm.Duration
	if kind == "video" {
		c.Width, c.Height = w, h
	}
	if fm.Poster != "" {
		c.Thumbnail = []Content{{ID: mediaURL(base, item, fm.SHA256, fm.Poster), Type: "Image", Format: "image/jpeg"}}
	}
	return c
}

// paint is a Canvas showing one resource, the size of the resource.
func paint(id string, label LanguageMap, body Content) Canvas {
	return Canvas{ID: id, Type: "Canvas", Label: label, Width: body.Width, Height: body.Height,
		Items: []AnnotationPage{{ID: id + "/page", Type: "AnnotationPage", Items: []Annotation{{
			ID: id + "/page/painting", Type: "Annotation", Motivation: "painting", Body: body, Target: id,
		}}}}}
}

func joinNonEmpty(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}
