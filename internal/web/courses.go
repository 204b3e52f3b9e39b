package web

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/shizuishan/culturecloud/internal/i18n"
)

// The page data of the online art courses (PageData.Data): the catalogue, a course, the
// lesson player, the certificate and the lecturers' console.

// CatalogueData is the data of /courses, the server-rendered course search.
type CatalogueData struct {
	Q          string
	Hidden     []Param // current filters, kept when the query changes
	Failed     bool    // the search engine did not answer
	Filters    []Filter
	Facets     []Facet
	Courses    []CourseCard
	Total      int64
	Page       int
	TotalPages int
	PrevURL    string
	NextURL    string
}

// CourseCard is a course in a list.
type CourseCard struct {
	ID, Title, Description string
	Category, Level        Term
	Institution, Lecturer  string
	Lessons                int
	Cover                  string // URL of the cover thumbnail, "" for the placeholder
	Percent                int    // continue watching: share of lessons completed
	NextLesson             int    // continue watching: the lesson to open
	NextTitle              string
}

// CourseData is the data of a course page.
type CourseData struct {
	ID, Title, Description string
	Status                 string
	Category, Level        Term
	Institution            string
	InstitutionKind        Term
	Lecturer, Unit         string
	Cover                  string
	AllowGuests            bool
	SignedIn               bool
	Enrolled               bool
	Completed              bool // every lesson completed: the certificate is there
	Done                   int  // lessons completed
	Percent                int
	Continue               int // the lesson to continue with
	Lessons                []LessonRow
	Staff                  bool // the viewer may edit the course
}

// LessonRow is one lesson in a course's list.
type LessonRow struct {
	N         int // 0-based
	Title     string
	Kind      string // video or audio
	Duration  string // "12:30", "" when not yet known
	Percent   int    // watched share
	Completed bool
	Ready     bool // transcoded: the player has a stream
}

// LessonData is the data of the lesson player.
type LessonData struct {
	Course       CourseData
	N            int
	Title        string
	Kind         string // video or audio
	Stream       string // HLS master playlist, "" before transcoding finished
	Fallback     string // the original file, played where HLS cannot be
	FallbackType string
	Poster       string
	Captions     []CaptionTrack
	Duration     float64 // seconds, 0 when unknown
	Resume       float64 // saved position in seconds
	MayPlay      bool    // a guest on a course that allows guests, or an enrolled learner
	SaveProgress bool    // an enrolled learner: the player reports its position
	Attachments  []FileView
	PrevN, NextN int    // -1 when there is none
	NextTitle    string // title of lesson NextN
}

// CertificateData is the data of a course certificate.
type CertificateData struct {
	CourseID, CourseTitle, Learner, Lecturer, Institution string
	Lessons                                               int
	Completed                                             string // date, 2026-11-26
	Serial                                                string
	Own                                                   bool   // the viewer is the holder (offer printing)
	VerifyURL                                             string // where anyone checks it
}

// AccountData is the person's own page.
type AccountData struct {
	Email               string
	InProgress          []LearningRow // most recently watched first
	Completed           []LearningRow
	LearningUnavailable bool // the records could not be read just now
}

// LearningRow is one course a person enrolled in.
type LearningRow struct {
	CourseID, Title string
	Done, Total     int // lessons completed, lessons in the course
	Continue        int // the lesson to go back to
	ContinueTitle   string
	Certificate     *CertificateData // for a completed course
}

// Percent is the share of lessons completed, for the progress bar.
func (r LearningRow) Percent() int {
	if r.Total == 0 {
		return 0
	}
	return r.Done * 100 / r.Total
}

// ResetData is the page that asks for a password reset link.
type ResetData struct {
	Minutes int // how long a link works
}

// VerifyData is the public check of a certificate by its serial.
type VerifyData struct {
	Serial      string           // as typed
	Malformed   bool             // not the shape of a serial
	Unknown     bool             // no certificate has it
	Certificate *CertificateData // the certificate, when genuine
}

// ConsoleCoursesData is the lecturers' list of the courses they may edit.
type ConsoleCoursesData struct {
	Courses []ConsoleCourseRow
}

