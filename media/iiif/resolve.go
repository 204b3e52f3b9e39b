package iiif

import (
	"fmt"
	"math"
	"slices"
)

// Limits are what this server offers for one image: the largest answer it will make, and
// the formats and qualities it can write. They are what info.json announces.
type Limits struct {
	MaxWidth, MaxHeight int   // 0: no limit of its own (MaxArea still applies)
	MaxArea             int64 // width × height of an answer; must be set
	Formats             []string
	Bitonal             bool
}

// Plan is a request worked out against one image: which pixels to cut, how large to make
// them, and how to turn and colour them.
type Plan struct {
	X, Y, W, H    int // the region, in pixels of the full image
	Width, Height int // the size the region is scaled to, before rotation
	Rotation      int // 0, 90, 180 or 270
	Mirror        bool
	Quality       Quality
	Format        string
}

// OutWidth and OutHeight are the answer's dimensions, after rotation.
func (p Plan) OutWidth() int {
	if p.Rotation%180 == 90 {
		return p.Height
	}
	return p.Width
}

// OutHeight is the answer's height, after rotation.
func (p Plan) OutHeight() int {
	if p.Rotation%180 == 90 {
		return p.Width
	}
	return p.Height
}

// Resolve works r out against an image of width × height pixels within lim.
func Resolve(r Request, width, height int, lim Limits) (Plan, error) {
	if width <= 0 || height <= 0 {
		return Plan{}, fmt.Errorf("iiif: image of %d×%d pixels", width, height)
	}
	var p Plan
	var err error
	if p.X, p.Y, p.W, p.H, err = region(r.Region, width, height); err != nil {
		return Plan{}, err
	}
	if p.Width, p.Height, err = size(r.Size, p.W, p.H, lim); err != nil {
		return Plan{}, err
	}
	if r.Rotation != math.Trunc(r.Rotation) || int(r.Rotation)%90 != 0 {
		return Plan{}, fmt.Errorf("%w: rotation by %g degrees (only multiples of 90 are offered)", ErrNotImplemented, r.Rotation)
	}
	p.Rotation, p.Mirror = int(r.Rotation), r.Mirror
	if r.Quality == Bitonal && !lim.Bitonal {
		return Plan{}, fmt.Errorf("%w: bitonal quality", ErrNotImplemented)
	}
	if !slices.Contains(lim.Formats, r.Format) {
		return Plan{}, fmt.Errorf("%w: format %s (offered: %v)", ErrNotImplemented, r.Format, lim.Formats)
	}
	p.Quality, p.Format = r.Quality, r.Format
	return p, nil
}

// region is the requested region cut to the image; a region wholly outside it is a bad request.
func region(rg Region, width, height int) (x, y, w, h int, err error) {
	switch rg.Kind {
	case RegionFull:
		return 0, 0, width, height, nil
	case RegionSquare:
		side := min(width, height)
		return (width - side) / 2, (height - side) / 2, side, side, nil
	}
	fx, fy, fw, fh := rg.X, rg.Y, rg.W, rg.H
	if rg.Kind == RegionPercent {
		fx, fw = fx*float64(width)/100, fw*float64(width)/100
		fy, fh = fy*float64(height)/100, fh*float64(height)/100
	}
	if fx >= float64(width) || fy >= float64(height) {
		return 0, 0, 0, 0, bad("the region starts outside the image of %d×%d pixels", width, height)
	}
	x, y = int(math.Round(fx)), int(math.Round(fy))
	right := min(float64(width), math.Round(fx+fw))
	bottom := min(float64(height), math.Round(fy+fh))
	w, h = int(right)-x, int(bottom)-y
	if w <= 0 || h <= 0 {
		return 0, 0, 0, 0, bad("the region holds no pixel of the image")
	}
	return x, y, w, h, nil
}

// size is the size the region (rw × rh) is scaled to.
func size(z Size, rw, rh int, lim Limits) (int, int, error) {
	w, h := float64(rw), float64(rh)
	var sw, sh float64
	switch z.Kind {
	case SizeMax:
		scale := 1.0
		if z.Upscale {
			scale = math.Inf(1)
		}
		scale = min(scale, limitScale(w, h, lim))
		if math.IsInf(scale, 1) {
			scale = 1 // ^max with no limit: the region as it is
		}
		// Down, never up, so that the answer stays within the limits after rounding.
		sw, sh = math.Max(1, math.Floor(w*scale)), math.Max(1, math.Floor(h*scale))
	case SizeWidth:
		sw, sh = float64(z.W), h*float64(z.W)/w
	case SizeHeight:
		sw, sh = w*float64(z.H)/h, float64(z.H)
	case SizePercent:
		sw, sh = w*z.Percent/100, h*z.Percent/100
	case SizeExact:
		sw, sh = float64(z.W), float64(z.H)
	case SizeFit:
		scale := min(float64(z.W)/w, float64(z.H)/h)
		if !z.Upscale {
			scale = min(scale, 1)
		}
		sw, sh = w*scale, h*scale
	}
	if z.Kind != SizeMax {
		sw, sh = math.Round(sw), math.Round(sh)
	}
	if !z.Upscale && (sw > w || sh > h) {
		return 0, 0, bad("a size of %g×%g is larger than the region (%d×%d) and has no ^", sw, sh, rw, rh)
	}
	if sw < 1 || sh < 1 {
		return 0, 0, bad("the size comes to less than one pixel")
	}
	if lim.MaxWidth > 0 && sw > float64(lim.MaxWidth) || lim.MaxHeight > 0 && sh > float64(lim.MaxHeight) ||
		sw*sh > float64(lim.MaxArea) {
		return 0, 0, bad("a size of %g×%g is beyond this server's limits (maxWidth %d, maxHeight %d, maxArea %d)",
			sw, sh, lim.MaxWidth, lim.MaxHeight, lim.MaxArea)
	}
	return int(sw), int(sh), nil
}

// limitScale is the largest scale of a w × h region that stays within lim.
func limitScale(w, h float64, lim Limits) float64 {
	scale := math.Sqrt(float64(lim.MaxArea) / (w * h))
	if lim.MaxWidth > 0 {
		scale = min(scale, float64(lim.MaxWidth)/w)
	}
	if lim.MaxHeight > 0 {
		scale = min(scale, float64(lim.MaxHeight)/h)
	}
	return scale
}
