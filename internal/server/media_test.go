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
	"time"

	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
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
	testwait.Until(t, "the video is transcoded", func() bool {
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
	// serves it with ranges and the public cache lifetime (http.public_cache_max_age).
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
	if resp.StatusCode != http.StatusPartialContent || len(seg) != 100 || maxAge(resp.Header.Get("Cache-Control")) != int(srv.Config.HTTP.PublicCacheMaxAge.Seconds()) ||
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

// TestLessonProgressUsesMeasuredDuration checks that a learner's progress report is judged
// against the duration the transcoder measured, not the player's claim.
func TestLessonProgressUsesMeasuredDuration(t *testing.T) {
	srv := startServer(t)
	admin, dwk, _ := staffClients(t, srv)
	it := dwk.createItem(sampleItem("剪纸第一课", map[string]any{"type": "MovingImage", "theme": "intangible"}))
	job := dwk.attach(it.ID, dwk.uploadFile("jianzhi.mp4", testVideo(t)))
	path := job.Result.File.Path
	var media struct {
		Files map[string]struct {
			State    string  `json:"state"`
			Duration float64 `json:"duration"`
		} `json:"files"`
	}
	testwait.Until(t, "the video is transcoded", func() bool {
		dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID+"/media", nil).json(t, &media)
		return media.Files[path].State == "done" || media.Files[path].State == "failed"
	})
	if m := media.Files[path]; m.State != "done" || m.Duration < 2.5 || m.Duration > 3.5 {
		t.Fatalf("media %+v", m)
	}
	var item itemJSON
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID, nil).json(t, &item)
	dwk.publish(item)
	admin.want(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"name": "lec.jz", "display_name": "剪纸老师",
		"password": "Paper-Cutting-2026", "role": "lecturer", "unit": "dwk-culture-centre"})
	var c struct {
		ID string `json:"id"`
	}
	r := dwk.want(http.StatusCreated, "POST", "/api/v1/courses", map[string]any{"title": "剪纸入门", "category": "heritage-crafts",
		"level": "beginner", "lecturer": "lec.jz", "unit": "dwk-culture-centre", "allow_guests": false,
		"institution": map[string]any{"name": "大武口区文化馆", "kind": "culture-centre"},
		"lessons":     []map[string]any{{"title": "折与剪", "media": map[string]any{"item": it.ID, "path": path}}}})
	r.json(t, &c)
	etag := dwk.want(http.StatusOK, "POST", "/api/v1/courses/"+c.ID+"/status", map[string]any{"status": "in_review"}, "If-Match", r.header.Get("ETag")).header.Get("ETag")
	dwk.reviewer.approve("courses", itemJSON{ID: c.ID, Version: strings.Trim(etag, `"`)})

	learner := newClient(t, srv.URL)
	learner.want(http.StatusCreated, "POST", "/api/v1/auth/register", map[string]any{"name": "xue.sheng", "display_name": "学生", "password": "Yellow-River-2026"})
	learner.login("xue.sheng", "Yellow-River-2026")
	// A guest may not watch this course: the lesson page asks to enrol first.
	anonPage := newClient(t, srv.URL).want(http.StatusOK, "GET", "/courses/"+c.ID+"/lessons/0", nil)
	if !bytes.Contains(anonPage.body, []byte(`id="enrol-first"`)) || bytes.Contains(anonPage.body, []byte(`id="lesson-media"`)) {
		t.Fatal("a guest sees the player of a course that needs enrolment")
	}
	learner.want(http.StatusOK, "POST", "/api/v1/courses/"+c.ID+"/enrol", nil)
	progress := "/api/v1/courses/" + c.ID + "/lessons/0/progress"
	var saved struct {
		Progress struct {
			Lessons map[string]struct {
				Position float64 `json:"position"`
				Duration float64 `json:"duration"`
			} `json:"lessons"`
		} `json:"progress"`
		LessonCompleted bool `json:"lesson_completed"`
	}
	// Claiming a one-second lesson does not complete a three-second one.
	learner.want(http.StatusOK, "PUT", progress, map[string]any{"position": 1, "duration": 1}).json(t, &saved)
	if saved.LessonCompleted || saved.Progress.Lessons["0"].Duration < 2.5 {
		t.Fatalf("a shrunk duration was believed: %+v", saved)
	}
	// A position past the real end is refused, and changes nothing.
	learner.want(http.StatusUnprocessableEntity, "PUT", progress, map[string]any{"position": 30, "duration": 30}).problem(t)
	// Watching to the end, reported as the clock runs the way the player does, completes it
	// (a jump to the end earns no watching time).
	end, start := media.Files[path].Duration, time.Now()
	testwait.Until(t, "watching to the end completes the lesson", func() bool {
		pos := min(end, time.Since(start).Seconds())
		learner.want(http.StatusOK, "PUT", progress, map[string]any{"position": pos, "duration": 3.1}).json(t, &saved)
		return saved.LessonCompleted
	})
	page := learner.want(http.StatusOK, "GET", "/courses/"+c.ID+"/lessons/0", nil)
	for _, want := range []string{`id="lesson-media"`, `type="application/vnd.apple.mpegurl"`, `data-save="1"`, `src="/vendor/hls.min.js"`} {
		if !bytes.Contains(page.body, []byte(want)) {
			t.Errorf("lesson page lacks %s", want)
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