// ConsoleCourseRow is one course in the console list.
type ConsoleCourseRow struct {
	ID, Title, Status, Updated string
	Lessons                    int
}

// ConsoleCourseData is the data of the course editor. The lessons are edited by the script
// from Lessons (JSON), so that reordering and uploads need no page reload.
type ConsoleCourseData struct {
	ID, Version, Status string
	Form                CourseForm
	Lessons             string // JSON of the lessons, as the API takes them
	Cover               string // JSON of the cover file reference, "null" when none
	Transitions         []string
	Categories, Levels  []Term
	InstitutionKinds    []Term
	Lecturers           []Param // account name, display name
	UnitOptions         []Param
	Themes              []Term       // theme of the lesson items made by uploads
	Stats               *CourseStats // published courses: plays and completions
}

// CourseStats are a course's person-times of online training, for the lecturer console.
type CourseStats struct {
	Plays, Completions int64
	Chart              DayChart // A: plays, B: completions, per day
	Lessons            []LessonStats
}

// LessonStats are one lesson's totals; Number counts from 1.
type LessonStats struct {
	Number             int
	Title              string
	Plays, Completions int64
}

// CourseForm holds the values of the course editor's controls.
type CourseForm struct {
	Title, Category, Level, Lecturer, Unit, InstitutionName, InstitutionKind, Description string
	AllowGuests                                                                           bool
}

// numberedTitle matches a lesson title that already says which lesson it is ("第一课：…",
// "第3讲 …", "Lesson 2: …"), so that the page does not number it twice. A separator must
// follow, so that "第二课堂…" is a title like any other.
var numberedTitle = regexp.MustCompile(`^(第\s*[0-9０-９一二三四五六七八九十百零〇两]+\s*[课課讲講节節]|(?i:lesson)\s*\d+)([\s:：、,，.．·\-—]|$)`)

// LessonLabel is how a lesson is named wherever it appears (heading, lists, next-lesson
// button): "第 n+1 课：title", or the title alone when the lecturer already numbered it.
func LessonLabel(lang i18n.Lang, n int, title string) string {
	title = strings.TrimSpace(title)
	switch {
	case title == "":
		return i18n.T(lang, "lesson.number", n+1)
	case numberedTitle.MatchString(title):
		return title
	}
	return i18n.T(lang, "lesson.heading", n+1, title)
}

// Clock writes a duration in seconds as a player does: "4:05", "1:02:03".
func Clock(seconds float64) string {
	if math.IsNaN(seconds) || seconds < 0 {
		seconds = 0
	}
	s := int(seconds)
	if h := s / 3600; h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, s%3600/60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// VendorFiles are the browser libraries the pages load from the vendor folder.
func VendorFiles() []string {
	return []string{"hls.min.js", "openseadragon.min.js",
		// Photo Sphere Viewer and three.js for the panorama halls: ES modules whose imports
		// deploy/install.sh points at one another in this folder.
		"three.module.min.js", "three.core.min.js", "psv-core.module.js", "psv-markers.module.js",
		"psv-virtual-tour.module.js", "psv-core.css", "psv-markers.css", "psv-virtual-tour.css"}
}

// FindVendor is the folder of the browser libraries: dir when given, otherwise web/dist of
// $CC_TOOLS_DIR (where deploy/install.sh put them when that was set), otherwise .tools/web/dist
// in or above the working directory; "" when there is none (the players then use the
// browser's own HLS or the original file).
func FindVendor(dir string) string {
	if dir != "" {
		return dir
	}
	holds := func(p string) bool {
		st, err := os.Stat(filepath.Join(p, VendorFiles()[0]))
		return err == nil && !st.IsDir()
	}
	if tools := os.Getenv("CC_TOOLS_DIR"); tools != "" && holds(filepath.Join(tools, "web", "dist")) {
		return filepath.Join(tools, "web", "dist")
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; ; d = filepath.Dir(d) {
		if p := filepath.Join(d, ".tools", "web", "dist"); holds(p) {
			return p
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}
