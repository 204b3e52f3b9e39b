package iiif_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/media/iiif"
)

// TestInfoClaimsOnlyWhatResolves: every size, tile, quality, format and feature that
// info.json announces for a large scan is a request Resolve answers, with the size announced.
func TestInfoClaimsOnlyWhatResolves(t *testing.T) {
	const width, height, tile = 12000, 9000, 512
	lim := limits
	lim.Formats = append(slices.Clone(lim.Formats), "webp")
	info := iiif.NewInfo("https://example.org/iiif/3/szm-1/scan.tif", width, height, tile, lim)
	if got := info.Tiles[0].ScaleFactors; !slices.Equal(got, []int{1, 2, 4, 8, 16, 32}) {
		t.Fatalf("scale factors %v", got)
	}
	// color is required by level 2: listing it among the extras would claim it as more.
	if !slices.Equal(info.ExtraQualities, []string{"gray"}) || !slices.Equal(info.ExtraFeatures, []string{"mirroring", "sizeUpscaling"}) {
		t.Fatalf("extra qualities %v, features %v", info.ExtraQualities, info.ExtraFeatures)
	}
	if !slices.Equal(info.ExtraFormats, []string{"webp"}) || info.Profile != "level2" || info.Type != "ImageService3" {
		t.Fatalf("info %+v", info)
	}
	data, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"@context":"http://iiif.io/api/image/3/context.json"`, `"protocol":"http://iiif.io/api/image"`,
		`"width":12000`, `"height":9000`, `"maxArea":10000000`, `"type":"Tile"`, `"type":"Size"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("info.json lacks %s: %s", want, data)
		}
	}

	resolve := func(path string) iiif.Plan {
		t.Helper()
		p := strings.Split(path, "/")
		r, err := iiif.Parse(p[0], p[1], p[2], p[3])
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		plan, err := iiif.Resolve(r, width, height, lim)
		if err != nil {
			t.Fatalf("%s announced but refused: %v", path, err)
		}
		return plan
	}
	if len(info.Sizes) == 0 {
		t.Fatal("no sizes announced")
	}
	for _, s := range info.Sizes {
		if p := resolve(fmt.Sprintf("full/%d,%d/0/default.jpg", s.Width, s.Height)); p.Width != s.Width || p.Height != s.Height {
			t.Errorf("size %d×%d answered as %d×%d", s.Width, s.Height, p.Width, p.Height)
		}
	}
	// The first, an inner and the last tile of every scale factor, as viewers ask for them.
	for _, s := range info.Tiles[0].ScaleFactors {
		span := tile * s
		for _, at := range [][2]int{{0, 0}, {span, span}, {(width - 1) / span * span, (height - 1) / span * span}} {
			x, y := min(at[0], (width-1)/span*span), min(at[1], (height-1)/span*span)
			w, h := min(span, width-x), min(span, height-y)
			p := resolve(fmt.Sprintf("%d,%d,%d,%d/%d,/0/default.jpg", x, y, w, h, (w+s-1)/s))
			if p.Width > tile || p.Height > tile {
				t.Errorf("tile %d,%d at scale %d is %d×%d, larger than %d", x, y, s, p.Width, p.Height, tile)
			}
		}
	}
	for _, q := range info.ExtraQualities {
		resolve("full/max/0/" + q + ".jpg")
	}
	for _, f := range append([]string{"jpg", "png"}, info.ExtraFormats...) {
		resolve("full/max/0/default." + f)
	}
	for _, feature := range info.ExtraFeatures {
		switch feature {
		case "mirroring":
			if p := resolve("full/max/!90/default.jpg"); !p.Mirror || p.Rotation != 90 {
				t.Errorf("mirroring: %+v", p)
			}
		case "sizeUpscaling":
			if p := resolve("0,0,100,100/^200,/0/default.jpg"); p.Width != 200 {
				t.Errorf("upscaling: %+v", p)
			}
		default:
			t.Errorf("announced feature %q has no check here", feature)
		}
	}
}
