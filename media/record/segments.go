package record

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shizuishan/culturecloud/storage"
)

// listEntry is one line of ffmpeg's CSV segment list: a segment it has closed.
type listEntry struct {
	name       string
	num        int
	start, end float64
}

var segRe = regexp.MustCompile(`^seg-(\d{6})\.(ts|webm)$`)

// readList returns the complete lines of a segment list. A missing list is empty.
func readList(p string) ([]listEntry, error) {
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	} else {
		return nil, nil // a line is complete only with its newline
	}
	var out []listEntry
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(strings.TrimSpace(l), ",")
		if len(f) != 3 {
			continue
		}
		name := filepath.Base(f[0])
		m := segRe.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		start, _ := strconv.ParseFloat(f[1], 64)
		end, _ := strconv.ParseFloat(f[2], 64)
		out = append(out, listEntry{name: name, num: n, start: start, end: end})
	}
	return out, nil
}

const (
	uploadEvery    = 300 * time.Millisecond
	uploadTimeout  = 2 * time.Minute
	finalAttempts  = 5
	segmentMaxSize = 1 << 30 // a 4 s segment is a few MB; anything this big is not one
)

// upload sends each segment ffmpeg has listed to MinIO, in order, and deletes the local
// file. While recording it tries a failed segment again on the next round, keeping the
// order; after the last ffmpeg ended it tries each remaining one a few times.
func (r *Recorder) upload() {
	defer close(r.upDone)
	lists := map[string]*listState{}
	tick := time.NewTicker(uploadEvery)
	defer tick.Stop()
	for {
		final := false
		select {
		case <-r.ctx.Done():
			return
		case <-r.fwdDone:
			final = true
		case <-tick.C:
		}
		err := r.uploadListed(lists, final)
		if final {
			if err != nil {
				r.mu.Lock()
				r.upErr = err
				r.mu.Unlock()
			}
			return
		}
	}
}

// listState is how far the uploader got in one run's segment list.
type listState struct {
	size    int64 // of the list when last read
	entries []listEntry
	done    int // entries uploaded
}

func (r *Recorder) uploadListed(lists map[string]*listState, final bool) error {
	r.mu.Lock()
	paths := append([]string(nil), r.lists...)
	r.mu.Unlock()
	for _, p := range paths {
		ls := lists[p]
		if ls == nil {
			ls = &listState{}
			lists[p] = ls
		}
		if fi, err := os.Stat(p); err == nil && fi.Size() != ls.size {
			entries, err := readList(p)
			if err != nil {
				return fmt.Errorf("record: segment list: %w", err)
			}
			ls.size, ls.entries = fi.Size(), entries
		}
		for _, e := range ls.entries[min(ls.done, len(ls.entries)):] {
			attempts := 1
			if final {
				attempts = finalAttempts
			}
			if err := r.uploadSegment(e.name, attempts); err != nil {
				return err
			}
			ls.done++
		}
	}
	return nil
}

func (r *Recorder) uploadSegment(name string, attempts int) error {
	local := filepath.Join(r.dir, name)
	key := r.prefix + name
	var err error
	for i := range attempts {
		if i > 0 {
			t := time.NewTimer(time.Duration(1<<(i-1)) * time.Second)
			select {
			case <-r.ctx.Done():
				t.Stop()
				return r.ctx.Err()
			case <-t.C:
			}
		}
		var n int64
		if n, err = putFile(r.ctx, r.st, key, local); err == nil {
			_ = os.Remove(local)
			r.mu.Lock()
			r.uploaded = append(r.uploaded, key)
			r.bytes += n
			r.mu.Unlock()
			return nil
		}
		if r.ctx.Err() != nil {
			return r.ctx.Err()
		}
		r.log.Warn("record: segment upload failed", "segment", name, "err", err)
	}
	return fmt.Errorf("record: segment %s not uploaded: %w", name, err)
}

// putFile uploads one local segment.
func putFile(ctx context.Context, st Storage, key, local string) (int64, error) {
	f, err := os.Open(local)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if fi.Size() > segmentMaxSize {
		return 0, fmt.Errorf("segment %s is %d bytes", local, fi.Size())
	}
	ctx, cancel := context.WithTimeout(ctx, uploadTimeout)
	defer cancel()
	_, err = st.Objects.Put(ctx, key, f, fi.Size(), storage.PutOptions{ContentType: contentType(path.Ext(key))})
	return fi.Size(), err
}

func contentType(ext string) string {
	switch ext {
	case ".ts":
		return "video/mp2t"
	case ".webm":
		return "video/webm"
	case ".mp4":
		return "video/mp4"
	}
	return "application/octet-stream"
}
