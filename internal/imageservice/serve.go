package imageservice

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"image"
	"io"
	"net/url"
	"time"

	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/media/iiif"
	"github.com/shizuishan/culturecloud/storage"
)

// Answer is the answer to an image request: a stored tile (its bytes, or a signed URL to
// them), or a cut.
type Answer struct {
	MediaType string
	Signed    *url.URL        // a stored tile, to be fetched from MinIO
	Stored    *storage.Object // a stored tile, sent as it is; the caller closes it
	Body      []byte          // a cut
}

// Delivery says how a stored tile is answered: with its bytes, or (SignedFor > 0, for tiles
// anyone may have) with a signed MinIO URL valid that long, whose answer carries CacheControl,
// so that the bytes of the most frequent requests do not pass through this process.
type Delivery struct {
	SignedFor    time.Duration
	CacheControl string
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
func (s *Service) Image(ctx context.Context, item, sha256, client string, params [4]string, d Delivery) (Answer, error) {
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
		if d.SignedFor > 0 {
			q := url.Values{"response-cache-control": {d.CacheControl}, "response-content-type": {"image/jpeg"}}
			u, err := s.docs.Objects().PresignGet(ctx, TileKey(item, sha256, name), d.SignedFor, q)
			return Answer{MediaType: "image/jpeg", Signed: u}, err
		}
		obj, err := s.open(ctx, item, sha256, name)
		if err != nil {
			return Answer{}, err
		}
		return Answer{MediaType: "image/jpeg", Stored: obj}, nil
	}
	leave, err := s.gate.enter(ctx, client)
	if err != nil {
		return Answer{}, err
	}
	defer leave()
	py, tiles := src.py, iiif.JPEGTiles(func(name string) (io.ReadCloser, error) { return s.open(ctx, item, sha256, name) })
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

// open streams a stored tile; Stat sends the GET, so that a missing tile is ErrNotFound here.
func (s *Service) open(ctx context.Context, item, sha256, name string) (*storage.Object, error) {
	obj, err := s.docs.Objects().Open(ctx, TileKey(item, sha256, name), storage.GetOptions{})
	if err != nil {
		return nil, storageErr(err)
	}
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, storageErr(err)
	}
	return obj, nil
}
