package iiif

import (
	"fmt"
	"strconv"
)

// Pyramid is the tile layout of one image as `vips dzsave --layout iiif3` writes it: at each
// scale factor s (1, 2, 4, … until the whole image fits one tile), square tiles covering
// Tile×s pixels of the full image, each stored as "x,y,w,h/sw,sh/0/default.jpg" where
// x,y,w,h is the region in full-image pixels and sw,sh = ⌈w/s⌉,⌈h/s⌉ its size.
type Pyramid struct {
	Width        int   `json:"width"`
	Height       int   `json:"height"`
	Tile         int   `json:"tile"`
	ScaleFactors []int `json:"scale_factors"`
}

// NewPyramid is the layout of an image of width × height pixels in square tiles of tile pixels.
func NewPyramid(width, height, tile int) Pyramid {
	return Pyramid{Width: width, Height: height, Tile: tile, ScaleFactors: scaleFactors(width, height, tile)}
}

// scaleFactors are 1, 2, 4, … up to the first at which the whole image fits one tile.
func scaleFactors(width, height, tile int) []int {
	factors := []int{1}
	for s := 1; ceilDiv(max(width, height), s) > tile; {
		s *= 2
		factors = append(factors, s)
	}
	return factors
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// TileName is the stored name of the tile in column col and row row at scale factor s.
func (py Pyramid) TileName(s, col, row int) string {
	span := py.Tile * s
	x, y := col*span, row*span
	w, h := min(span, py.Width-x), min(span, py.Height-y)
	return strconv.Itoa(x) + "," + strconv.Itoa(y) + "," + strconv.Itoa(w) + "," + strconv.Itoa(h) + "/" +
		strconv.Itoa(ceilDiv(w, s)) + "," + strconv.Itoa(ceilDiv(h, s)) + "/0/default.jpg"
}

// Names lists the name of every tile of the pyramid, to check that a made pyramid is whole.
func (py Pyramid) Names() []string {
	var names []string
	for _, s := range py.ScaleFactors {
		span := py.Tile * s
		for row := range ceilDiv(py.Height, span) {
			for col := range ceilDiv(py.Width, span) {
				names = append(names, py.TileName(s, col, row))
			}
		}
	}
	return names
}

// TileOf reports whether p asks for exactly one stored tile as it is (same region, size and
// format, no turn, no change of colour), and that tile's name.
func (py Pyramid) TileOf(p Plan) (string, bool) {
	if p.Rotation != 0 || p.Mirror || p.Quality == Gray || p.Quality == Bitonal || p.Format != "jpg" {
		return "", false
	}
	for _, s := range py.ScaleFactors {
		span := py.Tile * s
		if p.X%span != 0 || p.Y%span != 0 || p.W != min(span, py.Width-p.X) || p.H != min(span, py.Height-p.Y) ||
			p.Width != ceilDiv(p.W, s) || p.Height != ceilDiv(p.H, s) {
			continue
		}
		return py.TileName(s, p.X/span, p.Y/span), true
	}
	return "", false
}

// Level is the scale factor to cut p from: the coarsest level that still holds at least as
// many pixels as the answer needs, so that the answer is only ever scaled down (or, for ^
// sizes above the full resolution, cut from the full one).
func (py Pyramid) Level(p Plan) int {
	level := 1
	for _, s := range py.ScaleFactors {
		if p.W >= s*p.Width && p.H >= s*p.Height {
			level = s
		}
	}
	return level
}

// Check refuses a layout that cannot be served (a corrupt record).
func (py Pyramid) Check() error {
	if py.Width <= 0 || py.Height <= 0 || py.Tile <= 0 || len(py.ScaleFactors) == 0 {
		return fmt.Errorf("iiif: pyramid of %d×%d pixels in tiles of %d", py.Width, py.Height, py.Tile)
	}
	return nil
}
