package web

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/shizuishan/culturecloud/internal/i18n"
)

var (
	testCategories = []Term{{ID: "calligraphy", ZH: "书法", EN: "Calligraphy"}, {ID: "music", ZH: "音乐", EN: "Music"}}
	testLevels     = []Term{{ID: "beginner", ZH: "入门", EN: "Beginner"}}
)

func sampleCourse() CourseData {
	return CourseData{ID: "crs-1", Title: "书法入门", Description: "从握笔开始。", Status: "published", Category: testCategories[0],
		Level: testLevels[0], Institution: "石嘴山市文化馆", InstitutionKind: Term{ID: "culture-centre", ZH: "文化馆", EN: "Culture centre"},
		Lecturer: "张老师", Unit: "石嘴山市", SignedIn: true, Enrolled: true, Done: 1, Percent: 50, Continue: 1,
		Lessons: []LessonRow{{N: 0, Title: "握笔", Kind: "video", Duration: "1:00", Percent: 100, Completed: true, Ready: true},
			{N: 1, Title: "永字八法", Kind: "audio", Percent: 40, Ready: false}}}
}

// courseCases are the course pages in the checks of TestLibraryPages (labels, ids, keys,
// scripts, inline styles).
func courseCases(lang i18n.Lang) []libCase {
	lecturer := &Viewer{Name: "zhang", DisplayName: "张老师", Role: "lecturer", Unit: "szs-culture-centre"}
	citizen := &Viewer{Name: "li", DisplayName: "李华", Role: "citizen"}
	guest := sampleCourse()
	guest.SignedIn, guest.Enrolled, guest.AllowGuests = false, false, true
	done := sampleCourse()
	done.Completed = true
	lesson := &LessonData{Course: sampleCourse(), N: 1, Title: "永字八法", Kind: "video", Stream: "/api/v1/items/szm-1/media/ab/master.m3u8",
		Fallback: "/api/v1/items/szm-1/files/files/a.mp4", FallbackType: "video/mp4", Poster: "/p.jpg",
		Captions: []CaptionTrack{{Lang: "zh", Label: "中文", URL: "/c/zh"}}, Duration: 60, Resume: 42.5, MayPlay: true, SaveProgress: true,
		Attachments: []FileView{{Name: "字帖.pdf", URL: "/api/v1/items/szm-2/files/files/a.pdf", MediaType: "application/pdf"}}, PrevN: 0, NextN: -1}
	numbered := &LessonData{Course: sampleCourse(), N: 0, Title: "第一课：执笔与坐姿", Kind: "video", MayPlay: true, SaveProgress: true,
		PrevN: -1, NextN: 1, NextTitle: "横画"}
	numbered.Course.Lessons = append(numbered.Course.Lessons, LessonRow{N: 2, Title: "Lesson 3: 永"})
	locked := &LessonData{Course: guest, N: 0, Title: "握笔", Kind: "video", PrevN: -1, NextN: 1}
	return []libCase{
		{"catalogue", PageData{Page: "course_catalogue", Data: &CatalogueData{Q: "书法", Total: 1, Page: 1, TotalPages: 2, NextURL: "/courses?page=2",
			Hidden:  []Param{{Name: "level", Value: "beginner"}},
			Filters: []Filter{{Facet: "level", Label: "入门", RemoveURL: "/courses?q=%E4%B9%A6%E6%B3%95"}},
			Facets:  []Facet{{Name: "category", Options: []FacetOption{{Label: "书法", Count: 1, URL: "/courses?category=calligraphy"}}}},
			Courses: []CourseCard{{ID: "crs-1", Title: "书法入门", Category: testCategories[0], Level: testLevels[0], Lessons: 2}}}},
			[]string{`href="/courses/crs-1"`, `name="level" value="beginner"`, `rel="next"`, `href="/courses?category=calligraphy"`, `aria-current="page"`,
				`class="active-filters"`, `href="/x?q=%e4%b9%a6%e6%b3%95"`},
			[]string{`id="no-courses"`}},
		{"catalogue empty", PageData{Page: "course_catalogue", Data: &CatalogueData{}}, []string{`id="no-courses"`}, []string{`id="course-list"`}},
		{"catalogue failed", PageData{Page: "course_catalogue", Data: &CatalogueData{Failed: true}}, []string{`role="alert"`}, []string{`id="no-courses"`}},
		{"course enrolled", PageData{Page: "course_page", Viewer: citizen, CSRF: "c", Data: func() *CourseData { d := sampleCourse(); return &d }()},
			[]string{`id="course-progress"`, `href="/courses/crs-1/lessons/1"`, `id="continue-link"`, `class="lesson-row completed"`, "courses.js", "library.js", ">" + i18n.T(lang, "lesson.heading", 1, "握笔") + "</a>"},
			[]string{`id="enrol-button"`, `id="certificate-link"`}},
		{"course completed", PageData{Page: "course_page", Viewer: citizen, CSRF: "c", Data: &done},
			[]string{`id="certificate-link"`, `href="/courses/crs-1/certificate"`}, []string{`id="continue-link"`}},
		{"course guest", PageData{Page: "course_page", Data: &guest}, []string{`id="login-to-enrol"`, `href="/login?next=/courses/crs-1"`},
			[]string{`id="course-progress"`, `id="enrol-button"`}},
		{"lesson", PageData{Page: "lesson", Viewer: citizen, CSRF: "c", Data: lesson},
			[]string{`<video id="lesson-media"`, `src="/vendor/hls.min.js"`, `type="application/vnd.apple.mpegurl"`, `<source src="/api/v1/items/szm-1/files/files/a.mp4" type="video/mp4">`,
				`<track kind="captions" srclang="zh"`, `id="player-quality"`, `id="player-speed"`, `id="player-captions"`, `data-resume="42.5"`, `data-save="1"`,
				`id="resume-note"`, `0:42`, `id="prev-lesson"`, `rel="prev"`, `字帖.pdf`},
			[]string{`id="next-lesson"`, `id="enrol-first"`, `id="guest-note"`}},
		{"lesson titled with its number", PageData{Page: "lesson", Viewer: citizen, CSRF: "c", Data: numbered},
			[]string{`<h1>第一课：执笔与坐姿</h1>`, `id="lesson-end" hidden`, `data-lessons="3"`, `data-next="/courses/crs-1/lessons/1"`,
				`data-next-label="` + i18n.T(lang, "lesson.heading", 2, "横画") + `"`, `data-certificate="/courses/crs-1/certificate"`},
			[]string{`第 1 课：第一课`}},
		{"lesson locked", PageData{Page: "lesson", Data: locked}, []string{`id="enrol-first"`, `id="next-lesson"`}, []string{`id="lesson-media"`, `hls.min.js`}},
		{"certificate", PageData{Page: "certificate", Viewer: citizen, CSRF: "c", Data: &CertificateData{CourseID: "crs-1", CourseTitle: "书法入门",
			Learner: "李华", Lecturer: "张老师", Institution: "文化馆", Lessons: 2, Completed: "2026-11-26", Serial: "SZS-ABC"}},
			[]string{"李华", "书法入门", "SZS-ABC", "2026-11-26"}, nil},
		{"console courses", PageData{Page: "console_courses", Viewer: lecturer, CSRF: "c", Data: &ConsoleCoursesData{Courses: []ConsoleCourseRow{{ID: "crs-1",
			Title: "书法入门", Status: "draft", Lessons: 2, Updated: "2026-11-26 10:00"}}}},
			[]string{`href="/console/courses/crs-1"`, `href="/console/courses/new"`, `href="/console/courses" aria-current="page"`}, []string{`id="no-console-courses"`}},
		{"console course new", PageData{Page: "console_course", Viewer: lecturer, CSRF: "c", Data: &ConsoleCourseData{Lessons: "[]", Cover: "null",
			Form: ConsoleCourseForm(), Categories: testCategories, Levels: testLevels, Lecturers: []Param{{Name: "zhang", Value: "张老师"}},
			UnitOptions: []Param{{Name: "szs", Value: "石嘴山市"}}, Themes: testThemes}},
			[]string{`id="course-form"`, `id="lesson-upload" class="file-input" multiple accept="video/*,audio/*" disabled`, `<option value="zhang" selected>`, `checked`},
			[]string{`class="course-move"`}},
		{"console course edit", PageData{Page: "console_course", Viewer: lecturer, CSRF: "c", Data: &ConsoleCourseData{ID: "crs-1", Version: "e1", Status: "draft",
			Lessons: `[{"title":"握笔","media":{"item":"szm-1","path":"files/a.mp4"}}]`, Cover: "null", Transitions: []string{"in_review", "published"},
			Form: ConsoleCourseForm(), Categories: testCategories, Levels: testLevels, Themes: testThemes}},
			[]string{`data-version="e1"`, `data-lessons="[{&#34;title&#34;:&#34;握笔&#34;`, `data-to="published"`, `data-to="in_review"`, `id="lesson-editor"`},
			[]string{`accept="video/*,audio/*" disabled`, `id="course-stats"`}},
		{"console course published, with statistics", PageData{Page: "console_course", Viewer: lecturer, CSRF: "c", Data: &ConsoleCourseData{
			ID: "crs-1", Version: "e2", Status: "published", Lessons: "[]", Cover: "null", Form: ConsoleCourseForm(), Categories: testCategories,
			Levels: testLevels, Themes: testThemes, Stats: &CourseStats{Plays: 12345, Completions: 7,
				Chart:   NewDayChart([]DayValues{{Day: "2026-11-25", A: 12000, B: 5}, {Day: "2026-11-26", A: 345, B: 2}}),
				Lessons: []LessonStats{{Number: 1, Title: "握笔", Plays: 12345, Completions: 7}}}}},
			[]string{`id="course-stats"`, `id="course-plays">12,345<`, `id="course-completions">7<`, `aria-labelledby="course-chart-caption"`,
				`<figcaption id="course-chart-caption">`, `<title>2026-11-25:`, `<th scope="row">2026-11-26</th><td>345</td><td>2</td>`,
				`<th scope="row">1. 握笔</th><td>12,345</td><td>7</td>`, `>11-26</text>`},
			nil},
		{"home with courses", PageData{Page: "home", Viewer: citizen, Data: &HomeData{Themes: testThemes,
			Continue: []CourseCard{{ID: "crs-1", Title: "书法入门", Percent: 50, NextLesson: 1, NextTitle: "永字八法"}},
			Courses:  []CourseCard{{ID: "crs-2", Title: "花儿演唱", Category: testCategories[1], Level: testLevels[0], Lessons: 3}}}},
			[]string{`id="continue-watching"`, `href="/courses/crs-1/lessons/1"`, "永字八法", `href="/courses/crs-2"`, `id="home-courses"`}, nil},
	}
}

