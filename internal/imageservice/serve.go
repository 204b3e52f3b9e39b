package imageservice

import (
	"bytes"
	"context"
	"io"

	"github.com/shizuishan/culturecloud/media/iiif"
	"github.com/shizuishan/culturecloud/storage"
)

// Answer is the answer to an image request: a stored tile sent as it is, or a cut.
type Answer struct {
	MediaType string
	Stored    *storage.Object // the caller closes it
	Body      []byte
}

// Info is the info.json of the image file, served at id (its image service's URL).
func (s *Service) Info(ctx context.Context, item, sha256, id string) (iiif.Info, error) {
	rec, err := s.ready(ctx, item, sha256)
	if err != nil {
		return iiif.Info{}, err
	}
	return iiif.NewInfo(id, rec.Width, rec.Height, rec.Tile, s.o.Limits), nil
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
	rec, err := s.ready(ctx, item, sha256)
	if err != nil {
		return Answer{}, err
	}
	plan, err := iiif.Resolve(req, rec.Width, rec.Height, s.o.Limits)
	if err != nil {
		return Answer{}, err
	}
	if name, ok := rec.TileOf(plan); ok {
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
	img, err := iiif.Cut(rec.Pyramid, plan, func(name string) (io.ReadCloser, error) {
		return s.open(ctx, item, sha256, name)
	})
	if err != nil {
		return Answer{}, err
	}
	var buf bytes.Buffer
	if err := iiif.Encode(&buf, img, plan.Format); err != nil {
		return Answer{}, err
	}
	return Answer{MediaType: iiif.MediaType(plan.Format), Body: buf.Bytes()}, nil
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
