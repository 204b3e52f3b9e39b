package server_test

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/ocfl"
)

// TestAttachHashesForTheObjectsAlgorithm: a file attached to a new item is hashed with
// SHA-256 only and preserved in a sha256 object; one attached to an item whose object was
// written with sha512 is hashed with both, and its object stays sha512. Both pass fixity.
func TestAttachHashesForTheObjectsAlgorithm(t *testing.T) {
	srv := startServer(t)
	_, dwk, _ := staffClients(t, srv)
	core := connectCore(t, srv)
	ctx := context.Background()

	// oldItem writes an item's object as it was written before sha256: the metadata of an
	// item made through the API, under a new id, in a sha512 object.
	oldItem := func(t *testing.T) string {
		made := dwk.createItem(sampleItem("惠农老街旧照", nil))
		it, err := core.Library.Get(ctx, made.ID)
		if err != nil {
			t.Fatal(err)
		}
		it.ID, it.Version = made.ID+"-sha512", ""
		meta, _ := json.Marshal(it)
		old, err := core.OCFL.CreatingWith(ocfl.SHA512)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := old.Commit(ctx, it.ID, nil, "", ocfl.Change{Put: []ocfl.Content{{Logical: "metadata.json", Data: meta,
			Type: "application/json"}}, Message: "created", User: ocfl.User{Name: "lib.dwk"}}, time.Now()); err != nil {
			t.Fatal(err)
		}
		return it.ID
	}
	for i, tc := range []struct {
		name      string
		item      func(t *testing.T) string
		algorithm string
	}{
		{"a new item", func(t *testing.T) string { return dwk.createItem(sampleItem("石炭井矿区旧照", nil)).ID }, ocfl.SHA256},
		{"an item written with sha512", oldItem, ocfl.SHA512},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.item(t)
			content := pngBytes(200_000 + i)
			job := dwk.attach(id, dwk.uploadFile("旧照.png", content))
			if job.State != "done" {
				t.Fatalf("attach job %+v", job)
			}
			s256, s512 := sha256.Sum256(content), sha512.Sum512(content)
			want := library.File{SHA256: hex.EncodeToString(s256[:])}
			if tc.algorithm == ocfl.SHA512 {
				want.SHA512 = hex.EncodeToString(s512[:])
			}
			var it struct {
				Files []library.File `json:"files"`
			}
			dwk.want(http.StatusOK, "GET", "/api/v1/items/"+id, nil).json(t, &it)
			if len(it.Files) != 1 || it.Files[0].SHA256 != want.SHA256 || it.Files[0].SHA512 != want.SHA512 {
				t.Fatalf("files %+v, want sha256 %s and sha512 %q", it.Files, want.SHA256, want.SHA512)
			}
			inv, _, err := core.OCFL.Read(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			digest := map[string]string{ocfl.SHA256: want.SHA256, ocfl.SHA512: want.SHA512}[tc.algorithm]
			if inv.DigestAlgorithm != tc.algorithm || len(inv.Manifest[digest]) != 1 {
				t.Fatalf("object %s, manifest %v: want %s, keyed by the file's %s", inv.DigestAlgorithm, inv.Manifest, tc.algorithm, tc.algorithm)
			}
			if res, err := core.Fixity.Check(ctx, id, nil); err != nil || !res.OK {
				t.Fatalf("fixity %+v, %v", res, err)
			}
			var report struct {
				OK bool `json:"ok"`
			}
			dwk.want(http.StatusOK, "GET", "/api/v1/items/"+id+"/fixity", nil).json(t, &report)
			if !report.OK {
				t.Errorf("the fixity report says not ok")
			}
		})
	}
}