// ConsoleCourseForm is a filled course form for the render checks.
func ConsoleCourseForm() CourseForm {
	return CourseForm{Title: "书法入门", Category: "calligraphy", Level: "beginner", Lecturer: "zhang", Unit: "szs",
		InstitutionName: "文化馆", InstitutionKind: "culture-centre", AllowGuests: true}
}

func TestCourseScriptTexts(t *testing.T) {
	js, _ := checkScriptTexts(t, "courses.js", 20)
	for _, must := range []string{"Hls.isSupported()", "startPosition", "currentLevel", "playbackRate", "textTracks", "/progress", "/plays",
		"keepalive", "If-Match", "uploadToItem", "/media", "'ArrowLeft'", "requestFullscreen"} {
		if !bytes.Contains(js, []byte(must)) {
			t.Errorf("courses.js lacks %s", must)
		}
	}
	if bytes.Contains(js, []byte("innerHTML")) || bytes.Contains(js, []byte(".style.")) {
		t.Error("courses.js writes HTML or inline styles")
	}
}

func TestLessonLabel(t *testing.T) {
	for _, c := range []struct {
		lang  i18n.Lang
		n     int
		title string
		want  string
	}{
		{i18n.ZH, 0, "执笔与坐姿", "第 1 课：执笔与坐姿"},
		{i18n.ZH, 0, "第一课：执笔与坐姿", "第一课：执笔与坐姿"},
		{i18n.ZH, 2, "第3课 永字八法", "第3课 永字八法"},
		{i18n.ZH, 11, "第十二讲 花儿", "第十二讲 花儿"},
		{i18n.ZH, 1, "  第 2 节：横画", "第 2 节：横画"},
		{i18n.ZH, 1, "第二课堂的故事", "第 2 课：第二课堂的故事"},
		{i18n.EN, 0, "Holding the brush", "Lesson 1: Holding the brush"},
		{i18n.EN, 0, "Lesson 1: Holding the brush", "Lesson 1: Holding the brush"},
		{i18n.EN, 4, "lesson 5 - strokes", "lesson 5 - strokes"},
		{i18n.EN, 4, "Lessons learnt", "Lesson 5: Lessons learnt"},
		{i18n.ZH, 4, "", "第 5 课"},
	} {
		if got := LessonLabel(c.lang, c.n, c.title); got != c.want {
			t.Errorf("LessonLabel(%s, %d, %q) = %q, want %q", c.lang, c.n, c.title, got, c.want)
		}
	}
}

