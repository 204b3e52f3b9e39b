package importer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/media/upload"
	"github.com/shizuishan/culturecloud/storage"
)

// stagingPrefix is where files wait between the import folder and the items.
const stagingPrefix = "uploads/staging/import/"

// sniffBytes is how much of a file upload.Detect looks at.
const sniffBytes = 512

// localFile is a file of the import folder that passed the checks.
type localFile struct {
	Rel       string // path relative to the folder, as cleaned
	Name      string // display name
	SafeName  string
	MediaType string
	Size      int64
	SHA256    string
}

// inspect checks that rel is a readable regular file inside root with an allowed type, and
// hashes it while streaming (never whole in memory).
func inspect(root *os.Root, rel string, lang i18n.Lang) (localFile, error) {
	msg := func(zh, en string, args ...any) error {
		if lang == i18n.ZH {
			return fmt.Errorf(zh, args...)
		}
		return fmt.Errorf(en, args...)
	}
	f, err := root.Open(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return localFile{}, msg("%q 不存在", "%q does not exist", rel)
	case errors.Is(err, fs.ErrPermission):
		return localFile{}, msg("%q 无法读取（没有权限）", "%q cannot be read (permission denied)", rel)
	case err != nil:
		return localFile{}, msg("%q 无法打开：%v", "%q cannot be opened: %v", rel, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return localFile{}, msg("%q 无法读取：%v", "%q cannot be read: %v", rel, err)
	}
	if !info.Mode().IsRegular() {
		return localFile{}, msg("%q 不是普通文件", "%q is not a regular file", rel)
	}
	head := make([]byte, sniffBytes)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return localFile{}, msg("%q 无法读取：%v", "%q cannot be read: %v", rel, err)
	}
	head = head[:n]
	mediaType, _, ok := upload.Detect(head)
	if !ok {
		return localFile{}, msg("%q 的内容是 %s，不在允许的类型之内（%s）", "%q holds %s, which is not an allowed type (%s)",
			rel, mediaType, upload.AllowedTypes())
	}
	h := sha256.New()
	h.Write(head)
	rest, err := io.Copy(h, f)
	if err != nil {
		return localFile{}, msg("%q 无法读取：%v", "%q cannot be read: %v", rel, err)
	}
	safe, display := upload.SafeName(path.Base(rel))
	return localFile{Rel: rel, Name: display, SafeName: safe, MediaType: mediaType, Size: int64(n) + rest,
		SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// errChanged means a file was not the same when staged as when it was checked.
var errChanged = errors.New("the file changed during the import")

// stager copies files of the import folder to MinIO staging objects.
type stager struct {
	objects *storage.Store
	root    *os.Root
}

// stage streams lf into a new staging object, computing its SHA-256 and SHA-512 on the way.
// The object is left behind on error too; callers purge every key they were given.
func (s *stager) stage(ctx context.Context, lf localFile) (library.Upload, string, error) {
	key := stagingPrefix + randomHex(8) + "/" + lf.SafeName
	f, err := s.root.Open(lf.Rel)
	if err != nil {
		return library.Upload{}, key, fmt.Errorf("%q: %w", lf.Rel, err)
	}
	defer f.Close()
	h256, h512 := sha256.New(), sha512.New()
	hashes := upload.NewParallelHashes(h256, h512) // both hashes beside the upload, not in its way
	src := &readErr{r: f}
	body := io.TeeReader(src, hashes)
	_, err = s.objects.Put(ctx, key, body, lf.Size, storage.PutOptions{ContentType: lf.MediaType})
	hashes.Close() // the digests are complete only now
	switch {
	case src.err != nil:
		return library.Upload{}, key, fmt.Errorf("%q: %w", lf.Rel, src.err)
	case err != nil && src.n < lf.Size:
		return library.Upload{}, key, fmt.Errorf("%q: %w", lf.Rel, errChanged)
	case err != nil && ctx.Err() != nil:
		return library.Upload{}, key, ctx.Err()
	case err != nil:
		return library.Upload{}, key, fmt.Errorf("stage %q: %w", lf.Rel, err)
	}
	if hex.EncodeToString(h256.Sum(nil)) != lf.SHA256 {
		return library.Upload{}, key, fmt.Errorf("%q: %w", lf.Rel, errChanged)
	}
	return library.Upload{Key: key, Name: lf.Name, SafeName: lf.SafeName, MediaType: lf.MediaType,
		SHA256: lf.SHA256, SHA512: hex.EncodeToString(h512.Sum(nil)), Size: lf.Size}, key, nil
}

// purge removes every version of key: the bucket is versioned, and a staging copy must not
// linger as a noncurrent version.
func (s *stager) purge(ctx context.Context, key string) error {
	return s.objects.Purge(ctx, key)
}

// readErr remembers a failed read, to tell a bad local file from a MinIO failure.
type readErr struct {
	r   io.Reader
	n   int64
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return n, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
