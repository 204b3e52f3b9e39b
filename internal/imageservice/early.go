package imageservice

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// vips uses about one core of two while it makes a pyramid, and a large scan has hundreds of
// tiles to store afterwards. So tiles are stored while vips still runs: a tile is taken once
// its file is a whole JPEG (it ends with the End Of Image marker; vips writes each tile once,
// front to back), and after vips ends every tile whose size has changed since is stored again.

const earlyPoll = 200 * time.Millisecond

// earlyStore stores the finished tiles under out every earlyPoll until stop is called; stop
// returns the size of each tile it stored (by name) and the first storage error.
func (s *Service) earlyStore(ctx context.Context, item, sha256, out string) (stop func() (map[string]int64, error)) {
	ctx, cancel := context.WithCancel(ctx)
	sent := map[string]int64{}
	done := make(chan error, 1)
	go func() {
		tick := time.NewTicker(earlyPoll)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				done <- nil
				return
			case <-tick.C:
			}
			batch := finishedTiles(out, sent)
			if err := s.store(ctx, item, sha256, out, names(batch)); err != nil {
				if ctx.Err() != nil {
					done <- nil // stopped in the middle of a batch: those are stored again later
					return
				}
				done <- err
				return
			}
			for name, size := range batch {
				sent[name] = size
			}
		}
	}()
	return func() (map[string]int64, error) {
		cancel()
		err := <-done
		return sent, err
	}
}

// finishedTiles are the whole JPEG files under out not in sent, with their sizes.
func finishedTiles(out string, sent map[string]int64) map[string]int64 {
	found := map[string]int64{}
	_ = filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "default.jpg" {
			return nil //nolint:nilerr // a folder vips is still writing is looked at again later
		}
		name, err := filepath.Rel(out, path)
		if err != nil {
			return nil //nolint:nilerr // cannot happen below out; the tile is stored after vips
		}
		name = filepath.ToSlash(name)
		if _, ok := sent[name]; ok {
			return nil
		}
		if size, ok := wholeJPEG(path); ok {
			found[name] = size
		}
		return nil
	})
	return found
}

// wholeJPEG reports whether the file ends with the JPEG End Of Image marker, and its size.
func wholeJPEG(path string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() < 4 {
		return 0, false
	}
	end := make([]byte, 2)
	if _, err := f.ReadAt(end, st.Size()-2); err != nil {
		return 0, false
	}
	return st.Size(), end[0] == 0xFF && end[1] == 0xD9
}

func names(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	return out
}

// unsent are the tiles of names not stored early, or whose file has changed size since.
func unsent(out string, names []string, sent map[string]int64) []string {
	var rest []string
	for _, name := range names {
		size, ok := sent[name]
		if ok {
			if st, err := os.Stat(filepath.Join(out, filepath.FromSlash(name))); err == nil && st.Size() == size {
				continue
			}
		}
		rest = append(rest, name)
	}
	return rest
}
