// Package iiif reads IIIF Image API 3.0 requests
// ({region}/{size}/{rotation}/{quality}.{format}) and works out what image they ask for, before
// any pixel is decoded: a request that breaks the specification is ErrBadRequest with the
// reason, one for a feature this server does not offer is ErrNotImplemented, and a size past
// the configured limits is refused without allocating it.
package iiif

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The two kinds of refusal, tested with errors.Is.
var (
	// ErrBadRequest is a request that breaks the Image API (answer 400 with the reason).
	ErrBadRequest = errors.New("iiif: bad request")
	// ErrNotImplemented is a valid request for a feature this server does not offer (answer 501).
	ErrNotImplemented = errors.New("iiif: not implemented")
)

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
}

// RegionKind is how a region is given.
type RegionKind int

// The region forms of the Image API.
const (
	RegionFull RegionKind = iota
	RegionSquare
	RegionPixels  // x,y,w,h
	RegionPercent // pct:x,y,w,h
)

// Region is the requested part of the image, as written.
type Region struct {
	Kind       RegionKind
	X, Y, W, H float64 // pixels (whole numbers) or percent
}

// SizeKind is how a size is given.
type SizeKind int

// The size forms of the Image API.
const (
	SizeMax     SizeKind = iota // max
	SizeWidth                   // w,
	SizeHeight                  // ,h
	SizePercent                 // pct:n
	SizeExact                   // w,h
	SizeFit                     // !w,h (the largest that fits, keeping the aspect ratio)
)

// Size is the requested size, as written.
type Size struct {
	Kind    SizeKind
	Upscale bool // ^: larger than the region is allowed
	W, H    int
	Percent float64
}

// Quality is the requested colour quality.
type Quality string

// The qualities of the Image API.
const (
	Default Quality = "default"
	Color   Quality = "color"
	Gray    Quality = "gray"
	Bitonal Quality = "bitonal"
)

// Request is one parsed image request.
type Request struct {
	Region   Region
	Size     Size
	Rotation float64 // degrees clockwise, 0 ≤ r < 360 (360 is read as 0)
	Mirror   bool    // !: mirrored before rotation
	Quality  Quality
	Format   string // jpg, png, webp, …
}

// maxParam bounds each path segment: nothing valid is longer.
const maxParam = 64

// Parse reads the four path segments of an image request.
func Parse(region, size, rotation, qualityFormat string) (Request, error) {
	for _, p := range []string{region, size, rotation, qualityFormat} {
		if len(p) > maxParam {
			return Request{}, bad("a parameter longer than %d characters", maxParam)
		}
	}
	var r Request
	var err error
	if r.Region, err = parseRegion(region); err != nil {
		return Request{}, err
	}
	if r.Size, err = parseSize(size); err != nil {
		return Request{}, err
	}
	if r.Rotation, r.Mirror, err = parseRotation(rotation); err != nil {
		return Request{}, err
	}
	quality, format, ok := strings.Cut(qualityFormat, ".")
	if !ok || format == "" {
		return Request{}, bad("quality and format must be written as quality.format, e.g. default.jpg")
	}
	switch q := Quality(quality); q {
	case Default, Color, Gray, Bitonal:
		r.Quality = q
	default:
		return Request{}, bad("quality %q is not one of default, color, gray, bitonal", quality)
	}
	switch format {
	case "jpg", "png", "webp", "tif", "gif", "jp2", "pdf":
		r.Format = format
	default:
		return Request{}, bad("format %q is not an Image API format", format)
	}
	return r, nil
}

func parseRegion(s string) (Region, error) {
	switch s {
	case "full":
		return Region{Kind: RegionFull}, nil
	case "square":
		return Region{Kind: RegionSquare}, nil
	}
	kind, nums := RegionPixels, s
	if rest, ok := strings.CutPrefix(s, "pct:"); ok {
		kind, nums = RegionPercent, rest
	}
	parts := strings.Split(nums, ",")
	if len(parts) != 4 {
		return Region{}, bad("region %q is not full, square, x,y,w,h or pct:x,y,w,h", s)
	}
	var v [4]float64
	for i, p := range parts {
		var err error
		if kind == RegionPixels {
			var n int
			n, err = strconv.Atoi(p)
			v[i] = float64(n)
		} else {
			v[i], err = parseDecimal(p)
		}
		if err != nil || v[i] < 0 {
			return Region{}, bad("region %q: %q is not a number of zero or more", s, p)
		}
	}
	if v[2] == 0 || v[3] == 0 {
		return Region{}, bad("region %q has no width or no height", s)
	}
	return Region{Kind: kind, X: v[0], Y: v[1], W: v[2], H: v[3]}, nil
}

// parseDecimal reads a non-negative decimal as the API writes them: digits with at most one
// point, no sign, exponent, "inf" or "nan" (which strconv would accept).
func parseDecimal(s string) (float64, error) {
	if s == "" || strings.Trim(s, "0123456789.") != "" || strings.Count(s, ".") > 1 || s == "." {
		return 0, fmt.Errorf("not a decimal")
	}
	return strconv.ParseFloat(s, 64)
}

func parseSize(s string) (Size, error) {
	var z Size
	rest, up := strings.CutPrefix(s, "^")
	z.Upscale = up
	switch {
	case rest == "max":
		z.Kind = SizeMax
		return z, nil
	case strings.HasPrefix(rest, "pct:"):
		p, err := parseDecimal(strings.TrimPrefix(rest, "pct:"))
		if err != nil || p <= 0 {
			return Size{}, bad("size %q: the percentage must be a number above 0", s)
		}
		if p > 100 && !up {
			return Size{}, bad("size %q: above 100 percent needs ^", s)
		}
		z.Kind, z.Percent = SizePercent, p
		return z, nil
	}
	if r, ok := strings.CutPrefix(rest, "!"); ok {
		z.Kind, rest = SizeFit, r
	}
	ws, hs, ok := strings.Cut(rest, ",")
	if !ok {
		return Size{}, bad("size %q is not max, w,, ,h, pct:n, w,h or !w,h (full is not a size in version 3)", s)
	}
	var err error
	if z.W, err = sizeNumber(ws); err != nil {
		return Size{}, bad("size %q: width %q must be a whole number above 0", s, ws)
	}
	if z.H, err = sizeNumber(hs); err != nil {
		return Size{}, bad("size %q: height %q must be a whole number above 0", s, hs)
	}
	switch {
	case z.Kind == SizeFit && (z.W == 0 || z.H == 0):
		return Size{}, bad("size %q: !w,h needs both", s)
	case z.Kind == SizeFit:
	case z.W == 0 && z.H == 0:
		return Size{}, bad("size %q gives neither width nor height", s)
	case z.H == 0:
		z.Kind = SizeWidth
	case z.W == 0:
		z.Kind = SizeHeight
	default:
		z.Kind = SizeExact
	}
	return z, nil
}

// sizeNumber reads one side of a size: "" is 0 (not given), otherwise a whole number above 0.
func sizeNumber(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	if strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("not digits")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("not above 0")
	}
	return n, nil
}

func parseRotation(s string) (float64, bool, error) {
	rest, mirror := strings.CutPrefix(s, "!")
	r, err := parseDecimal(rest)
	if err != nil || r > 360 {
		return 0, false, bad("rotation %q must be a number from 0 to 360, optionally after !", s)
	}
	return math.Mod(r, 360), mirror, nil
}
