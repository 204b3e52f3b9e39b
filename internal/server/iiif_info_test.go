package server_test

import (
	"fmt"
	"image/color"
	"net/http"
	"slices"
	"strings"
	"testing"
)

type iiifInfoJSON struct {
	Context   string `json:"@context"`
	ID        string `json:"id"`
	Type      string `json:"type"`
	Protocol  string `json:"protocol"`
	Profile   string `json:"profile"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	MaxWidth  int    `json:"maxWidth"`
	MaxHeight int    `json:"maxHeight"`
	MaxArea   int64  `json:"maxArea"`
	Sizes     []struct {
		Type          string `json:"type"`
		Width, Height int
	} `json:"sizes"`
	Tiles []struct {
		Type         string `json:"type"`
		Width        int    `json:"width"`
		ScaleFactors []int  `json:"scaleFactors"`
	} `json:"tiles"`
	ExtraQualities []string `json:"extraQualities"`
	ExtraFormats   []string `json:"extraFormats"`
	ExtraFeatures  []string `json:"extraFeatures"`
}

// TestIIIFInfoClaimsAreAnswered reads info.json and asks for every size, every scale factor's
// tiles, every feature of level 2 and every extra quality, format and feature it claims, and
// checks each real answer: nothing is claimed that is not answered as the Image API says.
func TestIIIFInfoClaimsAreAnswered(t *testing.T) {
	f := newIIIFFixture(t)
	f.publish(t)
	r := f.anon.want(http.StatusOK, "GET", f.base+"/info.json", nil, "Accept", "application/ld+json")
	if ct := r.header.Get("Content-Type"); ct != `application/ld+json;profile="http://iiif.io/api/image/3/context.json"` {
		t.Fatalf("content type %q", ct)
	}
	if r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatal("info.json of a published image without CORS")
	}
	var info iiifInfoJSON
	r.json(t, &info)
	if info.Context != "http://iiif.io/api/image/3/context.json" || info.Type != "ImageService3" ||
		info.Protocol != "http://iiif.io/api/image" || info.Profile != "level2" || !strings.HasSuffix(info.ID, f.base) ||
		!strings.HasPrefix(info.ID, "http") || info.Width != scanW || info.Height != scanH ||
		info.MaxWidth != 2000 || info.MaxHeight != 1500 || info.MaxArea != 2_000_000 {
		t.Fatalf("info.json %s", r.body)
	}
	get := func(path string, w, h int, mediaType string) {
		t.Helper()
		img := decodeImage(t, f.image(t, path), mediaType)
		if got, want := size(img), fmt.Sprintf("%d×%d", w, h); got != want {
			t.Errorf("%s is %s, want %s", path, got, want)
		}
	}
	for _, s := range info.Sizes {
		get(fmt.Sprintf("full/%d,%d/0/default.jpg", s.Width, s.Height), s.Width, s.Height, "image/jpeg")
	}
	if len(info.Tiles) != 1 || !slices.Equal(info.Tiles[0].ScaleFactors, []int{1, 2, 4}) || info.Tiles[0].Width != 512 {
		t.Fatalf("tiles %+v", info.Tiles)
	}
	for _, s := range info.Tiles[0].ScaleFactors {
		span := 512 * s
		for _, xy := range [][2]int{{0, 0}, {(scanW - 1) / span * span, (scanH - 1) / span * span}} {
			w, h := min(span, scanW-xy[0]), min(span, scanH-xy[1])
			sw, sh := (w+s-1)/s, (h+s-1)/s
			get(fmt.Sprintf("%d,%d,%d,%d/%d,%d/0/default.jpg", xy[0], xy[1], w, h, sw, sh), sw, sh, "image/jpeg")
		}
	}
	// Level 2: regions by pixels, percent and square; sizes by w, h, percent, w,h and !w,h;
	// rotation by 90s; the color quality; jpg and png.
	get("pct:10,10,50,50/max/0/default.jpg", 650, 500, "image/jpeg")
	get("square/100,/0/default.jpg", 100, 100, "image/jpeg")
	get("full/,100/0/default.png", 130, 100, "image/png")
	get("full/pct:10/0/color.jpg", 130, 100, "image/jpeg")
	get("full/100,50/0/default.jpg", 100, 50, "image/jpeg")
	get("full/!200,200/0/default.jpg", 200, 154, "image/jpeg")
	get("0,0,300,100/max/90/default.png", 100, 300, "image/png")
	get("0,0,300,100/max/180/default.png", 300, 100, "image/png")
	get("0,0,300,100/max/270/default.png", 100, 300, "image/png")
	// The limits are where info.json says.
	get("full/^1600,1200/0/default.jpg", 1600, 1200, "image/jpeg")
	get("0,0,100,10/^2000,/0/default.jpg", 2000, 200, "image/jpeg")
	get("0,0,10,100/^,1500/0/default.jpg", 150, 1500, "image/jpeg")
	for _, over := range []string{"0,0,100,10/^2001,/0/default.jpg", "0,0,10,100/^,1501/0/default.jpg", "full/^1700,1200/0/default.jpg"} {
		f.anon.want(http.StatusBadRequest, "GET", f.base+"/"+over, nil)
	}

	for _, q := range info.ExtraQualities {
		switch q {
		case "gray":
			img := decodeImage(t, f.anon.want(http.StatusOK, "GET", f.base+"/full/100,/0/gray.png", nil), "image/png")
			if _, ok := img.(interface{ GrayAt(x, y int) color.Gray }); !ok {
				t.Errorf("gray.png is a %T", img)
			}
		default:
			t.Errorf("info.json claims the quality %q, which this test does not check", q)
		}
	}
	for _, fm := range info.ExtraFormats {
		t.Errorf("info.json claims the format %q, which this test does not check", fm)
	}
	for _, feature := range info.ExtraFeatures {
		switch feature {
		case "mirroring":
			img := decodeImage(t, f.anon.want(http.StatusOK, "GET", f.base+"/0,0,100,100/max/!0/default.png", nil), "image/png")
			r, _, _, _ := img.At(0, 50).RGBA()
			if want := scanColor(99, 50).R; !near(uint8(r>>8), want) {
				t.Errorf("mirrored left edge red %d, want about %d", r>>8, want)
			}
		case "sizeUpscaling":
			get("0,0,100,100/^200,/0/default.jpg", 200, 200, "image/jpeg")
		default:
			t.Errorf("info.json claims the feature %q, which this test does not check", feature)
		}
	}
}
