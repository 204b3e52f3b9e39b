package server_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/testwait"
)

// courseStatsJSON is what GET /api/v1/courses/:id/stats answers.
type courseStatsJSON struct {
	Plays, Completions int64
	Lessons            []struct{ Lesson, Plays, Completions int64 }
	Days               []struct {
		Day                string
		Plays, Completions int64
	}
}

// publishCourse makes a published course of lessons lessons, all playing one video item, and
// answers its id and a citizen enrolled in it.
func publishCourse(t *testing.T, lessons int) (courseID string, learner, lec *client) {
	t.Helper()
	srv := startServer(t)
	admin, dwk, _ := staffClients(t, srv)
	admin.want(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"name": "lec.dwk", "display_name": "刘老师",
		"password": "Calligraphy-Lessons-3", "role": "lecturer", "unit": "dwk-culture-centre"})
	lec = newClient(t, srv.URL)
	lec.login("lec.dwk", "Calligraphy-Lessons-3")
	video := dwk.createItem(sampleItem("书法课", map[string]any{"type": "MovingImage", "theme": "folk-art"}))
	job := dwk.attach(video.ID, dwk.uploadFile("lesson.mp4", mp4Bytes(4096)))
	if job.State != "done" {
		t.Fatalf("attach %+v", job)
	}
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+video.ID, nil).json(t, &video)
	dwk.publish(video)
	list := make([]map[string]any, lessons)
	for i := range list {
		list[i] = map[string]any{"title": "第" + strconv.Itoa(i+1) + "课", "media": map[string]any{"item": video.ID, "path": job.Result.File.Path}}
	}
	var c struct {
		ID string `json:"id"`
	}
	r := lec.want(http.StatusCreated, "POST", "/api/v1/courses", map[string]any{"title": "少儿书法入门", "category": "calligraphy",
		"level": "beginner", "lecturer": "lec.dwk", "unit": "dwk-culture-centre",
		"institution": map[string]any{"name": "大武口区文化馆", "kind": "culture-centre"},
		"description": "面向少年儿童的毛笔书法课程。", "lessons": list})
	r.json(t, &c)
	r = lec.want(http.StatusOK, "POST", "/api/v1/courses/"+c.ID+"/status", map[string]any{"status": "in_review"}, "If-Match", r.header.Get("ETag"))
	// Published by a reviewer, not by its lecturer (先审后发).
	dwk.reviewer.approve("courses", itemJSON{ID: c.ID, Version: strings.Trim(r.header.Get("ETag"), `"`)})

	learner = newClient(t, srv.URL)
	learner.want(http.StatusCreated, "POST", "/api/v1/auth/register", map[string]any{"name": "xiao.ming", "display_name": "小明",
		"password": "Brush-And-Ink-2026"})
	learner.login("xiao.ming", "Brush-And-Ink-2026")
	learner.want(http.StatusOK, "POST", "/api/v1/courses/"+c.ID+"/enrol", nil)
	return c.ID, learner, lec
}

// shortLesson is the duration, in seconds, that the test players claim: the lessons' files
// are not real videos, so the server has no measured duration and takes the player's word.
const shortLesson = 2.0

// savedJSON is the answer to a position report.
type savedJSON struct {
	LessonCompleted bool `json:"lesson_completed"`
	CourseCompleted bool `json:"course_completed"`
	Progress        struct {
		Lessons map[string]struct {
			CompletedAt string `json:"completed_at"`
		} `json:"lessons"`
	} `json:"progress"`
}

// watchLesson plays lesson n as the player does, at normal speed from position from: a play,
// then position reports as the wall clock runs, until the end is reached and the lesson is
// completed. It answers whether one of the reports completed the course.
func (c *client) watchLesson(course string, n int, from float64) (courseCompleted bool) {
	c.t.Helper()
	base := "/api/v1/courses/" + course + "/lessons/" + strconv.Itoa(n)
	c.want(http.StatusOK, "POST", base+"/plays", nil)
	start := time.Now()
	testwait.Until(c.t, "lesson "+strconv.Itoa(n)+" played to its end is completed", func() bool {
		pos := min(shortLesson, from+time.Since(start).Seconds())
		var saved savedJSON
		c.want(http.StatusOK, "PUT", base+"/progress", map[string]any{"position": pos, "duration": shortLesson}).json(c.t, &saved)
		courseCompleted = courseCompleted || saved.CourseCompleted
		return pos == shortLesson && saved.Progress.Lessons[strconv.Itoa(n)].CompletedAt != ""
	})
	return courseCompleted
}

// TestCourseStatsCountEachCompletionOnce: one learner who plays and finishes every lesson of a
// three-lesson course is three plays and three completions, however often the player reports.
func TestCourseStatsCountEachCompletionOnce(t *testing.T) {
	course, learner, lec := publishCourse(t, 3)
	for n := range 3 {
		learner.watchLesson(course, n, 0)
	}
	// Watching again (a second device, a replay) completes nothing new, nor do the end
	// reports that a player sends at once (ended, seeked, pagehide).
	learner.watchLesson(course, 1, 0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			learner.do("PUT", "/api/v1/courses/"+course+"/lessons/2/progress", map[string]any{"position": shortLesson, "duration": shortLesson})
		})
	}
	wg.Wait()

	var st courseStatsJSON
	lec.want(http.StatusOK, "GET", "/api/v1/courses/"+course+"/stats", nil).json(t, &st)
	var dayCompletions int64
	for _, d := range st.Days {
		dayCompletions += d.Completions
	}
	if st.Completions != 3 || dayCompletions != 3 || len(st.Lessons) != 3 {
		t.Fatalf("course stats %+v: want 3 completions", st)
	}
	for _, l := range st.Lessons {
		if l.Completions != 1 {
			t.Errorf("lesson %d: %d completions, want 1", l.Lesson, l.Completions)
		}
	}
}

// TestClaimingTheEndCompletesNothing: reports that jump to the end of every lesson, without
// the watching between, earn no completion and no certificate; playing the lessons does.
func TestClaimingTheEndCompletesNothing(t *testing.T) {
	course, learner, _ := publishCourse(t, 3)
	for n := range 3 {
		var saved savedJSON
		learner.want(http.StatusOK, "PUT", "/api/v1/courses/"+course+"/lessons/"+strconv.Itoa(n)+"/progress",
			map[string]any{"position": shortLesson, "duration": shortLesson}).json(t, &saved)
		if saved.LessonCompleted || saved.CourseCompleted {
			t.Fatalf("lesson %d: a claim of the end completed %+v", n, saved)
		}
	}
	learner.want(http.StatusNotFound, "GET", "/api/v1/courses/"+course+"/certificate", nil)
	done := false
	for n := range 3 {
		done = learner.watchLesson(course, n, 0) || done
	}
	if !done {
		t.Fatal("playing every lesson did not complete the course")
	}
	learner.want(http.StatusOK, "GET", "/api/v1/courses/"+course+"/certificate", nil)
}
