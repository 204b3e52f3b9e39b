package e2e_test

import (
	"context"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// liveBrowser starts Debian's Chromium like newBrowser, with the flags live media needs in
// a headless test: WebRTC over the loopback interface, media that may start without a
// click, and (with fakeMedia) a fake camera and microphone that need no permission prompt.
// Its bound is longer than newBrowser's: a live lecture goes through several pages.
func liveBrowser(t *testing.T, fakeMedia bool) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Unavailable(t, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	if fakeMedia {
		opts = append(opts, chromedp.Flag("use-fake-device-for-media-stream", true), chromedp.Flag("use-fake-ui-for-media-stream", true))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 8*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// scriptErrors records the uncaught exceptions of a tab's scripts from now on; the
// returned func lists them.
func scriptErrors(t *testing.T, ctx context.Context) func() []string {
	t.Helper()
	var (
		mu   sync.Mutex
		seen []string
	)
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok && e.ExceptionDetails != nil {
			text := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				text += " " + e.ExceptionDetails.Exception.Description
			}
			mu.Lock()
			seen = append(seen, text)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("listen for script errors: %v", err)
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// waitFor polls a JavaScript condition, failing with what describe says about the page.
// Waits longer than a few seconds are logged, to see where a slow run spent its time.
func waitFor(t *testing.T, ctx context.Context, what, cond, describe string, within time.Duration) {
	t.Helper()
	began := time.Now()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(within),
		chromedp.WithPollingInterval(200*time.Millisecond))); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](describe))
		t.Fatalf("%s: %v (%s)", what, err, state)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Logf("%s took %s", what, took.Round(100*time.Millisecond))
	}
}

// lecturePageState describes a lecture's page for failure messages.
const lecturePageState = `(function () {
	var p = document.getElementById('lecture-page');
	if (!p) return 'no lecture page on ' + location.pathname;
	var v = document.getElementById('live-video');
	var q = v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
	var text = function (id) { var e = document.getElementById(id); return e ? e.textContent : null; };
	return JSON.stringify({state: p.getAttribute('data-state'), playing: p.getAttribute('data-playing'),
		frames: q && q.totalVideoFrames, ready: v && v.readyState, paused: v && v.paused, muted: v && v.muted,
		player: text('player-status'), viewers: text('viewer-count'), lecture: text('lecture-status'), chat: text('chat-status'),
		connection: text('chat-connection')});
})()`

// studioState describes the studio for failure messages.
const studioState = `(function () {
	var s = document.getElementById('studio');
	if (!s) return 'no studio on ' + location.pathname;
	var text = function (id) { var e = document.getElementById(id); return e ? e.textContent : null; };
	return JSON.stringify({state: s.getAttribute('data-state'), live: s.getAttribute('data-live'), codec: s.getAttribute('data-codec'),
		previewing: s.getAttribute('data-previewing'), status: text('studio-status'), preview: text('preview-status'),
		viewers: text('viewer-count'), questions: text('question-list'), chat: text('chat-list'), moderation: text('chat-moderation-status')});
})()`

// lectureAPIState is what the walk reads of a lecture through the API.
type lectureAPIState struct {
	State    string `json:"state"`
	Start    time.Time
	Lecturer struct{ Name, Account string }
}

// TestLiveLectureInBrowsers is the live lecture walk-through: a lecturer schedules a lecture
// in the console (and sees its stream key once), opens the studio, chooses the camera and
// goes live from the browser; a visitor's player plays the stream over WHEP and counts as a
// viewer; a signed-in citizen posts a message and a question, which the studio shows; the
// lecturer marks the question answered (the citizen sees it) and ends the broadcast, and the
// lecture page says it ended. Each step builds on the ones before; the first that fails
// ends the walk.
func TestLiveLectureInBrowsers(t *testing.T) {
	w := newLiveWalk(t)
	for _, step := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"the lecturer schedules the lecture", w.schedule},
		{"a visitor sees the countdown", w.countdown},
		{"the studio goes live", w.goLive},
		{"the visitor plays the stream", w.visitorPlays},
		{"a citizen posts a message and a question", w.citizenPosts},
		{"the studio shows them", w.studioShows},
		{"the question is answered", w.questionAnswered},
		{"elderly mode", w.elderlyMode},
		{"posting too fast", w.postingTooFast},
		{"delete and mute", w.deleteAndMute},
		{"the page in English", w.inEnglish},
		{"the lecturer ends the broadcast", w.end},
		{"no script failed", w.noScriptErrors},
	} {
		if !t.Run(step.name, step.run) {
			t.FailNow()
		}
	}
}

