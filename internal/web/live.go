package web

import (
	"strings"
	"time"

	"github.com/shizuishan/culturecloud/internal/i18n"
)

// The page data of the live lectures (PageData.Data): the listing, a lecture's page with
// the live player and the chat, the lecturer's studio and the lecture console.

// LectureCard is a lecture in a list, and the head of a lecture's own page.
type LectureCard struct {
	ID, Title  string
	Lecturer   string // the name shown to citizens
	Unit       string // display name of the organising unit
	State      string // scheduled, live, ended, replay_ready or cancelled
	Start, End time.Time
	Minutes    int
	ReplayItem string // library item of the recording, once replay_ready
	Registered bool   // only signed-in accounts may watch
	Cover      string // URL of the cover image, "" for none
}

// LecturesData is the data of /lectures.
type LecturesData struct {
	Live     []LectureCard
	Upcoming []LectureCard
	Replays  []LectureCard
	Failed   bool // the store did not answer
}

// LectureData is the data of a lecture's page.
type LectureData struct {
	LectureCard
	Description string
	SignedIn    bool
	MayWatch    bool // public, or the viewer is signed in
	CanEdit     bool // the viewer may moderate the chat and open the studio
	Peak, Total int64
	// Tour is the exhibition a guided tour leads through, as the public sees it; nil for a
	// lecture that is no tour (or whose exhibition cannot be read now).
	Tour *ExhibitionData
}

// EmbedData is the data of an embeddable player (/embed/lectures/{id}): the live player
// while live, the replay when there is one, what is coming or why not otherwise. Kind says
// what plays: "lecture", or "tour" (/embed/tours/{id}: the player and the walkthrough
// following the guide).
type EmbedData struct {
	Kind string
	LectureData
	PageURL string    // the thing's own page on the site, opened in a new tab
	Replay  *FileView // the replay's video, when it is ready and may be watched
	Track   string    // a tour's kept positions as JSON, which the replay follows; "" when none
}

// StudioData is the data of the lecturer's studio.
type StudioData struct {
	Lecture LectureData
	WHIPURL string // absolute URL of the lecture's WHIP endpoint, for OBS
	// CanRotate: the viewer's role may make a new stream key (lecturers, librarians, admins).
	CanRotate bool
	// WindowFrom and WindowTo bound when the lecture may go live.
	WindowFrom, WindowTo time.Time
}

// ConsoleLecturesData is the lecture console's list of the lectures the caller may edit.
type ConsoleLecturesData struct {
	Lectures []LectureCard
}

// ConsoleLectureData is the data of the form that schedules (or edits) a lecture.
type ConsoleLectureData struct {
	ID, Version, State string
	// Now is the time in Beijing when the page was made, shown beside the start field
	// (the script keeps it current).
	Now         time.Time
	Form        LectureForm
	Cover       string  // JSON of the cover file reference, "null" when none
	Lecturers   []Param // account name, "display name (account)"
	UnitOptions []Param
}

// LectureForm holds the values of the lecture form's controls.
type LectureForm struct {
	Title, LecturerName, Lecturer, Unit string
	Start                               string // datetime-local value in Beijing time, "2026-11-26T19:30"
	Minutes                             int
	Description, Visibility             string
}

// beijing is the time zone in which the pages write the times of lectures.
var beijing = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

// Beijing is t in the city's time zone (Asia/Shanghai).
func Beijing(t time.Time) time.Time { return t.In(beijing) }

var (
	zhWeekdays = []string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}
)

// LectureTime writes when a lecture is, in Beijing time: "2026年11月26日（周四）19:30" or
// "Thu 26 Nov 2026, 19:30".
func LectureTime(lang i18n.Lang, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	b := Beijing(t)
	if lang == i18n.EN {
		return b.Format("Mon 2 Jan 2006, 15:04")
	}
	return b.Format("2006年1月2日") + "（" + zhWeekdays[b.Weekday()] + "）" + b.Format("15:04")
}

// LectureSpan writes a lecture's start and end: the end as a clock time when it is the same
// day, "2026年11月26日（周四）19:30–21:00".
func LectureSpan(lang i18n.Lang, start, end time.Time) string {
	if start.IsZero() {
		return ""
	}
	s := LectureTime(lang, start)
	if end.IsZero() || !end.After(start) {
		return s
	}
	if Beijing(start).Format("20060102") == Beijing(end).Format("20060102") {
		return s + "–" + Beijing(end).Format("15:04")
	}
	return s + " – " + LectureTime(lang, end)
}

// beijingMinute is t as the clock beside the lecture form shows it (the script writes the
// same form as it keeps the clock current).
func beijingMinute(t time.Time) string { return Beijing(t).Format("2006-01-02 15:04") }

// isoTime is t for a <time datetime> and the scripts: RFC 3339 in Beijing time.
func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return Beijing(t).Format(time.RFC3339)
}

// lectureStateKey is the i18n key of a lecture's state.
func lectureStateKey(state string) string {
	return "lecture.state." + strings.ReplaceAll(state, "-", "_")
}

// LectureStates are the states a lecture may be in, for the pages' keys.
func LectureStates() []string {
	return []string{"scheduled", "live", "ended", "replay_ready", "cancelled"}
}

// ChatView is what the chat and questions panel needs, on a lecture's page and in the studio.
type ChatView struct {
	ID       string
	SignedIn bool // may post; visitors are asked to sign in
	CanEdit  bool // moderation buttons
	Hidden   bool // the lecture is not live yet: the script shows the panel when it is
}

// Chat is the chat panel of a lecture's page: shown while the lecture is live.
func (d *LectureData) Chat() ChatView {
	return ChatView{ID: d.ID, SignedIn: d.SignedIn, CanEdit: d.CanEdit, Hidden: d.State != "live"}
}

// Chat is the studio's moderation view of the chat, always shown.
func (d *StudioData) Chat() ChatView {
	return ChatView{ID: d.Lecture.ID, SignedIn: true, CanEdit: d.Lecture.CanEdit}
}
