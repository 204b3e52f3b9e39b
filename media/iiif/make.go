package iiif

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/shizuishan/culturecloud/media/ffmpeg"
)

// DzsaveArgs are the arguments of the vips run that makes a pyramid of src in the folder out
// (which must not exist): the same whether the product runs it or a person does by hand.
func DzsaveArgs(src, out string, tile int) []string {
	return []string{"dzsave", src, out, "--layout", "iiif3", "--tile-size", strconv.Itoa(tile)}
}

// Make runs vips dzsave on the image src and returns the pyramid it wrote in the folder out
// (whose tiles are out/<Pyramid.TileName>), after checking that every tile the layout needs is
// there. A file vips cannot read is a *ffmpeg.ToolError.
func Make(ctx context.Context, src, out string, tile int) (Pyramid, error) {
	if _, err := ffmpeg.Run(ctx, src, "vips", DzsaveArgs(src, out, tile), nil); err != nil {
		return Pyramid{}, err
	}
	data, err := os.ReadFile(filepath.Join(out, "info.json"))
	if err != nil {
		return Pyramid{}, fmt.Errorf("iiif: vips wrote no info.json: %w", err)
	}
	var info struct {
		Width  int `json:"width"`
		Height int `json:"height"`
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return Pyramid{}, fmt.Errorf("iiif: vips info.json: %w", err)
	}
	py := NewPyramid(info.Width, info.Height, tile)
	if err := py.Check(); err != nil {
		return Pyramid{}, err
	}
	for _, name := range py.Names() {
		if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(name))); err != nil {
			return Pyramid{}, fmt.Errorf("iiif: vips did not write the tile %s: %w", name, err)
		}
	}
	return py, nil
}