const (
	liveTitle                    = "石炭井的煤与人：工业遗产漫谈"
	citizenName, citizenPassword = "xiao.hong", "Yellow-River-Flows-9"
	liveMessage, liveQuestion    = "老师好！我爷爷当年就在石炭井挖煤。", "请问大武口洗煤厂是哪一年建成的？"
)

// liveWalk is what the steps of TestLiveLectureInBrowsers share: the server, the three
// browsers (made here, since a step's cleanup would close them), and the lecture.
type liveWalk struct {
	srv           *testenv.Server
	lec, vis, cit context.Context
	errors        map[string]func() []string
	api           *apiUser
	id            string
}

func newLiveWalk(t *testing.T) *liveWalk {
	cfg := testenv.Config(t, testenv.Shared(t))
	cfg.Live.EndGrace = 2 * time.Second // "end" takes effect after the grace period
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w := &liveWalk{srv: testenv.StartServer(t, cfg)}
	createLecturer(t, w.srv.URL)
	registerCitizen(t, w.srv.URL, citizenName, "小红", citizenPassword)
	w.api = apiLogin(t, w.srv.URL, lecturerName, lecturerPassword)
	w.lec = liveBrowser(t, true)
	w.vis = liveBrowser(t, false)
	// Listening starts the browsers, so the citizen's context, a browser context of its own
	// in the visitor's Chromium, comes after.
	w.errors = map[string]func() []string{"lecturer": scriptErrors(t, w.lec), "visitor": scriptErrors(t, w.vis)}
	cit, cancelCit := chromedp.NewContext(w.vis, chromedp.WithNewBrowserContext())
	t.Cleanup(cancelCit)
	w.cit = cit
	w.errors["citizen"] = scriptErrors(t, w.cit)
	return w
}

// schedule: the lecturer schedules the lecture ten minutes from now, in Beijing time, and sees its stream key once.
func (w *liveWalk) schedule(t *testing.T) {
	loginInChinese(t, w.lec, w.srv.URL, lecturerName, lecturerPassword)
	start := time.Now().In(time.FixedZone("CST", 8*3600)).Add(10 * time.Minute)
	do(t, w.lec, "schedule a lecture in the console",
		chromedp.Navigate(w.srv.URL+"/console/lectures"),
		chromedp.Click(chromedp.ID("new-lecture-link")),
		chromedp.WaitVisible(chromedp.ID("lecture-form")),
		chromedp.SendKeys(chromedp.ID("lecture-title"), liveTitle),
		chromedp.SendKeys(chromedp.ID("lecture-lecturer-name"), "大武口区文化馆 刘老师"),
		chromedp.SetValue(chromedp.ID("lecture-start"), start.Format("2006-01-02T15:04")),
		chromedp.SetValue(chromedp.ID("lecture-minutes"), "60"),
		chromedp.SendKeys(chromedp.ID("lecture-description"), "从石炭井的矿井到大武口洗煤厂，讲一座煤城的记忆。"),
		chromedp.Click(chromedp.ID("lecture-save")),
		chromedp.WaitVisible(chromedp.ID("lecture-created")),
	)
	screenshot(t, w.lec, "console-lecture-created-zh.png")
	key := get(t, w.lec, "stream key", chromedp.Value(chromedp.ID("created-key")))
	if len(key) < 32 {
		t.Fatalf("the console shows the stream key %q", key)
	}
	loc := get(t, w.lec, "location", chromedp.Location())
	w.id = loc[strings.LastIndex(loc, "/")+1:]
	if !strings.HasPrefix(w.id, "lec-") {
		t.Fatalf("the console did not move to the new lecture: %s", loc)
	}
	if focused := get(t, w.lec, "focus", chromedp.Evaluate[string](`document.activeElement.id`)); focused != "lecture-created" {
		t.Errorf("the focus is on %q after scheduling, want the stream key panel", focused)
	}
	var got lectureAPIState
	w.api.want(http.StatusOK, "GET", "/api/v1/lectures/"+w.id, nil, &got)
	if got.State != "scheduled" || !got.Start.Equal(start.Truncate(time.Minute)) || got.Lecturer.Account != lecturerName || got.Lecturer.Name != "大武口区文化馆 刘老师" {
		t.Fatalf("scheduled lecture %+v, want start %s", got, start.Truncate(time.Minute))
	}
}

