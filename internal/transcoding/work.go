package transcoding

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/shizuishan/culturecloud/internal/jobs"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/scratch"
	"github.com/shizuishan/culturecloud/media/transcode"
	"github.com/shizuishan/culturecloud/storage"
)

var (
	// errLocal marks a failure of the worker's own disk, worth another try.
	errLocal = errors.New("local disk")
	// errBadSource marks a stored file that is not what the item says it is: no retry mends it.
	errBadSource = errors.New("bad source file")
)

// attempt runs one attempt of a job, with heartbeats and progress reports around it.
func (r *Runner) attempt(ctx context.Context, msgID string, j jobs.Job, in input) (FileMedia, error) {
	actx, cancel := context.WithCancelCause(ctx)
	updates := make(chan transcode.Progress, 1)
	alive := make(chan struct{})
	go func() {
		defer close(alive)
		r.keepAlive(actx, cancel, msgID, j.ID, updates)
	}()
	defer func() {
		cancel(nil)
		<-alive
	}()
	report := func(p transcode.Progress) {
		select { // keep only the latest; never block ffmpeg's reader
		case <-updates:
		default:
		}
		updates <- p
	}
	fm, err := r.work(actx, j, in, report)
	if errors.Is(context.Cause(actx), errLost) {
		return FileMedia{}, errLost
	}
	return fm, err
}

var extRe = regexp.MustCompile(`^\.[a-z0-9]{1,8}$`)

// work copies the file to a temporary folder, transcodes it, and replaces what is stored
// under the content's media folder with the outputs.
func (r *Runner) work(ctx context.Context, j jobs.Job, in input, report func(transcode.Progress)) (FileMedia, error) {
	if r.beforeAttempt != nil {
		if err := r.beforeAttempt(ctx, j); err != nil {
			return FileMedia{}, err
		}
	}
	dir, err := scratch.Dir(r.o.TempDir, ScratchPrefix)
	if err != nil {
		return FileMedia{}, fmt.Errorf("%w: %w", errLocal, err)
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			r.log.WarnContext(ctx, "temporary folder left behind", "dir", dir, "err", err)
		}
	}()
	src := filepath.Join(dir, "source")
	if ext := strings.ToLower(path.Ext(in.Path)); extRe.MatchString(ext) {
		src += ext // a hint for ffmpeg's probing
	}
	sum, err := r.fetch(ctx, in.Item, in.Path, src)
	if err != nil {
		return FileMedia{}, err
	}
	if sum != in.SHA256 {
		return FileMedia{}, fmt.Errorf("%w: the stored file does not match its SHA-256 (%.12s…, expected %.12s…)",
			errBadSource, sum, in.SHA256)
	}
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o700); err != nil {
		return FileMedia{}, fmt.Errorf("%w: %w", errLocal, err)
	}
	res, err := transcode.Run(ctx, src, out, r.o.Transcode, report)
	if err != nil {
		return FileMedia{}, err
	}
	fm, err := mediaOf(res, out)
	if err != nil {
		return FileMedia{}, err
	}
	if err := r.store(ctx, in.Item, in.SHA256, out, fm); err != nil {
		return FileMedia{}, err
	}
	return fm, nil
}

// mediaOf turns a transcode result into a record entry with names relative to outDir.
func mediaOf(res transcode.Result, outDir string) (FileMedia, error) {
	var bad error
	rel := func(p string) string {
		if p == "" {
			return ""
		}
		if filepath.IsAbs(p) {
			r, err := filepath.Rel(outDir, p)
			if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
				bad = fmt.Errorf("transcode output %s is outside %s", p, outDir)
				return ""
			}
			p = r
		}
		return filepath.ToSlash(p)
	}
	fm := FileMedia{
		Master: rel(res.Master), Poster: rel(res.Poster), Sprite: rel(res.Sprite), SpriteVTT: rel(res.SpriteVTT),
		Download: rel(res.Download), Waveform: rel(res.Waveform), Rungs: res.Rungs, Duration: durationOf(res.Probe),
	}
	for _, f := range res.Files {
		if n := rel(f); n != "" && !slices.Contains(fm.Files, n) {
			fm.Files = append(fm.Files, n)
		}
	}
	// Whatever the result names is served, even if the Files list forgot it.
	for _, n := range []string{fm.Master, fm.Poster, fm.Sprite, fm.SpriteVTT, fm.Download, fm.Waveform} {
		if n != "" && !slices.Contains(fm.Files, n) {
			fm.Files = append(fm.Files, n)
		}
	}
	slices.Sort(fm.Files)
	return fm, bad
}

// store removes what an earlier attempt left in the content's media folder that this one did
// not make, then uploads this attempt's outputs, the master playlist last.
func (r *Runner) store(ctx context.Context, item, sha256, outDir string, fm FileMedia) error {
	objects, folder := r.docs.Objects().Long(), Folder(item, sha256)
	for o, err := range objects.List(ctx, folder, storage.ListOptions{Recursive: true}) {
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(o.Key, folder)
		// Captions are staff's work, stored beside the stream: never ours to clear.
		if slices.Contains(fm.Files, name) || strings.HasPrefix(name, "captions-") {
			continue
		}
		if err := objects.Remove(ctx, o.Key, ""); err != nil {
			return err
		}
	}
	names := slices.Clone(fm.Files)
	slices.SortStableFunc(names, func(a, b string) int {
		switch {
		case a == fm.Master && b != fm.Master:
			return 1
		case b == fm.Master && a != fm.Master:
			return -1
		}
		return 0
	})
	for _, n := range names {
		_, err := objects.PutFile(ctx, folder+n, filepath.Join(outDir, filepath.FromSlash(n)),
			storage.PutOptions{ContentType: transcode.ContentType(n)})
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("transcode named an output it did not write: %w", err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// fetch streams the file from the item into dst and returns its SHA-256.
func (r *Runner) fetch(ctx context.Context, item, path, dst string) (string, error) {
	sum, err := r.items.CopyFile(ctx, item, path, dst)
	switch {
	case errors.Is(err, library.ErrNotFound):
		return "", fmt.Errorf("%w: %s is gone from the item", errBadSource, path)
	case errors.Is(err, library.ErrLocalDisk):
		return "", fmt.Errorf("%w: %w", errLocal, err)
	}
	return sum, err
}

func durationOf(p transcode.Probe) float64 { return p.Duration.Seconds() }
