package iiif_test

import (
	"image"
	"image/color"
	"testing"

	"github.com/shizuishan/culturecloud/media/iiif"
)

// BenchmarkCutFullMax cuts full/max of a 4096 × 2048 image (a panorama hall) from its
// decoded 512-pixel tiles: the copy the unscaled path makes, against a scaled answer of
// the same image (full/4000,) that must resample.
func BenchmarkCutFullMax(b *testing.B) {
	const w, h = 4096, 2048
	tile := image.NewYCbCr(image.Rect(0, 0, 512, 512), image.YCbCrSubsampleRatio420)
	for i := range tile.Y {
		tile.Y[i] = uint8(i)
	}
	py := iiif.NewPyramid(w, h, 512)
	tiles := func(string) (image.Image, error) { return tile, nil }
	for _, path := range []string{"full/max/0/default.jpg", "full/4000,/0/default.jpg"} {
		p := planFor(b, path, w, h)
		b.Run(path, func(b *testing.B) {
			for b.Loop() {
				img, err := iiif.Cut(py, p, tiles)
				if err != nil {
					b.Fatal(err)
				}
				_ = img.At(0, 0).(color.RGBA)
			}
		})
	}
}