// countdown: a visitor opens the lecture's page before it starts: a countdown and the calendar file.
func (w *liveWalk) countdown(t *testing.T) {
	do(t, w.vis, "open the lecture before it starts", chromedp.Navigate(w.srv.URL+"/lectures/"+w.id+"?lang=zh-CN"), chromedp.WaitVisible(chromedp.ID("lecture-countdown")))
	if cd := get(t, w.vis, "countdown", chromedp.TextContent(chromedp.ID("lecture-countdown"))); !strings.HasPrefix(cd, "距开始还有 ") || !strings.HasSuffix(cd, " 分钟") {
		t.Errorf("the countdown says %q", cd)
	}
	if href := get(t, w.vis, "calendar link", chromedp.AttributeValue(chromedp.ID("add-calendar"), "href")); href.Value != "/lectures/"+w.id+"/calendar.ics" {
		t.Errorf("the calendar link is %q", href.Value)
	}
	if hidden := get(t, w.vis, "player hidden", chromedp.Evaluate[bool](`document.getElementById('live-player').hidden && document.getElementById('chat-panel').hidden`)); !hidden {
		t.Error("the player or the chat shows before the lecture is live")
	}
	screenshot(t, w.vis, "lecture-scheduled-zh.png")
}

// goLive: the studio: camera, preview, go live.
func (w *liveWalk) goLive(t *testing.T) {
	do(t, w.lec, "open the studio", chromedp.Click(chromedp.ID("created-studio-link")), chromedp.WaitVisible(chromedp.ID("studio-go-live")))
	do(t, w.lec, "choose the camera and preview it",
		chromedp.Click(chromedp.ID("studio-source-camera")),
		chromedp.Click(chromedp.ID("studio-preview")),
	)
	waitFor(t, w.lec, "the preview shows the camera", `document.getElementById('studio').getAttribute('data-previewing') === '1' &&
		document.getElementById('studio-video').videoWidth > 0`, studioState, 30*time.Second)
	do(t, w.lec, "go live", chromedp.Click(chromedp.ID("studio-go-live")))
	waitFor(t, w.lec, "the studio is live", `document.getElementById('studio').getAttribute('data-live') === '1'`, studioState, 45*time.Second)
	codec := get(t, w.lec, "codec", chromedp.AttributeValue(chromedp.ID("studio"), "data-codec"))
	t.Logf("the browser publishes %s", codec.Value)
	var got lectureAPIState
	testwait.Within(t, "the lecture goes live", 30*time.Second, func() bool {
		w.api.want(http.StatusOK, "GET", "/api/v1/lectures/"+w.id, nil, &got)
		return got.State == "live"
	})
}

