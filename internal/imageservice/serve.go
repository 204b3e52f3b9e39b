package imageservice

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"image"
	"io"

	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/media/iiif"
)

// Answer is the answer to an image request: a stored tile or a cut, in memory.
type Answer struct {
	MediaType string
	Body      []byte
}

// source is what a file's images are cut from: its stored pyramid or, until the worker has
// made it, its master, if that is small enough to decode at request time.
type source struct {
	py     iiif.Pyramid // the layout info.json announces
	stored bool         // the pyramid's tiles are in MinIO
	path   string       // the master's path in the item, when not stored
}

func (s *Service) source(ctx context.Context, item, sha256 string) (source, error) {
	rec, err := s.ready(ctx, item, sha256)
	if err == nil {
		return source{py: rec.Pyramid, stored: true}, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return source{}, err
	}
	path, width, height, err := s.smallMaster(ctx, item, sha256)
	if err != nil {
		return source{}, err
	}
	return source{py: iiif.NewPyramid(width, height, s.o.TileSize), path: path}, nil
}

// smallMaster finds the image file of the item with this content and reads its size from its
// header: ErrNotFound when there is none, or when it has more than MaxMasterPixels (only the
// worker decodes those, through vips, and the answers wait for its pyramid).
func (s *Service) smallMaster(ctx context.Context, item, sha256 string) (path string, width, height int, err error) {
	it, err := s.items.Get(ctx, item)
	if errors.Is(err, library.ErrNotFound) {
		return "", 0, 0, ErrNotFound
	}
	if err != nil {
		return "", 0, 0, err
	}
	for _, f := range it.Files {
		if f.SHA256 == sha256 && IsImage(f.MediaType) {
			path = f.Path
		}
	}
	if path == "" {
		return "", 0, 0, ErrNotFound
	}
	obj, err := s.items.OpenFile(ctx, item, path)
	if err != nil {
		return "", 0, 0, masterErr(err)
	}
	defer obj.Close()
	cfg, _, err := image.DecodeConfig(bufio.NewReader(obj))
	if err != nil || int64(cfg.Width)*int64(cfg.Height) > s.o.MaxMasterPixels || cfg.Width <= 0 || cfg.Height <= 0 {
		return "", 0, 0, ErrNotFound // not a format this process reads, or too large: wait for the pyramid
	}
	return path, cfg.Width, cfg.Height, nil
}

// Info is the info.json of the image file, served at id (its image service's URL).
func (s *Service) Info(ctx context.Context, item, sha256, id string) (iiif.Info, error) {
	src, err := s.source(ctx, item, sha256)
	if err != nil {
		return iiif.Info{}, err
	}
	return iiif.NewInfo(id, src.py.Width, src.py.Height, src.py.Tile, s.o.Limits), nil
}

// Image answers the request region/size/rotation/quality.format for the image file, on behalf
// of client (its address, for the bound on cuts). A request that breaks the Image API is
// iiif.ErrBadRequest and one for a feature not offered iiif.ErrNotImplemented, both before
// any storage is read; a size beyond the limits is refused before anything is allocated; a
// busy node is a *BusyError.
func (s *Service) Image(ctx context.Context, item, sha256, client string, params [4]string) (Answer, error) {
	req, err := iiif.Parse(params[0], params[1], params[2], params[3])
	if err != nil {
		return Answer{}, err
	}
	src, err := s.source(ctx, item, sha256)
	if err != nil {
		return Answer{}, err
	}
	plan, err := iiif.Resolve(req, src.py.Width, src.py.Height, s.o.Limits)
	if err != nil {
		return Answer{}, err
	}
	if name, ok := src.py.TileOf(plan); ok && src.stored {
		data, err := s.tile(ctx, item, sha256, name)
		return Answer{MediaType: "image/jpeg", Body: data}, err
	}
	leave, err := s.gate.enter(ctx, client)
	if err != nil {
		return Answer{}, err
	}
	defer leave()
	py, tiles := src.py, iiif.JPEGTiles(func(name string) (io.ReadCloser, error) {
		data, err := s.tile(ctx, item, sha256, name)
		return io.NopCloser(bytes.NewReader(data)), err
	})
	if !src.stored {
		// The master is the one tile of a one-level pyramid.
		py = iiif.Pyramid{Width: py.Width, Height: py.Height, Tile: max(py.Width, py.Height), ScaleFactors: []int{1}}
		tiles = func(string) (image.Image, error) { return s.decodeMaster(ctx, item, src.path) }
	}
	img, err := iiif.Cut(py, plan, tiles)
	if err != nil {
		return Answer{}, err
	}
	var buf bytes.Buffer
	if err := iiif.Encode(&buf, img, plan.Format); err != nil {
		return Answer{}, err
	}
	return Answer{MediaType: iiif.MediaType(plan.Format), Body: buf.Bytes()}, nil
}

func (s *Service) decodeMaster(ctx context.Context, item, path string) (image.Image, error) {
	obj, err := s.items.OpenFile(ctx, item, path)
	if err != nil {
		return nil, masterErr(err)
	}
	defer obj.Close()
	img, _, err := image.Decode(bufio.NewReader(obj))
	return img, err
}

func masterErr(err error) error {
	if errors.Is(err, library.ErrNotFound) {
		return ErrNotFound
	}
	return storageErr(err)
}

// maxTileBytes bounds the read of one stored tile (a 512-pixel JPEG is some tens of kB).
const maxTileBytes = 16 << 20

// tile is the stored tile's bytes, from the cache or MinIO.
func (s *Service) tile(ctx context.Context, item, sha256, name string) ([]byte, error) {
	key := TileKey(item, sha256, name)
	if data, ok := s.tiles.get(key); ok {
		return data, nil
	}
	data, _, err := s.docs.Objects().ReadAll(ctx, key, maxTileBytes)
	if err != nil {
		return nil, storageErr(err)
	}
	s.tiles.put(key, data)
	return data, nil
}
