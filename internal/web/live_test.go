package web

import (
	"bytes"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/i18n"
)

// sampleLecture is a scheduled public lecture of 大武口区文化馆 on 2026-12-01 19:30 Beijing time.
func sampleLecture() LectureCard {
	start := time.Date(2026, 12, 1, 11, 30, 0, 0, time.UTC)
	return LectureCard{ID: "lec-1", Title: "石炭井的煤与人", Lecturer: "宁夏大学 王教授", Unit: "大武口区文化馆", State: "scheduled",
		Start: start, End: start.Add(90 * time.Minute), Minutes: 90}
}

func lectureWith(change func(*LectureData)) *LectureData {
	d := &LectureData{LectureCard: sampleLecture(), Description: "从 1958 年说起。\n第二段。", MayWatch: true}
	change(d)
	return d
}

// liveKeys are the keys the live pages build at run time.
func liveKeys() []string {
	var keys []string
	for _, st := range LectureStates() {
		keys = append(keys, lectureStateKey(st))
	}
	return keys
}

// liveCases are the live lecture pages in the checks of TestLibraryPages (labels, ids,
// keys, scripts, inline styles).
func liveCases() []libCase {
	lecturer := &Viewer{Name: "zhang", DisplayName: "张老师", Role: "lecturer", Unit: "dwk-culture-centre"}
	citizen := &Viewer{Name: "li", DisplayName: "李华", Role: "citizen"}
	live := sampleLecture()
	live.ID, live.State, live.Title = "lec-2", "live", "花儿的唱法"
	replay := sampleLecture()
	replay.ID, replay.State, replay.ReplayItem, replay.Cover = "lec-3", "replay_ready", "szm-9", "/c.jpg"
	registered := sampleLecture()
	registered.Registered = true
	studio := &StudioData{Lecture: *lectureWith(func(d *LectureData) { d.SignedIn, d.CanEdit = true, true }),
		WHIPURL: "https://wenhuayun.example.cn/api/v1/lectures/lec-1/whip", CanRotate: true,
		WindowFrom: sampleLecture().Start.Add(-30 * time.Minute), WindowTo: sampleLecture().End.Add(30 * time.Minute)}
	return []libCase{
		{"lectures", PageData{Page: "lectures", Data: &LecturesData{Live: []LectureCard{live}, Upcoming: []LectureCard{sampleLecture(), registered},
			Replays: []LectureCard{replay}}},
			[]string{`id="lectures-live"`, `href="/lectures/lec-2"`, `href="/lectures/lec-1"`, `href="/memory/items/szm-9"`, `datetime="2026-12-01T19:30:00&#43;08:00"`,
				`href="/lectures/calendar.ics"`, `href="/lectures/feed.rss"`, `href="/lectures/feed.atom"`, `href="/lectures" aria-current="page"`, "live.css"},
			[]string{`id="no-upcoming"`, `id="no-replays"`, `role="alert"`, "live.js"}},
		{"lectures empty", PageData{Page: "lectures", Data: &LecturesData{}}, []string{`id="no-upcoming"`, `id="no-replays"`},
			[]string{`id="lectures-live"`, `id="upcoming-list"`}},
		{"lectures failed", PageData{Page: "lectures", Data: &LecturesData{Failed: true}}, []string{`role="alert"`}, []string{`id="no-upcoming"`}},
		{"lecture scheduled", PageData{Page: "lecture", Data: lectureWith(func(*LectureData) {})},
			[]string{`id="lecture-page"`, `data-state="scheduled"`, `data-start="2026-12-01T19:30:00&#43;08:00"`, `id="lecture-countdown"`,
				`href="/lectures/lec-1/calendar.ics"`, `id="live-player" data-when="live" hidden`, `id="chat-panel"`, `id="chat-login"`,
				`href="/login?next=/lectures/lec-1"`, "live.js", "library.js", `role="log"`, `aria-live="polite"`},
			[]string{`id="panel-scheduled" data-when="scheduled" hidden`, `id="chat-form"`, `id="studio-link"`, `id="sign-in-to-watch"`}},
		{"lecture live", PageData{Page: "lecture", Viewer: citizen, CSRF: "c", Data: lectureWith(func(d *LectureData) { d.State, d.SignedIn = "live", true })},
			[]string{`<video id="live-video"`, `playsinline`, `id="viewer-count"`, `id="viewer-announce"`, `id="chat-form"`, `id="chat-kind-question"`,
				`id="chat-text"`, `maxlength="500"`, `id="live-sound" hidden`, `id="panel-scheduled" data-when="scheduled" hidden`},
			[]string{`id="live-player" data-when="live" hidden`, `id="chat-panel" aria-labelledby="chat-title" data-id="lec-1" data-can-edit="" hidden`, `id="chat-login"`}},
		{"lecture moderator", PageData{Page: "lecture", Viewer: lecturer, CSRF: "c", Data: lectureWith(func(d *LectureData) { d.State, d.SignedIn, d.CanEdit = "live", true, true })},
			[]string{`data-can-edit="1"`, `id="studio-link"`, `href="/studio/lectures/lec-1"`, `id="chat-moderation-status"`}, nil},
		{"lecture registered visitor", PageData{Page: "lecture", Data: lectureWith(func(d *LectureData) { d.Registered, d.MayWatch = true, false })},
			[]string{`id="sign-in-to-watch"`, `href="/login?next=/lectures/lec-1"`},
			[]string{`id="live-video"`, `id="chat-panel"`}},
		{"lecture replay", PageData{Page: "lecture", Data: lectureWith(func(d *LectureData) { d.State, d.ReplayItem, d.Peak, d.Total = "replay_ready", "szm-9", 12, 40 })},
			[]string{`id="replay-link" href="/memory/items/szm-9"`, `id="lecture-audience"`, "12", "40"},
			[]string{`id="panel-replay" data-when="replay_ready" hidden`}},
		{"lecture cancelled", PageData{Page: "lecture", Data: lectureWith(func(d *LectureData) { d.State = "cancelled" })},
			[]string{`id="panel-cancelled" data-when="cancelled">`}, []string{`id="sign-in-to-watch"`}},
		{"studio", PageData{Page: "studio", Viewer: lecturer, CSRF: "c", Data: studio},
			[]string{`id="studio"`, `data-whip="/api/v1/lectures/lec-1/whip"`, `id="studio-source-camera"`, `id="studio-source-screen"`, `id="studio-camera"`,
				`id="studio-mic"`, `id="studio-use-mic"`, `<video id="studio-video" class="live-video studio-video" muted`, `id="studio-go-live"`,
				`id="studio-end" disabled`, `id="key-rotate"`, `id="key-value"`, `value="https://wenhuayun.example.cn/api/v1/lectures/lec-1/whip"`,
				"zerolatency", "bframes=0", "2500", `data-can-edit="1"`, `id="chat-form"`, `href="/console/lectures" aria-current="page"`},
			[]string{`id="chat-panel" aria-labelledby="chat-title" data-id="lec-1" data-can-edit="1" hidden`, `id="studio-go-live" disabled`}},
		{"studio ended", PageData{Page: "studio", Viewer: lecturer, CSRF: "c", Data: &StudioData{Lecture: *lectureWith(func(d *LectureData) {
			d.State, d.SignedIn, d.CanEdit = "ended", true, true
		})}}, []string{`id="studio-go-live" disabled`}, []string{`id="key-rotate"`}},
		{"console lectures", PageData{Page: "console_lectures", Viewer: lecturer, CSRF: "c", Data: &ConsoleLecturesData{Lectures: []LectureCard{sampleLecture(), replay}}},
			[]string{`id="new-lecture-link"`, `href="/studio/lectures/lec-1"`, `href="/console/lectures/lec-1"`, `href="/console/lectures/lec-3"`, `id="console-lectures"`},
			[]string{`href="/studio/lectures/lec-3"`, `id="no-console-lectures"`}},
		{"console lectures empty", PageData{Page: "console_lectures", Viewer: lecturer, CSRF: "c", Data: &ConsoleLecturesData{}},
			[]string{`id="no-console-lectures"`}, nil},
		{"console lecture new", PageData{Page: "console_lecture", Viewer: lecturer, CSRF: "c", Data: &ConsoleLectureData{Cover: "null",
			Form:      LectureForm{Lecturer: "zhang", Unit: "dwk", Minutes: 90, Visibility: "public"},
			Lecturers: []Param{{Name: "zhang", Value: "张老师 (zhang)"}}, UnitOptions: []Param{{Name: "dwk", Value: "大武口区"}}}},
			[]string{`id="lecture-form"`, `<option value="zhang" selected>`, `<option value="dwk" selected>`, `type="datetime-local" id="lecture-start"`,
				`id="lecture-minutes" name="duration_minutes" data-field="duration_minutes" required min="1" max="720" step="1" value="90"`,
				`<option value="public" selected>`, `id="lecture-created"`, `id="created-key"`},
			[]string{`id="lecture-cancel"`, `id="lecture-state"`}},
		{"console lecture edit", PageData{Page: "console_lecture", Viewer: lecturer, CSRF: "c", Data: &ConsoleLectureData{ID: "lec-1", Version: "e1", State: "scheduled",
			Cover:     `{"item":"szm-1","path":"files/a.jpg"}`,
			Form:      LectureForm{Title: "石炭井的煤与人", Lecturer: "zhang", Unit: "dwk", Start: "2026-12-01T19:30", Minutes: 90, Visibility: "registered"},
			Lecturers: []Param{{Name: "zhang", Value: "张老师 (zhang)"}}, UnitOptions: []Param{{Name: "dwk", Value: "大武口区"}}}},
			[]string{`data-version="e1"`, `value="2026-12-01T19:30"`, `<option value="registered" selected>`, `id="lecture-cancel"`, `id="cancel-confirm" hidden`,
				`href="/studio/lectures/lec-1"`, `data-cover="{&#34;item&#34;`},
			nil},
		{"home with lectures", PageData{Page: "home", Data: &HomeData{Themes: testThemes, LiveLectures: []LectureCard{live},
			Lectures: []LectureCard{sampleLecture()}}},
			[]string{`id="home-live"`, `href="/lectures/lec-2"`, `id="home-lectures"`, `href="/lectures/lec-1"`, `datetime="2026-12-01T19:30:00&#43;08:00"`},
			nil},
	}
}

