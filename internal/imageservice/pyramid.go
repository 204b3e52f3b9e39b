package imageservice

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/outbox"
	"github.com/shizuishan/culturecloud/internal/scratch"
	"github.com/shizuishan/culturecloud/media/iiif"
	"github.com/shizuishan/culturecloud/storage"
)

// ScratchPrefix names this package's temporary folders (see scratch.Sweep).
const ScratchPrefix = "pyramid"

// SweepScratch removes the temporary folders of workers that died in the middle of a pyramid.
func (s *Service) SweepScratch() (int, error) { return scratch.Sweep(s.o.TmpDir, ScratchPrefix) }

// errLocal marks a failure of the worker's own disk, worth another try (on another worker).
var errLocal = errors.New("local disk")

// IsImage reports whether files of mediaType get a pyramid.
func IsImage(mediaType string) bool { return strings.HasPrefix(mediaType, "image/") }

// Handle makes the pyramid of the file ev.Ref of item ev.ID (a derive event, as the
// derivative workers take) once per content. A file vips cannot read is recorded as failed
// and the event acknowledged; a storage outage, a full local disk or a worker shutting down
// returns an error wrapping outbox.ErrRetry.
func (s *Service) Handle(ctx context.Context, ev outbox.Event) error {
	err := s.handle(ctx, ev.ID, ev.Ref)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil, dep.IsUnavailable(err), errors.Is(err, errLocal):
		return fmt.Errorf("%w: pyramid of %s %s: %w", outbox.ErrRetry, ev.ID, ev.Ref, err)
	}
	return fmt.Errorf("pyramid of %s %s: %w", ev.ID, ev.Ref, err)
}

func (s *Service) handle(ctx context.Context, id, path string) error {
	f, err := s.file(ctx, id, path)
	if err != nil || f.Path == "" || !IsImage(f.MediaType) {
		return err
	}
	if rec, err := s.Get(ctx, id, f.SHA256); err == nil && rec.State == Done {
		return nil // a repeated event: the pyramid is there
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	rec, err := s.make(ctx, id, f)
	if errors.Is(err, ErrNotFound) {
		s.log.InfoContext(ctx, "pyramid skipped: file content gone", "item", id, "path", path)
		return nil
	}
	if err != nil {
		return err
	}
	rec.Updated = s.o.Now().UTC()
	if _, err := s.docs.Put(ctx, RecordKey(id, f.SHA256), rec, docstore.Always()); err != nil {
		return err
	}
	if rec.State == Failed {
		s.log.WarnContext(ctx, "pyramid failed", "item", id, "path", path, "type", f.MediaType, "err", rec.Error)
	} else {
		s.log.InfoContext(ctx, "pyramid made", "item", id, "path", path, "width", rec.Width, "height", rec.Height)
	}
	return nil
}

// file is the file at path of item id; a zero File when the item or the file is gone.
func (s *Service) file(ctx context.Context, id, path string) (library.File, error) {
	it, err := s.items.Get(ctx, id)
	if errors.Is(err, library.ErrNotFound) {
		return library.File{}, nil
	}
	if err != nil {
		return library.File{}, err
	}
	for _, f := range it.Files {
		if f.Path == path {
			return f, nil
		}
	}
	return library.File{}, nil
}

// make copies the file to a temporary folder, makes its pyramid there and stores the tiles.
// vips failing on the file gives a Failed record, not an error.
func (s *Service) make(ctx context.Context, item string, f library.File) (Record, error) {
	dir, err := scratch.Dir(s.o.TmpDir, ScratchPrefix)
	if err != nil {
		return Record{}, fmt.Errorf("%w: %w", errLocal, err)
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			s.log.WarnContext(ctx, "temporary folder left behind", "dir", dir, "err", err)
		}
	}()
	started := s.o.Now()
	rec := Record{Item: item, Path: f.Path, SHA256: f.SHA256}
	src := filepath.Join(dir, "source")
	sum, err := s.items.CopyFile(ctx, item, f.Path, src)
	switch {
	case errors.Is(err, library.ErrNotFound):
		return Record{}, ErrNotFound
	case errors.Is(err, library.ErrLocalDisk):
		return Record{}, fmt.Errorf("%w: %w", errLocal, err)
	case err != nil:
		return Record{}, err
	case sum != f.SHA256:
		return failed(rec, fmt.Errorf("the stored file does not match its SHA-256 (%.12s…, expected %.12s…)", sum, f.SHA256)), nil
	}
	copied := s.o.Now()
	tctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	out := filepath.Join(dir, "out")
	stopEarly := s.earlyStore(ctx, item, f.SHA256, out)
	py, err := iiif.Make(tctx, src, out, s.o.TileSize)
	sent, earlyErr := stopEarly()
	if err != nil {
		if ctx.Err() != nil {
			return Record{}, ctx.Err() // the worker is stopping: not the file's fault
		}
		return failed(rec, err), nil
	}
	made := s.o.Now()
	if earlyErr != nil {
		return Record{}, earlyErr
	}
	rest := unsent(out, py.Names(), sent)
	if err := s.store(ctx, item, f.SHA256, out, rest); err != nil {
		return Record{}, err
	}
	stored := s.o.Now()
	s.log.DebugContext(ctx, "pyramid steps", "item", item, "path", f.Path, "copy", copied.Sub(started),
		"vips", made.Sub(copied), "store", stored.Sub(made), "tiles", len(py.Names()), "stored_after_vips", len(rest))
	rec.MakeSeconds = stored.Sub(started).Seconds() // the temporary folder's removal is not making
	rec.State, rec.Pyramid = Done, py
	rec.Sizes = iiif.NewInfo("", py.Width, py.Height, py.Tile, s.o.Limits).Sizes
	return rec, nil
}

func failed(rec Record, err error) Record {
	msg := err.Error()
	if len(msg) > maxErrorLen {
		msg = msg[:maxErrorLen] + "…"
	}
	rec.State, rec.Error = Failed, msg
	return rec
}

// store uploads the tiles named in names from the folder out, several at once: a large scan has
// hundreds, and each is a small object whose upload is mostly waiting.
func (s *Service) store(ctx context.Context, item, sha256, out string, names []string) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan string)
	var wg sync.WaitGroup
	for range s.o.Uploaders {
		wg.Go(func() {
			for name := range work {
				_, err := s.docs.Objects().PutFile(ctx, TileKey(item, sha256, name), filepath.Join(out, filepath.FromSlash(name)),
					storage.PutOptions{ContentType: "image/jpeg"})
				if err != nil {
					cancel(err)
				}
			}
		})
	}
	for _, name := range names {
		select {
		case work <- name:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}
