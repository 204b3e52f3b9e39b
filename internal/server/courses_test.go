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

// TestCourses follows a course from the lecturer's draft through review, search and a
// citizen's learning to its statistics, across a restart of the server.
func TestCourses(t *testing.T) {
	srv := startServer(t)
	f := newCourseFixture(t, srv)
	id := f.publish(t)
	f.find(t, id)
	f.learn(t, id)
	// Progress lives in MinIO: a restarted server still knows it.
	cfg := srv.Config
	srv.Stop(t)
	checkCourseAfterRestart(t, testenv.StartServer(t, cfg), id)
}

// courseFixture is a lecturer of the Dawukou culture centre, its staff, a visitor, and
// the lessons a course may have: a published video, a draft video and a picture.
type courseFixture struct {
	srv                    *testenv.Server
	dwk, lec, anon         *client
	good, draft, ofPicture map[string]any
}

func newCourseFixture(t *testing.T, srv *testenv.Server) *courseFixture {
	t.Helper()
	admin, dwk, _ := staffClients(t, srv)
	admin.want(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"name": "lec.dwk", "display_name": "刘老师",
		"password": "Calligraphy-Lessons-3", "role": "lecturer", "unit": "dwk-culture-centre"})
	f := &courseFixture{srv: srv, dwk: dwk, lec: newClient(t, srv.URL), anon: newClient(t, srv.URL)}
	f.lec.login("lec.dwk", "Calligraphy-Lessons-3")

	// The lesson videos are library items.
	video := dwk.createItem(sampleItem("书法第一课：执笔", map[string]any{"type": "MovingImage", "theme": "folk-art"}))
	job := dwk.attach(video.ID, dwk.uploadFile("lesson1.mp4", mp4Bytes(4096)))
	if job.State != "done" {
		t.Fatalf("attach %+v", job)
	}
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+video.ID, nil).json(t, &video)
	dwk.publish(video)
	photo := dwk.createItem(sampleItem("字帖照片", nil))
	photoJob := dwk.attach(photo.ID, dwk.uploadFile("zitie.png", pngBytes(2000)))
	draftVideo := dwk.createItem(sampleItem("书法第二课（草稿）", map[string]any{"type": "MovingImage"}))
	draftJob := dwk.attach(draftVideo.ID, dwk.uploadFile("lesson2.mp4", mp4Bytes(4096)))
	f.good = lesson(video.ID, job.Result.File.Path)
	f.draft = lesson(draftVideo.ID, draftJob.Result.File.Path)
	f.ofPicture = lesson(photo.ID, photoJob.Result.File.Path)
	return f
}

func lesson(item, path string) map[string]any {
	return map[string]any{"title": "执笔与坐姿", "media": map[string]any{"item": item, "path": path}}
}