// TestLivePagesContent checks the words of the live pages in each language: states, times
// in Beijing time, the "registered only" notice.
func TestLivePagesContent(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		d    PageData
		want []string
	}{
		{"zh listing", PageData{Lang: i18n.ZH, Page: "lectures", Data: &LecturesData{Upcoming: []LectureCard{sampleLecture()}}},
			[]string{"2026年12月1日（周二）19:30–21:00", "（北京时间）", "主讲：宁夏大学 王教授", "主办：大武口区文化馆"}},
		{"en listing", PageData{Lang: i18n.EN, Page: "lectures", Data: &LecturesData{Upcoming: []LectureCard{sampleLecture()}}},
			[]string{"Tue 1 Dec 2026, 19:30–21:00", "(Beijing time)", "Speaker: 宁夏大学 王教授"}},
		{"zh live tag", PageData{Lang: i18n.ZH, Page: "lecture", Data: lectureWith(func(d *LectureData) { d.State = "live" })},
			[]string{`<span class="tag state-tag state-live" id="lecture-state">直播中</span>`, "讲座将于 2026年12月1日（周二）19:30 开始。"}},
		{"en registered", PageData{Lang: i18n.EN, Page: "lecture", Data: lectureWith(func(d *LectureData) { d.Registered, d.MayWatch = true, false })},
			[]string{"Registered users (sign in)", "This lecture is for registered users"}},
		{"zh studio", PageData{Lang: i18n.ZH, Page: "studio", Viewer: &Viewer{Name: "zhang", Role: "lecturer"}, Data: &StudioData{
			Lecture: *lectureWith(func(d *LectureData) { d.SignedIn, d.CanEdit = true, true }), WHIPURL: "http://x/api/v1/lectures/lec-1/whip",
			WindowFrom: sampleLecture().Start.Add(-30 * time.Minute), WindowTo: sampleLecture().End.Add(30 * time.Minute)}},
			[]string{"直播间：石炭井的煤与人", "可开播时间：2026年12月1日（周二）19:00 至 2026年12月1日（周二）21:30（北京时间）。"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := render(t, r, tc.d)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %s", w)
				}
			}
		})
	}
}

