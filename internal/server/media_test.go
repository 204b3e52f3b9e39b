package server_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/internal/testenv"
)

// testVideo makes a short real video with ffmpeg.
func testVideo(t *testing.T) []byte {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		testenv.Unavailable(t, err)
	}
	out := filepath.Join(t.TempDir(), "lesson.mp4")
	cmd := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440", "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v %s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestVideoIsTranscodedToHLS(t *testing.T) {
	srv := startServer(t)
	_, dwk, _ := staffClients(t, srv)
	anon := newClient(t, srv.URL)
	it := dwk.createItem(sampleItem("剪纸技艺视频", map[string]any{"type": "MovingImage", "theme": "intangible"}))
	job := dwk.attach(it.ID, dwk.uploadFile("jianzhi.mp4", testVideo(t)))
	if job.State != "done" {
		t.Fatalf("attach %+v", job)
	}
	var media struct {
		Files map[string]struct {
			State    string   `json:"state"`
			Error    string   `json:"error"`
			Master   string   `json:"master"`
			Poster   string   `json:"poster"`
			Download string   `json:"download"`
			Rungs    []string `json:"rungs"`
		} `json:"files"`
	}
	path := job.Result.File.Path
	eventually(t, "the video is transcoded", func() bool {
		dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID+"/media", nil).json(t, &media)
		st := media.Files[path].State
		return st == "done" || st == "failed"
	})
	m := media.Files[path]
	if m.State != "done" || m.Master == "" || m.Poster == "" || m.Download == "" || len(m.Rungs) == 0 {
		t.Fatalf("media %+v", m)
	}
	// Drafts' streams are not public.
	anon.want(http.StatusNotFound, "GET", m.Master, nil)
	master := dwk.want(http.StatusOK, "GET", m.Master, nil)
	if ct := master.header.Get("Content-Type"); ct != "application/vnd.apple.mpegurl" || !bytes.Contains(master.body, []byte("#EXT-X-STREAM-INF")) {
		t.Fatalf("master %s\n%s", ct, master.body)
	}
	if cc := master.header.Get("Cache-Control"); !strings.Contains(cc, "private") {
		t.Fatalf("draft cache-control %q", cc)
	}
	var item itemJSON
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID, nil).json(t, &item)
	dwk.publish(item)
	base := m.Master[:strings.LastIndex(m.Master, "/")+1]
	master = anon.want(http.StatusOK, "GET", m.Master, nil)
	rung := firstURI(master.body)
	playlist := anon.want(http.StatusOK, "GET", base+rung, nil)
	segment := ""
	for _, line := range strings.Split(string(playlist.body), "\n") {
		if strings.HasSuffix(line, ".m4s") {
			segment = line
			break
		}
	}
	if segment == "" {
		t.Fatalf("no segment in %s", playlist.body)
	}
	// A published segment is a redirect to a short-lived signed URL of the storage, which
	// serves it with ranges and the long cache lifetime.
	redirect := anon.want(http.StatusFound, "GET", base+segment, nil)
	loc := redirect.header.Get("Location")
	if !strings.HasPrefix(loc, "http://"+srv.Config.MinIO.Endpoint+"/") || !strings.Contains(loc, "X-Amz-Signature") {
		t.Fatalf("segment redirect to %q", loc)
	}
	req, _ := http.NewRequest(http.MethodGet, loc, nil)
	req.Header.Set("Range", "bytes=0-99")
	resp, err := testenv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	seg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || len(seg) != 100 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") ||
		resp.Header.Get("Content-Type") != "video/iso.segment" {
		t.Fatalf("segment from storage: %s, %d bytes, %q, %q", resp.Status, len(seg), resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"))
	}
	anon.want(http.StatusNotFound, "GET", base+"../../secret", nil)

	// The item page's player plays the stream, with the original as a fallback source.
	page := anon.want(http.StatusOK, "GET", "/memory/items/"+it.ID, nil)
	for _, want := range []string{`src="` + m.Master + `" type="application/vnd.apple.mpegurl"`, `poster="` + m.Poster + `"`} {
		if !strings.Contains(string(page.body), want) {
			t.Fatalf("item page lacks %s", want)
		}
	}
}

// firstURI is the first non-comment line of a playlist.
func firstURI(playlist []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(playlist))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			return line
		}
	}
	return ""
}
