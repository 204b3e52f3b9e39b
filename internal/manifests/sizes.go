package manifests

import (
	"context"
	"errors"
	"image"
	_ "image/gif" // the formats whose size DecodeConfig can read
	_ "image/jpeg"
	_ "image/png"
	"io"
	"sync"

	"github.com/shizuishan/culturecloud/internal/library"
)

// ErrNoSize means an image's dimensions cannot be read (a format the header reader does not
// know, or damaged bytes): the file gets no Canvas rather than a wrong one.
var ErrNoSize = errors.New("image size unknown")

// headerLimit bounds what is read for an image's dimensions: JPEG headers with EXIF and ICC
// profiles fit in far less.
const headerLimit = 1 << 20

// maxRemembered bounds the memory of sizes; a full memory starts again.
const maxRemembered = 100_000

// Opener reads a file of an item (library.Service.OpenFile).
type Opener func(ctx context.Context, item, path string) (io.ReadCloser, error)

// Pyramids knows the size of every image the image service has made a pyramid of, in any
// format vips reads (TIFF scans too); imageservice.Service.
type Pyramids interface {
	Dimensions(ctx context.Context, item, sha256 string) (width, height int, err error)
}

// Sizes knows the pixel dimensions of image files, which a Canvas must carry: from the
// image's pyramid when it has one, else from the file's header (JPEG, PNG, GIF). A size is
// remembered by content: the same bytes have the same size for ever.
type Sizes struct {
	open     Opener
	pyramids Pyramids // nil: headers only

	mu   sync.Mutex
	seen map[string][2]int // by SHA-256
}

// NewSizes asks pyramids first (when not nil), then reads headers through open.
func NewSizes(open Opener, pyramids Pyramids) *Sizes {
	return &Sizes{open: open, pyramids: pyramids, seen: map[string][2]int{}}
}

// Of returns the width and height of an image file of item.
func (s *Sizes) Of(ctx context.Context, item string, f library.File) (int, int, error) {
	s.mu.Lock()
	wh, ok := s.seen[f.SHA256]
	s.mu.Unlock()
	if ok {
		return wh[0], wh[1], nil
	}
	if s.pyramids != nil {
		if w, h, err := s.pyramids.Dimensions(ctx, item, f.SHA256); err == nil && w > 0 && h > 0 {
			s.remember(f.SHA256, w, h)
			return w, h, nil
		}
	}
	r, err := s.open(ctx, item, f.Path)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = r.Close() }()
	cfg, _, err := image.DecodeConfig(io.LimitReader(r, headerLimit))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return 0, 0, ErrNoSize
	}
	s.remember(f.SHA256, cfg.Width, cfg.Height)
	return cfg.Width, cfg.Height, nil
}

func (s *Sizes) remember(sha256 string, w, h int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) >= maxRemembered {
		clear(s.seen)
	}
	s.seen[sha256] = [2]int{w, h}
}