func TestClock(t *testing.T) {
	for in, want := range map[float64]string{0: "0:00", 42.9: "0:42", 65: "1:05", 3723: "1:02:03", -5: "0:00"} {
		if got := Clock(in); got != want {
			t.Errorf("Clock(%v) = %q, want %q", in, got, want)
		}
	}
}

// TestFindVendor: the browser libraries are found where deploy/install.sh put them, also when
// CC_TOOLS_DIR moved the tools out of the working tree.
func TestFindVendor(t *testing.T) {
	tools := t.TempDir()
	dist := filepath.Join(tools, "web", "dist")
	if err := os.MkdirAll(dist, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dist, VendorFiles()[0]), []byte("/* hls */"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CC_TOOLS_DIR", tools)
	if got := FindVendor(""); got != dist {
		t.Fatalf("FindVendor with CC_TOOLS_DIR = %q, want %q", got, dist)
	}
	if got := FindVendor("/srv/vendor"); got != "/srv/vendor" {
		t.Fatalf("a configured folder is not used: %q", got)
	}
	t.Setenv("CC_TOOLS_DIR", t.TempDir()) // set, but without the libraries: fall through
	if got := FindVendor(""); got == dist {
		t.Fatalf("FindVendor kept a folder CC_TOOLS_DIR no longer names")
	}
}
