// Package storagetest is the contract every object store of the product must keep, run as
// a test suite against a real deployment (as Gitea runs one suite against each storage
// backend): single-drive MinIO in the library's own tests, and the same suite against a
// distributed deployment or a second backend when one comes.
package storagetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/storage"
)

// Run runs the whole contract against s, whose bucket exists and is versioned. Every case
// writes under its own prefix, so the bucket may be shared.
func Run(t *testing.T, s *storage.Store) {
	cases := []struct {
		name string
		run  func(t *testing.T, s *storage.Store, prefix string)
	}{
		{"PutAndGet", putAndGet},
		{"MissingIsNotFound", missingIsNotFound},
		{"Ranges", ranges},
		{"Conditions", conditions},
		{"Versions", versions},
		{"Listing", listing},
		{"RemoveMany", removeMany},
		{"Presign", presign},
		{"Multipart", multipart},
		{"MultipartRefusals", multipartRefusals},
		{"Copy", copyObjects},
		{"Limits", limits},
		{"CallerGivesUp", callerGivesUp},
	}
	run := fmt.Sprintf("contract-%d/", time.Now().UnixNano())
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, s, run+c.name+"/") })
	}
}

func ctxOf(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// must stops the test on err and passes v on: must(t)(f()) reads like the call it checks.
func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: got %v, want %v", what, err, kind)
	}
}

