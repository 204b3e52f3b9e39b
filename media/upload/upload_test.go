package upload_test

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/testwait"
	"github.com/shizuishan/culturecloud/media/upload"
	"github.com/shizuishan/culturecloud/storage"
)

// A file of two full 5 MiB parts and a short last part.
const fileSize = 2*5*mib + 123457

// partChecksums are the part checksum algorithms a Manager may be set to: CRC32C for new
// sessions by default, SHA-256 as sessions from before it carry.
var partChecksums = []upload.Checksum{upload.ChecksumCRC32C, upload.ChecksumSHA256}

func TestUploadThreeParts(t *testing.T) {
	for _, c := range partChecksums {
		t.Run(string(c), func(t *testing.T) { testUploadThreeParts(t, c) })
	}
}

func testUploadThreeParts(t *testing.T, c upload.Checksum) {
	e := newEnv(t, upload.Options{PartSize: 5 * mib, PartChecksum: c})
	ctx := context.Background()
	data := pngFile(t, fileSize)

	s, err := e.m.Create(ctx, "alice", "老照片 1958.png", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if s.Parts != 3 || s.PartSize != 5*mib || s.Size != fileSize || s.PartChecksum() != c {
		t.Fatalf("session = %+v, want 3 parts of 5 MiB with %s checksums", s, c)
	}
	if !strings.HasPrefix(s.Key, "uploads/staging/"+s.ID+"/") || !strings.HasSuffix(s.Key, ".png") {
		t.Errorf("key = %q", s.Key)
	}
	for i, p := range split(data, 5*mib) {
		e.uploadPart(t, s.ID, i+1, p)
	}
	f, err := e.m.Complete(ctx, s.ID, "alice")
	if err != nil {
		t.Fatalf("complete: %v", err)
	}
	want256, want512 := sha256.Sum256(data), sha512.Sum512(data)
	if f.SHA256 != hex.EncodeToString(want256[:]) || f.SHA512 != hex.EncodeToString(want512[:]) {
		t.Errorf("hashes = %s / %s, want %x / %x", f.SHA256, f.SHA512, want256, want512)
	}
	if f.MediaType != "image/png" || f.Ext != ".png" || f.Size != fileSize || f.Key != s.Key {
		t.Errorf("file = %+v", f)
	}
	if f.DisplayName != "老照片 1958.png" || f.SafeName != s.SafeName {
		t.Errorf("names = %q / %q", f.DisplayName, f.SafeName)
	}
	if _, err := e.m.Get(ctx, s.ID, "alice"); !errors.Is(err, upload.ErrNotFound) {
		t.Errorf("session after complete: err = %v, want ErrNotFound", err)
	}
	info, err := e.objects.Stat(ctx, f.Key, "")
	if err != nil || info.Size != fileSize {
		t.Fatalf("staging object: %v, size %d", err, info.Size)
	}
	if got := e.leftovers(t); len(got) != 1 {
		t.Errorf("after complete, want only the staging object, got %v", got)
	}
	if err := e.m.Remove(ctx, f.Key); err != nil {
		t.Fatal(err)
	}
	if got := e.leftovers(t); len(got) != 0 {
		t.Errorf("after Remove: %v", got)
	}
}

func TestResume(t *testing.T) {
	e := newEnv(t, upload.Options{PartSize: 5 * mib})
	ctx := context.Background()
	data := pngFile(t, fileSize)
	parts := split(data, 5*mib)
	s, err := e.m.Create(ctx, "alice", "scan.png", fileSize)
	if err != nil {
		t.Fatal(err)
	}
	e.uploadPart(t, s.ID, 1, parts[0])
	// The browser drops here. Later it asks which parts MinIO already has.
	got, err := e.m.ListParts(ctx, s.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Number != 1 || got[0].Size != 5*mib || got[0].Checksum != s.PartChecksum().Of(parts[0]) || got[0].ETag == "" {
		t.Fatalf("parts after drop = %+v", got)
	}
	have := map[int]bool{}
	for _, p := range got {
		have[p.Number] = true
	}
	for n := 1; n <= s.Parts; n++ {
		if !have[n] {
			e.uploadPart(t, s.ID, n, parts[n-1])
		}
	}
	if got, _ := e.m.ListParts(ctx, s.ID, "alice"); len(got) != 3 || got[2].Size != 123457 {
		t.Fatalf("parts = %+v", got)
	}
	f, err := e.m.Complete(ctx, s.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(data); f.SHA256 != hex.EncodeToString(want[:]) {
		t.Errorf("sha256 = %s", f.SHA256)
	}
}

func TestPartChecksum(t *testing.T) {
	for _, c := range partChecksums {
		t.Run(string(c), func(t *testing.T) { testPartChecksum(t, c) })
	}
}

func testPartChecksum(t *testing.T, c upload.Checksum) {
	e := newEnv(t, upload.Options{PartSize: 5 * mib, PartChecksum: c})
	ctx := context.Background()
	data := pngFile(t, fileSize)
	s, err := e.m.Create(ctx, "alice", "a.png", fileSize)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.m.PresignPart(ctx, s.ID, "alice", 1)
	if err != nil {
		t.Fatal(err)
	}
	part := data[:5*mib]
	tests := []struct {
		name, sum string
	}{
		{"checksum of other bytes", c.Of([]byte("something else"))},
		{"malformed checksum", "not-base64!"},
		{"no checksum header", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _ := putPart(t, u, part, c, tt.sum)
			if code/100 != 4 {
				t.Errorf("status = %d, want 4xx", code)
			}
			if got, err := e.m.ListParts(ctx, s.ID, "alice"); err != nil || len(got) != 0 {
				t.Errorf("parts = %+v, %v; want none", got, err)
			}
		})
	}
	// A corrupted body with the checksum of the real part: MinIO refuses it too.
	bad := append([]byte(nil), part...)
	bad[len(bad)/2] ^= 1
	if code, _ := putPart(t, u, bad, c, c.Of(part)); code/100 != 4 {
		t.Errorf("corrupted body: status = %d, want 4xx", code)
	}
	if got, _ := e.m.ListParts(ctx, s.ID, "alice"); len(got) != 0 {
		t.Errorf("parts = %+v; want none", got)
	}
}

func TestPartUploadedTwice(t *testing.T) {
	e := newEnv(t, upload.Options{PartSize: 5 * mib})
	ctx := context.Background()
	first, second := pngFile(t, fileSize), pngFile(t, fileSize)
	s, err := e.m.Create(ctx, "alice", "twice.png", fileSize)
	if err != nil {
		t.Fatal(err)
	}
	p1, p2 := split(first, 5*mib), split(second, 5*mib)
	for i := range p1 {
		e.uploadPart(t, s.ID, i+1, p1[i])
	}
	e.uploadPart(t, s.ID, 2, p2[1]) // part 2 again, other bytes: the last one wins
	f, err := e.m.Complete(ctx, s.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(append([]byte(nil), p1[0]...), p2[1]...), p1[2]...)
	if sum := sha256.Sum256(want); f.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("sha256 = %s, want the file with the second part 2", f.SHA256)
	}
}

func TestCompleteIncomplete(t *testing.T) {
	tests := []struct {
		name          string
		upload        map[int]int // part number -> bytes to upload (-1: the right size)
		missing, size []int
		fix           []int // parts to upload right afterwards
	}{
		{"missing middle part", map[int]int{1: -1, 3: -1}, []int{2}, nil, []int{2}},
		{"nothing uploaded", map[int]int{}, []int{1, 2, 3}, nil, []int{1, 2, 3}},
		// A part of the wrong length is refused at the PUT (its URL signs the length), so
		// completion finds it missing.
		{"short non-last part", map[int]int{1: 5*mib - 1, 2: -1, 3: -1}, []int{1}, nil, []int{1}},
		{"long last part", map[int]int{1: -1, 2: -1, 3: 200000}, []int{3}, nil, []int{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, upload.Options{PartSize: 5 * mib})
			ctx := context.Background()
			data := pngFile(t, fileSize)
			parts := split(data, 5*mib)
			s, err := e.m.Create(ctx, "alice", "gap.png", fileSize)
			if err != nil {
				t.Fatal(err)
			}
			stored := 0
			for n, size := range tt.upload {
				if size < 0 {
					e.uploadPart(t, s.ID, n, parts[n-1])
					stored++
					continue
				}
				b := pngFile(t, size)
				_, urls, err := e.m.PresignParts(ctx, s.ID, "alice", []int{n})
				if err != nil {
					t.Fatal(err)
				}
				if code, _ := putPart(t, urls[n], b, s.PartChecksum(), s.PartChecksum().Of(b)); code/100 == 2 {
					t.Fatalf("part %d of %d bytes stored, want refused", n, size)
				}
			}
			_, err = e.m.Complete(ctx, s.ID, "alice")
			var ie *upload.IncompleteError
			if !errors.Is(err, upload.ErrIncomplete) || !errors.As(err, &ie) {
				t.Fatalf("complete: err = %v, want ErrIncomplete", err)
			}
			if !reflect.DeepEqual(ie.Missing, tt.missing) || !reflect.DeepEqual(ie.WrongSize, tt.size) {
				t.Errorf("missing %v wrong size %v, want %v %v (%v)", ie.Missing, ie.WrongSize, tt.missing, tt.size, err)
			}
			// Nothing changed: the session and the parts are still there.
			if _, err := e.m.Get(ctx, s.ID, "alice"); err != nil {
				t.Fatalf("session after failed complete: %v", err)
			}
			if got, err := e.m.ListParts(ctx, s.ID, "alice"); err != nil || len(got) != stored {
				t.Fatalf("parts = %v, %v", got, err)
			}
			for _, n := range tt.fix {
				e.uploadPart(t, s.ID, n, parts[n-1])
			}
			f, err := e.m.Complete(ctx, s.ID, "alice")
			if err != nil {
				t.Fatalf("complete after fix: %v", err)
			}
			if sum := sha256.Sum256(data); f.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("sha256 = %s", f.SHA256)
			}
		})
	}
}

