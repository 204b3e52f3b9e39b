package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
	"github.com/shizuishan/culturecloud/media/upload"
)

// The accounts of the course tests.
const (
	lecturerName, lecturerPassword = "liu.lecturer", "Calligraphy-Lessons-3"
	learnerName, learnerPassword   = "xiao.ming", "Brush-And-Ink-2026"
)

// apiUser is a signed-in API session, as a script on a page holds one: cookies and the CSRF
// token.
type apiUser struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
	// reviewer approves what this user submits (先审后发 needs a second person).
	reviewer *apiUser
}

func newAPIUser(t *testing.T, base string) *apiUser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := testenv.Client()
	hc.Jar = jar
	return &apiUser{t: t, base: base, hc: hc}
}

// apiLogin signs name in through the API.
func apiLogin(t *testing.T, base, name, password string) *apiUser {
	t.Helper()
	u := newAPIUser(t, base)
	u.session("/api/v1/auth/login", http.StatusOK, map[string]string{"name": name, "password": password})
	return u
}

// registerCitizen signs a citizen up the way the registration page does.
func registerCitizen(t *testing.T, base, name, displayName, password string) *apiUser {
	t.Helper()
	u := newAPIUser(t, base)
	u.session("/api/v1/auth/register", http.StatusCreated, map[string]string{"name": name, "display_name": displayName, "password": password})
	return u
}

func (u *apiUser) session(path string, status int, body any) {
	u.t.Helper()
	var s struct {
		CSRF string `json:"csrf_token"`
	}
	u.want(status, "POST", path, body, &s)
	if s.CSRF == "" {
		u.t.Fatalf("POST %s gave no csrf token", path)
	}
	u.csrf = s.CSRF
}

