package server_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/imageservice"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// The scan of these tests: wide enough for three levels of 512-pixel tiles (scale factors 1,
// 2 and 4), and coloured so that every pixel says where it came from.
const scanW, scanH = 1300, 1000

func scanColor(x, y int) color.RGBA {
	return color.RGBA{R: uint8(x * 255 / scanW), G: uint8(y * 255 / scanH), B: 200, A: 255}
}

func scanPNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, scanW, scanH))
	for y := range scanH {
		for x := range scanW {
			img.SetRGBA(x, y, scanColor(x, y))
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// iiifFixture is a server with small IIIF limits and a draft item holding the scan, whose
// pyramid the worker has made. tweak changes the server's IIIF settings.
type iiifFixture struct {
	srv       *testenv.Server
	dwk, anon *client
	item      itemJSON
	sha       string
	base      string // /iiif/3/{identifier}
}

func newIIIFFixture(t *testing.T, tweak ...func(*config.IIIF)) *iiifFixture {
	t.Helper()
	cfg := testenv.Config(t, testenv.Shared(t))
	cfg.IIIF.MaxWidth, cfg.IIIF.MaxHeight, cfg.IIIF.MaxArea = 2000, 1500, 2_000_000
	for _, f := range tweak {
		f(&cfg.IIIF)
	}
	srv := testenv.StartServer(t, cfg)
	_, dwk, _ := staffClients(t, srv)
	it := dwk.createItem(sampleItem("石嘴山电厂全景扫描", map[string]any{"theme": "industrial"}))
	job := dwk.attach(it.ID, dwk.uploadFile("电厂 1972.png", scanPNG()))
	if job.State != "done" {
		t.Fatalf("attach job %+v", job)
	}
	f := &iiifFixture{srv: srv, dwk: dwk, anon: newClient(t, srv.URL), item: dwk.current(it.ID), sha: job.Result.File.SHA256}
	f.base = "/iiif/3/" + imageservice.Identifier(it.ID, f.sha)
	objects := testenv.Objects(t, cfg)
	testwait.Until(t, "the pyramid is made", func() bool {
		ok, err := objects.Exists(t.Context(), imageservice.RecordKey(it.ID, f.sha))
		return err == nil && ok
	})
	return f
}

func (f *iiifFixture) publish(t *testing.T) {
	t.Helper()
	f.item = f.dwk.publish(f.item)
}

// image GETs an image anonymously, as a viewer on another site does.
func (f *iiifFixture) image(t *testing.T, path string) reply {
	t.Helper()
	return f.anon.want(http.StatusOK, "GET", f.base+"/"+path, nil)
}

// decode reads an image answer of the given media type.
func decodeImage(t *testing.T, r reply, mediaType string) image.Image {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != mediaType {
		t.Fatalf("content type %q, want %s; body %.200s", ct, mediaType, r.body)
	}
	var img image.Image
	var err error
	if mediaType == "image/png" {
		img, err = png.Decode(bytes.NewReader(r.body))
	} else {
		img, err = jpeg.Decode(bytes.NewReader(r.body))
	}
	if err != nil {
		t.Fatalf("decode %s: %v", mediaType, err)
	}
	return img
}

func size(img image.Image) string { return fmt.Sprintf("%d×%d", img.Bounds().Dx(), img.Bounds().Dy()) }

// near: JPEG tiles and scaling move a colour a little, never far.
func near(a, b uint8) bool { return max(a, b)-min(a, b) <= 24 }

func TestIIIFImagesAreCutAsAsked(t *testing.T) {
	f := newIIIFFixture(t)
	f.publish(t)

	// A 256-pixel-wide JPEG of the whole scan, its colours where they belong.
	img := decodeImage(t, f.image(t, "full/256,/0/default.jpg"), "image/jpeg")
	if size(img) != "256×197" {
		t.Fatalf("full/256, is %s", size(img))
	}
	r, g, b, _ := img.At(250, 5).RGBA()
	if want := scanColor(1290, 25); !near(uint8(r>>8), want.R) || !near(uint8(g>>8), want.G) || !near(uint8(b>>8), want.B) {
		t.Fatalf("top right pixel %d,%d,%d, want about %v", r>>8, g>>8, b>>8, want)
	}

	// The first tile, turned a quarter clockwise and grey: a 512×512 grey PNG whose top right
	// corner is the scan's top left.
	gray := decodeImage(t, f.image(t, "0,0,512,512/max/90/gray.png"), "image/png")
	if size(gray) != "512×512" {
		t.Fatalf("0,0,512,512/max/90/gray.png is %s", size(gray))
	}
	for y := 0; y < 512; y += 37 {
		for x := 0; x < 512; x += 41 {
			r, g, b, _ := gray.At(x, y).RGBA()
			if r != g || g != b {
				t.Fatalf("pixel %d,%d is %d,%d,%d: not grey", x, y, r>>8, g>>8, b>>8)
			}
			// Turned clockwise: the answer's (x, y) is the region's (y, 511-x).
			want := color.GrayModel.Convert(scanColor(y, 511-x)).(color.Gray).Y
			if !near(uint8(r>>8), want) {
				t.Fatalf("pixel %d,%d is %d, want about %d", x, y, r>>8, want)
			}
		}
	}
}

// TestIIIFTilesComeFromStorageAsTheyAre: a request that is exactly a tile of the pyramid is the
// stored tile, byte for byte (nothing decoded); published answers are for any origin, cacheable
// and have an ETag that a conditional request honours.
func TestIIIFTilesComeFromStorageAsTheyAre(t *testing.T) {
	f := newIIIFFixture(t)
	objects := testenv.Objects(t, f.srv.Config)
	for _, tile := range []string{"0,0,512,512/512,512/0/default.jpg", "1024,512,276,488/276,488/0/default.jpg",
		"0,0,1024,1000/512,500/0/default.jpg", "0,0,1300,1000/325,250/0/default.jpg"} {
		stored, _, err := objects.ReadAll(t.Context(), imageservice.TileKey(f.item.ID, f.sha, tile), 1<<20)
		if err != nil {
			t.Fatalf("%s: %v", tile, err)
		}
		got := f.dwk.want(http.StatusOK, "GET", f.base+"/"+tile, nil)
		if !bytes.Equal(got.body, stored) {
			t.Fatalf("%s: the answer is not the stored tile", tile)
		}
		if cc := got.header.Get("Cache-Control"); !strings.Contains(cc, "private") || got.header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("a draft's tile: Cache-Control %q, CORS %q", cc, got.header.Get("Access-Control-Allow-Origin"))
		}
	}
	// A draft is nobody else's.
	f.anon.want(http.StatusNotFound, "GET", f.base+"/info.json", nil)
	f.anon.want(http.StatusNotFound, "GET", f.base+"/full/max/0/default.jpg", nil)

	f.publish(t)
	stored, _, err := objects.ReadAll(t.Context(), imageservice.TileKey(f.item.ID, f.sha, "0,0,512,512/512,512/0/default.jpg"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // from MinIO, then from the node's cache
		got := f.image(t, "0,0,512,512/512,512/0/default.jpg")
		if !bytes.Equal(got.body, stored) || got.header.Get("Content-Type") != "image/jpeg" {
			t.Fatal("the published tile is not the stored one")
		}
		if got.header.Get("Access-Control-Allow-Origin") != "*" || maxAge(got.header.Get("Cache-Control")) < 60 ||
			!strings.Contains(got.header.Get("Cache-Control"), "public") {
			t.Fatalf("published tile: CORS %q, Cache-Control %q", got.header.Get("Access-Control-Allow-Origin"), got.header.Get("Cache-Control"))
		}
	}
	got := f.image(t, "0,0,512,512/512,512/0/default.jpg")
	etag := got.header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	f.anon.want(http.StatusNotModified, "GET", f.base+"/0,0,512,512/512,512/0/default.jpg", nil, "If-None-Match", etag)

	// The bare identifier leads to info.json (303); an identifier that names nothing is 404.
	if loc := f.anon.want(http.StatusSeeOther, "GET", f.base, nil).header.Get("Location"); !strings.HasSuffix(loc, f.base+"/info.json") {
		t.Fatalf("Location %q", loc)
	}
	for _, id := range []string{"nothing", f.item.ID + "~" + strings.Repeat("0", 64), "../" + f.sha} {
		f.anon.want(http.StatusNotFound, "GET", "/iiif/3/"+id+"/info.json", nil)
	}
}
