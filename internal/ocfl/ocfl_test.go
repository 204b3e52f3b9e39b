package ocfl_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/devservices"
	"github.com/shizuishan/culturecloud/internal/ocfl"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/storage"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type fixture struct {
	objects *storage.Store
	store   *ocfl.Store
}

func setup(t *testing.T) fixture {
	t.Helper()
	cfg := testenv.Config(t, testenv.Shared(t))
	objects, err := storage.Connect(storage.Options{Endpoint: cfg.MinIO.Endpoint, AccessKey: cfg.MinIO.AccessKey,
		SecretKey: cfg.MinIO.SecretKey.Reveal(), Bucket: cfg.MinIO.Bucket, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := objects.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	store := ocfl.New(objects, "ocfl/", 5*time.Second)
	if err := store.Init(ctx); err != nil {
		t.Fatal(err)
	}
	return fixture{objects: objects.Long(), store: store}
}

func digests(data []byte) (string, string) {
	a := sha512.Sum512(data)
	b := sha256.Sum256(data)
	return hex.EncodeToString(a[:]), hex.EncodeToString(b[:])
}

// staged puts data where uploads land, as a completed upload would.
func (f fixture) staged(t *testing.T, key string, data []byte) ocfl.Content {
	t.Helper()
	if _, err := f.objects.PutBytes(context.Background(), key, data, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	s512, s256 := digests(data)
	return ocfl.Content{FromKey: key, Size: int64(len(data)), SHA512: s512, SHA256: s256}
}

// buildObject makes an object with four versions: create, add a file, edit metadata, remove
// the file; then restore v2.
func (f fixture) buildObject(t *testing.T, id string) *ocfl.Inventory {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second) // the versions' created time; nothing here expires by it
	user := ocfl.User{Name: "lib.dwk"}
	inv, etag, err := f.store.Commit(ctx, id, nil, "", ocfl.Change{Put: []ocfl.Content{{Logical: "metadata.json", Data: []byte(`{"title":"石炭井"}`)}},
		Message: "created", User: user}, now)
	if err != nil {
		t.Fatal(err)
	}
	photo := f.staged(t, "uploads/staging/"+id+"/photo.png", []byte("\x89PNG\r\n\x1a\n pretend image "+id))
	photo.Logical = "files/photo.png"
	steps := []ocfl.Change{
		{Put: []ocfl.Content{photo}, Message: "file added", User: user},
		{Put: []ocfl.Content{{Logical: "metadata.json", Data: []byte(`{"title":"石炭井矿区"}`)}}, Message: "metadata: title", User: user},
		{Remove: []string{"files/photo.png"}, Message: "file removed", User: user},
		{RestoreFrom: "v2", Message: "restored v2", User: user},
	}
	for _, ch := range steps {
		if inv, etag, err = f.store.Commit(ctx, id, inv, etag, ch, now); err != nil {
			t.Fatalf("%s: %v", ch.Message, err)
		}
	}
	return inv
}

func TestVersionsAndRestore(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	inv := f.buildObject(t, "szm-versions1")
	if inv.Head != "v5" || len(inv.Versions) != 5 {
		t.Fatalf("head %s with %d versions", inv.Head, len(inv.Versions))
	}
	tests := []struct {
		version, logical, want string
		present                bool
	}{
		{"v1", "metadata.json", `{"title":"石炭井"}`, true},
		{"v1", "files/photo.png", "", false},
		{"v2", "files/photo.png", "\x89PNG\r\n\x1a\n pretend image szm-versions1", true},
		{"v3", "metadata.json", `{"title":"石炭井矿区"}`, true},
		{"v4", "files/photo.png", "", false},
		{"v5", "metadata.json", `{"title":"石炭井"}`, true},
		{"v5", "files/photo.png", "\x89PNG\r\n\x1a\n pretend image szm-versions1", true},
	}
	for _, tt := range tests {
		t.Run(tt.version+" "+tt.logical, func(t *testing.T) {
			data, err := f.store.ReadSmall(ctx, "szm-versions1", inv, tt.version, tt.logical)
			if !tt.present {
				if !errors.Is(err, ocfl.ErrNotFound) {
					t.Fatalf("want ErrNotFound, got %v", err)
				}
				return
			}
			if err != nil || string(data) != tt.want {
				t.Fatalf("got %q, %v", data, err)
			}
		})
	}
	// Restoring stored nothing new: v5's content all lives in v1 and v2.
	for _, paths := range inv.Manifest {
		for _, p := range paths {
			if strings.HasPrefix(p, "v5/") || strings.HasPrefix(p, "v4/") {
				t.Fatalf("content duplicated in %s", p)
			}
		}
	}
}

func TestConcurrentCommitsNeverInterleave(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	id := "szm-race0001"
	inv, etag, err := f.store.Commit(ctx, id, nil, "", ocfl.Change{Put: []ocfl.Content{{Logical: "metadata.json", Data: []byte("{}")}}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			_, _, err := f.store.Commit(ctx, id, inv, etag, ocfl.Change{Put: []ocfl.Content{{Logical: "metadata.json",
				Data: []byte(`{"writer":` + string(rune('0'+i)) + `}`)}}}, time.Now())
			results <- err
		})
	}
	wg.Wait()
	close(results)
	won := 0
	for err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ocfl.ErrConflict):
			t.Fatalf("unexpected %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d writers won, want exactly 1", won)
	}
	head, _, err := f.store.Read(ctx, id)
	if err != nil || head.Head != "v2" {
		t.Fatalf("head %v %v", head, err)
	}
	// The losers left no version directories behind except the winner's v2.
	for obj, err := range f.objects.List(ctx, "ocfl/"+id+"/v2/", storage.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if obj.Key != "" && !strings.Contains(obj.Key, "/v2/") {
			t.Fatalf("stray %s", obj.Key)
		}
	}
	bad, err := f.store.CheckObject(ctx, id, nil)
	if err != nil || len(bad) != 0 {
		t.Fatalf("after the race: %v %v", bad, err)
	}
}