func TestRefusedType(t *testing.T) {
	tests := []struct {
		name, head, detected string
	}{
		{"elf", "\x7FELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3E\x00", "application/x-elf"},
		{"zip", "PK\x03\x04\x14\x00\x00\x00\x08\x00", "application/zip"},
		{"html", "<!DOCTYPE html><html><script>alert(1)</script>", "text/html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, upload.Options{PartSize: 5 * mib})
			ctx := context.Background()
			data := []byte(tt.head + strings.Repeat("\x00", 1000))
			if tt.name == "html" {
				data = []byte(tt.head + strings.Repeat(" ", 1000))
			}
			s, err := e.m.Create(ctx, "alice", "photo.jpg", int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			e.uploadPart(t, s.ID, 1, data)
			_, err = e.m.Complete(ctx, s.ID, "alice")
			var te *upload.TypeError
			if !errors.As(err, &te) {
				t.Fatalf("complete: err = %v, want *TypeError", err)
			}
			if te.Detected != tt.detected || !strings.Contains(err.Error(), "image/jpeg") {
				t.Errorf("error = %q (detected %q, want %q)", err, te.Detected, tt.detected)
			}
			if got := e.leftovers(t); len(got) != 0 {
				t.Errorf("left behind: %v", got)
			}
		})
	}
}

