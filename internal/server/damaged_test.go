package server_test

import (
	"bytes"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// syncBuffer collects a server's log while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// damage flips one byte at offset of the stored object whose key contains part, in MinIO's
// data folder (MinIO then refuses to read that block: its checksum no longer matches).
func damage(t *testing.T, srv *testenv.Server, part string, offset int64) {
	t.Helper()
	root := filepath.Join(testenv.Shared(t).Dir("minio"), "data", srv.Config.MinIO.Bucket)
	var found []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "part.1" && strings.Contains(filepath.ToSlash(p), part) {
			found = append(found, p)
		}
		return err
	})
	if err != nil || len(found) != 1 {
		t.Fatalf("stored object of %s: %v %v", part, found, err)
	}
	f, err := os.OpenFile(found[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, offset); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, offset); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedFileIsNotServedAsSuccess checks that a file whose stored bytes are damaged is
// never answered as a whole success: damage in its first bytes is found before the status
// is sent (an error answer), damage further on aborts the connection (the client sees the
// body break off), and both are logged as errors.
func TestDamagedFileIsNotServedAsSuccess(t *testing.T) {
	tests := []struct {
		name   string
		offset int64
		broken func(t *testing.T, resp *http.Response, body []byte, readErr error)
	}{
		{"at the start", 100, func(t *testing.T, resp *http.Response, body []byte, _ error) {
			if resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("Content-Type") != "application/problem+json" ||
				!strings.Contains(string(body), `"/problems/damaged"`) {
				t.Errorf("status %d %q, want a 500 problem saying the file is damaged; %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		}},
		{"further on", 2 << 20, func(t *testing.T, resp *http.Response, body []byte, readErr error) {
			if readErr == nil {
				t.Errorf("status %d and a body of %d bytes read to its end; want the connection broken", resp.StatusCode, len(body))
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log := &syncBuffer{}
			srv := testenv.StartServerLog(t, testenv.Config(t, testenv.Shared(t)), log)
			_, dwk, _ := staffClients(t, srv)
			it := dwk.createItem(sampleItem("石嘴山档案全文", map[string]any{"type": "Text"}))
			content := []byte(strings.Repeat("石嘴山市档案馆藏：支宁青年来信。\n", 4<<20/48))
			job := dwk.attach(it.ID, dwk.uploadFile("letters.txt", content))
			if job.State != "done" {
				t.Fatalf("attach %+v", job)
			}
			dwk.publish(dwk.current(it.ID))
			path := "/api/v1/items/" + it.ID + "/files/" + job.Result.File.Path
			if r := dwk.want(http.StatusOK, "GET", path, nil); !bytes.Equal(r.body, content) {
				t.Fatalf("the intact file differs: %d bytes, want %d; starts %q", len(r.body), len(content), r.body[:min(40, len(r.body))])
			}
			damage(t, srv, "content/"+job.Result.File.Path, tc.offset)

			resp, err := testenv.Client().Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			body, readErr := io.ReadAll(resp.Body)
			resp.Body.Close()
			tc.broken(t, resp, body, readErr)
			testwait.Until(t, "the failure is logged as an error", func() bool {
				for _, line := range strings.Split(log.String(), "\n") {
					if strings.Contains(line, `"level":"ERROR"`) && strings.Contains(line, it.ID) {
						return true
					}
				}
				return false
			})
		})
	}
}