// call sends one request: body is JSON unless it is []byte (sent as it is, with the
// Content-Type among headers).
func (u *apiUser) call(method, path string, body any, headers ...string) (int, http.Header, []byte) {
	u.t.Helper()
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			u.t.Fatal(err)
		}
		rd, contentType = bytes.NewReader(data), "application/json"
	}
	url := path
	if strings.HasPrefix(path, "/") {
		url = u.base + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		u.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if u.csrf != "" && strings.HasPrefix(path, "/") {
		req.Header.Set("X-CSRF-Token", u.csrf)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := u.hc.Do(req)
	if err != nil {
		u.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		u.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, data
}

// want sends a request, fails the test on another status and decodes the answer into into.
func (u *apiUser) want(status int, method, path string, body, into any, headers ...string) http.Header {
	u.t.Helper()
	got, h, data := u.call(method, path, body, headers...)
	if got != status {
		u.t.Fatalf("%s %s: %d, want %d: %s", method, path, got, status, data)
	}
	if into != nil {
		if err := json.Unmarshal(data, into); err != nil {
			u.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return h
}

// createLecturer creates a lecturer of 大武口区文化馆 through the API, as the admin, and
// returns the admin, who reviews what the lecturer submits.
func createLecturer(t *testing.T, base string) *apiUser {
	t.Helper()
	admin := apiLogin(t, base, testenv.AdminName, testenv.AdminPassword)
	admin.want(http.StatusCreated, "POST", "/api/v1/accounts", map[string]string{"name": lecturerName, "display_name": "刘老师",
		"password": lecturerPassword, "role": "lecturer", "unit": "dwk-culture-centre"}, nil)
	return admin
}

// lessonVideo draws a short video with ffmpeg: a test pattern with a clock, a tone, and a
// keyframe every second.
func lessonVideo(t *testing.T, name string, seconds, width, height int) string {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		testenv.Unavailable(t, err)
	}
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc=size=%dx%d:rate=25", width, height),
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.Itoa(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
		"-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v %s", err, b)
	}
	return out
}

// lessonFile is a lesson's video as the library keeps it.
type lessonFile struct {
	Item, Path, SHA256 string
}

// lessonItem makes a library item of the lecturer's unit holding the video at file.
func (u *apiUser) lessonItem(title, file string) lessonFile {
	u.t.Helper()
	var it struct {
		ID string `json:"id"`
	}
	u.want(http.StatusCreated, "POST", "/api/v1/items", map[string]any{"title": title, "type": "MovingImage", "theme": "folk-art",
		"unit": "dwk-culture-centre", "licence": "in-copyright", "language": "zh", "creator": []string{"刘老师"},
		"description": "大武口区文化馆线上艺术课堂的课时视频。"}, &it)
	content, err := os.ReadFile(file)
	if err != nil {
		u.t.Fatal(err)
	}
	return u.attachFile(it.ID, filepath.Base(file), content)
}

// attachFile uploads content to the item straight to the storage in parts, as the
// console's script does, and waits until it is attached.
func (u *apiUser) attachFile(item, name string, content []byte) lessonFile {
	u.t.Helper()
	var sess struct {
		ID             string          `json:"id"`
		Parts          int             `json:"parts"`
		PartSize       int64           `json:"part_size"`
		ChecksumHeader string          `json:"checksum_header"`
		Checksum       upload.Checksum `json:"checksum_algorithm"`
	}
	u.want(http.StatusCreated, "POST", "/api/v1/uploads", map[string]any{"name": name, "size": len(content)}, &sess)
	parts := make([]int, sess.Parts)
	for i := range parts {
		parts[i] = i + 1
	}
	var urls struct {
		URLs map[string]string `json:"urls"`
	}
	u.want(http.StatusOK, "POST", "/api/v1/uploads/"+sess.ID+"/urls", map[string]any{"parts": parts}, &urls)
	for i := range parts {
		start := int64(i) * sess.PartSize
		chunk := content[start:min(start+sess.PartSize, int64(len(content)))]
		u.want(http.StatusOK, "PUT", urls.URLs[strconv.Itoa(i+1)], chunk, nil, sess.ChecksumHeader, sess.Checksum.Of(chunk))
	}
	var job struct {
		ID     string `json:"id"`
		State  string `json:"state"`
		Error  string `json:"error"`
		Result struct {
			File struct {
				Path   string `json:"path"`
				SHA256 string `json:"sha256"`
			} `json:"file"`
		} `json:"result"`
	}
	u.want(http.StatusAccepted, "POST", "/api/v1/items/"+item+"/files", map[string]any{"upload_id": sess.ID}, &job)
	testwait.Within(u.t, "the attach job finishes", 45*time.Second, func() bool {
		u.want(http.StatusOK, "GET", "/api/v1/jobs/"+job.ID, nil, &job)
		return job.State == "done" || job.State == "failed"
	})
	if job.State != "done" {
		u.t.Fatalf("attach %s: %s", name, job.Error)
	}
	return lessonFile{Item: item, Path: job.Result.File.Path, SHA256: job.Result.File.SHA256}
}

// waitTranscoded waits until the workers made the HLS stream of the lesson's file.
func (u *apiUser) waitTranscoded(f lessonFile) {
	u.t.Helper()
	var media struct {
		Files map[string]struct {
			State string `json:"state"`
			Error string `json:"error"`
		} `json:"files"`
	}
	testwait.Within(u.t, "the lesson video is transcoded", 3*time.Minute, func() bool {
		u.want(http.StatusOK, "GET", "/api/v1/items/"+f.Item+"/media", nil, &media)
		st := media.Files[f.Path].State
		return st == "done" || st == "failed"
	})
	if m := media.Files[f.Path]; m.State != "done" {
		u.t.Fatalf("transcoding %s/%s failed: %s", f.Item, f.Path, m.Error)
	}
}

// publishItem submits an item for review and has the user's reviewer approve it.
func (u *apiUser) publishItem(id string) {
	u.t.Helper()
	var it struct {
		Version string `json:"version"`
	}
	u.want(http.StatusOK, "GET", "/api/v1/items/"+id, nil, &it)
	h := u.want(http.StatusOK, "POST", "/api/v1/items/"+id+"/status", map[string]string{"status": "in_review"}, nil, "If-Match", `"`+it.Version+`"`)
	u.reviewer.want(http.StatusOK, "POST", "/api/v1/items/"+id+"/review", map[string]string{"decision": "approve"}, nil, "If-Match", h.Get("ETag"))
}

// itemStatus is the workflow state of an item.
func (u *apiUser) itemStatus(id string) string {
	u.t.Helper()
	var it struct {
		Status string `json:"status"`
	}
	u.want(http.StatusOK, "GET", "/api/v1/items/"+id, nil, &it)
	return it.Status
}

type courseLesson struct {
	Title string
	File  lessonFile
}

// courseJSON is what GET /api/v1/courses/{id} tells of a course.
type courseJSON struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Status  string `json:"status"`
	Lessons []struct {
		Title string `json:"title"`
		Media struct {
			Item string `json:"item"`
			Path string `json:"path"`
		} `json:"media"`
		Attachments []struct {
			Item string `json:"item"`
		} `json:"attachments"`
	} `json:"lessons"`
}

// publishCourse creates a course of the lessons as the lecturer, submits it, and has her
// reviewer publish it.
func (u *apiUser) publishCourse(title string, lessons ...courseLesson) string {
	u.t.Helper()
	var ls []map[string]any
	for _, l := range lessons {
		ls = append(ls, map[string]any{"title": l.Title, "media": map[string]string{"item": l.File.Item, "path": l.File.Path}})
	}
	var c courseJSON
	h := u.want(http.StatusCreated, "POST", "/api/v1/courses", map[string]any{"title": title, "category": "calligraphy", "level": "beginner",
		"lecturer": lecturerName, "unit": "dwk-culture-centre", "institution": map[string]string{"name": "大武口区文化馆", "kind": "culture-centre"},
		"description": "面向市民的毛笔书法入门课程：执笔、坐姿与基本笔画。", "lessons": ls}, &c)
	h = u.want(http.StatusOK, "POST", "/api/v1/courses/"+c.ID+"/status", map[string]string{"status": "in_review"}, nil, "If-Match", h.Get("ETag"))
	u.reviewer.want(http.StatusOK, "POST", "/api/v1/courses/"+c.ID+"/review", map[string]string{"decision": "approve"}, nil, "If-Match", h.Get("ETag"))
	return c.ID
}

// learnerProgress is the learner's record of a course, as GET …/progress gives it.
type learnerProgress struct {
	Lessons map[string]struct {
		Position    float64 `json:"position"`
		CompletedAt string  `json:"completed_at"`
	} `json:"lessons"`
	CompletedAt string `json:"completed_at"`
}

func (u *apiUser) progress(course string) learnerProgress {
	u.t.Helper()
	var p learnerProgress
	u.want(http.StatusOK, "GET", "/api/v1/courses/"+course+"/progress", nil, &p)
	return p
}

// loginInChinese signs in and chooses Chinese (the lang cookie), whatever language the
// browser asks for.
func loginInChinese(t *testing.T, ctx context.Context, base, name, password string) {
	t.Helper()
	login(t, ctx, base, name, password)
	do(t, ctx, "choose Chinese", chromedp.Navigate(base+"/?lang=zh-CN"), chromedp.WaitReady(chromedp.CSS(`html[lang="zh-CN"]`)))
}

// playerBrowser is a browser that may start media without a click (the tests also press
// keys, which count as one).
func playerBrowser(t *testing.T) context.Context {
	t.Helper()
	return newBrowser(t, chromedp.Flag("autoplay-policy", "no-user-gesture-required"))
}

// playerState describes the lesson player for failure messages.
const playerState = `(function () {
	var m = document.getElementById('lesson-media');
	var p = document.getElementById('lesson-page');
	if (!m || !p) return 'no player on ' + location.pathname;
	return JSON.stringify({t: m.currentTime, d: m.duration, paused: m.paused, ended: m.ended, ready: m.readyState,
		network: m.networkState, error: m.error && m.error.message, engine: p.getAttribute('data-engine'),
		saved: p.getAttribute('data-saved'), status: document.getElementById('player-status').textContent,
		events: window.__media && window.__media.events, playErr: window.__media && window.__media.err});
})()`

// waitJS polls a JavaScript condition on the page, failing with the player's state.
func waitJS(t *testing.T, ctx context.Context, what, cond string, within time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(within),
		chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](playerState))
		t.Fatalf("%s: %v (player %s)", what, err, state)
	}
}