func TestOwnerMismatch(t *testing.T) {
	e := newEnv(t, upload.Options{PartSize: 5 * mib})
	ctx := context.Background()
	s, err := e.m.Create(ctx, "alice", "mine.png", 10)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"Get":         func() error { _, err := e.m.Get(ctx, s.ID, "bob"); return err },
		"PresignPart": func() error { _, err := e.m.PresignPart(ctx, s.ID, "bob", 1); return err },
		"ListParts":   func() error { _, err := e.m.ListParts(ctx, s.ID, "bob"); return err },
		"Complete":    func() error { _, err := e.m.Complete(ctx, s.ID, "bob"); return err },
		"Abort":       func() error { return e.m.Abort(ctx, s.ID, "bob") },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(); !errors.Is(err, upload.ErrForbidden) {
				t.Errorf("err = %v, want ErrForbidden", err)
			}
		})
	}
	if _, err := e.m.Get(ctx, s.ID, "alice"); err != nil {
		t.Errorf("owner's session after others tried: %v", err)
	}
}

func TestValidation(t *testing.T) {
	e := newEnv(t, upload.Options{PartSize: 5 * mib, MaxSize: 20 * mib})
	ctx := context.Background()
	s, err := e.m.Create(ctx, "alice", "ok.png", fileSize)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"size 0", func() error { _, err := e.m.Create(ctx, "alice", "a.png", 0); return err }, upload.ErrInvalid},
		{"negative size", func() error { _, err := e.m.Create(ctx, "alice", "a.png", -1); return err }, upload.ErrInvalid},
		{"too large", func() error { _, err := e.m.Create(ctx, "alice", "a.png", 20*mib+1); return err }, upload.ErrTooLarge},
		{"empty name", func() error { _, err := e.m.Create(ctx, "alice", "", 10); return err }, upload.ErrInvalid},
		{"dot name", func() error { _, err := e.m.Create(ctx, "alice", ".", 10); return err }, upload.ErrInvalid},
		{"invisible name", func() error { _, err := e.m.Create(ctx, "alice", "\u200b\u202e\x00 ", 10); return err }, upload.ErrInvalid},
		{"no owner", func() error { _, err := e.m.Create(ctx, "", "a.png", 10); return err }, upload.ErrInvalid},
		{"part 0", func() error { _, err := e.m.PresignPart(ctx, s.ID, "alice", 0); return err }, upload.ErrInvalid},
		{"part Parts+1", func() error { _, err := e.m.PresignPart(ctx, s.ID, "alice", s.Parts+1); return err }, upload.ErrInvalid},
		{"unknown id", func() error { _, err := e.m.Get(ctx, strings.Repeat("ab", 16), "alice"); return err }, upload.ErrNotFound},
		{"malformed id", func() error { _, err := e.m.Get(ctx, "../../secrets", "alice"); return err }, upload.ErrNotFound},
		{"remove outside staging", func() error { return e.m.Remove(ctx, "uploads/sessions/"+s.ID+".json") }, upload.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err.Error() == tt.want.Error() && !errors.Is(tt.want, upload.ErrNotFound) {
				t.Errorf("error %q does not say what was wrong", err)
			}
		})
	}
	if _, err := e.m.PresignPart(ctx, s.ID, "alice", s.Parts); err != nil {
		t.Errorf("last part: %v", err)
	}
}