// visitorPlays: the visitor's page switches to the stream by itself, and plays it.
func (w *liveWalk) visitorPlays(t *testing.T) {
	waitFor(t, w.vis, "the visitor's page switches to the live stream", `document.getElementById('lecture-page').getAttribute('data-state') === 'live' &&
		!document.getElementById('live-player').hidden`, lecturePageState, 45*time.Second)
	if words := get(t, w.vis, "lecture status", chromedp.TextContent(chromedp.ID("lecture-status"))); words != "讲座开始直播了。" {
		t.Errorf("the lecture page announces %q when it goes live", words)
	}
	waitFor(t, w.vis, "the player shows frames of the stream", `(function () {
		var v = document.getElementById('live-video');
		return !!v && v.getVideoPlaybackQuality().totalVideoFrames > 0 && v.videoWidth > 0;
	})()`, lecturePageState, 90*time.Second)
	waitFor(t, w.vis, "the viewer count shows the visitor", `Number(document.getElementById('viewer-count').getAttribute('data-count')) >= 1`,
		lecturePageState, 30*time.Second)
	if status := get(t, w.vis, "player status", chromedp.TextContent(chromedp.ID("player-status"))); status != "正在播放直播。" {
		t.Errorf("the player says %q", status)
	}
	if n := get(t, w.vis, "chat form", chromedp.Evaluate[bool](`!!document.getElementById('chat-form')`)); n {
		t.Error("a visitor gets the chat form")
	}
}