func readAll(t *testing.T, r io.ReadCloser) []byte {
	t.Helper()
	defer r.Close()
	return must[[]byte](t)(io.ReadAll(r))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func putAndGet(t *testing.T, s *storage.Store, p string) {
	ctx := ctxOf(t)
	body := []byte("石嘴山记忆")
	put := must[storage.Info](t)(s.PutBytes(ctx, p+"a.txt", body, storage.PutOptions{ContentType: "text/plain; charset=utf-8", Metadata: map[string]string{"Origin": "contract"}}))
	if put.ETag == "" || put.Size != int64(len(body)) {
		t.Fatalf("put answered %+v", put)
	}
	r, info, err := s.Get(ctx, p+"a.txt", storage.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, r); !bytes.Equal(got, body) {
		t.Fatalf("read back %q", got)
	}
	st := must[storage.Info](t)(s.Stat(ctx, p+"a.txt", ""))
	for _, i := range []storage.Info{info, st} {
		if i.Size != int64(len(body)) || i.ETag != put.ETag || i.ContentType != "text/plain; charset=utf-8" || i.Modified.IsZero() {
			t.Fatalf("info %+v does not describe what was put (%+v)", i, put)
		}
	}
	if st.Metadata["Origin"] != "contract" {
		t.Fatalf("metadata %v lost Origin", st.Metadata)
	}
	if ok := must[bool](t)(s.Exists(ctx, p+"a.txt")); !ok {
		t.Fatal("Exists says no for a stored object")
	}
	data, _, err := s.ReadAll(ctx, p+"a.txt", 1<<10)
	if err != nil || !bytes.Equal(data, body) {
		t.Fatalf("ReadAll: %q, %v", data, err)
	}
}

func missingIsNotFound(t *testing.T, s *storage.Store, p string) {
	ctx := ctxOf(t)
	_, _, err := s.Get(ctx, p+"none", storage.GetOptions{})
	wantKind(t, "Get", err, storage.ErrNotFound)
	_, err = s.Stat(ctx, p+"none", "")
	wantKind(t, "Stat", err, storage.ErrNotFound)
	obj := must[*storage.Object](t)(s.Open(ctx, p+"none", storage.GetOptions{}))
	_, err = obj.Stat()
	wantKind(t, "Open then Stat", err, storage.ErrNotFound)
	_, err = obj.Read(make([]byte, 1))
	wantKind(t, "Open then Read", err, storage.ErrNotFound)
	_ = obj.Close()
	if ok := must[bool](t)(s.Exists(ctx, p+"none")); ok {
		t.Fatal("Exists says yes for nothing")
	}
	if err := s.Remove(ctx, p+"none", ""); err != nil {
		t.Fatalf("removing nothing: %v", err)
	}
}

func ranges(t *testing.T, s *storage.Store, p string) {
	ctx := ctxOf(t)
	body := randomBytes(100_000)
	must[storage.Info](t)(s.PutBytes(ctx, p+"r.bin", body, storage.PutOptions{}))
	for _, c := range []struct {
		rng        storage.Range
		start, end int
	}{
		{storage.Range{}, 0, len(body)},
		{storage.Range{Offset: 10, Length: 90}, 10, 100},
		{storage.Range{Offset: 99_990}, 99_990, len(body)},
		{storage.Range{Length: 1}, 0, 1},
	} {
		r, _, err := s.Get(ctx, p+"r.bin", storage.GetOptions{Range: c.rng})
		if err != nil {
			t.Fatalf("%+v: %v", c.rng, err)
		}
		if got := readAll(t, r); !bytes.Equal(got, body[c.start:c.end]) {
			t.Fatalf("%+v: %d bytes, want %d..%d", c.rng, len(got), c.start, c.end)
		}
	}
	_, _, err := s.Get(ctx, p+"r.bin", storage.GetOptions{Range: storage.Range{Offset: -1}})
	wantKind(t, "negative range", err, storage.ErrRefused)

	obj := must[*storage.Object](t)(s.Open(ctx, p+"r.bin", storage.GetOptions{}))
	defer obj.Close()
	if info := must[storage.Info](t)(obj.Stat()); info.Size != int64(len(body)) {
		t.Fatalf("Open's Stat says %d bytes", info.Size)
	}
	if _, err := obj.Seek(50_000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	if _, err := io.ReadFull(obj, buf); err != nil || !bytes.Equal(buf, body[50_000:50_100]) {
		t.Fatalf("read after seek: %v", err)
	}
	if _, err := obj.ReadAt(buf, 7); err != nil || !bytes.Equal(buf, body[7:107]) {
		t.Fatalf("ReadAt: %v", err)
	}
}

func conditions(t *testing.T, s *storage.Store, p string) {
	ctx := ctxOf(t)
	first := must[storage.Info](t)(s.PutBytes(ctx, p+"doc", []byte("1"), storage.PutOptions{IfAbsent: true}))
	_, err := s.PutBytes(ctx, p+"doc", []byte("x"), storage.PutOptions{IfAbsent: true})
	wantKind(t, "IfAbsent over a stored object", err, storage.ErrPrecondition)
	second := must[storage.Info](t)(s.PutBytes(ctx, p+"doc", []byte("2"), storage.PutOptions{IfMatch: first.ETag}))
	_, err = s.PutBytes(ctx, p+"doc", []byte("x"), storage.PutOptions{IfMatch: first.ETag})
	wantKind(t, "IfMatch of a replaced version", err, storage.ErrPrecondition)
	must[storage.Info](t)(s.PutBytes(ctx, p+"doc", []byte("3"), storage.PutOptions{IfMatch: `"` + second.ETag + `"`}))
	data, _, err := s.ReadAll(ctx, p+"doc", 10)
	if err != nil || string(data) != "3" {
		t.Fatalf("after the conditional writes: %q, %v", data, err)
	}
}

func versions(t *testing.T, s *storage.Store, p string) {
	ctx := ctxOf(t)
	v1 := must[storage.Info](t)(s.PutBytes(ctx, p+"v", []byte("one"), storage.PutOptions{}))
	must[storage.Info](t)(s.PutBytes(ctx, p+"v", []byte("two"), storage.PutOptions{}))
	if v1.VersionID == "" {
		t.Fatal("a versioned bucket gave no version id")
	}
	r, _, err := s.Get(ctx, p+"v", storage.GetOptions{VersionID: v1.VersionID})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, r); string(got) != "one" {
		t.Fatalf("version 1 reads %q", got)
	}
	if err := s.Remove(ctx, p+"v", ""); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Get(ctx, p+"v", storage.GetOptions{})
	wantKind(t, "Get after Remove", err, storage.ErrNotFound)
	count, markers := 0, 0
	for v, err := range s.List(ctx, p+"v", storage.ListOptions{Versions: true, Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		count++
		if v.DeleteMarker {
			markers++
		}
	}
	if count != 3 || markers != 1 {
		t.Fatalf("after two puts and a remove: %d versions, %d delete markers; want 3, 1", count, markers)
	}
	if err := s.Purge(ctx, p+"v"); err != nil {
		t.Fatal(err)
	}
	for v, err := range s.List(ctx, p+"v", storage.ListOptions{Versions: true, Recursive: true}) {
		t.Fatalf("Purge left %+v (%v)", v, err)
	}
}

func listing(t *testing.T, s *storage.Store, p string) {
	ctx := ctxOf(t)
	for _, k := range []string{"b/2", "a", "b/1", "c/d/e"} {
		must[storage.Info](t)(s.PutBytes(ctx, p+k, []byte(k), storage.PutOptions{}))
	}
	keys := must[[]string](t)(s.Keys(ctx, p))
	if got := strings.Join(keys, ","); got != p+"a,"+p+"b/1,"+p+"b/2,"+p+"c/d/e" {
		t.Fatalf("recursive listing: %s", got)
	}
	var top []string
	for o, err := range s.List(ctx, p, storage.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		top = append(top, strings.TrimPrefix(o.Key, p))
	}
	if got := strings.Join(top, ","); got != "a,b/,c/" {
		t.Fatalf("listing by folders: %s", got)
	}
	n := 0
	for _, err := range s.List(ctx, p, storage.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		break
	}
	if n != 1 {
		t.Fatal("a listing did not stop when asked")
	}
}

func removeMany(t *testing.T, s *storage.Store, p string) {
	ctx := ctxOf(t)
	var objs []storage.Info
	for i := range 5 {
		objs = append(objs, must[storage.Info](t)(s.PutBytes(ctx, fmt.Sprintf("%sk%d", p, i), []byte("x"), storage.PutOptions{})))
	}
	objs = append(objs, storage.Info{Key: p + "never-stored"})
	if err := s.RemoveMany(ctx, objs); err != nil {
		t.Fatal(err)
	}
	if keys := must[[]string](t)(s.Keys(ctx, p)); len(keys) != 0 {
		t.Fatalf("left after RemoveMany: %v", keys)
	}
}

// answer is what an HTTP request to the store got back.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func httpDo(t *testing.T, method, url string, body []byte) answer {
	t.Helper()
	req := must[*http.Request](t)(http.NewRequestWithContext(ctxOf(t), method, url, bytes.NewReader(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return answer{resp.StatusCode, resp.Header, must[[]byte](t)(io.ReadAll(resp.Body))}
}

func presign(t *testing.T, s *storage.Store, p string) {
	ctx := ctxOf(t)
	must[storage.Info](t)(s.PutBytes(ctx, p+"shared.txt", []byte("云讲座"), storage.PutOptions{ContentType: "text/plain"}))
	u := must[*url.URL](t)(s.PresignGet(ctx, p+"shared.txt", time.Minute, map[string][]string{"response-content-disposition": {"attachment"}}))
	a := httpDo(t, http.MethodGet, u.String(), nil)
	if a.status != http.StatusOK || string(a.body) != "云讲座" || a.header.Get("Content-Disposition") != "attachment" {
		t.Fatalf("presigned GET: %d %q %q", a.status, a.body, a.header.Get("Content-Disposition"))
	}
}

const partSize = 5 << 20 // the smallest part S3 takes but for the last

func uploadParts(t *testing.T, s *storage.Store, key, id string, body []byte) []storage.Part {
	ctx := ctxOf(t)
	var parts []storage.Part
	for n, off := 1, 0; off < len(body); n, off = n+1, off+partSize {
		chunk := body[off:min(off+partSize, len(body))]
		u := must[*url.URL](t)(s.PresignPart(ctx, key, id, n, int64(len(chunk)), time.Minute))
		a := httpDo(t, http.MethodPut, u.String(), chunk)
		if a.status != http.StatusOK {
			t.Fatalf("PUT part %d: %d %s", n, a.status, a.body)
		}
		parts = append(parts, storage.Part{Number: n, ETag: strings.Trim(a.header.Get("ETag"), `"`)})
	}
	return parts
}

func multipart(t *testing.T, s *storage.Store, p string) {
	ctx := ctxOf(t)
	key := p + "big.bin"
	body := randomBytes(partSize + 1000)
	id := must[string](t)(s.NewMultipart(ctx, key, storage.PutOptions{ContentType: "application/octet-stream"}))
	sent := uploadParts(t, s, key, id, body)
	listed := must[[]storage.Part](t)(s.ListParts(ctx, key, id))
	if len(listed) != 2 || listed[0].Size != partSize || listed[1].Size != 1000 || listed[0].ETag != sent[0].ETag {
		t.Fatalf("ListParts: %+v", listed)
	}
	found := false
	for up, err := range s.IncompleteUploads(ctx, p) {
		if err != nil {
			t.Fatal(err)
		}
		found = found || up.UploadID == id && up.Key == key
	}
	if !found {
		t.Fatal("IncompleteUploads does not list the open upload")
	}
	info := must[storage.Info](t)(s.CompleteMultipart(ctx, key, id, listed, storage.PutOptions{}))
	if info.ETag == "" {
		t.Fatal("completion gave no ETag")
	}
	data, _, err := s.ReadAll(ctx, key, 10<<20)
	if err != nil || !bytes.Equal(data, body) {
		t.Fatalf("the completed object differs (%v)", err)
	}

	// A part longer than signed is refused by the store, and an aborted upload is gone.
	id = must[string](t)(s.NewMultipart(ctx, p+"aborted.bin", storage.PutOptions{}))
	u := must[*url.URL](t)(s.PresignPart(ctx, p+"aborted.bin", id, 1, 10, time.Minute))
	if a := httpDo(t, http.MethodPut, u.String(), randomBytes(11)); a.status < 400 {
		t.Fatalf("a part longer than its signed length was taken: %d", a.status)
	}
	if err := s.AbortMultipart(ctx, p+"aborted.bin", id); err != nil {
		t.Fatal(err)
	}
	_, err = s.ListParts(ctx, p+"aborted.bin", id)
	wantKind(t, "ListParts of an aborted upload", err, storage.ErrNotFound)
	if err := s.AbortMultipart(ctx, p+"aborted.bin", id); err != nil {
		t.Fatalf("aborting an upload already gone: %v", err)
	}
}

func multipartRefusals(t *testing.T, s *storage.Store, p string) {
	ctx := ctxOf(t)
	key := p + "refused.bin"
	id := must[string](t)(s.NewMultipart(ctx, key, storage.PutOptions{}))
	parts := uploadParts(t, s, key, id, randomBytes(100))
	parts[0].ETag = strings.Repeat("0", 32)
	_, err := s.CompleteMultipart(ctx, key, id, parts, storage.PutOptions{})
	wantKind(t, "completion with a wrong ETag", err, storage.ErrRefused)
	if errors.Is(err, storage.ErrUnavailable) {
		t.Fatal("a refusal counts as an outage")
	}
	if storage.Reason(err) == "" {
		t.Fatal("a refusal gives no reason")
	}
	_ = s.AbortMultipart(ctx, key, id)
}

func copyObjects(t *testing.T, s *storage.Store, p string) {
	ctx := ctxOf(t)
	small := []byte("small")
	must[storage.Info](t)(s.PutBytes(ctx, p+"small", small, storage.PutOptions{}))
	if err := s.Copy(ctx, p+"small", p+"small.copy", int64(len(small)), storage.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	big := randomBytes(2*partSize + 123)
	must[storage.Info](t)(s.PutBytes(ctx, p+"big", big, storage.PutOptions{ContentType: "video/mp4"}))
	opts := storage.CopyOptions{PartSize: partSize, Workers: 2}
	if err := s.Copy(ctx, p+"big", p+"big.copy", int64(len(big)), opts); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string][]byte{p + "small.copy": small, p + "big.copy": big} {
		data, info, err := s.ReadAll(ctx, key, 20<<20)
		if err != nil || !bytes.Equal(data, want) {
			t.Fatalf("%s differs from its source (%v)", key, err)
		}
		if key == p+"big.copy" && info.ContentType != "video/mp4" {
			t.Fatalf("a multipart copy lost the content type: %q", info.ContentType)
		}
	}
	err := s.Copy(ctx, p+"big", p+"wrong", int64(len(big))+1, opts)
	wantKind(t, "copy of an object of another size", err, storage.ErrPrecondition)
	err = s.Copy(ctx, p+"none", p+"none.copy", 10, storage.CopyOptions{})
	wantKind(t, "copy of nothing", err, storage.ErrNotFound)
}

func limits(t *testing.T, s *storage.Store, p string) {
	ctx := ctxOf(t)
	must[storage.Info](t)(s.PutBytes(ctx, p+"big", randomBytes(2000), storage.PutOptions{}))
	_, _, err := s.ReadAll(ctx, p+"big", 1000)
	wantKind(t, "ReadAll over its limit", err, storage.ErrRefused)
}

func callerGivesUp(t *testing.T, s *storage.Store, p string) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := s.Get(ctx, p+"any", storage.GetOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled Get: %v, want context.Canceled in the chain", err)
	}
}