func TestPartSizeGrowsForHugeFiles(t *testing.T) {
	e := newEnv(t, upload.Options{PartSize: 5 * mib, MaxSize: 1 << 40})
	s, err := e.m.Create(context.Background(), "alice", "film.mp4", 100<<30) // 100 GiB
	if err != nil {
		t.Fatal(err)
	}
	if s.Parts > 10000 || int64(s.Parts-1)*s.PartSize >= s.Size || s.PartSize%mib != 0 {
		t.Errorf("%d parts of %d bytes for %d bytes", s.Parts, s.PartSize, s.Size)
	}
}

func TestAbort(t *testing.T) {
	e := newEnv(t, upload.Options{PartSize: 5 * mib})
	ctx := context.Background()
	data := pngFile(t, fileSize)
	s, err := e.m.Create(ctx, "alice", "gone.png", fileSize)
	if err != nil {
		t.Fatal(err)
	}
	e.uploadPart(t, s.ID, 1, data[:5*mib])
	if err := e.m.Abort(ctx, s.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if got := e.leftovers(t); len(got) != 0 {
		t.Errorf("left behind: %v", got)
	}
	if _, err := e.m.Get(ctx, s.ID, "alice"); !errors.Is(err, upload.ErrNotFound) {
		t.Errorf("Get after abort: %v", err)
	}
	if err := e.m.Abort(ctx, s.ID, "alice"); !errors.Is(err, upload.ErrNotFound) {
		t.Errorf("second abort: %v", err)
	}
}

func TestJanitor(t *testing.T) {
	e := newEnv(t, upload.Options{PartSize: 5 * mib})
	ctx := context.Background()
	data := pngFile(t, fileSize)
	for i := range 3 {
		s, err := e.m.Create(ctx, "alice", "old.png", fileSize)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			e.uploadPart(t, s.ID, 1, data[:5*mib])
		}
	}
	// An upload whose session was never written (a crash inside Create).
	if _, err := e.objects.NewMultipart(ctx, "uploads/staging/"+strings.Repeat("0", 32)+"/x.png", storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.m.Janitor(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("janitor(1h) = %d, %v; want nothing aborted", n, err)
	}
	// Janitor(0) removes what was written before its time.Now; MinIO lists times in whole
	// milliseconds, so let the clock pass the last write by one.
	written := time.Now()
	testwait.Until(t, "the clock passes the last write", func() bool { return time.Since(written) > time.Millisecond })
	n, err := e.m.Janitor(ctx, 0)
	if err != nil || n != 4 {
		t.Fatalf("janitor(0) = %d, %v; want 4", n, err)
	}
	if got := e.leftovers(t); len(got) != 0 {
		t.Errorf("left behind: %v", got)
	}
	if n, err := e.m.Janitor(ctx, 0); err != nil || n != 0 {
		t.Errorf("second run = %d, %v", n, err)
	}
}

func TestMinIOUnreachable(t *testing.T) {
	objects, err := storage.Connect(storage.Options{Endpoint: "127.0.0.1:1", AccessKey: "a", SecretKey: "b", Bucket: "nowhere", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	m := upload.New(objects, upload.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = m.Create(ctx, "alice", "a.png", 10)
	for _, sentinel := range []error{upload.ErrNotFound, upload.ErrInvalid, upload.ErrForbidden} {
		if err == nil || errors.Is(err, sentinel) {
			t.Fatalf("err = %v, want a wrapped connection error", err)
		}
	}
	if errors.Unwrap(err) == nil {
		t.Errorf("err %v does not wrap its cause", err)
	}
}

// TestBrowserCORS records what MinIO answers a browser on another origin: the preflight of a
// presigned part PUT, and the headers of the PUT itself (the browser must be able to read ETag).
func TestBrowserCORS(t *testing.T) {
	e := newEnv(t, upload.Options{PartSize: 5 * mib})
	ctx := context.Background()
	s, err := e.m.Create(ctx, "alice", "cors.png", 100)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.m.PresignPart(ctx, s.ID, "alice", 1)
	if err != nil {
		t.Fatal(err)
	}
	const origin = "https://culture.shizuishan.example"
	req, _ := http.NewRequest(http.MethodOptions, u, nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "PUT")
	req.Header.Set("Access-Control-Request-Headers", "content-type,"+strings.ToLower(s.PartChecksum().Header()))
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	t.Logf("preflight: %s", resp.Status)
	for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Allow-Credentials", "Vary"} {
		t.Logf("  %s: %q", h, resp.Header.Values(h))
	}
	if resp.StatusCode/100 != 2 {
		t.Errorf("preflight status = %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != origin && got != "*" {
		t.Errorf("Access-Control-Allow-Origin = %q", got)
	}

	data := pngFile(t, 100)
	put, _ := http.NewRequest(http.MethodPut, u, strings.NewReader(string(data)))
	put.Header.Set("Origin", origin)
	put.Header.Set(s.PartChecksum().Header(), s.PartChecksum().Of(data))
	resp, err = httpClient.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	t.Logf("PUT: %s", resp.Status)
	for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "ETag"} {
		t.Logf("  %s: %q", h, resp.Header.Values(h))
	}
	if !strings.Contains(strings.ToLower(strings.Join(resp.Header.Values("Access-Control-Expose-Headers"), ",")), "etag") {
		t.Errorf("ETag is not exposed to the browser")
	}
}

// TestCompleteAgainAfterCrash: a Complete that completed the multipart upload but died before
// hashing leaves the session; the next Complete finishes the job from the object.
func TestCompleteAgainAfterCrash(t *testing.T) {
	e := newEnv(t, upload.Options{PartSize: 5 * mib})
	ctx := context.Background()
	data := pngFile(t, fileSize)
	s, err := e.m.Create(ctx, "alice", "crash.png", fileSize)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range split(data, 5*mib) {
		e.uploadPart(t, s.ID, i+1, p)
	}
	parts, err := e.m.ListParts(ctx, s.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	var done []storage.Part
	for _, p := range parts {
		done = append(done, storage.Part{Number: p.Number, ETag: p.ETag, ChecksumCRC32C: p.Checksum})
	}
	if _, err := e.objects.CompleteMultipart(ctx, s.Key, s.UploadID, done, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	f, err := e.m.Complete(ctx, s.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(data); f.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("sha256 = %s", f.SHA256)
	}
	if got := e.leftovers(t); len(got) != 1 {
		t.Errorf("want only the staging object, got %v", got)
	}
}
