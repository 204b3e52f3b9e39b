package manifests

import (
	"context"

	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/units"
)

// Collection is a Collection document at base+path listing members.
func (b *Builder) Collection(base, path string, label LanguageMap, summary string, members []Member) Collection {
	c := Collection{Descriptive: Descriptive{Context: Context, ID: base + path, Type: "Collection", Label: label},
		Items: members}
	if summary != "" {
		c.Summary = LanguageMap{"zh": {summary}}
	}
	c.Provider = []Agent{provider(base, units.Unit{})} // the site itself
	c.Homepage = []Content{{ID: base + "/memory", Type: "Text", Format: "text/html", Language: []string{"zh"},
		Label: LanguageMap{"zh": {"石嘴山记忆"}, "en": {"Shizuishan Memory"}}}}
	if c.Items == nil {
		c.Items = []Member{} // a Collection must have items, even none
	}
	return c
}

// Member is a published item as an entry of a Collection, with its thumbnail.
func (b *Builder) Member(ctx context.Context, base string, it library.Item) Member {
	m := Member{ID: ItemManifestURL(base, it.ID), Type: "Manifest", Label: LanguageMap{"zh": {it.Title}}}
	if rec, err := b.Derivatives.Get(ctx, it.ID); err == nil {
		m.Thumbnail = thumbnail(base, it, rec)
	}
	return m
}

// HitMember is an entry made from a search hit, which carries the thumbnail's path.
func HitMember(base, item, title, thumb string) Member {
	m := Member{ID: ItemManifestURL(base, item), Type: "Manifest", Label: LanguageMap{"zh": {title}}}
	if thumb != "" {
		m.Thumbnail = []Content{{ID: base + thumb, Type: "Image", Format: "image/jpeg"}}
	}
	return m
}