// watchPlayer records the media events of the lesson player from now on, and where the
// first "playing" was.
const watchPlayer = `(function () {
	var m = document.getElementById('lesson-media');
	window.__media = {events: [], playingAt: -1, err: ''};
	['play', 'playing', 'pause', 'seeked', 'ended'].forEach(function (name) {
		m.addEventListener(name, function () {
			window.__media.events.push(name + '@' + m.currentTime.toFixed(2));
			if (name === 'playing' && window.__media.playingAt < 0) window.__media.playingAt = m.currentTime;
		});
	});
	return true;
})()`

// playMedia starts the lesson's media from a script (the autoplay policy allows it).
const playMedia = `(function () {
	var m = document.getElementById('lesson-media');
	m.play().catch(function (e) { window.__media.err = String(e); });
	return true;
})()`

// openLesson opens a lesson and waits until hls.js has read the stream's levels.
func openLesson(t *testing.T, ctx context.Context, base, course string, n int) {
	t.Helper()
	do(t, ctx, fmt.Sprintf("open lesson %d", n),
		chromedp.Navigate(fmt.Sprintf("%s/courses/%s/lessons/%d", base, course, n)),
		chromedp.WaitVisible(chromedp.ID("lesson-media")),
	)
	checkHLS(t, ctx)
}

// checkHLS checks that the player uses hls.js and that the quality menu lists the levels.
func checkHLS(t *testing.T, ctx context.Context) {
	t.Helper()
	if engine := get(t, ctx, "engine", chromedp.AttributeValue(chromedp.ID("lesson-page"), "data-engine")); engine.Value != "hls.js" {
		t.Fatalf("the player uses %q, want hls.js", engine.Value)
	}
	waitJS(t, ctx, "the quality menu lists the stream's levels", `document.querySelectorAll('#player-quality option').length >= 2`, 45*time.Second)
	waitJS(t, ctx, "the media knows its duration", `document.getElementById('lesson-media').readyState >= 1 && isFinite(document.getElementById('lesson-media').duration)`, 45*time.Second)
}

func playerStatus(t *testing.T, ctx context.Context) string {
	t.Helper()
	return strings.TrimSpace(get(t, ctx, "player status", chromedp.TextContent(chromedp.ID("player-status"))))
}

func mediaNumber(t *testing.T, ctx context.Context, prop string) float64 {
	t.Helper()
	return get(t, ctx, prop, chromedp.Evaluate[float64](`document.getElementById('lesson-media').`+prop))
}

// findCourse opens the catalogue until it lists the course (indexing takes a moment).
func findCourse(t *testing.T, ctx context.Context, base, id string) {
	t.Helper()
	testwait.Within(t, "the catalogue lists "+id, 45*time.Second, func() bool {
		do(t, ctx, "open the catalogue", chromedp.Navigate(base+"/courses?lang=zh-CN"), chromedp.WaitReady(chromedp.ID("course-q")))
		return get(t, ctx, "course card", chromedp.Evaluate[bool](`!!document.querySelector('#course-list a[href="/courses/`+id+`"]')`))
	})
}

// TestLessonPlaysToEndAndResumes: a citizen enrols in a published course of two short
// videos, plays the first lesson to its end through hls.js (the server records it as
// completed), stops halfway through the second, and on reloading the page the player
// resumes there; the course page and the home page offer to continue. (That progress
// survives a restart of the server is TestCourses in internal/server.)
func TestLessonPlaysToEndAndResumes(t *testing.T) {
	w := newLessonWalk(t)
	for _, step := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"enrol", w.enrol},
		{"lesson 1 plays to its end", w.lessonOnePlaysToItsEnd},
		{"lesson 2 stops halfway", w.lessonTwoStopsHalfway},
		{"the reloaded lesson resumes there", w.reloadResumes},
		{"the course page shows the progress", w.coursePageShowsProgress},
		{"the home page continues with lesson 2", w.homeContinues},
		{"lesson 2 to its end completes the course", w.courseCompletes},
	} {
		if !t.Run(step.name, step.run) {
			t.FailNow()
		}
	}
}

// lessonWalk is what the steps of TestLessonPlaysToEndAndResumes share: the server, the
// published course, the learner (by API and in a browser made here, since a step's cleanup
// would close it) and the position saved halfway through lesson 2.
type lessonWalk struct {
	srv     *testenv.Server
	course  string
	learner *apiUser
	ctx     context.Context
	saved   float64
	titles  [2]string // of the two lessons
}

func newLessonWalk(t *testing.T) *lessonWalk {
	srv := testenv.StartServer(t, testenv.Config(t, testenv.Shared(t)))
	reviewer := createLecturer(t, srv.URL)
	lec := apiLogin(t, srv.URL, lecturerName, lecturerPassword)
	lec.reviewer = reviewer
	titles := [2]string{"执笔与坐姿", "横画与竖画"}
	files := []lessonFile{
		lec.lessonItem("书法入门 · "+titles[0], lessonVideo(t, "lesson-1.mp4", 6, 320, 240)),
		lec.lessonItem("书法入门 · "+titles[1], lessonVideo(t, "lesson-2.mp4", 16, 320, 240)),
	}
	for _, f := range files {
		lec.waitTranscoded(f)
		lec.publishItem(f.Item)
	}
	return &lessonWalk{srv: srv, course: lec.publishCourse("少儿书法入门", courseLesson{titles[0], files[0]}, courseLesson{titles[1], files[1]}),
		learner: registerCitizen(t, srv.URL, learnerName, "小明", learnerPassword), ctx: playerBrowser(t), titles: titles}
}

// enrol: the learner finds the course in the catalogue and enrols; the course sends a new learner to the first lesson.
func (w *lessonWalk) enrol(t *testing.T) {
	loginInChinese(t, w.ctx, w.srv.URL, learnerName, learnerPassword)
	findCourse(t, w.ctx, w.srv.URL, w.course)
	screenshot(t, w.ctx, "courses-catalogue-zh.png")

	do(t, w.ctx, "enrol on the course page",
		chromedp.Click(chromedp.CSS(`#course-list a[href="/courses/`+w.course+`"]`)),
		chromedp.WaitVisible(chromedp.ID("enrol-button")),
		chromedp.Click(chromedp.ID("enrol-button")),
		chromedp.WaitVisible(chromedp.ID("continue-link")),
	)
	if href := get(t, w.ctx, "continue link", chromedp.AttributeValue(chromedp.ID("continue-link"), "href")); !strings.HasSuffix(href.Value, "/lessons/0") {
		t.Fatalf("a new learner is sent to %q, want the first lesson", href.Value)
	}
}

