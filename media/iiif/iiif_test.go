package iiif_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/media/iiif"
)

// limits are those of a server that writes JPEG and PNG up to 4,000 pixels a side and
// 10 million pixels.
var limits = iiif.Limits{MaxWidth: 4000, MaxHeight: 4000, MaxArea: 10_000_000, Formats: []string{"jpg", "png"}}

// plan parses path ("region/size/rotation/quality.format") and resolves it against an image
// of 12,000 × 9,000 pixels, the size of a large scan.
func plan(path string) (iiif.Plan, error) {
	p := strings.Split(path, "/")
	if len(p) != 4 {
		return iiif.Plan{}, fmt.Errorf("test path %q", path)
	}
	r, err := iiif.Parse(p[0], p[1], p[2], p[3])
	if err != nil {
		return iiif.Plan{}, err
	}
	return iiif.Resolve(r, 12000, 9000, limits)
}

func TestResolve(t *testing.T) {
	cases := []struct {
		path                   string
		x, y, w, h, outW, outH int
	}{
		{"full/max/0/default.jpg", 0, 0, 12000, 9000, 3651, 2738}, // maxArea binds before maxWidth
		{"full/256,/0/default.jpg", 0, 0, 12000, 9000, 256, 192},
		{"full/,300/0/default.png", 0, 0, 12000, 9000, 400, 300},
		{"full/pct:10/0/default.jpg", 0, 0, 12000, 9000, 1200, 900},
		{"full/!1000,1000/0/default.jpg", 0, 0, 12000, 9000, 1000, 750},
		{"full/500,500/0/default.jpg", 0, 0, 12000, 9000, 500, 500},
		{"square/max/0/default.jpg", 1500, 0, 9000, 9000, 3162, 3162},
		{"square/100,/0/default.jpg", 1500, 0, 9000, 9000, 100, 100},
		{"0,0,512,512/max/90/gray.png", 0, 0, 512, 512, 512, 512},
		{"0,0,512,256/max/90/gray.png", 0, 0, 512, 256, 256, 512},
		{"11800,8800,512,512/max/0/default.jpg", 11800, 8800, 200, 200, 200, 200},
		{"pct:50,50,50,50/256,/180/color.jpg", 6000, 4500, 6000, 4500, 256, 192},
		{"0,0,512,512/^1024,/!270/default.jpg", 0, 0, 512, 512, 1024, 1024},
		{"0,0,100,100/^max/0/default.jpg", 0, 0, 100, 100, 3162, 3162},
		{"0,0,100,50/^!400,400/0/default.jpg", 0, 0, 100, 50, 400, 200},
		{"0,0,100,50/!400,400/0/default.jpg", 0, 0, 100, 50, 100, 50},
		{"0,0,100,100/^pct:150/360/default.jpg", 0, 0, 100, 100, 150, 150},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			p, err := plan(c.path)
			if err != nil {
				t.Fatal(err)
			}
			got := [6]int{p.X, p.Y, p.W, p.H, p.OutWidth(), p.OutHeight()}
			if want := [6]int{c.x, c.y, c.w, c.h, c.outW, c.outH}; got != want {
				t.Fatalf("region and size %v, want %v", got, want)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	cases := []struct {
		path string
		want error
	}{
		{"full/full/0/default.jpg", iiif.ErrBadRequest}, // full is a 2.x size
		{"full/max/0/default", iiif.ErrBadRequest},
		{"full/max/0/.jpg", iiif.ErrBadRequest},
		{"full/max/0/best.jpg", iiif.ErrBadRequest},
		{"full/max/0/default.bmp", iiif.ErrBadRequest},
		{"full/max/-90/default.jpg", iiif.ErrBadRequest},
		{"full/max/361/default.jpg", iiif.ErrBadRequest},
		{"full/max/1e2/default.jpg", iiif.ErrBadRequest},
		{"full/max/NaN/default.jpg", iiif.ErrBadRequest},
		{"full/max/!!90/default.jpg", iiif.ErrBadRequest},
		{"-1,0,10,10/max/0/default.jpg", iiif.ErrBadRequest},
		{"0,0,0,10/max/0/default.jpg", iiif.ErrBadRequest},
		{"0,0,10/max/0/default.jpg", iiif.ErrBadRequest},
		{"0,0,10,10,10/max/0/default.jpg", iiif.ErrBadRequest},
		{"12000,0,10,10/max/0/default.jpg", iiif.ErrBadRequest}, // starts outside
		{"pct:100,0,10,10/max/0/default.jpg", iiif.ErrBadRequest},
		{"pct:inf,0,10,10/max/0/default.jpg", iiif.ErrBadRequest},
		{"0.5,0,10,10/max/0/default.jpg", iiif.ErrBadRequest},
		{"full/0,/0/default.jpg", iiif.ErrBadRequest},
		{"full/,/0/default.jpg", iiif.ErrBadRequest},
		{"full/!100,/0/default.jpg", iiif.ErrBadRequest},
		{"full/pct:0/0/default.jpg", iiif.ErrBadRequest},
		{"full/pct:101/0/default.jpg", iiif.ErrBadRequest},
		{"full/+100,/0/default.jpg", iiif.ErrBadRequest},
		{"full/99999999999999999999,/0/default.jpg", iiif.ErrBadRequest},
		{"0,0,100,100/200,/0/default.jpg", iiif.ErrBadRequest}, // larger than the region, no ^
		{"0,0,100,100/100,200/0/default.jpg", iiif.ErrBadRequest},
		{"full/5000,/0/default.jpg", iiif.ErrBadRequest},          // beyond maxWidth
		{"full/^max/0/default.jpg", nil},                          // ^max: as large as the limits allow
		{"full/4000,4000/0/default.jpg", iiif.ErrBadRequest},      // beyond maxArea
		{"0,0,10,10/^9999999,/0/default.jpg", iiif.ErrBadRequest}, // beyond every limit, never allocated
		{"0,0,1000,10/1,/0/default.jpg", iiif.ErrBadRequest},      // less than one pixel high
		{"full/max/45/default.jpg", iiif.ErrNotImplemented},
		{"full/max/0/bitonal.jpg", iiif.ErrNotImplemented},
		{"full/max/0/default.tif", iiif.ErrNotImplemented},
		{strings.Repeat("1", 100) + "/max/0/default.jpg", iiif.ErrBadRequest},
	}
	for _, c := range cases {
		t.Run(c.path[:min(len(c.path), 40)], func(t *testing.T) {
			_, err := plan(c.path)
			if c.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("%v, want %v", err, c.want)
			}
			if errors.Is(err, iiif.ErrBadRequest) && errors.Is(err, iiif.ErrNotImplemented) {
				t.Fatal("both kinds at once")
			}
		})
	}
}

// FuzzRequest: any four segments either are refused with one of the two kinds or give a plan
// that lies inside the image and inside the limits.
func FuzzRequest(f *testing.F) {
	for _, seed := range []string{"full/max/0/default.jpg", "square/^!300,200/!90/gray.png",
		"pct:10.5,20,30,40/pct:50/180/color.jpg", "0,0,1,1/^max/270/default.png", "1,2,3/,4/5/x.y"} {
		p := strings.SplitN(seed, "/", 4)
		f.Add(p[0], p[1], p[2], p[3], 3000, 2000)
	}
	f.Fuzz(func(t *testing.T, region, size, rotation, qf string, width, height int) {
		width, height = 1+int(uint(width)%20000), 1+int(uint(height)%20000)
		r, err := iiif.Parse(region, size, rotation, qf)
		if err != nil {
			if !errors.Is(err, iiif.ErrBadRequest) {
				t.Fatalf("Parse: %v is not a bad request", err)
			}
			return
		}
		p, err := iiif.Resolve(r, width, height, limits)
		if err != nil {
			if !errors.Is(err, iiif.ErrBadRequest) && !errors.Is(err, iiif.ErrNotImplemented) {
				t.Fatalf("Resolve: %v", err)
			}
			return
		}
		if p.X < 0 || p.Y < 0 || p.W < 1 || p.H < 1 || p.X+p.W > width || p.Y+p.H > height {
			t.Fatalf("region %d,%d,%d,%d outside %d×%d", p.X, p.Y, p.W, p.H, width, height)
		}
		if p.Width < 1 || p.Height < 1 || p.Width > limits.MaxWidth || p.Height > limits.MaxHeight ||
			int64(p.Width)*int64(p.Height) > limits.MaxArea {
			t.Fatalf("size %d×%d beyond the limits", p.Width, p.Height)
		}
		// The pyramid of that image: a request is a stored tile only if that tile exists and
		// is exactly what was asked, and cuts come from a level that exists and has the pixels.
		py := iiif.NewPyramid(width, height, 512)
		if name, ok := py.TileOf(p); ok {
			if !slices.Contains(py.Names(), name) {
				t.Fatalf("tile %s is not in the pyramid", name)
			}
			want := fmt.Sprintf("%d,%d,%d,%d/%d,%d/0/default.jpg", p.X, p.Y, p.W, p.H, p.Width, p.Height)
			if name != want || p.Rotation != 0 || p.Mirror || p.Format != "jpg" {
				t.Fatalf("plan %+v answered by tile %s", p, name)
			}
		}
		if s := py.Level(p); !slices.Contains(py.ScaleFactors, s) || s > 1 && (p.W < s*p.Width || p.H < s*p.Height) {
			t.Fatalf("plan %+v cut from level %d of %v", p, s, py.ScaleFactors)
		}
	})
}
