package iiif

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/draw"
	"golang.org/x/image/math/f64"
)

// JPEGQuality is the quality of the JPEG answers this package cuts.
const JPEGQuality = 85

// Tiles gives one tile of a pyramid, decoded, by its name (Pyramid.TileName).
type Tiles func(name string) (image.Image, error)

// JPEGTiles gives the tiles that open reads, stored as JPEG (as vips writes them).
func JPEGTiles(open func(name string) (io.ReadCloser, error)) Tiles {
	return func(name string) (image.Image, error) {
		rc, err := open(name)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		img, err := jpeg.Decode(bufio.NewReader(rc))
		if err != nil {
			return nil, fmt.Errorf("iiif: tile %s: %w", name, err)
		}
		return img, nil
	}
}

// Cut makes the answer to p from the pyramid's tiles: from the coarsest level that has the
// pixels the answer needs, it decodes only the tiles that cover the region, one at a time,
// scaling each straight into the answer. So it holds the answer and one tile, never a level
// or the master, whatever the size of the image.
func Cut(py Pyramid, p Plan, tiles Tiles) (image.Image, error) {
	if err := py.Check(); err != nil {
		return nil, err
	}
	s := py.Level(p)
	span := py.Tile * s
	dst := image.NewRGBA(image.Rect(0, 0, p.Width, p.Height))
	// Where the region lies in the level's pixels, and how much each of them grows.
	fs := float64(s)
	rx, ry := float64(p.X)/fs, float64(p.Y)/fs
	kx, ky := float64(p.Width)/(float64(p.W)/fs), float64(p.Height)/(float64(p.H)/fs)
	for row := p.Y / span; row <= (p.Y+p.H-1)/span; row++ {
		for col := p.X / span; col <= (p.X+p.W-1)/span; col++ {
			tile, err := tiles(py.TileName(s, col, row))
			if err != nil {
				return nil, err
			}
			ox, oy := float64(col*py.Tile), float64(row*py.Tile)
			if dx, dy := ox-rx, oy-ry; kx == 1 && ky == 1 && dx == math.Trunc(dx) && dy == math.Trunc(dy) {
				// Pixels of the level as they are (a tile of a size the pyramid does not
				// store, full/max): a copy, many times cheaper than a resampling.
				at := image.Pt(int(dx), int(dy))
				draw.Draw(dst, tile.Bounds().Sub(tile.Bounds().Min).Add(at), tile, tile.Bounds().Min, draw.Src)
				continue
			}
			s2d := f64.Aff3{kx, 0, (ox - rx) * kx, 0, ky, (oy - ry) * ky}
			draw.BiLinear.Transform(dst, s2d, tile, tile.Bounds(), draw.Src, nil)
		}
	}
	out := orient(dst, p.Rotation, p.Mirror)
	if p.Quality == Gray {
		return toGray(out), nil
	}
	return out, nil
}

// orient mirrors src left to right (if asked), then turns it clockwise by rotation degrees
// (0, 90, 180 or 270), as the Image API orders them.
func orient(src *image.RGBA, rotation int, mirror bool) *image.RGBA {
	if rotation == 0 && !mirror {
		return src
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	ow, oh := w, h
	if rotation%180 == 90 {
		ow, oh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := range h {
		for x := range w {
			sx := x
			if mirror {
				sx = w - 1 - x
			}
			var dx, dy int
			switch rotation {
			case 90:
				dx, dy = h-1-y, x
			case 180:
				dx, dy = w-1-x, h-1-y
			case 270:
				dx, dy = y, w-1-x
			default:
				dx, dy = x, y
			}
			copy(dst.Pix[dst.PixOffset(dx, dy):][:4], src.Pix[src.PixOffset(sx, y):][:4])
		}
	}
	return dst
}

func toGray(src *image.RGBA) *image.Gray {
	dst := image.NewGray(src.Rect)
	for y := src.Rect.Min.Y; y < src.Rect.Max.Y; y++ {
		for x := src.Rect.Min.X; x < src.Rect.Max.X; x++ {
			dst.SetGray(x, y, color.GrayModel.Convert(src.RGBAAt(x, y)).(color.Gray))
		}
	}
	return dst
}

// MediaType is the media type of an answer in format.
func MediaType(format string) string {
	switch format {
	case "jpg":
		return "image/jpeg"
	case "png":
		return "image/png"
	}
	return "application/octet-stream"
}

// Encode writes img in format (jpg or png).
func Encode(w io.Writer, img image.Image, format string) error {
	switch format {
	case "jpg":
		return jpeg.Encode(w, img, &jpeg.Options{Quality: JPEGQuality})
	case "png":
		return (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(w, img)
	}
	return fmt.Errorf("%w: format %s", ErrNotImplemented, format)
}
