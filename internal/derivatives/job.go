package derivatives

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/scratch"
	"github.com/shizuishan/culturecloud/media/derive"
	"github.com/shizuishan/culturecloud/storage"
)

// ScratchPrefix names this package's temporary folders (see scratch.Sweep).
const ScratchPrefix = "derive"

// SweepScratch removes the temporary folders of workers that died in the middle of a file.
func (s *Service) SweepScratch() (int, error) { return scratch.Sweep(s.tmpDir, ScratchPrefix) }

// errLocal marks a failure of the worker's own disk, worth another try (on another worker).
var errLocal = errors.New("local disk")

// make copies the file to a temporary folder, runs the tools on it and uploads what they made.
// A tool failing on the file gives a Failed status, not an error.
func (s *Service) make(ctx context.Context, item string, f library.File) (Status, error) {
	dir, err := scratch.Dir(s.tmpDir, ScratchPrefix)
	if err != nil {
		return Status{}, fmt.Errorf("%w: %w", errLocal, err)
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			s.log.WarnContext(ctx, "temporary folder left behind", "dir", dir, "err", err)
		}
	}()
	st := Status{Path: f.Path, SHA256: f.SHA256, Outputs: []derive.Output{}}
	src := filepath.Join(dir, "source")
	sum, err := s.fetch(ctx, item, f.Path, src)
	if err != nil {
		return Status{}, err
	}
	if sum != f.SHA256 {
		return s.failed(st, fmt.Errorf("the stored file does not match its SHA-256 (%.12s…, expected %.12s…)", sum, f.SHA256)), nil
	}
	tctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	outs, err := derive.Make(tctx, src, f.MediaType, filepath.Join(dir, "out"))
	if err != nil {
		if ctx.Err() != nil {
			return Status{}, ctx.Err() // the worker is stopping: not the file's fault
		}
		return s.failed(st, err), nil
	}
	for _, o := range outs {
		key := ObjectKey(item, f.SHA256, o.Name)
		_, err := s.docs.Objects().PutFile(ctx, key, o.Path, storage.PutOptions{ContentType: o.MediaType})
		if err != nil {
			return Status{}, storageErr(err)
		}
		o.Path = key
		st.Outputs = append(st.Outputs, o)
	}
	st.State, st.Updated = Done, s.now().UTC()
	return st, nil
}

func (s *Service) failed(st Status, err error) Status {
	msg := err.Error()
	if len(msg) > maxErrorLen {
		msg = msg[:maxErrorLen] + "…"
	}
	st.State, st.Error, st.Updated = Failed, msg, s.now().UTC()
	return st
}

// fetch streams the file from the item into dst and returns its SHA-256.
func (s *Service) fetch(ctx context.Context, item, path, dst string) (string, error) {
	sum, err := s.items.CopyFile(ctx, item, path, dst)
	switch {
	case errors.Is(err, library.ErrNotFound):
		return "", ErrNotFound
	case errors.Is(err, library.ErrLocalDisk):
		return "", fmt.Errorf("%w: %w", errLocal, err)
	}
	return sum, err
}