func TestLectureTime(t *testing.T) {
	start := time.Date(2026, 12, 31, 15, 0, 0, 0, time.UTC) // 23:00 in Beijing
	if got := LectureTime(i18n.ZH, start); got != "2026年12月31日（周四）23:00" {
		t.Errorf("zh = %q", got)
	}
	if got := LectureTime(i18n.EN, start); got != "Thu 31 Dec 2026, 23:00" {
		t.Errorf("en = %q", got)
	}
	// Past midnight in Beijing: the end names its day.
	if got := LectureSpan(i18n.ZH, start, start.Add(2*time.Hour)); got != "2026年12月31日（周四）23:00 – 2027年1月1日（周五）01:00" {
		t.Errorf("span over midnight = %q", got)
	}
	if got := isoTime(start); got != "2026-12-31T23:00:00+08:00" {
		t.Errorf("iso = %q", got)
	}
	if LectureTime(i18n.ZH, time.Time{}) != "" || isoTime(time.Time{}) != "" || LectureSpan(i18n.EN, time.Time{}, start) != "" {
		t.Error("a zero time should write nothing")
	}
}

func TestLiveKeys(t *testing.T) {
	for _, k := range liveKeys() {
		if !i18n.Has(k) {
			t.Errorf("key %q missing", k)
		}
	}
	// Keys formatted with arguments by the templates.
	for key, args := range map[string][]any{
		"lecture.by": {"王"}, "lecture.unit_is": {"文化馆"}, "lecture.starts_at": {"19:30"}, "lecture.audience_counted": {3, 9},
		"lecture.video_label": {"x"}, "lectures.watch_label": {"x"}, "lectures.replay_label": {"x"}, "lconsole.studio_label": {"x"},
		"lconsole.edit_label": {"x"}, "studio.heading": {"x"}, "studio.window": {"a", "b"},
	} {
		for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
			if got := i18n.T(lang, key, args...); strings.Contains(got, "%!") {
				t.Errorf("%s in %s: %q", key, lang, got)
			}
		}
	}
	// Accessible names hold the visible words of their control (WCAG 2.5.3), from the start.
	for label, visible := range map[string]string{
		"lectures.watch_label": "lectures.watch", "lconsole.studio_label": "lconsole.studio", "lconsole.edit_label": "lconsole.edit",
		"chat.mark_answered_label": "chat.mark_answered", "chat.delete_label": "chat.delete", "chat.mute_label": "chat.mute",
	} {
		for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
			if l, v := i18n.T(lang, label, "x"), i18n.T(lang, visible); !strings.HasPrefix(l, v) {
				t.Errorf("%s: %s = %q does not start with %s = %q", lang, label, l, visible, v)
			}
		}
	}
	// Texts the script fills in: each keeps its placeholder in both languages, and none has
	// a format verb the script would show as it is.
	for key, ph := range map[string]string{
		"lecture.countdown": "{time}", "lecture.days": "{n}", "lecture.hours": "{n}", "lecture.minutes": "{n}", "lecture.viewers": "{n}",
		"chat.mark_answered_label": "{name}", "chat.delete_label": "{name}", "chat.mute_label": "{name}", "chat.muted_done": "{name}",
		"chat.wait": "{n}", "chat.muted_wait": "{n}", "studio.state_now": "{state}", "studio.codec": "{codec}",
	} {
		for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
			got := i18n.T(lang, key)
			if !strings.Contains(got, ph) || strings.Contains(got, "%") {
				t.Errorf("%s in %s = %q, want %s and no %%", key, lang, got, ph)
			}
		}
	}
}

