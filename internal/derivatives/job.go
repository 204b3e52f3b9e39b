package derivatives

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/minio/minio-go/v7"

	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/media/derive"
)

// errLocal marks a failure of the worker's own disk, worth another try (on another worker).
var errLocal = errors.New("local disk")

// make copies the file to a temporary folder, runs the tools on it and uploads what they made.
// A tool failing on the file gives a Failed status, not an error.
func (s *Service) make(ctx context.Context, item string, f library.File) (Status, error) {
	dir, err := os.MkdirTemp(s.tmpDir, "derive-*")
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
		_, err := s.docs.Client().FPutObject(ctx, s.docs.Bucket(), key, o.Path, minio.PutObjectOptions{ContentType: o.MediaType})
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
	obj, err := s.items.OpenFile(ctx, item, path)
	if errors.Is(err, library.ErrNotFound) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	defer obj.Close()
	out, err := os.Create(dst)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errLocal, err)
	}
	defer out.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), sourceReader{obj}); err != nil {
		var se sourceError
		if errors.As(err, &se) {
			return "", storageErr(se.err)
		}
		return "", fmt.Errorf("%w: %w", errLocal, err)
	}
	if err := out.Close(); err != nil {
		return "", fmt.Errorf("%w: %w", errLocal, err)
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