// lessonOnePlaysToItsEnd: lesson 1 plays to its end; the server records it, and the end panel offers the next lesson.
func (w *lessonWalk) lessonOnePlaysToItsEnd(t *testing.T) {
	openLesson(t, w.ctx, w.srv.URL, w.course, 0)
	do(t, w.ctx, "play lesson 1", chromedp.Evaluate[chromedp.Void](watchPlayer), chromedp.Evaluate[chromedp.Void](playMedia))
	waitJS(t, w.ctx, "lesson 1 plays to its end", `window.__media.events.some(function (e) { return e.indexOf('ended@') === 0; }) && document.getElementById('lesson-media').ended`, 90*time.Second)
	if d := mediaNumber(t, w.ctx, "duration"); d < 5 || d > 7 {
		t.Errorf("lesson 1 lasts %.2fs in the player, want about 6s", d)
	}
	testwait.Within(t, "the server records lesson 1 as completed", 45*time.Second, func() bool {
		return w.learner.progress(w.course).Lessons["0"].CompletedAt != ""
	})
	waitJS(t, w.ctx, "the end panel shows", `!document.getElementById('lesson-end').hidden`, 45*time.Second)
	if p := w.learner.progress(w.course); p.CompletedAt != "" {
		t.Fatalf("the course is completed after one lesson of two: %+v", p)
	}
	// One end state: the lesson is done, one lesson remains, the next lesson is offered; no
	// certificate, and the heading does not number the lesson twice.
	endText := get(t, w.ctx, "end panel", chromedp.Text(chromedp.ID("lesson-end")))
	for _, want := range []string{"本课已学完！", "还有 1 课未学完", "下一课：第 2 课：" + w.titles[1]} {
		if !strings.Contains(endText, want) {
			t.Errorf("the end panel says %q, want %q in it", endText, want)
		}
	}
	if get(t, w.ctx, "certificate link", chromedp.Evaluate[bool](`!!document.getElementById('certificate-link')`)) {
		t.Error("the end of lesson 1 of 2 offers a certificate")
	}
	if h := get(t, w.ctx, "heading", chromedp.Text(chromedp.CSS("h1"))); h != "第 1 课："+w.titles[0] {
		t.Errorf("the heading says %q", h)
	}
}

// lessonTwoStopsHalfway: lesson 2 is paused in its middle, and the position is saved.
func (w *lessonWalk) lessonTwoStopsHalfway(t *testing.T) {
	do(t, w.ctx, "go to lesson 2",
		chromedp.Click(chromedp.ID("end-next-lesson")),
		chromedp.WaitVisible(chromedp.CSS(`#lesson-page[data-n="1"] #lesson-media`)),
	)
	checkHLS(t, w.ctx)
	if get(t, w.ctx, "resume note", chromedp.Evaluate[bool](`!!document.getElementById('resume-note')`)) {
		t.Fatal("a lesson not yet watched offers to resume")
	}
	do(t, w.ctx, "play lesson 2", chromedp.Evaluate[chromedp.Void](watchPlayer), chromedp.Evaluate[chromedp.Void](playMedia))
	waitJS(t, w.ctx, "lesson 2 plays to the middle", `document.getElementById('lesson-media').currentTime >= 7`, 60*time.Second)
	pausedAt := get(t, w.ctx, "pause", chromedp.Evaluate[float64](`(function () {
		var m = document.getElementById('lesson-media');
		m.pause();
		return m.currentTime;
	})()`))
	waitJS(t, w.ctx, "the player says it paused", `document.getElementById('player-status').textContent === '已暂停'`, 10*time.Second)
	testwait.Within(t, "the position is saved on pause", 45*time.Second, func() bool {
		w.saved = w.learner.progress(w.course).Lessons["1"].Position
		return math.Abs(w.saved-pausedAt) < 1
	})
	waitJS(t, w.ctx, "the page knows the position is saved", `!!document.getElementById('lesson-page').getAttribute('data-saved')`, 45*time.Second)
	screenshot(t, w.ctx, "lesson-player-zh.png")
}

// reloadResumes: the reloaded lesson offers to resume, and plays on from the saved position.
func (w *lessonWalk) reloadResumes(t *testing.T) {
	do(t, w.ctx, "reload the lesson", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("resume-note")))
	checkHLS(t, w.ctx)
	resume, err := strconv.ParseFloat(get(t, w.ctx, "resume position", chromedp.AttributeValue(chromedp.ID("lesson-page"), "data-resume")).Value, 64)
	if err != nil || math.Abs(resume-w.saved) > 0.01 {
		t.Fatalf("the page resumes at %v (%v), want the w.saved %.1fs", resume, err, w.saved)
	}
	if st := playerStatus(t, w.ctx); !strings.Contains(st, "继续播放") {
		t.Errorf("player status %q does not say where it continues", st)
	}
	near := fmt.Sprintf(`Math.abs(document.getElementById('lesson-media').currentTime - %f) < 1`, w.saved)
	waitJS(t, w.ctx, "the player is at the w.saved position before playing", near, 45*time.Second)
	do(t, w.ctx, "play on", chromedp.Evaluate[chromedp.Void](watchPlayer), chromedp.Evaluate[chromedp.Void](playMedia))
	waitJS(t, w.ctx, "playback starts", `window.__media.playingAt >= 0`, 45*time.Second)
	if at := get(t, w.ctx, "where playback started", chromedp.Evaluate[float64](`window.__media.playingAt`)); math.Abs(at-w.saved) > 1 {
		t.Fatalf("playback started at %.2fs, want the w.saved %.2fs", at, w.saved)
	}
	do(t, w.ctx, "pause", chromedp.Evaluate[chromedp.Void](`document.getElementById('lesson-media').pause()`))
}