// TestFixityFindsCorruption: fixity passes on a clean object of either algorithm, and finds
// a rotted file by the object's own algorithm, which the report names.
func TestFixityFindsCorruption(t *testing.T) {
	for _, algorithm := range []string{ocfl.SHA256, ocfl.SHA512} {
		t.Run(algorithm, func(t *testing.T) {
			f := setup(t).creatingWith(t, algorithm)
			ctx := context.Background()
			id := "szm-fixity-" + algorithm
			inv := f.buildObject(t, id)
			if bad, err := f.store.CheckObject(ctx, id, nil); err != nil || len(bad) != 0 {
				t.Fatalf("clean object reports %v %v", bad, err)
			}
			var photoPath string
			for _, paths := range inv.Manifest {
				if strings.HasSuffix(paths[0], "photo.png") {
					photoPath = paths[0]
				}
			}
			evil := []byte("bit rot")
			if _, err := f.objects.PutBytes(ctx, f.store.ObjectRoot(id)+photoPath, evil, storage.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			bad, err := f.store.CheckObject(ctx, id, nil)
			if err != nil || len(bad) != 1 || bad[0].Path != photoPath || bad[0].Got == "" {
				t.Fatalf("corruption not reported: %+v %v", bad, err)
			}
			s512, s256 := digests(evil)
			want := map[string]string{ocfl.SHA256: s256, ocfl.SHA512: s512}[algorithm]
			if bad[0].Algorithm != algorithm || bad[0].Got != want || !strings.Contains(bad[0].String(), algorithm+" ") {
				t.Errorf("report %+v (%s), want the rotted bytes' %s", bad[0], bad[0], algorithm)
			}
		})
	}
}

func TestBadInputIsRefused(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		id     string
		change ocfl.Change
	}{
		{"bad id", "../escape", ocfl.Change{Put: []ocfl.Content{{Logical: "a", Data: []byte("x")}}}},
		{"upper-case id", "SZM-1234", ocfl.Change{Put: []ocfl.Content{{Logical: "a", Data: []byte("x")}}}},
		{"dot-dot path", "szm-badpath1", ocfl.Change{Put: []ocfl.Content{{Logical: "files/../../x", Data: []byte("x")}}}},
		{"absolute path", "szm-badpath2", ocfl.Change{Put: []ocfl.Content{{Logical: "/etc/passwd", Data: []byte("x")}}}},
		{"copy without digest", "szm-badpath3", ocfl.Change{Put: []ocfl.Content{{Logical: "f", FromKey: "uploads/x", Size: 1}}}},
		{"copy with only another algorithm's digest", "szm-badpath4", ocfl.Change{Put: []ocfl.Content{{Logical: "f", FromKey: "uploads/x", Size: 1,
			SHA512: strings.Repeat("ab", 64)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := f.store.Commit(ctx, tt.id, nil, "", tt.change, time.Now()); err == nil {
				t.Fatal("accepted")
			}
			if _, _, err := f.store.Read(ctx, tt.id); err == nil {
				t.Fatal("something was stored")
			}
		})
	}
}

// TestIndependentImplementationReadsOurObjects copies objects out of MinIO into a folder laid
// out as an OCFL storage root and has @ocfl/ocfl-fs open every version and file.
func TestIndependentImplementationReadsOurObjects(t *testing.T) {
	nodeModules := devservices.ToolPath("ocfl-js", "node_modules")
	if _, err := os.Stat(filepath.Join(nodeModules, "@ocfl", "ocfl-fs")); err != nil {
		testenv.Unavailable(t, err)
	}
	f := setup(t)
	ctx := context.Background()
	ids := []string{"szm-export01", "szm-export02", "szm-export03", "szm-export04"}
	for _, id := range ids[:3] {
		f.buildObject(t, id)
	}
	f.creatingWith(t, ocfl.SHA512).buildObject(t, ids[3]) // as objects were written before
	root := filepath.Join(t.TempDir(), "root")
	// The storage root's own files, then each object.
	for obj, err := range f.objects.List(ctx, "ocfl/", storage.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(obj.Key, "ocfl/")
		if strings.HasPrefix(rel, "szm-") {
			continue
		}
		r, _, err := f.objects.Get(ctx, obj.Key, storage.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(root, rel), r)
	}
	for _, id := range ids {
		if err := f.store.Export(ctx, id, func(rel string, r io.Reader) error {
			writeFile(t, filepath.Join(root, rel), r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("node", append([]string{filepath.Join("testdata", "verify.cjs"), root, filepath.Join(t.TempDir(), "ws")}, ids...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+nodeModules)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("@ocfl/ocfl-fs could not read our objects: %v\n%s", err, out)
	}
	var got struct {
		Objects, Versions, Files int
		Algorithms               map[string]string
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	// Per object: v1 1 file, v2 2, v3 2, v4 1, v5 2.
	if got.Objects != 4 || got.Versions != 20 || got.Files != 32 {
		t.Fatalf("independent reader saw %+v", got)
	}
	for _, id := range ids {
		want := map[bool]string{true: ocfl.SHA512, false: ocfl.SHA256}[id == ids[3]]
		if got.Algorithms[id] != want {
			t.Errorf("%s read as %q, want %s", id, got.Algorithms[id], want)
		}
	}
}

func writeFile(t *testing.T, path string, r io.Reader) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, r); err != nil {
		t.Fatal(err)
	}
}

// TestLargeFilesAreCopiedInParts: files above the copy part size are copied into the object
// as parallel part copies; what is read back is the same bytes with the same content type,
// and a failed copy leaves neither a version nor an unfinished upload behind.
func TestLargeFilesAreCopiedInParts(t *testing.T) {
	const mib = 1 << 20
	f := setup(t)
	f.store.SetCopyPartSize(5 * mib)
	ctx := context.Background()
	tests := []struct {
		name      string
		size      int
		claimSize int // the size the caller claims, when it differs from the object's
	}{
		{"one part: copied whole", 5 * mib, 0},
		{"a byte over one part", 5*mib + 1, 0},
		{"six parts, more than there are workers", 27*mib + 7, 0},
		{"size claimed wrongly", 6 * mib, 6*mib + 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "large-copy-" + string(rune('a'+i))
			data := make([]byte, tt.size)
			for j := range data {
				data[j] = byte(j*7 + j/4093)
			}
			key := "uploads/staging/" + id + "/scan.tif"
			if _, err := f.objects.PutBytes(ctx, key, data, storage.PutOptions{ContentType: "image/tiff"}); err != nil {
				t.Fatal(err)
			}
			s512, s256 := digests(data)
			c := ocfl.Content{Logical: "files/scan.tif", FromKey: key, Size: int64(len(data)), SHA512: s512, SHA256: s256}
			if tt.claimSize != 0 {
				c.Size = int64(tt.claimSize)
			}
			inv, _, err := f.store.Commit(ctx, id, nil, "", ocfl.Change{Put: []ocfl.Content{c}, Message: "scan", User: ocfl.User{Name: "lib.dwk"}}, time.Now())
			if tt.claimSize != 0 {
				if err == nil {
					t.Fatal("commit with a wrong size succeeded")
				}
				if _, _, err := f.store.Read(ctx, id); !errors.Is(err, ocfl.ErrNotFound) {
					t.Errorf("after the failed commit: %v, want no object", err)
				}
				for obj, err := range f.objects.List(ctx, f.store.ObjectRoot(id), storage.ListOptions{Recursive: true}) {
					t.Errorf("left behind: %s (%v)", obj.Key, err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				obj, _, err := f.store.Open(ctx, id, inv, "", "files/scan.tif")
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(obj)
				obj.Close()
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("read back %d bytes (%v), want the %d stored", len(got), err, len(data))
				}
				st, err := f.objects.Stat(ctx, f.store.ObjectRoot(id)+"v1/content/files/scan.tif", "")
				if err != nil || st.ContentType != "image/tiff" {
					t.Errorf("content type %q (%v), want image/tiff", st.ContentType, err)
				}
			}
			for _, key := range f.unfinishedUploads(t, f.store.ObjectRoot(id)) {
				t.Errorf("unfinished upload left: %s", key)
			}
		})
	}
}

// unfinishedUploads lists the keys of multipart uploads under prefix (MinIO lists them only
// for the whole bucket or one exact key, so the filter is ours).
func (f fixture) unfinishedUploads(t *testing.T, prefix string) []string {
	t.Helper()
	var keys []string
	for u, err := range f.objects.IncompleteUploads(context.Background(), prefix) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, u.Key)
	}
	return keys
}

// TestAbortStaleCopies: a copy cut short (a multipart upload under the storage root) is
// aborted once older than the given age; uploads outside the root are not ours to touch.
func TestAbortStaleCopies(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	for _, key := range []string{f.store.ObjectRoot("cut-short") + "v1/content/files/film.mp4", "uploads/staging/x/film.mp4"} {
		if _, err := f.objects.NewMultipart(ctx, key, storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := f.store.AbortStaleCopies(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("with a copy younger than the age: aborted %d, %v; want 0", n, err)
	}
	if got := f.unfinishedUploads(t, ""); len(got) != 2 {
		t.Fatalf("unfinished uploads = %v, want both still there", got)
	}
	if n, err := f.store.AbortStaleCopies(ctx, 0); err != nil || n != 1 {
		t.Fatalf("aborted %d, %v; want 1", n, err)
	}
	if got := f.unfinishedUploads(t, ""); len(got) != 1 || got[0] != "uploads/staging/x/film.mp4" {
		t.Errorf("unfinished uploads = %v, want only the one outside the storage root", got)
	}
}
