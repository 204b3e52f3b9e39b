package library

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/shizuishan/culturecloud/storage"
)

// ErrLocalDisk means a file could not be written on this machine (disk full, say): the
// item is fine, the worker is not.
var ErrLocalDisk = errors.New("local disk")

// CopyFile streams a file of the head version to dst on local disk, for the tools that
// need a real file (ffmpeg, pdftoppm), and returns its SHA-256. It tells apart a missing
// file (ErrNotFound), storage that failed (dep.IsUnavailable) and the local disk
// (ErrLocalDisk), since workers retry the second and stop on the others.
func (s *Service) CopyFile(ctx context.Context, id, path, dst string) (string, error) {
	obj, err := s.OpenFile(ctx, id, path)
	if err != nil {
		return "", err
	}
	defer obj.Close()
	out, err := os.Create(dst)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrLocalDisk, err)
	}
	defer out.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), sourceReader{obj}); err != nil {
		var se sourceError
		if errors.As(err, &se) {
			return "", storage.NotFoundAs(se.err, ErrNotFound)
		}
		return "", fmt.Errorf("%w: %w", ErrLocalDisk, err)
	}
	if err := out.Close(); err != nil {
		return "", fmt.Errorf("%w: %w", ErrLocalDisk, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// sourceReader tells read failures (MinIO) from write failures (the local disk) in io.Copy.
type sourceReader struct{ r io.Reader }

type sourceError struct{ err error }

func (e sourceError) Error() string { return e.err.Error() }

func (r sourceReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = sourceError{err}
	}
	return n, err
}
