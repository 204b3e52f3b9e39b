package iiif_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/media/iiif"
)

func TestPyramidTiles(t *testing.T) {
	py := iiif.NewPyramid(1301, 1030, 512)
	if !slices.Equal(py.ScaleFactors, []int{1, 2, 4}) {
		t.Fatalf("scale factors %v", py.ScaleFactors)
	}
	// The names vips 8.14 writes for this image (dzsave --layout iiif3 --tile-size 512).
	want := []string{"0,0,512,512/512,512/0/default.jpg", "512,0,512,512/512,512/0/default.jpg",
		"1024,0,277,512/277,512/0/default.jpg", "0,512,512,512/512,512/0/default.jpg",
		"512,512,512,512/512,512/0/default.jpg", "1024,512,277,512/277,512/0/default.jpg",
		"0,1024,512,6/512,6/0/default.jpg", "512,1024,512,6/512,6/0/default.jpg", "1024,1024,277,6/277,6/0/default.jpg",
		"0,0,1024,1024/512,512/0/default.jpg", "1024,0,277,1024/139,512/0/default.jpg",
		"0,1024,1024,6/512,3/0/default.jpg", "1024,1024,277,6/139,3/0/default.jpg",
		"0,0,1301,1030/326,258/0/default.jpg"}
	if got := py.Names(); !slices.Equal(got, want) {
		t.Fatalf("names\n%v\nwant\n%v", got, want)
	}
	cases := []struct {
		path string
		tile string // "" when the request must be cut
	}{
		{"0,0,512,512/512,512/0/default.jpg", "0,0,512,512/512,512/0/default.jpg"},
		{"0,0,512,512/512,/0/color.jpg", "0,0,512,512/512,512/0/default.jpg"},
		{"1024,0,277,1024/139,512/0/default.jpg", "1024,0,277,1024/139,512/0/default.jpg"},
		{"full/326,258/0/default.jpg", "0,0,1301,1030/326,258/0/default.jpg"},
		{"0,0,512,512/512,512/0/default.png", ""},
		{"0,0,512,512/512,512/90/default.jpg", ""},
		{"0,0,512,512/512,512/!0/default.jpg", ""},
		{"0,0,512,512/512,512/0/gray.jpg", ""},
		{"0,0,512,512/256,256/0/default.jpg", ""},
		{"256,0,512,512/512,512/0/default.jpg", ""},
	}
	for _, c := range cases {
		p := planFor(t, c.path, 1301, 1030)
		name, ok := py.TileOf(p)
		if ok != (c.tile != "") || name != c.tile {
			t.Errorf("%s: tile %q %v, want %q", c.path, name, ok, c.tile)
		}
	}
	for path, level := range map[string]int{"full/max/0/default.jpg": 1, "full/650,/0/default.jpg": 2,
		"full/651,/0/default.jpg": 1, "full/100,/0/default.jpg": 4, "0,0,100,100/^200,/0/default.jpg": 1} {
		if got := py.Level(planFor(t, path, 1301, 1030)); got != level {
			t.Errorf("%s: level %d, want %d", path, got, level)
		}
	}
}

func planFor(t testing.TB, path string, width, height int) iiif.Plan {
	t.Helper()
	p := strings.SplitN(path, "/", 4)
	r, err := iiif.Parse(p[0], p[1], p[2], p[3])
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	lim := iiif.Limits{MaxArea: 1 << 40, Formats: []string{"jpg", "png"}}
	plan, err := iiif.Resolve(r, width, height, lim)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return plan
}

// TestMakeAndCut runs vips on a real image and cuts from what it wrote: the cut of a region
// across four tiles of a level matches the source, turned and mirrored as asked.
func TestMakeAndCut(t *testing.T) {
	if _, err := exec.LookPath("vips"); err != nil {
		t.Skip("vips is not installed")
	}
	const w, h = 1100, 900
	src := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			src.SetRGBA(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 90, 255})
		}
	}
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "scan.jpg")
	if err := os.WriteFile(in, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	py, err := iiif.Make(t.Context(), in, out, 512)
	if err != nil {
		t.Fatal(err)
	}
	if py.Width != w || py.Height != h || !slices.Equal(py.ScaleFactors, []int{1, 2, 4}) {
		t.Fatalf("pyramid %+v", py)
	}
	open := func(name string) (io.ReadCloser, error) { return os.Open(filepath.Join(out, filepath.FromSlash(name))) }
	for _, c := range []struct {
		path             string
		ow, oh           int
		probeX, probeY   int // a pixel of the answer...
		sourceX, sourceY int // ...and where it comes from in the source
	}{
		{"400,400,300,300/150,/0/default.jpg", 150, 150, 10, 140, 420, 680},
		{"400,400,300,200/max/90/default.png", 200, 300, 190, 5, 405, 409},
		{"400,400,300,200/max/!0/default.png", 300, 200, 5, 5, 694, 405},
		{"full/275,/180/default.jpg", 275, 225, 270, 220, 20, 20},
		// Unscaled answers are copies of the level's tiles, across their edges.
		{"full/max/0/default.png", 1100, 900, 1099, 899, 1099, 899},
		{"full/max/0/default.png", 1100, 900, 515, 520, 515, 520},
		{"600,10,500,890/max/0/default.png", 500, 890, 0, 600, 600, 610},
	} {
		p := planFor(t, c.path, w, h)
		img, err := iiif.Cut(py, p, iiif.JPEGTiles(open))
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		if img.Bounds().Dx() != c.ow || img.Bounds().Dy() != c.oh {
			t.Fatalf("%s is %v", c.path, img.Bounds())
		}
		r, g, _, _ := img.At(c.probeX, c.probeY).RGBA()
		want := src.RGBAAt(c.sourceX, c.sourceY)
		if d := int(r>>8) - int(want.R); d < -12 || d > 12 {
			t.Errorf("%s: red %d at %d,%d, want about %d", c.path, r>>8, c.probeX, c.probeY, want.R)
		}
		if d := int(g>>8) - int(want.G); d < -12 || d > 12 {
			t.Errorf("%s: green %d at %d,%d, want about %d", c.path, g>>8, c.probeX, c.probeY, want.G)
		}
	}
	// A missing tile is the opener's error, not a broken image.
	broken := func(string) (io.ReadCloser, error) { return nil, os.ErrNotExist }
	if _, err := iiif.Cut(py, planFor(t, "full/100,/0/default.jpg", w, h), iiif.JPEGTiles(broken)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("cut without tiles: %v", err)
	}
}
