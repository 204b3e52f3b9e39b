package exhibitions

import (
	"context"
	"fmt"
	"math"
	"strings"
)

// Limits of a panorama room.
const (
	MaxHotspots = MaxExhibits // every exhibit of the room may have one
	MaxLinks    = MaxSections
	// aspectTolerance is how far from 2:1 an equirectangular scene may be (a camera's
	// stitcher often crops a few rows): width/height within 2 ± 0.1.
	aspectTolerance = 0.1
)

// gallery checks that a gallery carries nothing of a panorama.
func (c *checker) gallery(field string, sec *Section) {
	if sec.Scene != nil {
		c.errs.Add(field+".scene", "not_panorama")
	}
	if len(sec.Hotspots) > 0 {
		c.errs.Add(field+".hotspots", "not_panorama")
	}
	if len(sec.Links) > 0 {
		c.errs.Add(field+".links", "not_panorama")
	}
}

// panorama checks a panorama room: its scene is a still image of about 2:1 that the curator
// may see (pinned to its file), each hotspot opens an exhibit of the room, each link leads to
// another panorama room, and every place is a yaw in -180..180 and a pitch in -90..90.
func (c *checker) panorama(ctx context.Context, field string, i int, sec *Section, sections []Section) error {
	if sec.Hotspots == nil {
		sec.Hotspots = []Hotspot{}
	}
	if sec.Links == nil {
		sec.Links = []Link{}
	}
	if err := c.scene(ctx, field+".scene", sec.Scene); err != nil {
		return err
	}
	// The walkthrough (and a guide) moves from exhibit to exhibit: a hall without one could
	// never be entered.
	if len(sec.Exhibits) == 0 {
		c.errs.Add(field+".exhibits", "panorama_empty")
	}
	if len(sec.Hotspots) > MaxHotspots {
		c.errs.Add(field+".hotspots", "too_many", MaxHotspots)
	} else {
		for j, h := range sec.Hotspots {
			f := fmt.Sprintf("%s.hotspots[%d]", field, j)
			if h.Exhibit < 0 || h.Exhibit >= len(sec.Exhibits) {
				c.errs.Add(f+".exhibit", "unknown_exhibit")
			}
			c.place(f, h.Yaw, h.Pitch)
		}
	}
	if len(sec.Links) > MaxLinks {
		c.errs.Add(field+".links", "too_many", MaxLinks)
		return nil
	}
	for j, l := range sec.Links {
		f := fmt.Sprintf("%s.links[%d]", field, j)
		switch {
		case l.Section == i:
			c.errs.Add(f+".section", "link_self")
		case l.Section < 0 || l.Section >= len(sections):
			c.errs.Add(f+".section", "unknown_section")
		case sections[l.Section].Kind != Panorama:
			c.errs.Add(f+".section", "not_panorama")
		}
		c.place(f, l.Yaw, l.Pitch)
	}
	return nil
}

// place checks a direction in the scene, in degrees.
func (c *checker) place(field string, yaw, pitch float64) {
	if math.IsNaN(yaw) || yaw < -180 || yaw > 180 {
		c.errs.Add(field+".yaw", "range", -180, 180)
	}
	if math.IsNaN(pitch) || pitch < -90 || pitch > 90 {
		c.errs.Add(field+".pitch", "range", -90, 90)
	}
}

// scene checks the equirectangular image of a panorama room.
func (c *checker) scene(ctx context.Context, field string, ref *FileRef) error {
	if ref == nil {
		c.errs.Add(field, "required")
		return nil
	}
	ref.Item, ref.File = strings.TrimSpace(ref.Item), strings.ToLower(strings.TrimSpace(ref.File))
	before := len(c.errs)
	if err := c.image(ctx, field, ref, nil); err != nil || len(c.errs) > before {
		return err
	}
	it, err := c.item(ctx, ref.Item)
	if err != nil || it == nil {
		return err
	}
	f := fileBySHA(it, ref.File)
	if f == nil { // image pinned ref.File to a file of the item
		return nil
	}
	if f.MediaType == "image/gif" { // a still image: an animation cannot be a scene
		c.errs.Add(field+".file", "scene_format")
		return nil
	}
	w, h, err := c.size(ctx, it.ID, f.Path)
	switch {
	case err != nil:
		return err
	case w == 0 || h == 0:
		c.errs.Add(field+".file", "scene_format")
	case math.Abs(float64(w)/float64(h)-2) > aspectTolerance:
		c.errs.Add(field+".file", "scene_aspect", w, h)
	}
	return nil
}