// coursePageShowsProgress: the course page shows the progress and continues with lesson 2.
func (w *lessonWalk) coursePageShowsProgress(t *testing.T) {
	do(t, w.ctx, "open the course page",
		chromedp.Navigate(w.srv.URL+"/courses/"+w.course),
		chromedp.WaitVisible(chromedp.ID("continue-link")),
	)
	if text := get(t, w.ctx, "progress", chromedp.Text(chromedp.ID("course-progress-text"))); !strings.Contains(text, "已完成 1 / 2 课时") {
		t.Errorf("course progress says %q", text)
	}
	if v := get(t, w.ctx, "progress bar", chromedp.AttributeValue(chromedp.ID("course-progress"), "value")); v.Value != "50" {
		t.Errorf("course progress bar at %q, want 50", v.Value)
	}
	if href := get(t, w.ctx, "continue link", chromedp.AttributeValue(chromedp.ID("continue-link"), "href")); !strings.HasSuffix(href.Value, "/courses/"+w.course+"/lessons/1") {
		t.Errorf("continue link %q, want lesson 2", href.Value)
	}
	rows := get(t, w.ctx, "lesson rows", chromedp.Evaluate[[]string](`Array.prototype.map.call(document.querySelectorAll('#lesson-list li'), function (li) { return li.className + ': ' + li.textContent.replace(/\s+/g, ' ').trim(); })`))
	if len(rows) != 2 || !strings.Contains(rows[0], "completed") || strings.Contains(rows[1], "completed") || !strings.Contains(rows[1], "%") {
		t.Errorf("lesson rows %q: want the first completed and the second partly watched", rows)
	}
	screenshot(t, w.ctx, "course-page-zh.png")
}

// homeContinues: the home page continues with lesson 2 too.
func (w *lessonWalk) homeContinues(t *testing.T) {
	do(t, w.ctx, "open the home page",
		chromedp.Navigate(w.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("continue-watching")),
	)
	if !get(t, w.ctx, "continue card", chromedp.Evaluate[bool](`!!document.querySelector('#continue-watching a[href="/courses/`+w.course+`/lessons/1"]')`)) {
		t.Error("continue watching does not lead to lesson 2")
	}
	if text := get(t, w.ctx, "continue card", chromedp.Text(chromedp.ID("continue-watching"))); !strings.Contains(text, w.titles[1]) {
		t.Errorf("continue watching says %q, want the next lesson %q", text, w.titles[1])
	}
	screenshot(t, w.ctx, "home-continue-zh.png")
}

// courseCompletes: lesson 2 to its end completes the course: the player offers the certificate.
func (w *lessonWalk) courseCompletes(t *testing.T) {
	openLesson(t, w.ctx, w.srv.URL, w.course, 1)
	do(t, w.ctx, "play lesson 2 to its end", chromedp.Evaluate[chromedp.Void](watchPlayer), chromedp.Evaluate[chromedp.Void](playMedia))
	waitJS(t, w.ctx, "the player offers the certificate", `!!document.querySelector('#lesson-end #certificate-link')`, 90*time.Second)
	if st := playerStatus(t, w.ctx); st != "恭喜您学完了全部课时！" {
		t.Errorf("at the end of the course the status says %q", st)
	}
	if endText := get(t, w.ctx, "end panel", chromedp.Text(chromedp.ID("lesson-end"))); strings.Contains(endText, "未学完") || strings.Contains(endText, "下一课") {
		t.Errorf("the end panel of a completed course says %q", endText)
	}
	if p := w.learner.progress(w.course); p.CompletedAt == "" || p.Lessons["1"].CompletedAt == "" {
		t.Fatalf("the course is not completed: %+v", p)
	}
	do(t, w.ctx, "open the certificate",
		chromedp.Click(chromedp.ID("certificate-link")),
		chromedp.WaitVisible(chromedp.ID("certificate")),
	)
	if text := get(t, w.ctx, "certificate", chromedp.Text(chromedp.ID("certificate"))); !strings.Contains(text, "小明") || !strings.Contains(text, "少儿书法入门") {
		t.Errorf("the certificate says %q", text)
	}
	screenshot(t, w.ctx, "certificate-zh.png")
}

// hlsCurrentLevel reads currentLevel of the page's hls.js player. The player keeps its Hls
// object in a closure; the DevTools heap finds it without the page exposing anything.
func hlsCurrentLevel(t *testing.T, ctx context.Context) int {
	t.Helper()
	const group = "hls-probe"
	proto := get(t, ctx, "Hls.prototype", chromedp.Evaluate[*runtime.RemoteObject](`Hls.prototype`, chromedp.EvalObjectGroup(group)))
	found, err := chromedp.Call(ctx, runtime.QueryObjects, runtime.QueryObjectsParams{PrototypeObjectID: proto.ObjectID, ObjectGroup: group})
	if err != nil {
		t.Fatalf("find the Hls object: %v", err)
	}
	// The heap also holds the prototypes of hls.js's own subclasses: the player is the one
	// object with a stream controller of its own.
	level := get(t, ctx, "hls.currentLevel", chromedp.CallFunctionOn[int](`function () {
		var players = this.filter(function (o) { return Object.prototype.hasOwnProperty.call(o, 'streamController'); });
		return players.length === 1 ? players[0].currentLevel : -100 - players.length;
	}`, func(p *runtime.CallFunctionOnParams) { p.ObjectID = found.Objects.ObjectID }))
	if _, err := chromedp.Call(ctx, runtime.ReleaseObjectGroup, runtime.ReleaseObjectGroupParams{ObjectGroup: group}); err != nil {
		t.Fatalf("release the probe: %v", err)
	}
	if level <= -100 {
		t.Fatalf("the page has %d hls.js players, want 1", -100-level)
	}
	return level
}

// keyProbe records, for each key pressed on the page, the player before and after the
// page's own handler ran (a capturing listener runs before it, a bubbling one on window after).
const keyProbe = `(function () {
	var m = document.getElementById('lesson-media');
	var before = null;
	window.__keys = [];
	window.addEventListener('keydown', function () { before = m.currentTime; }, true);
	window.addEventListener('keydown', function (ev) {
		window.__keys.push({key: ev.key, from: before, to: m.currentTime, rate: m.playbackRate, muted: m.muted,
			handled: ev.defaultPrevented, status: document.getElementById('player-status').textContent});
	});
	return true;
})()`

