package demo

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
)

// hallPanel is a framed picture on a wall of the demo hall, where a hotspot sits: its centre
// seen from the middle of the hall (degrees) and its colour.
type hallPanel struct {
	Yaw, Pitch float64
	Hue        float64
}

// hallPanels are the pictures of the demo hall; the first two carry hotspots.
var hallPanels = []hallPanel{{Yaw: -60, Pitch: 4, Hue: 0.08}, {Yaw: 30, Pitch: 4, Hue: 0.58}, {Yaw: 150, Pitch: 4, Hue: 0.33}}

// The demo hall: a square room 8 m across and 4.5 m high, seen from eye height (1.6 m) in its
// middle; pictures are 2.4 m wide and 1.6 m high.
const (
	hallHalf    = 4.0
	hallFloor   = -1.6
	hallCeiling = 2.9
	panelHalfW  = 1.2
	panelHalfH  = 0.8
	panelFrame  = 0.08
)

// hallHit is where a direction from the eye meets the hall: wall 0–3 (+z, +x, -z, -x), 4 the
// floor, 5 the ceiling, with the point.
func hallHit(yaw, pitch float64) (wall int, x, y, z float64) {
	dx, dy, dz := math.Cos(pitch)*math.Sin(yaw), math.Sin(pitch), math.Cos(pitch)*math.Cos(yaw)
	t, wall := math.Inf(1), -1
	try := func(w int, d, plane float64) {
		if d != 0 {
			if tt := plane / d; tt > 0 && tt < t {
				t, wall = tt, w
			}
		}
	}
	try(0, dz, hallHalf)
	try(1, dx, hallHalf)
	try(2, dz, -hallHalf)
	try(3, dx, -hallHalf)
	try(4, dy, hallFloor)
	try(5, dy, hallCeiling)
	return wall, dx * t, dy * t, dz * t
}

// along is the horizontal coordinate of a point on a wall.
func along(wall int, x, z float64) float64 {
	if wall == 0 || wall == 2 {
		return x
	}
	return z
}

// hallScene draws the demo hall as an equirectangular JPEG of w×w/2 pixels: a tiled
// floor, cream walls with a darker dado, a pale ceiling with light strips and framed
// coloured pictures where the hotspots are. Nothing is downloaded.
func hallScene(w int) []byte {
	h := w / 2
	type panel struct {
		wall    int
		u, y    float64
		r, g, b uint8
	}
	panels := make([]panel, 0, len(hallPanels))
	for _, p := range hallPanels {
		wall, x, y, z := hallHit(p.Yaw*math.Pi/180, p.Pitch*math.Pi/180)
		r, g, b := hsv(p.Hue, 0.6, 0.8)
		panels = append(panels, panel{wall, along(wall, x, z), y, r, g, b})
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for py := range h {
		pitch := (0.5 - (float64(py)+0.5)/float64(h)) * math.Pi
		for px := range w {
			yaw := ((float64(px)+0.5)/float64(w) - 0.5) * 2 * math.Pi
			wall, x, y, z := hallHit(yaw, pitch)
			var c color.RGBA
			switch wall {
			case 4: // floor tiles of 1 m
				if (int(math.Floor(x))+int(math.Floor(z)))%2 == 0 {
					c = color.RGBA{138, 98, 64, 255}
				} else {
					c = color.RGBA{160, 118, 80, 255}
				}
			case 5:
				c = color.RGBA{236, 236, 230, 255}
				if math.Mod(math.Abs(x)+0.25, 2) < 0.5 {
					c = color.RGBA{255, 252, 235, 255}
				}
			default:
				c = color.RGBA{232, 222, 200, 255}
				if y < hallFloor+1 {
					c = color.RGBA{150, 120, 96, 255}
				}
				u := along(wall, x, z)
				for _, p := range panels {
					du, dv := math.Abs(u-p.u), math.Abs(y-p.y)
					if p.wall != wall || du > panelHalfW+panelFrame || dv > panelHalfH+panelFrame {
						continue
					}
					c = color.RGBA{70, 44, 26, 255} // the frame
					if du <= panelHalfW && dv <= panelHalfH {
						shade := 0.75 + 0.25*(p.y+panelHalfH-y)/(2*panelHalfH)
						c = color.RGBA{uint8(float64(p.r) * shade), uint8(float64(p.g) * shade), uint8(float64(p.b) * shade), 255}
					}
				}
			}
			i := img.PixOffset(px, py)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, 255
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	return buf.Bytes()
}
