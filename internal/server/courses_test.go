package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// mp4Bytes starts like an MP4 file, which is all the type check looks at.
func mp4Bytes(n int) []byte {
	b := make([]byte, n)
	copy(b, "\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2")
	return b
}

func TestCourses(t *testing.T) {
	srv := startServer(t)
	admin, dwk, _ := staffClients(t, srv)
	admin.want(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"name": "lec.dwk", "display_name": "刘老师",
		"password": "Calligraphy-Lessons-3", "role": "lecturer", "unit": "dwk-culture-centre"})
	lec := newClient(t, srv.URL)
	lec.login("lec.dwk", "Calligraphy-Lessons-3")
	anon := newClient(t, srv.URL)

	// The lesson videos are library items.
	video := dwk.createItem(sampleItem("书法第一课：执笔", map[string]any{"type": "MovingImage", "theme": "folk-art"}))
	job := dwk.attach(video.ID, dwk.uploadFile("lesson1.mp4", mp4Bytes(4096)))
	if job.State != "done" {
		t.Fatalf("attach %+v", job)
	}
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+video.ID, nil).json(t, &video)
	video = dwk.publish(video)
	photo := dwk.createItem(sampleItem("字帖照片", nil))
	photoJob := dwk.attach(photo.ID, dwk.uploadFile("zitie.png", pngBytes(2000)))
	draftVideo := dwk.createItem(sampleItem("书法第二课（草稿）", map[string]any{"type": "MovingImage"}))
	draftJob := dwk.attach(draftVideo.ID, dwk.uploadFile("lesson2.mp4", mp4Bytes(4096)))

	lesson := func(item, path string) map[string]any {
		return map[string]any{"title": "执笔与坐姿", "media": map[string]any{"item": item, "path": path}}
	}
	course := func(extra map[string]any, lessons ...map[string]any) map[string]any {
		c := map[string]any{"title": "少儿书法入门", "category": "calligraphy", "level": "beginner", "lecturer": "lec.dwk",
			"unit": "dwk-culture-centre", "institution": map[string]any{"name": "大武口区文化馆", "kind": "culture-centre"},
			"description": "面向少年儿童的毛笔书法课程。", "lessons": lessons}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	good := lesson(video.ID, job.Result.File.Path)
	bad := []struct {
		name string
		body map[string]any
	}{
		{"unknown category", course(map[string]any{"category": "cooking"}, good)},
		{"lecturer is not a lecturer", course(map[string]any{"lecturer": "lib.dwk"}, good)},
		{"lesson is a picture", course(nil, lesson(photo.ID, photoJob.Result.File.Path))},
		{"lesson item unknown", course(nil, lesson("szm-nothere22", "files/x.mp4"))},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			lec.want(http.StatusUnprocessableEntity, "POST", "/api/v1/courses", b.body).problem(t)
		})
	}
	dwk.want(http.StatusForbidden, "POST", "/api/v1/courses", course(map[string]any{"unit": "hn-culture-centre"}, good))

	var c struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	r := lec.want(http.StatusCreated, "POST", "/api/v1/courses", course(nil, good, lesson(draftVideo.ID, draftJob.Result.File.Path)))
	r.json(t, &c)
	anon.want(http.StatusNotFound, "GET", "/api/v1/courses/"+c.ID, nil)
	move := func(etag, status string, want int) string {
		r := lec.want(want, "POST", "/api/v1/courses/"+c.ID+"/status", map[string]any{"status": status}, "If-Match", etag)
		return r.header.Get("ETag")
	}
	etag := move(r.header.Get("ETag"), "in_review", http.StatusOK)
	// The lecturer does not publish her own course: a reviewer does (先审后发).
	if p := lec.want(http.StatusForbidden, "POST", "/api/v1/courses/"+c.ID+"/status", map[string]any{"status": "published"},
		"If-Match", etag).problem(t); p["type"] != "/problems/review_required" {
		t.Fatalf("publishing without review: %v", p)
	}
	// A lesson whose item is still a draft keeps the reviewer from publishing the course.
	dwk.reviewer.want(http.StatusUnprocessableEntity, "POST", "/api/v1/courses/"+c.ID+"/review", map[string]any{"decision": "approve"},
		"If-Match", etag).problem(t)
	r = lec.want(http.StatusOK, "PUT", "/api/v1/courses/"+c.ID, course(nil, good), "If-Match", etag)
	dwk.reviewer.approve("courses", itemJSON{ID: c.ID, Version: strings.Trim(r.header.Get("ETag"), `"`)})
	anon.want(http.StatusOK, "GET", "/api/v1/courses/"+c.ID, nil)

	var res struct {
		Hits []struct {
			ID      string `json:"id"`
			Lessons int    `json:"lessons"`
		} `json:"hits"`
		Facets map[string]map[string]int `json:"facets"`
	}
	testwait.Until(t, "the course is searchable", func() bool {
		anon.want(http.StatusOK, "GET", "/api/v1/courses?q="+url.QueryEscape("书法")+"&category=calligraphy", nil).json(t, &res)
		return len(res.Hits) == 1 && res.Hits[0].ID == c.ID
	})
	if res.Hits[0].Lessons != 1 || res.Facets["level"]["beginner"] != 1 {
		t.Fatalf("course hit %+v facets %+v", res.Hits, res.Facets)
	}
	anon.want(http.StatusOK, "GET", "/api/v1/courses?q=sesfrm", nil).json(t, &res) // 少儿书法入门: shao er shu fa ru men
	if len(res.Hits) != 1 {
		t.Fatalf("pinyin initials: %+v", res.Hits)
	}
	anon.want(http.StatusUnprocessableEntity, "GET", "/api/v1/courses?page=0", nil)

	// A citizen learns: plays are counted for anyone; progress needs an enrolment.
	var play struct {
		Counted bool `json:"counted"`
	}
	anon.want(http.StatusOK, "POST", "/api/v1/courses/"+c.ID+"/lessons/0/plays", nil).json(t, &play)
	if !play.Counted {
		t.Fatal("first play not counted")
	}
	anon.want(http.StatusNotFound, "POST", "/api/v1/courses/"+c.ID+"/lessons/7/plays", nil)
	learner := newClient(t, srv.URL)
	learner.want(http.StatusCreated, "POST", "/api/v1/auth/register", map[string]any{"name": "xiao.ming", "display_name": "小明",
		"password": "Brush-And-Ink-2026"}).json(t, &struct{}{})
	learner.login("xiao.ming", "Brush-And-Ink-2026")
	progress := "/api/v1/courses/" + c.ID + "/lessons/0/progress"
	learner.want(http.StatusForbidden, "PUT", progress, map[string]any{"position": 10, "duration": 120})
	learner.want(http.StatusOK, "POST", "/api/v1/courses/"+c.ID+"/enrol", nil)
	for _, bad := range []map[string]any{{"position": 500, "duration": 120}, {"position": -1, "duration": 120},
		{"position": 1, "duration": 0}, {"position": "ten", "duration": 120}} {
		if r := learner.do("PUT", progress, bad); r.status < 400 || r.status >= 500 {
			t.Fatalf("%v: %d", bad, r.status)
		}
	}
	learner.want(http.StatusNotFound, "PUT", "/api/v1/courses/"+c.ID+"/lessons/3/progress", map[string]any{"position": 1, "duration": 120})
	var saved savedJSON
	learner.want(http.StatusOK, "PUT", progress, map[string]any{"position": shortLesson / 2, "duration": shortLesson}).json(t, &saved)
	if saved.LessonCompleted {
		t.Fatal("half watched counted as completed")
	}
	learner.want(http.StatusNotFound, "GET", "/api/v1/courses/"+c.ID+"/certificate", nil)
	// Playing it from the start (not from the middle) leaves the test ample slack over the
	// watching needed, however loaded the machine.
	if !learner.watchLesson(c.ID, 0, 0) {
		t.Fatal("watching the only lesson to its end did not complete the course")
	}

	// Progress lives in MinIO: a restarted server still knows it.
	cfg := srv.Config
	srv.Stop(t)
	srv2 := testenv.StartServer(t, cfg)
	again := newClient(t, srv2.URL)
	again.login("xiao.ming", "Brush-And-Ink-2026")
	var rec struct {
		Lessons map[string]struct {
			Position float64 `json:"position"`
		} `json:"lessons"`
		CompletedAt string `json:"completed_at"`
	}
	again.want(http.StatusOK, "GET", "/api/v1/courses/"+c.ID+"/progress", nil).json(t, &rec)
	if rec.Lessons["0"].Position != shortLesson || rec.CompletedAt == "" {
		t.Fatalf("after restart: %+v", rec)
	}
	var mine struct {
		Courses []struct {
			Course string `json:"course"`
		} `json:"courses"`
	}
	again.want(http.StatusOK, "GET", "/api/v1/me/learning", nil).json(t, &mine)
	if len(mine.Courses) != 1 || mine.Courses[0].Course != c.ID {
		t.Fatalf("continue watching %+v", mine)
	}
	again.want(http.StatusOK, "GET", "/api/v1/courses/"+c.ID+"/certificate", nil)

	// The play and the completion are the course's person-times of online training.
	var st struct {
		Plays, Completions int64
		Lessons            []struct{ Lesson, Plays, Completions int64 }
		Days               []struct {
			Day                string
			Plays, Completions int64
		}
	}
	again.want(http.StatusOK, "GET", "/api/v1/courses/"+c.ID+"/stats", nil).json(t, &st)
	var dayPlays, dayCompletions int64
	for _, d := range st.Days {
		dayPlays += d.Plays
		dayCompletions += d.Completions
	}
	// Two plays: the anonymous visitor's and the learner's.
	if st.Plays != 2 || st.Completions != 1 || len(st.Lessons) != 1 || st.Lessons[0].Plays != 2 ||
		st.Lessons[0].Completions != 1 || len(st.Days) != 30 || dayPlays != 2 || dayCompletions != 1 {
		t.Fatalf("course stats %+v", st)
	}
	again.want(http.StatusNotFound, "GET", "/api/v1/courses/szc-nothere22/stats", nil)
	// The lecturer sees them in the console, as a chart with its figures.
	lec2 := newClient(t, srv2.URL)
	lec2.login("lec.dwk", "Calligraphy-Lessons-3")
	page := string(lec2.want(http.StatusOK, "GET", "/console/courses/"+c.ID, nil).body)
	for _, want := range []string{`id="course-plays">2<`, `id="course-completions">1<`, `<svg viewBox="0 0 640 220" role="img" aria-labelledby="course-chart-caption"`,
		`class="bar-a"`, `id="course-lesson-stats"`} {
		if !strings.Contains(page, want) {
			t.Errorf("console course page lacks %s", want)
		}
	}
}
