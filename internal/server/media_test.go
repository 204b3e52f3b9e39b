package server_test

import (
	"bufio"
	"bytes"
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
	seg := anon.want(http.StatusPartialContent, "GET", base+segment, nil, "Range", "bytes=0-99")
	if len(seg.body) != 100 || !strings.Contains(seg.header.Get("Cache-Control"), "immutable") {
		t.Fatalf("segment range: %d bytes, %q", len(seg.body), seg.header.Get("Cache-Control"))
	}
	anon.want(http.StatusNotFound, "GET", base+"../../secret", nil)
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