type keyRecord struct {
	Key     string  `json:"key"`
	From    float64 `json:"from"`
	To      float64 `json:"to"`
	Rate    float64 `json:"rate"`
	Muted   bool    `json:"muted"`
	Handled bool    `json:"handled"`
	Status  string  `json:"status"`
}

// press sends a key to the page (the body has the focus) and returns what the probe saw.
func press(t *testing.T, ctx context.Context, key, name string) keyRecord {
	t.Helper()
	n := get(t, ctx, "keys so far", chromedp.Evaluate[int](`window.__keys.length`))
	do(t, ctx, "press "+name, chromedp.KeyEvent(key))
	waitJS(t, ctx, "the page gets "+name, fmt.Sprintf(`window.__keys.length > %d`, n), 10*time.Second)
	raw := get(t, ctx, "key record", chromedp.Evaluate[string](fmt.Sprintf(`JSON.stringify(window.__keys[%d])`, n)))
	var r keyRecord
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		t.Fatalf("key record %s: %v", raw, err)
	}
	if !r.Handled {
		t.Fatalf("the player did not handle %s: %s", name, raw)
	}
	return r
}

// TestLessonKeyboardAndSettings: on a lesson with two qualities and Chinese captions, the
// player keys play, seek, speed up, mute and show captions, each announced in the status
// region; with the focus on the video a key acts once, not also in the browser's own
// controls; and choosing a quality switches hls.js to that level.
func TestLessonKeyboardAndSettings(t *testing.T) {
	srv := testenv.StartServer(t, testenv.Config(t, testenv.Shared(t)))
	reviewer := createLecturer(t, srv.URL)
	lec := apiLogin(t, srv.URL, lecturerName, lecturerPassword)
	lec.reviewer = reviewer
	// 640×480 makes a ladder of two rungs: 480p and 360p.
	f := lec.lessonItem("剪纸入门 · 第一课", lessonVideo(t, "jianzhi.mp4", 40, 640, 480))
	lec.waitTranscoded(f)
	// Captions go up once transcoding is done: it clears the file's media folder on every attempt.
	vtt := "WEBVTT\n\n00:00.000 --> 00:40.000\n先把红纸对折，再剪出窗花的轮廓。\n"
	lec.want(http.StatusNoContent, "PUT", "/api/v1/items/"+f.Item+"/captions/"+f.SHA256+"/zh", []byte(vtt), nil, "Content-Type", "text/vtt")
	lec.publishItem(f.Item)
	course := lec.publishCourse("剪纸入门", courseLesson{"对折与窗花", f})
	learner := registerCitizen(t, srv.URL, learnerName, "小明", learnerPassword)
	learner.want(http.StatusOK, "POST", "/api/v1/courses/"+course+"/enrol", nil, nil)

	ctx := playerBrowser(t)
	loginInChinese(t, ctx, srv.URL, learnerName, learnerPassword)
	openLesson(t, ctx, srv.URL, course, 0)
	waitJS(t, ctx, "the quality menu lists two levels", `document.querySelectorAll('#player-quality option').length === 3 && !document.getElementById('player-quality').disabled`, 45*time.Second)
	do(t, ctx, "watch the keys and focus the page",
		chromedp.Evaluate[chromedp.Void](watchPlayer),
		chromedp.Evaluate[chromedp.Void](keyProbe),
		chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur && document.activeElement.blur(); document.body.focus()`),
	)

	press(t, ctx, " ", "Space")
	waitJS(t, ctx, "Space plays", `!document.getElementById('lesson-media').paused && window.__media.playingAt >= 0`, 45*time.Second)
	waitJS(t, ctx, "the status says playing", `document.getElementById('player-status').textContent === '正在播放'`, 10*time.Second)

	r := press(t, ctx, kb.ArrowRight, "ArrowRight")
	if d := r.To - r.From; math.Abs(d-5) > 0.01 {
		t.Errorf("ArrowRight moved from %.2fs to %.2fs, want 5s on", r.From, r.To)
	}
	if !strings.HasPrefix(r.Status, "跳到 0:") {
		t.Errorf("after ArrowRight the status says %q", r.Status)
	}

	r = press(t, ctx, ">", "'>'")
	if r.Rate != 1.25 || r.Status != "播放速度 1.25 倍" {
		t.Errorf("after '>': rate %v, status %q", r.Rate, r.Status)
	}
	if v := get(t, ctx, "speed menu", chromedp.Value(chromedp.ID("player-speed"))); v != "1.25" {
		t.Errorf("speed menu shows %q after '>'", v)
	}

	r = press(t, ctx, "m", "'m'")
	if !r.Muted || r.Status != "已静音" {
		t.Errorf("after 'm': muted %v, status %q", r.Muted, r.Status)
	}

	const track = `Array.prototype.filter.call(document.getElementById('lesson-media').textTracks, function (t) { return t.language === 'zh'; })[0]`
	r = press(t, ctx, "c", "'c'")
	if r.Status != "字幕：中文" {
		t.Errorf("after 'c' the status says %q", r.Status)
	}
	if mode := get(t, ctx, "caption mode", chromedp.Evaluate[string](track+`.mode`)); mode != "showing" {
		t.Errorf("after 'c' the Chinese captions are %q, want showing", mode)
	}
	waitJS(t, ctx, "the captions load", track+`.cues && `+track+`.cues.length === 1`, 45*time.Second)
	if v := get(t, ctx, "captions menu", chromedp.Value(chromedp.ID("player-captions"))); v != "zh" {
		t.Errorf("captions menu shows %q after 'c'", v)
	}
	screenshot(t, ctx, "lesson-keyboard-zh.png")
	r = press(t, ctx, "c", "'c' again")
	if mode := get(t, ctx, "caption mode", chromedp.Evaluate[string](track+`.mode`)); mode != "disabled" || r.Status != "关闭字幕" {
		t.Errorf("after 'c' again the captions are %q and the status says %q", mode, r.Status)
	}

	// With the focus on the video itself (where a click on it leaves it) a key still acts
	// once: the page's keys and the browser's own controls do not both act on it. (The page
	// keeps these keys from the video, so the probe, which listens after it, sees none.)
	do(t, ctx, "focus the video", chromedp.Focus(chromedp.ID("lesson-media")))
	do(t, ctx, "press Space on the video", chromedp.KeyEvent(" "))
	waitJS(t, ctx, "Space on the video pauses", `document.getElementById('lesson-media').paused`, 10*time.Second)
	do(t, ctx, "wait a moment", chromedp.Sleep(time.Second))
	if !get(t, ctx, "paused", chromedp.Evaluate[bool](`document.getElementById('lesson-media').paused`)) {
		t.Error("Space on the focused video paused and played again")
	}
	at := mediaNumber(t, ctx, "currentTime")
	do(t, ctx, "press ArrowRight on the video", chromedp.KeyEvent(kb.ArrowRight))
	do(t, ctx, "wait a moment", chromedp.Sleep(time.Second))
	if d := mediaNumber(t, ctx, "currentTime") - at; math.Abs(d-5) > 0.01 {
		t.Errorf("ArrowRight on the paused video moved it %.2fs, want 5s", d)
	}
	do(t, ctx, "press Space on the video again", chromedp.KeyEvent(" "))
	waitJS(t, ctx, "Space on the video plays", `!document.getElementById('lesson-media').paused`, 10*time.Second)

	do(t, ctx, "focus the page again", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
	r = press(t, ctx, "<", "'<'")
	if r.Rate != 1 || r.Status != "播放速度 1 倍" {
		t.Errorf("after '<': rate %v, status %q", r.Rate, r.Status)
	}

	// Quality: choose the level that is not playing, while playing (from the start again, so
	// that the clip does not end first).
	do(t, ctx, "back to the start", chromedp.Evaluate[chromedp.Void](`document.getElementById('lesson-media').currentTime = 0`))
	waitJS(t, ctx, "playing from the start", `(function () { var m = document.getElementById('lesson-media'); return !m.paused && m.currentTime > 0.5 && m.currentTime < 20; })()`, 45*time.Second)
	levels := get(t, ctx, "quality options", chromedp.Evaluate[[]string](`Array.prototype.map.call(document.querySelectorAll('#player-quality option'), function (o) { return o.value + '=' + o.textContent; })`))
	if strings.Join(levels[1:], " ") != "0=360p 1=480p" {
		t.Fatalf("quality options %q, want 360p and 480p", levels)
	}
	now := hlsCurrentLevel(t, ctx)
	want, height := 1, 480
	if now == 1 {
		want, height = 0, 360
	}
	t.Logf("hls.js plays level %d; choosing level %d (%dp)", now, want, height)
	do(t, ctx, fmt.Sprintf("choose %dp", height), chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(function () {
		var q = document.getElementById('player-quality');
		q.value = '%d';
		q.dispatchEvent(new Event('change', {bubbles: true}));
	})()`, want)))
	if st := playerStatus(t, ctx); st != fmt.Sprintf("清晰度：%dp", height) {
		t.Errorf("after choosing %dp the status says %q", height, st)
	}
	testwait.Within(t, fmt.Sprintf("hls.js plays level %d", want), 45*time.Second, func() bool { return hlsCurrentLevel(t, ctx) == want })
	waitJS(t, ctx, fmt.Sprintf("the picture is %dp", height), fmt.Sprintf(`document.getElementById('lesson-media').videoHeight === %d`, height), 45*time.Second)
	if got := hlsCurrentLevel(t, ctx); got != want {
		t.Errorf("hls.currentLevel %d after choosing level %d", got, want)
	}
	do(t, ctx, "pause", chromedp.Evaluate[chromedp.Void](`document.getElementById('lesson-media').pause()`))
	// The keys' seeks and the pause were saved.
	testwait.Within(t, "the position is saved", 45*time.Second, func() bool { return learner.progress(course).Lessons["0"].Position > 0 })
}

