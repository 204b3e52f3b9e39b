package iiif

import "slices"

// Info is an image's info.json (Image API 3.0, section 5): what a viewer needs to ask for
// tiles and sizes, and exactly which features beyond level 2 this server answers.
type Info struct {
	Context        string     `json:"@context"`
	ID             string     `json:"id"`
	Type           string     `json:"type"`
	Protocol       string     `json:"protocol"`
	Profile        string     `json:"profile"`
	Width          int        `json:"width"`
	Height         int        `json:"height"`
	MaxWidth       int        `json:"maxWidth,omitempty"`
	MaxHeight      int        `json:"maxHeight,omitempty"`
	MaxArea        int64      `json:"maxArea,omitempty"`
	Sizes          []SizeInfo `json:"sizes,omitempty"`
	Tiles          []TileInfo `json:"tiles,omitempty"`
	ExtraQualities []string   `json:"extraQualities,omitempty"`
	ExtraFormats   []string   `json:"extraFormats,omitempty"`
	ExtraFeatures  []string   `json:"extraFeatures,omitempty"`
}

// SizeInfo is a whole-image size the server has ready (a level of its pyramid).
type SizeInfo struct {
	Type   string `json:"type"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// TileInfo describes the square tiles of the pyramid and its scale factors.
type TileInfo struct {
	Type         string `json:"type"`
	Width        int    `json:"width"`
	ScaleFactors []int  `json:"scaleFactors"`
}

// level2Formats are the formats level 2 requires; others are extraFormats.
var level2Formats = [...]string{"jpg", "png"}

// NewInfo describes an image of width × height pixels served at id (the image service's
// URL, without "/info.json") in square tiles of tile pixels, within lim.
func NewInfo(id string, width, height, tile int, lim Limits) Info {
	info := Info{
		Context: "http://iiif.io/api/image/3/context.json", ID: id, Type: "ImageService3",
		Protocol: "http://iiif.io/api/image", Profile: "level2",
		Width: width, Height: height, MaxWidth: lim.MaxWidth, MaxHeight: lim.MaxHeight, MaxArea: lim.MaxArea,
		// Resolve answers these beyond level 2: ^ sizes, ! mirroring and the gray quality
		// (level 2 itself requires color, rotation by 90s, jpg and png).
		ExtraQualities: []string{string(Gray)},
		ExtraFeatures:  []string{"mirroring", "sizeUpscaling"},
	}
	if lim.Bitonal {
		info.ExtraQualities = append(info.ExtraQualities, string(Bitonal))
	}
	for _, f := range lim.Formats {
		if !slices.Contains(level2Formats[:], f) {
			info.ExtraFormats = append(info.ExtraFormats, f)
		}
	}
	factors := scaleFactors(width, height, tile)
	info.Tiles = []TileInfo{{Type: "Tile", Width: tile, ScaleFactors: factors}}
	// The whole image at each level of the pyramid that the limits allow, smallest first.
	for _, s := range slices.Backward(factors) {
		w, h := (width+s-1)/s, (height+s-1)/s
		if lim.MaxWidth > 0 && w > lim.MaxWidth || lim.MaxHeight > 0 && h > lim.MaxHeight || int64(w)*int64(h) > lim.MaxArea {
			continue
		}
		info.Sizes = append(info.Sizes, SizeInfo{Type: "Size", Width: w, Height: h})
	}
	return info
}