// TestLiveScriptTexts: every data-t-* attribute live.js reads is set by a template from the
// catalogue, and the script does what the pages promise.
func TestLiveScriptTexts(t *testing.T) {
	js, sources := checkScriptTexts(t, "live.js", 40)
	// The dynamic state names (stateName) come from data-t-state-* on both pages.
	for _, page := range []string{"live_player.html", "studio.html"} {
		for _, st := range LectureStates() {
			attr := `data-t-state-` + strings.ReplaceAll(st, "_", "-") + `="{{t $.Lang "` + lectureStateKey(st) + `"}}"`
			if !strings.Contains(sources[page], attr) {
				t.Errorf("%s lacks %s", page, attr)
			}
		}
	}
	for _, must := range []string{"RTCPeerConnection", "'recvonly'", "'sendonly'", "application/sdp", "X-CSRF-Token", "setCodecPreferences",
		"/whep", "/ice-servers", "'pagehide'", "keepalive", "'DELETE'", "EventSource", "'history'", "'message'", "'delete'", "'answered'",
		"/stats", "/mutes", "/key", "getUserMedia", "getDisplayMedia", "retry_after", "+08:00", "If-Match", "textContent", "Asia/Shanghai"} {
		if !bytes.Contains(js, []byte(must)) {
			t.Errorf("live.js lacks %s", must)
		}
	}
	if bytes.Contains(js, []byte("innerHTML")) || bytes.Contains(js, []byte(".style.")) || bytes.Contains(js, []byte("insertAdjacentHTML")) {
		t.Error("live.js writes HTML or inline styles")
	}
}