// TestLecturerBuildsCourse: a lecturer creates a course in the console, uploads two lesson
// videos (upload progress, then transcoding progress), swaps their order, and publishes the
// course with its lesson items in one go; the catalogue lists it.
func TestLecturerBuildsCourse(t *testing.T) {
	srv := testenv.StartServer(t, testenv.Config(t, testenv.Shared(t)))
	admin := createLecturer(t, srv.URL)
	// This test is about building a course in the console, which publishes course and lessons
	// in one go where the unit does not review (TestCourses and TestReviewBeforePublication
	// cover review).
	admin.want(http.StatusOK, "PATCH", "/api/v1/units/dwk-culture-centre", map[string]string{"review": "none"}, nil)
	dir := t.TempDir()
	names := []string{"第一课-起笔.mp4", "第二课-收笔.mp4"}
	var files []string
	for i, name := range names {
		data, err := os.ReadFile(lessonVideo(t, fmt.Sprintf("v%d.mp4", i), 12, 640, 480))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	const title = "隶书基础"

	ctx := browser(t)
	loginInChinese(t, ctx, srv.URL, lecturerName, lecturerPassword)
	do(t, ctx, "create a course in the console",
		chromedp.Navigate(srv.URL+"/console/courses"),
		chromedp.Click(chromedp.ID("new-course-link")),
		chromedp.WaitVisible(chromedp.ID("course-form")),
		chromedp.SendKeys(chromedp.ID("course-title"), title),
		chromedp.SetValue(chromedp.ID("course-category"), "calligraphy"),
		chromedp.SetValue(chromedp.ID("course-level"), "beginner"),
		chromedp.SendKeys(chromedp.ID("course-institution"), "大武口区文化馆"),
		chromedp.SetValue(chromedp.ID("course-institution-kind"), "culture-centre"),
		chromedp.SendKeys(chromedp.ID("course-description"), "从起笔、行笔到收笔，学写隶书的基本笔画。"),
		chromedp.Click(chromedp.ID("course-save")),
		chromedp.WaitEnabled(chromedp.ID("lesson-upload")),
	)
	loc := get(t, ctx, "location", chromedp.Location())
	id, _, _ := strings.Cut(loc[strings.LastIndex(loc, "/")+1:], "?")
	if !strings.HasPrefix(id, "crs-") {
		t.Fatalf("the console did not open the new course: %s", loc)
	}
	if lecturer := get(t, ctx, "lecturer", chromedp.Value(chromedp.ID("course-lecturer"))); lecturer != lecturerName {
		t.Errorf("the lecturer of a lecturer's course is %q", lecturer)
	}

	// Every text the lesson rows show, as they change.
	do(t, ctx, "watch the lesson rows", chromedp.Evaluate[chromedp.Void](`(function () {
		var list = document.getElementById('lesson-editor');
		window.__transcode = [];
		new MutationObserver(function () {
			list.querySelectorAll('.lesson-transcode').forEach(function (p) {
				if (p.textContent && window.__transcode.indexOf(p.textContent) < 0) window.__transcode.push(p.textContent);
			});
		}).observe(list, {childList: true, subtree: true, characterData: true});
	})()`))
	do(t, ctx, "upload two lesson videos", chromedp.SetUploadFiles(chromedp.ID("lesson-upload"), files))
	state := get(t, ctx, "uploads", chromedp.Poll[string](`(function () {
		var rows = document.querySelectorAll('#lesson-uploads li');
		var failed = document.querySelector('#course-form-status .status-error');
		if (failed) return 'failed: ' + failed.textContent;
		var done = Array.prototype.filter.call(rows, function (li) {
			return li.getAttribute('data-state') === 'done' && li.querySelector('progress').value === 100;
		});
		return rows.length === 2 && done.length === 2 && document.querySelectorAll('#lesson-editor li[data-index]').length === 2 ? 'done' : '';
	})()`, chromedp.WithPollingTimeout(2*time.Minute), chromedp.WithPollingInterval(200*time.Millisecond)))
	if state != "done" {
		t.Fatalf("uploads: %s", state)
	}
	waitJS(t, ctx, "both lessons are transcoded", `(function () {
		var rows = document.querySelectorAll('#lesson-editor li[data-index] .lesson-transcode');
		return rows.length === 2 && Array.prototype.every.call(rows, function (p) { return p.textContent === '✓ 转码完成，可以播放'; });
	})()`, 3*time.Minute)
	seen := get(t, ctx, "transcode texts", chromedp.Evaluate[[]string](`window.__transcode`))
	t.Logf("the lesson rows said: %q", seen)
	progressShown := false
	for _, s := range seen {
		progressShown = progressShown || strings.HasPrefix(s, "转码中 ")
	}
	if !progressShown {
		t.Errorf("the lesson rows never showed transcoding progress: %q", seen)
	}
	// The upload rows no longer speak of transcoding: the lesson rows show that.
	uploadTexts := get(t, ctx, "upload rows", chromedp.Evaluate[[]string](`Array.prototype.map.call(document.querySelectorAll('#lesson-uploads li .upload-state'), function (s) { return s.textContent; })`))
	for _, s := range uploadTexts {
		if s != "已上传，已添加为课时" {
			t.Errorf("an upload row says %q when every lesson is uploaded and transcoded", s)
		}
	}
	lessonTitles := get(t, ctx, "lesson titles", chromedp.Evaluate[[]string](`Array.prototype.map.call(document.querySelectorAll('#lesson-editor li[data-index] > input'), function (i) { return i.value; })`))
	if strings.Join(lessonTitles, " ") != "第一课-起笔 第二课-收笔" {
		t.Fatalf("lessons %q, want the two uploads in order", lessonTitles)
	}

	// Lesson 1 goes down; saving keeps the new order.
	do(t, ctx, "move the first lesson down and save",
		chromedp.Click(chromedp.CSS(`#lesson-editor li[data-index="0"] .lesson-down`)),
		chromedp.Click(chromedp.ID("course-save")),
		chromedp.Poll[chromedp.Void](`document.getElementById('course-form-status').textContent.indexOf('已保存') >= 0`, chromedp.WithPollingTimeout(45*time.Second)),
	)
	lec := apiLogin(t, srv.URL, lecturerName, lecturerPassword)
	var c courseJSON
	lec.want(http.StatusOK, "GET", "/api/v1/courses/"+id, nil, &c)
	if len(c.Lessons) != 2 || c.Lessons[0].Title != "第二课-收笔" || c.Lessons[1].Title != "第一课-起笔" {
		t.Fatalf("saved lessons %+v, want the second upload first", c.Lessons)
	}
	// The first lesson gets the other lesson's item as an attachment (a worksheet, say).
	do(t, ctx, "add an attachment and save",
		chromedp.SendKeys(chromedp.ID("lesson-attachment-0"), c.Lessons[1].Media.Item),
		chromedp.Click(chromedp.CSS(`#lesson-editor li[data-index="0"] .lesson-attachments button`)),
		chromedp.WaitVisible(chromedp.CSS(`#lesson-editor li[data-index="0"] .lesson-attachments li`)),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('course-form-status').textContent = ''`),
		chromedp.Click(chromedp.ID("course-save")),
		chromedp.Poll[chromedp.Void](`document.getElementById('course-form-status').textContent.indexOf('已保存') >= 0`, chromedp.WithPollingTimeout(45*time.Second)),
	)
	lec.want(http.StatusOK, "GET", "/api/v1/courses/"+id, nil, &c)
	if len(c.Lessons[0].Attachments) != 1 || c.Lessons[0].Attachments[0].Item != c.Lessons[1].Media.Item {
		t.Fatalf("attachments of lesson 0: %+v", c.Lessons[0].Attachments)
	}
	screenshot(t, ctx, "console-course-zh.png")

	do(t, ctx, "publish the course",
		chromedp.Click(chromedp.CSS(`.course-move[data-to="published"]`)),
		chromedp.WaitVisible(chromedp.ID("course-public-link")),
	)
	lec.want(http.StatusOK, "GET", "/api/v1/courses/"+id, nil, &c)
	if c.Status != "published" {
		t.Fatalf("course status %q after publishing", c.Status)
	}
	for _, l := range c.Lessons {
		if st := lec.itemStatus(l.Media.Item); st != "published" {
			t.Errorf("lesson item %s is %q", l.Media.Item, st)
		}
	}

	findCourse(t, ctx, srv.URL, id)
	if text := get(t, ctx, "catalogue", chromedp.Text(chromedp.ID("course-list"))); !strings.Contains(text, title) || !strings.Contains(text, "刘老师") {
		t.Errorf("the catalogue card says %q", text)
	}
	screenshot(t, ctx, "courses-catalogue-lecturer-zh.png")
}
