package ocfl_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/ocfl"
	"github.com/shizuishan/culturecloud/storage"
)

// creatingWith is the fixture with a store that creates objects with algorithm, as objects
// were written before sha256 became the default.
func (f fixture) creatingWith(t *testing.T, algorithm string) fixture {
	t.Helper()
	store, err := f.store.CreatingWith(algorithm)
	if err != nil {
		t.Fatal(err)
	}
	f.store = store
	return f
}

// sidecars lists the inventory sidecars of an object (root and versions) by key.
func (f fixture) sidecars(t *testing.T, id string) []string {
	t.Helper()
	var keys []string
	for obj, err := range f.objects.List(context.Background(), f.store.ObjectRoot(id), storage.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(obj.Key, "inventory.json.") {
			keys = append(keys, strings.TrimPrefix(obj.Key, f.store.ObjectRoot(id)))
		}
	}
	return keys
}

// checkLayout checks that the object's inventory, manifest and sidecars all use algorithm.
func (f fixture) checkLayout(t *testing.T, id, algorithm string, versions int) *ocfl.Inventory {
	t.Helper()
	ctx := context.Background()
	inv, _, err := f.store.Read(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if inv.DigestAlgorithm != algorithm {
		t.Fatalf("digestAlgorithm %q, want %q", inv.DigestAlgorithm, algorithm)
	}
	wantLen := map[string]int{ocfl.SHA256: 64, ocfl.SHA512: 128}[algorithm]
	for digest := range inv.Manifest {
		if len(digest) != wantLen {
			t.Errorf("manifest digest %s is not a %s", digest, algorithm)
		}
	}
	for v, ver := range inv.Versions {
		for digest := range ver.State {
			if _, ok := inv.Manifest[digest]; !ok {
				t.Errorf("%s state digest %s not in the manifest", v, digest)
			}
		}
	}
	got := f.sidecars(t, id)
	if len(got) != versions+1 {
		t.Errorf("sidecars %v, want the root's and one per version (%d)", got, versions)
	}
	for _, key := range got {
		if !strings.HasSuffix(key, ".json."+algorithm) {
			t.Errorf("sidecar %s, want inventory.json.%s", key, algorithm)
		}
	}
	return inv
}

// TestNewObjectsUseSHA256: an object created now is keyed by SHA-256 throughout, and the
// SHA-512 a producer knows goes in the fixity block.
func TestNewObjectsUseSHA256(t *testing.T) {
	f := setup(t)
	if f.store.Algorithm() != ocfl.SHA256 {
		t.Fatalf("new objects use %q, want sha256", f.store.Algorithm())
	}
	f.buildObject(t, "szm-sha256-01")
	inv := f.checkLayout(t, "szm-sha256-01", ocfl.SHA256, 5)
	photo := []byte("\x89PNG\r\n\x1a\n pretend image szm-sha256-01")
	s512, s256 := digests(photo)
	if paths := inv.Manifest[s256]; len(paths) != 1 || paths[0] != "v2/content/files/photo.png" {
		t.Errorf("manifest of the photo's sha256: %v", paths)
	}
	if paths := inv.Fixity[ocfl.SHA512][s512]; len(paths) != 1 || paths[0] != "v2/content/files/photo.png" {
		t.Errorf("fixity sha512 of the photo: %v (fixity %v)", paths, inv.Fixity)
	}
	meta := []byte(`{"title":"石炭井"}`)
	sum := sha256.Sum256(meta)
	if digest, ok := inv.Lookup("v1", "metadata.json"); !ok || digest != hex.EncodeToString(sum[:]) {
		t.Errorf("small content hashed as %q, want its sha256", digest)
	}
}

// TestSHA512ObjectsKeepTheirAlgorithm: an object written with sha512 stays sha512 when a
// store that creates sha256 objects adds, removes and restores in it; it reads back and
// passes fixity; content without its sha512 is refused.
func TestSHA512ObjectsKeepTheirAlgorithm(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	id := "szm-sha512-01"
	old := f.creatingWith(t, ocfl.SHA512)
	old.buildObject(t, id)
	f.checkLayout(t, id, ocfl.SHA512, 5)

	inv, etag, err := f.store.Read(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	scan := f.staged(t, "uploads/staging/"+id+"/scan.tif", []byte("II*\x00 pretend scan"))
	scan.Logical = "files/scan.tif"
	only256 := scan
	only256.SHA512 = ""
	if _, _, err := f.store.Commit(ctx, id, inv, etag, ocfl.Change{Put: []ocfl.Content{only256}}, time.Now()); err == nil ||
		!strings.Contains(err.Error(), "missing sha512") {
		t.Fatalf("content without the object's digest: %v, want missing sha512", err)
	}
	inv, etag, err = f.store.Commit(ctx, id, inv, etag, ocfl.Change{Put: []ocfl.Content{scan}, Message: "file added"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err = f.store.Commit(ctx, id, inv, etag, ocfl.Change{RestoreFrom: "v1", Message: "restored v1"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	inv = f.checkLayout(t, id, ocfl.SHA512, 7)
	if paths := inv.Fixity[ocfl.SHA256][scan.SHA256]; len(paths) != 1 || paths[0] != "v6/content/files/scan.tif" {
		t.Errorf("fixity sha256 of the scan: %v", paths)
	}
	if data, err := f.store.ReadSmall(ctx, id, inv, "v6", "files/scan.tif"); err != nil || string(data) != "II*\x00 pretend scan" {
		t.Errorf("scan read back %q, %v", data, err)
	}
	if bad, err := f.store.CheckObject(ctx, id, nil); err != nil || len(bad) != 0 {
		t.Errorf("fixity of the sha512 object: %v %v", bad, err)
	}
}
