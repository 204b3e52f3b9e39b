package upload_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/testservices"
	"github.com/shizuishan/culturecloud/media/upload"
	"github.com/shizuishan/culturecloud/storage"
)

func TestMain(m *testing.M) { testservices.Main(m) }

const mib = 1 << 20

// env is one test's bucket and Manager on the shared real MinIO.
type env struct {
	objects *storage.Store
	m       *upload.Manager
}

func newEnv(tb testing.TB, opts upload.Options) *env {
	tb.Helper()
	stack := testservices.Shared(tb)
	svc := testservices.For(tb, stack)
	objects, err := storage.Connect(storage.Options{Endpoint: svc.MinIOEndpoint, AccessKey: testservices.MinIOUser,
		SecretKey: testservices.MinIOPassword, Bucket: svc.Bucket, Timeout: 30 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	if err := objects.Setup(context.Background()); err != nil {
		tb.Fatalf("make the versioned bucket: %v", err)
	}
	objects = objects.Long()
	return &env{objects: objects, m: upload.New(objects, opts)}
}

// httpClient plays the browser: it talks to MinIO with presigned URLs only.
var httpClient = &http.Client{Timeout: 60 * time.Second}

// putPart PUTs data to a presigned part URL with the given checksum (of algorithm c), as a
// browser would, and returns the status and the ETag MinIO answered.
func putPart(tb testing.TB, url string, data []byte, c upload.Checksum, sum string) (int, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	if sum != "" {
		req.Header.Set(c.Header(), sum)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		tb.Fatalf("PUT part: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		tb.Logf("PUT part answered %d: %s", resp.StatusCode, body)
	}
	return resp.StatusCode, resp.Header.Get("ETag")
}

// uploadPart presigns and PUTs part n of session id with a correct checksum.
func (e *env) uploadPart(tb testing.TB, id string, n int, data []byte) {
	tb.Helper()
	s, urls, err := e.m.PresignParts(context.Background(), id, "alice", []int{n})
	if err != nil {
		tb.Fatalf("presign part %d: %v", n, err)
	}
	c := s.PartChecksum()
	if code, etag := putPart(tb, urls[n], data, c, c.Of(data)); code != http.StatusOK || etag == "" {
		tb.Fatalf("PUT part %d: status %d, ETag %q", n, code, etag)
	}
}

// leftovers lists every object version and delete marker in the bucket, and every incomplete upload.
func (e *env) leftovers(tb testing.TB) []string {
	tb.Helper()
	ctx := context.Background()
	var out []string
	for o, err := range e.objects.List(ctx, "", storage.ListOptions{Recursive: true, Versions: true}) {
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, "object "+o.Key)
	}
	for u, err := range e.objects.IncompleteUploads(ctx, "") {
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, "upload "+u.Key)
	}
	return out
}

// pngFile returns size random bytes starting with the PNG signature.
func pngFile(tb testing.TB, size int) []byte {
	tb.Helper()
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	copy(b, "\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR")
	return b
}

// split cuts data into parts of partSize.
func split(data []byte, partSize int) [][]byte {
	var parts [][]byte
	for len(data) > 0 {
		n := min(partSize, len(data))
		parts = append(parts, data[:n])
		data = data[n:]
	}
	return parts
}