func TestLiveCSS(t *testing.T) {
	b, err := fs.ReadFile(Static(), "live.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(b)
	for _, must := range []string{"html.elderly", "min-height: 48px", ".live-video", ".chat-list", ".state-tag.state-live"} {
		if !strings.Contains(css, must) {
			t.Errorf("live.css lacks %s", must)
		}
	}
	// The live tag is white on the error red, in both palettes.
	if c := contrast("#ffffff", "#a8231a"); c < 4.5 {
		t.Errorf("live tag contrast %.2f", c)
	}
	if c := contrast("#ffffff", "#8a0000"); c < 7 {
		t.Errorf("elderly live tag contrast %.2f", c)
	}
}

// TestEmbedPage: the embeddable player renders in both languages without the site's frame,
// for each state, with unique ids, no inline script or style, and links that leave the
// frame for a new tab.
func TestEmbedPage(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	replay := &FileView{Kind: "video", Name: "replay.mp4", MediaType: "video/mp4", URL: "/api/v1/items/szm-1/files/replay.mp4",
		Stream: "/api/v1/items/szm-1/media/abc/master.m3u8"}
	cases := map[string]*EmbedData{
		"scheduled": {Kind: "lecture", LectureData: *lectureWith(func(*LectureData) {}), PageURL: "/lectures/lec-1"},
		"live":      {Kind: "lecture", LectureData: *lectureWith(func(d *LectureData) { d.State = "live" }), PageURL: "/lectures/lec-1"},
		"members":   {Kind: "lecture", LectureData: *lectureWith(func(d *LectureData) { d.MayWatch = false }), PageURL: "/lectures/lec-1"},
		"replay":    {Kind: "lecture", LectureData: *lectureWith(func(d *LectureData) { d.State = "replay_ready"; d.ReplayItem = "szm-1" }), PageURL: "/lectures/lec-1", Replay: replay},
		"no replay": {Kind: "lecture", LectureData: *lectureWith(func(d *LectureData) { d.State = "replay_ready" }), PageURL: "/lectures/lec-1"},
		"cancelled": {Kind: "lecture", LectureData: *lectureWith(func(d *LectureData) { d.State = "cancelled" }), PageURL: "/lectures/lec-1"},
	}
	blank := regexp.MustCompile(`<a [^>]*target="_blank"[^>]*>`)
	for name, d := range cases {
		for _, l := range []i18n.Lang{i18n.ZH, i18n.EN} {
			t.Run(name+"/"+string(l), func(t *testing.T) {
				var buf bytes.Buffer
				if err := r.Render(&buf, PageData{Lang: l, Page: "embed", Path: "/embed/lectures/lec-1", Nonce: "n0nce", Data: d}); err != nil {
					t.Fatal(err)
				}
				out := buf.String()
				if !strings.Contains(out, `<html lang="`+l.HTMLLang()+`">`) || !strings.Contains(out, "<title>石炭井的煤与人 · ") ||
					strings.Contains(out, "{{") || strings.Contains(out, `id="site-menu"`) || strings.Contains(out, "<script>") || strings.Contains(out, " style=") {
					t.Fatalf("embed page:\n%s", out)
				}
				checkLabelsAndIDs(t, renderCase{page: "embed", lang: l}, PageData{}, out)
				for _, a := range blank.FindAllString(out, -1) {
					if !strings.Contains(a, `rel="noopener"`) {
						t.Errorf("link to a new tab without rel=noopener: %s", a)
					}
				}
				if has := strings.Contains(out, `id="live-video"`); has != d.MayWatch {
					t.Errorf("live player shown %v, may watch %v", has, d.MayWatch)
				}
				if has := strings.Contains(out, `id="replay-video"`) && strings.Contains(out, replay.Stream) && strings.Contains(out, replay.URL); has != (d.Replay != nil) {
					t.Errorf("replay player shown %v, replay %v", has, d.Replay != nil)
				}
			})
		}
	}
}