// citizenPosts: a signed-in citizen finds the lecture in the listing and posts a message and a question.
func (w *liveWalk) citizenPosts(t *testing.T) {
	loginInChinese(t, w.cit, w.srv.URL, citizenName, citizenPassword)
	do(t, w.cit, "open the listing", chromedp.Navigate(w.srv.URL+"/lectures"), chromedp.WaitVisible(chromedp.ID("lectures-live")))
	if !get(t, w.cit, "live card", chromedp.Evaluate[bool](`!!document.querySelector('#live-list a[href="/lectures/`+w.id+`"]')`)) {
		t.Fatal("the listing does not show the live lecture")
	}
	screenshot(t, w.cit, "lectures-zh.png")
	do(t, w.cit, "open the lecture from the listing", chromedp.Click(chromedp.CSS(`#live-list h3 a[href="/lectures/`+w.id+`"]`)),
		chromedp.WaitVisible(chromedp.ID("chat-form")))
	waitFor(t, w.cit, "the chat is connected", `document.getElementById('no-messages') && !document.getElementById('no-messages').hidden`, lecturePageState, 15*time.Second)
	do(t, w.cit, "post a message",
		chromedp.Click(chromedp.ID("chat-kind-chat")),
		chromedp.SendKeys(chromedp.ID("chat-text"), liveMessage),
		chromedp.Click(chromedp.ID("chat-send")),
		chromedp.WaitVisible(chromedp.CSS("#chat-status .status-ok")),
	)
	do(t, w.cit, "ask a question",
		chromedp.Click(chromedp.ID("chat-kind-question")),
		chromedp.SendKeys(chromedp.ID("chat-text"), liveQuestion),
		chromedp.Click(chromedp.ID("chat-send")),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('#question-list li').length === 1`, chromedp.WithPollingTimeout(15*time.Second)),
	)
	if status := get(t, w.cit, "chat status", chromedp.TextContent(chromedp.ID("chat-status"))); !strings.Contains(status, "提问已提交") {
		t.Errorf("after the question the form says %q", status)
	}
}

// studioShows: the studio shows both, in their lists, with the viewers.
func (w *liveWalk) studioShows(t *testing.T) {
	waitFor(t, w.lec, "the studio shows the message and the question", `(function () {
		var m = document.querySelector('#chat-list li .chat-text');
		var q = document.querySelector('#question-list li .chat-text');
		return !!m && m.textContent === `+jsString(liveMessage)+` && !!q && q.textContent === `+jsString(liveQuestion)+`;
	})()`, studioState, 20*time.Second)
	if author := get(t, w.lec, "author", chromedp.TextContent(chromedp.CSS("#question-list li .chat-author"))); author != "小红" {
		t.Errorf("the question's author shows as %q", author)
	}
	waitFor(t, w.lec, "the studio counts the viewers", `Number(document.getElementById('viewer-count').getAttribute('data-count')) >= 2`, studioState, 30*time.Second)
	do(t, w.lec, "leave the controls", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
	screenshot(t, w.lec, "studio-zh.png")
}

// questionAnswered: the lecturer marks the question answered; the citizen sees it.
func (w *liveWalk) questionAnswered(t *testing.T) {
	do(t, w.lec, "mark the question answered", chromedp.Click(chromedp.CSS("#question-list li .chat-mark")))
	waitFor(t, w.cit, "the citizen sees the question answered", `(function () {
		var li = document.querySelector('#question-list li');
		return !!li && li.classList.contains('is-answered') && li.querySelector('.chat-answered').textContent === '已回答';
	})()`, lecturePageState, 20*time.Second)
	waitFor(t, w.cit, "the citizen's player plays too", `document.getElementById('live-video').getVideoPlaybackQuality().totalVideoFrames > 0`,
		lecturePageState, 60*time.Second)
	do(t, w.cit, "leave the form", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
	screenshot(t, w.cit, "lecture-page-zh.png")
}

// elderlyMode: the chat's controls are large targets.
func (w *liveWalk) elderlyMode(t *testing.T) {
	do(t, w.cit, "turn on elderly mode", chromedp.Click(chromedp.ID("elderly-toggle")))
	sizes := get(t, w.cit, "control sizes", chromedp.Evaluate[[]float64](`['chat-send', 'chat-kind-question', 'chat-text'].map(function (id) {
		return document.getElementById(id).getBoundingClientRect().height;
	})`))
	for i, h := range sizes {
		if h < 48 {
			t.Errorf("in elderly mode control %d of the chat form is %.0fpx high", i, h)
		}
	}
}

// postingTooFast: posting too fast gets a clear "wait" (the server allows 5 posts in 10 seconds).
func (w *liveWalk) postingTooFast(t *testing.T) {
	do(t, w.cit, "post too fast", chromedp.Evaluate[chromedp.Void](`(async function () {
		for (var i = 1; i <= 6 && !document.querySelector('#chat-status .status-error'); i++) {
			document.getElementById('chat-kind-chat').checked = true;
			document.getElementById('chat-text').value = '第 ' + i + ' 条';
			document.getElementById('chat-form').requestSubmit();
			await new Promise(function (r) { setTimeout(r, 500); });
		}
	})(), true`))
	waitFor(t, w.cit, "the form says to wait", `!!document.querySelector('#chat-status .status-error')`, lecturePageState, 15*time.Second)
	if words := get(t, w.cit, "chat status", chromedp.TextContent(chromedp.ID("chat-status"))); !rateWords.MatchString(words) {
		t.Errorf("posting too fast says %q", words)
	}
}

// deleteAndMute: the lecturer deletes the first message and mutes its author; the citizen's
// page drops the message, and the next post says for how long the citizen is muted.
func (w *liveWalk) deleteAndMute(t *testing.T) {
	do(t, w.lec, "delete the first message", chromedp.Click(chromedp.CSS("#chat-list li:first-child .chat-delete")))
	waitFor(t, w.cit, "the citizen's page drops the deleted message", `Array.prototype.every.call(document.querySelectorAll('#chat-list .chat-text'), function (p) {
		return p.textContent !== `+jsString(liveMessage)+`;
	})`, lecturePageState, 20*time.Second)
	if focused := get(t, w.lec, "focus", chromedp.Evaluate[string](`document.activeElement.className + ' ' + (document.activeElement.id || '')`)); !strings.Contains(focused, "chat-mark") &&
		!strings.Contains(focused, "chat-delete") && !strings.Contains(focused, "chat-list") {
		t.Errorf("after deleting, the focus is on %q", focused)
	}
	do(t, w.lec, "mute the citizen", chromedp.Click(chromedp.CSS("#chat-list li:first-child .chat-mute")),
		chromedp.WaitVisible(chromedp.CSS("#chat-moderation-status .status-ok")))
	do(t, w.cit, "post while muted",
		chromedp.SetValue(chromedp.ID("chat-text"), "还能发言吗？"),
		chromedp.Click(chromedp.ID("chat-send")),
		chromedp.Poll[chromedp.Void](`document.getElementById('chat-status').textContent.indexOf('禁言') >= 0`, chromedp.WithPollingTimeout(15*time.Second)),
	)
	if words := get(t, w.cit, "chat status", chromedp.TextContent(chromedp.ID("chat-status"))); words != "您已被主持人暂时禁言，约 10 分钟后可以再发言。" {
		t.Errorf("posting while muted says %q", words)
	}
}

// inEnglish: the same page in English, in elderly mode.
func (w *liveWalk) inEnglish(t *testing.T) {
	do(t, w.cit, "switch to English", chromedp.Click(chromedp.ID("lang-en")), chromedp.WaitReady(chromedp.CSS(`html[lang="en"]`)))
	waitFor(t, w.cit, "the English page plays the stream", `document.getElementById('live-video').getVideoPlaybackQuality().totalVideoFrames > 0 &&
		document.getElementById('player-status').textContent === 'Playing live.'`, lecturePageState, 60*time.Second)
	screenshot(t, w.cit, "lecture-page-elderly-en.png")
}

// end: the lecturer ends the broadcast (the studio asks first); the pages say the lecture has ended.
func (w *liveWalk) end(t *testing.T) {
	do(t, w.lec, "end the broadcast", chromedp.Click(chromedp.ID("studio-end")))
	// Ending is final: the studio asks first, and "keep broadcasting" leaves it live.
	do(t, w.lec, "keep broadcasting", chromedp.WaitVisible(chromedp.ID("end-confirm")), chromedp.Click(chromedp.ID("end-no")))
	if live := get(t, w.lec, "still live", chromedp.Evaluate[bool](`document.getElementById('end-confirm').hidden && !document.getElementById('studio-end').disabled`)); !live {
		t.Error("answering no to the end question did not keep the broadcast")
	}
	do(t, w.lec, "end the broadcast for good", chromedp.Click(chromedp.ID("studio-end")), chromedp.WaitVisible(chromedp.ID("end-yes")), chromedp.Click(chromedp.ID("end-yes")))
	waitFor(t, w.lec, "the studio says it ended", `document.getElementById('studio-status').textContent.indexOf('直播已结束') === 0`, studioState, 20*time.Second)
	waitFor(t, w.vis, "the visitor's page says the lecture ended", `(function () {
		var s = document.getElementById('lecture-page').getAttribute('data-state');
		return (s === 'ended' && !document.getElementById('panel-ended').hidden) || (s === 'replay_ready' && !document.getElementById('panel-replay').hidden);
	})()`, lecturePageState, 60*time.Second)
	if hidden := get(t, w.vis, "player hidden", chromedp.Evaluate[bool](`document.getElementById('live-player').hidden`)); !hidden {
		t.Error("the player stays on the page after the lecture ended")
	}
	if words := get(t, w.vis, "lecture status", chromedp.TextContent(chromedp.ID("lecture-status"))); words != "讲座已结束。" && words != "回放已经可以观看了。" {
		t.Errorf("the lecture page announces %q", words)
	}
	var got lectureAPIState
	w.api.want(http.StatusOK, "GET", "/api/v1/lectures/"+w.id, nil, &got)
	if got.State != "ended" && got.State != "replay_ready" {
		t.Errorf("lecture state %q after the end", got.State)
	}
}

// noScriptErrors: no script failed in any of the three browsers.
func (w *liveWalk) noScriptErrors(t *testing.T) {
	for who, errs := range w.errors {
		for _, e := range errs() {
			t.Errorf("a script failed in the %s's browser: %s", who, e)
		}
	}
}

// rateWords is what the chat form says when the server refuses a post for a few seconds.
var rateWords = regexp.MustCompile(`^发言太频繁了，请 \d+ 秒后再发送。$`)

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