// course is the body of a course of lessons, with extra fields overriding the defaults.
func course(extra map[string]any, lessons ...map[string]any) map[string]any {
	c := map[string]any{"title": "少儿书法入门", "category": "calligraphy", "level": "beginner", "lecturer": "lec.dwk",
		"unit": "dwk-culture-centre", "institution": map[string]any{"name": "大武口区文化馆", "kind": "culture-centre"},
		"description": "面向少年儿童的毛笔书法课程。", "lessons": lessons}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// publish creates the course with a draft lesson and has it published, which needs the
// draft lesson gone and a reviewer's approval; it returns the course's id.
func (f *courseFixture) publish(t *testing.T) string {
	t.Helper()
	const courses = "/api/v1/courses"
	var id, etag string
	runScenarios(t, []apiScenario{
		{name: "unknown category", client: f.lec, method: "POST", path: courses, body: course(map[string]any{"category": "cooking"}, f.good),
			status: http.StatusUnprocessableEntity, problem: true},
		{name: "lecturer is not a lecturer", client: f.lec, method: "POST", path: courses, body: course(map[string]any{"lecturer": "lib.dwk"}, f.good),
			status: http.StatusUnprocessableEntity, problem: true},
		{name: "lesson is a picture", client: f.lec, method: "POST", path: courses, body: course(nil, f.ofPicture),
			status: http.StatusUnprocessableEntity, problem: true},
		{name: "lesson item unknown", client: f.lec, method: "POST", path: courses, body: course(nil, lesson("szm-nothere22", "files/x.mp4")),
			status: http.StatusUnprocessableEntity, problem: true},
		{name: "staff of the unit cannot create for another", client: f.dwk, method: "POST", path: courses,
			body: course(map[string]any{"unit": "hn-culture-centre"}, f.good), status: http.StatusForbidden},
		{name: "create", client: f.lec, method: "POST", path: courses, body: course(nil, f.good, f.draft), status: http.StatusCreated,
			check: func(t testing.TB, r reply) {
				var c struct {
					ID string `json:"id"`
				}
				r.json(t, &c)
				id = c.ID
				keepETag(&etag)(t, r)
			}},
	})
	course1 := courses + "/" + id
	runScenarios(t, []apiScenario{
		{name: "a draft is not public", client: f.anon, method: "GET", path: course1, status: http.StatusNotFound},
		{name: "to review", client: f.lec, method: "POST", path: course1 + "/status", body: map[string]any{"status": "in_review"},
			headers: []string{"If-Match", etag}, status: http.StatusOK, check: keepETag(&etag)},
	})
	runScenarios(t, []apiScenario{
		// The lecturer does not publish her own course: a reviewer does (先审后发).
		{name: "the lecturer cannot publish", client: f.lec, method: "POST", path: course1 + "/status", body: map[string]any{"status": "published"},
			headers: []string{"If-Match", etag}, status: http.StatusForbidden, check: problemType("/problems/review_required")},
		// A lesson whose item is still a draft keeps the reviewer from publishing the course.
		{name: "a draft lesson stops the approval", client: f.dwk.reviewer, method: "POST", path: course1 + "/review",
			body: map[string]any{"decision": "approve"}, headers: []string{"If-Match", etag}, status: http.StatusUnprocessableEntity, problem: true},
		{name: "drop the draft lesson", client: f.lec, method: "PUT", path: course1, body: course(nil, f.good), headers: []string{"If-Match", etag},
			status: http.StatusOK, check: keepETag(&etag)},
	})
	f.dwk.reviewer.approve("courses", itemJSON{ID: id, Version: strings.Trim(etag, `"`)})
	f.anon.want(http.StatusOK, "GET", course1, nil)
	return id
}

// find: the published course is found by words, pinyin initials and facets.
func (f *courseFixture) find(t *testing.T, id string) {
	t.Helper()
	var res struct {
		Hits []struct {
			ID      string `json:"id"`
			Lessons int    `json:"lessons"`
		} `json:"hits"`
		Facets map[string]map[string]int `json:"facets"`
	}
	testwait.Until(t, "the course is searchable", func() bool {
		f.anon.want(http.StatusOK, "GET", "/api/v1/courses?q="+url.QueryEscape("书法")+"&category=calligraphy", nil).json(t, &res)
		return len(res.Hits) == 1 && res.Hits[0].ID == id
	})
	if res.Hits[0].Lessons != 1 || res.Facets["level"]["beginner"] != 1 {
		t.Fatalf("course hit %+v facets %+v", res.Hits, res.Facets)
	}
	runScenarios(t, []apiScenario{
		{name: "pinyin initials", client: f.anon, method: "GET", path: "/api/v1/courses?q=sesfrm", status: http.StatusOK, // 少儿书法入门: shao er shu fa ru men
			check: func(t testing.TB, r reply) {
				r.json(t, &res)
				if len(res.Hits) != 1 {
					t.Fatalf("pinyin initials: %+v", res.Hits)
				}
			}},
		{name: "page 0", client: f.anon, method: "GET", path: "/api/v1/courses?page=0", status: http.StatusUnprocessableEntity},
	})
}

// learn: a citizen learns: plays are counted for anyone; progress needs an enrolment.
func (f *courseFixture) learn(t *testing.T, id string) {
	t.Helper()
	learner := newClient(t, f.srv.URL)
	course1 := "/api/v1/courses/" + id
	progress := course1 + "/lessons/0/progress"
	runScenarios(t, []apiScenario{
		{name: "an anonymous play counts", client: f.anon, method: "POST", path: course1 + "/lessons/0/plays", status: http.StatusOK,
			check: func(t testing.TB, r reply) {
				var play struct {
					Counted bool `json:"counted"`
				}
				if r.json(t, &play); !play.Counted {
					t.Fatal("first play not counted")
				}
			}},
		{name: "play of a lesson the course lacks", client: f.anon, method: "POST", path: course1 + "/lessons/7/plays", status: http.StatusNotFound},
		{name: "register", client: learner, method: "POST", path: "/api/v1/auth/register", body: map[string]any{"name": "xiao.ming", "display_name": "小明",
			"password": "Brush-And-Ink-2026"}, status: http.StatusCreated, check: func(t testing.TB, r reply) { r.json(t, &struct{}{}) }},
	})
	learner.login("xiao.ming", "Brush-And-Ink-2026")
	runScenarios(t, []apiScenario{
		{name: "progress before enrolling", client: learner, method: "PUT", path: progress, body: map[string]any{"position": 10, "duration": 120},
			status: http.StatusForbidden},
		{name: "enrol", client: learner, method: "POST", path: course1 + "/enrol", status: http.StatusOK},
	})
	for _, bad := range []map[string]any{{"position": 500, "duration": 120}, {"position": -1, "duration": 120},
		{"position": 1, "duration": 0}, {"position": "ten", "duration": 120}} {
		if r := learner.do("PUT", progress, bad); r.status < 400 || r.status >= 500 {
			t.Fatalf("%v: %d", bad, r.status)
		}
	}
	runScenarios(t, []apiScenario{
		{name: "progress of a lesson the course lacks", client: learner, method: "PUT", path: course1 + "/lessons/3/progress",
			body: map[string]any{"position": 1, "duration": 120}, status: http.StatusNotFound},
		{name: "half watched", client: learner, method: "PUT", path: progress, body: map[string]any{"position": shortLesson / 2, "duration": shortLesson},
			status: http.StatusOK, check: func(t testing.TB, r reply) {
				var saved savedJSON
				if r.json(t, &saved); saved.LessonCompleted {
					t.Fatal("half watched counted as completed")
				}
			}},
		{name: "no certificate yet", client: learner, method: "GET", path: course1 + "/certificate", status: http.StatusNotFound},
	})
	// Playing it from the start (not from the middle) leaves the test ample slack over the
	// watching needed, however loaded the machine.
	if !learner.watchLesson(id, 0, 0) {
		t.Fatal("watching the only lesson to its end did not complete the course")
	}
}

// checkCourseAfterRestart: the learner's progress, the certificate and the course's
// statistics (its person-times of online training) outlive the server.
func checkCourseAfterRestart(t *testing.T, srv *testenv.Server, id string) {
	t.Helper()
	again := newClient(t, srv.URL)
	again.login("xiao.ming", "Brush-And-Ink-2026")
	lec := newClient(t, srv.URL)
	lec.login("lec.dwk", "Calligraphy-Lessons-3")
	course1 := "/api/v1/courses/" + id
	runScenarios(t, []apiScenario{
		{name: "progress", client: again, method: "GET", path: course1 + "/progress", status: http.StatusOK, check: func(t testing.TB, r reply) {
			var rec struct {
				Lessons map[string]struct {
					Position float64 `json:"position"`
				} `json:"lessons"`
				CompletedAt string `json:"completed_at"`
			}
			if r.json(t, &rec); rec.Lessons["0"].Position != shortLesson || rec.CompletedAt == "" {
				t.Fatalf("after restart: %+v", rec)
			}
		}},
		{name: "continue watching", client: again, method: "GET", path: "/api/v1/me/learning", status: http.StatusOK, check: func(t testing.TB, r reply) {
			var mine struct {
				Courses []struct {
					Course string `json:"course"`
				} `json:"courses"`
			}
			if r.json(t, &mine); len(mine.Courses) != 1 || mine.Courses[0].Course != id {
				t.Fatalf("continue watching %+v", mine)
			}
		}},
		{name: "certificate", client: again, method: "GET", path: course1 + "/certificate", status: http.StatusOK},
		{name: "statistics", client: again, method: "GET", path: course1 + "/stats", status: http.StatusOK, check: checkCourseStats},
		{name: "statistics of an unknown course", client: again, method: "GET", path: "/api/v1/courses/szc-nothere22/stats", status: http.StatusNotFound},
		// The lecturer sees them in the console, as a chart with its figures.
		{name: "console chart", client: lec, method: "GET", path: "/console/courses/" + id, status: http.StatusOK,
			bodyHas: []string{`id="course-plays">2<`, `id="course-completions">1<`,
				`<svg viewBox="0 0 640 220" role="img" aria-labelledby="course-chart-caption"`, `class="bar-a"`, `id="course-lesson-stats"`}},
	})
}

// checkCourseStats: two plays (the anonymous visitor's and the learner's) and one completion,
// by lesson and over the last 30 days.
func checkCourseStats(t testing.TB, r reply) {
	var st struct {
		Plays, Completions int64
		Lessons            []struct{ Lesson, Plays, Completions int64 }
		Days               []struct {
			Day                string
			Plays, Completions int64
		}
	}
	r.json(t, &st)
	var dayPlays, dayCompletions int64
	for _, d := range st.Days {
		dayPlays += d.Plays
		dayCompletions += d.Completions
	}
	if st.Plays != 2 || st.Completions != 1 || len(st.Lessons) != 1 || st.Lessons[0].Plays != 2 ||
		st.Lessons[0].Completions != 1 || len(st.Days) != 30 || dayPlays != 2 || dayCompletions != 1 {
		t.Fatalf("course stats %+v", st)
	}
}

// keepETag is a check that keeps the answer's ETag for the If-Match of later steps.
func keepETag(etag *string) func(testing.TB, reply) {
	return func(t testing.TB, r reply) {
		if *etag = r.header.Get("ETag"); *etag == "" {
			t.Fatal("answer without an ETag")
		}
	}
}

// problemType is a check that the answer is a problem of the given type.
func problemType(want string) func(testing.TB, reply) {
	return func(t testing.TB, r reply) {
		if p := r.problem(t); p["type"] != want {
			t.Fatalf("problem %v, want type %s", p, want)
		}
	}
}
