package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/shizuishan/culturecloud/internal/app"
	"github.com/shizuishan/culturecloud/internal/demo"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// followBound is issue 13's bound on how long a viewer's page takes to show where the guide went.
const followBound = time.Second

// tourState describes a tour's page (guide's or viewer's) for failure messages.
const tourState = `(function () {
	var tour = document.getElementById('tour');
	var walk = document.getElementById('exhibition');
	if (!tour || !walk) return 'no tour on ' + location.pathname;
	var n = walk.getAttribute('data-current');
	var box = document.getElementById('zoom-' + n);
	var v = box && box.ccViewer;
	var seen = null;
	if (v && v.world && v.world.getItemCount() > 0) {
		var b = v.viewport.viewportToImageRectangle(v.viewport.getBounds(true));
		seen = [b.x, b.y, b.width, b.height].map(Math.round);
	}
	var follow = document.getElementById('tour-follow');
	return JSON.stringify({current: n, seen: seen, applied: tour.getAttribute('data-applied'), sent: tour.getAttribute('data-sent'),
		following: follow && follow.getAttribute('aria-pressed'), announce: (document.getElementById('tour-announce') || {}).textContent,
		status: (document.getElementById('tour-guide-status') || {}).textContent, state: (document.getElementById('lecture-page') || document.getElementById('studio') || {}).dataset});
})()`

// seenRegion is the image rectangle the deep-zoom viewer of exhibit n shows now, or null.
func seenRegion(n int) string {
	return fmt.Sprintf(`(function () {
	var box = document.getElementById('zoom-%d');
	var v = box && box.ccViewer;
	if (!v || !v.world || v.world.getItemCount() === 0) return null;
	var b = v.viewport.viewportToImageRectangle(v.viewport.getBounds(true));
	return [b.x, b.y, b.width, b.height];
})()`, n)
}

// showsRegion: the viewer of exhibit n shows r (x, y, w, h): its view holds r give or take
// tol of the image's width, and is centred on it as closely.
func showsRegion(n int, r [4]float64, tol float64) string {
	return fmt.Sprintf(`(function () {
	if (document.getElementById('exhibition').getAttribute('data-current') !== '%d') return false;
	var s = %s;
	if (!s) return false;
	var r = [%f, %f, %f, %f], tol = %f;
	var cx = s[0] + s[2] / 2 - (r[0] + r[2] / 2), cy = s[1] + s[3] / 2 - (r[1] + r[3] / 2);
	return Math.abs(cx) <= tol && Math.abs(cy) <= tol && s[0] <= r[0] + tol && s[1] <= r[1] + tol &&
		s[0] + s[2] >= r[0] + r[2] - tol && s[1] + s[3] >= r[1] + r[3] - tol && s[2] <= 2.5 * r[2];
})()`, n, seenRegion(n), r[0], r[1], r[2], r[3], tol)
}

// pollFast waits for a condition as quickly as the browser answers, and returns when it held.
func pollFast(t *testing.T, ctx context.Context, what, cond, describe string, within time.Duration) time.Time {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(within),
		chromedp.WithPollingInterval(10*time.Millisecond))); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](describe))
		t.Fatalf("%s: %v (%s)", what, err, state)
	}
	return time.Now()
}

// logLeg logs where a move's time went: the guide's post after the action at (the guide's
// clock, ms), and when the viewer's page heard of it (window.tourHeardAt, its first
// data-heard-at since the watch began).
func logLeg(t *testing.T, guide, viewer context.Context, at float64) {
	t.Helper()
	post := get(t, guide, "post timing", chromedp.Evaluate[string](fmt.Sprintf(`(function () {
		var p = performance.getEntriesByType('resource').filter(function (e) {
			return /\/guide$/.test(e.name) && performance.timeOrigin + e.startTime >= %f;
		})[0];
		return p ? 'started ' + Math.round(performance.timeOrigin + p.startTime - %f) + ' ms after the action and took ' + Math.round(p.duration) + ' ms' : 'not found';
	})()`, at, at)))
	heard := time.Duration(get(t, viewer, "heard at", chromedp.Evaluate[float64](`window.tourHeardAt`))-at) * time.Millisecond
	t.Logf("of which: the guide's post %s; the viewer heard of it %s after the action", post, heard)
}

// TestGuidedTourInBrowsers is issue 13's tour in the browser: a guide goes live from the
// studio of a tour of the demo exhibition (two rooms, four exhibits), a viewer opens the
// tour's page; the guide moves to exhibit 3 (the fourth, room 1's second: n=3, section 1,
// index 1) and zooms into its image; the viewer's page shows exhibit 3 with that region
// within a second of each action (the figures are logged). The viewer explores freely (the
// page stays), comes back to the guide, and hears the moves announced while following. The
// guide ends the tour; its replay page follows the kept track by the video's time.
func TestGuidedTourInBrowsers(t *testing.T) {
	w := newTourWalk(t)
	for _, step := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"the guide goes live from the studio", w.goLive},
		{"the viewer joins where the guide is", w.viewerJoins},
		{"a refused stream is tried again", w.refusedStream},
		{"the viewer follows the guide to exhibit 3", w.moveToExhibit3},
		{"the viewer follows the guide's zoom", w.zoom},
		{"exploring freely and back", w.exploreFreely},
		{"the replay follows the kept track", w.replay},
		{"no script failed", w.noScriptErrors},
	} {
		if !t.Run(step.name, step.run) {
			t.FailNow()
		}
	}
}

// tourWalk is what the steps of TestGuidedTourInBrowsers share.
type tourWalk struct {
	srv           *testenv.Server
	api           *apiUser
	guide, viewer context.Context
	errs          map[string]func() []string
	lec           struct {
		ID         string `json:"id"`
		State      string `json:"state"`
		ReplayItem string `json:"replay_item"`
	}
}

// newTourWalk starts the server with the demo exhibition, schedules the tour (now, as the
// lecturer) and opens the two browsers.
func newTourWalk(t *testing.T) *tourWalk {
	cfg := testenv.Config(t, testenv.Shared(t))
	cfg.Live.EndGrace = 2 * time.Second
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w := &tourWalk{srv: testenv.StartServer(t, cfg)}
	core, err := app.Connect(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(core.Close)
	if _, err := demo.LoadLibrary(t.Context(), core.Docs, core.Library, core.Collections); err != nil {
		t.Fatal(err)
	}
	exhibition, err := demo.LoadExhibitions(t.Context(), core.Docs, core.Library, core.Exhibitions)
	if err != nil {
		t.Fatal(err)
	}
	createLecturer(t, w.srv.URL)
	w.api = apiLogin(t, w.srv.URL, lecturerName, lecturerPassword)
	w.api.want(http.StatusCreated, "POST", "/api/v1/lectures", map[string]any{
		"title": "石嘴山工业记忆 直播导览", "lecturer": map[string]any{"account": lecturerName}, "unit": "dwk-culture-centre",
		"start": time.Now().UTC().Format(time.RFC3339), "duration_minutes": 60, "visibility": "public", "exhibition": exhibition}, &w.lec)

	w.guide = liveBrowser(t, true)
	w.viewer = liveBrowser(t, false)
	w.errs = map[string]func() []string{"guide": scriptErrors(t, w.guide), "viewer": scriptErrors(t, w.viewer)}
	return w
}

// goLive: the guide goes live from the studio, whose walkthrough is in guide mode.
func (w *tourWalk) goLive(t *testing.T) {
	loginInChinese(t, w.guide, w.srv.URL, lecturerName, lecturerPassword)
	do(t, w.guide, "open the studio", chromedp.Navigate(w.srv.URL+"/studio/lectures/"+w.lec.ID), chromedp.WaitVisible(chromedp.ID("exhibit-0")))
	if !get(t, w.guide, "OpenSeadragon", chromedp.Evaluate[bool](`typeof window.OpenSeadragon === 'function'`)) {
		testenv.Unavailable(t, fmt.Errorf("OpenSeadragon is not in the vendor folder: run deploy/install.sh"))
	}
	do(t, w.guide, "preview the camera", chromedp.Click(chromedp.ID("studio-source-camera")), chromedp.Click(chromedp.ID("studio-preview")))
	waitFor(t, w.guide, "the preview shows the camera", `document.getElementById('studio').getAttribute('data-previewing') === '1'`, studioState, 30*time.Second)
	do(t, w.guide, "go live", chromedp.Click(chromedp.ID("studio-go-live")))
	testwait.Within(t, "the tour goes live", 45*time.Second, func() bool {
		w.api.want(http.StatusOK, "GET", "/api/v1/lectures/"+w.lec.ID, nil, &w.lec)
		return w.lec.State == "live"
	})
	waitFor(t, w.guide, "the guide's first position is sent", `JSON.parse(document.getElementById('tour').getAttribute('data-sent') || 'null') !== null`,
		tourState, 30*time.Second)
}

// viewerJoins: the viewer joins and starts where the guide is.
func (w *tourWalk) viewerJoins(t *testing.T) {
	do(t, w.viewer, "open the tour", chromedp.Navigate(w.srv.URL+"/lectures/"+w.lec.ID+"?lang=zh-CN"), chromedp.WaitVisible(chromedp.ID("tour-follow")))
	waitFor(t, w.viewer, "the viewer follows the guide from where it is", `document.getElementById('tour').getAttribute('data-applied') !== null &&
		document.getElementById('tour-follow').getAttribute('aria-pressed') === 'true'`, tourState, 30*time.Second)
}

// refusedStream: the server refuses the viewer's stream of the guide's moves once (429, as over
// live.event_streams_per_ip; here the browser's request interception answers it), which the
// browser does not retry by itself: the page says so, connects again a little later and
// follows the guide again.
func (w *tourWalk) refusedStream(t *testing.T) {
	watch, stop := context.WithCancel(w.viewer)
	defer stop()
	pattern := "*/api/v1/lectures/" + w.lec.ID + "/guide"
	var target *chromedp.Target
	do(t, w.viewer, "intercept the guide's stream", func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		target = tg
		_, err := cdp.Call(ctx, tg, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: pattern}}})
		return chromedp.Void{}, err
	})
	go func() {
		refused := false
		for ev, err := range cdp.Events(watch, target, fetch.RequestPaused) {
			if err != nil {
				return
			}
			if !refused {
				refused = true
				_, _ = cdp.Call(watch, target, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: http.StatusTooManyRequests,
					ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "application/problem+json"}}, Body: []byte(`{"status":429}`)})
				continue
			}
			_, _ = cdp.Call(watch, target, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	}()
	do(t, w.viewer, "open the tour again", chromedp.Navigate(w.srv.URL+"/lectures/"+w.lec.ID+"?lang=zh-CN"), chromedp.WaitVisible(chromedp.ID("tour-follow")))
	waitFor(t, w.viewer, "the page says the guide's moves do not reach it", `document.getElementById('tour').hasAttribute('data-reconnecting') &&
		document.getElementById('tour-connection').textContent.indexOf('重新连接') >= 0`, tourState, 10*time.Second)
	waitFor(t, w.viewer, "the page connects again and follows the guide", `!document.getElementById('tour').hasAttribute('data-reconnecting') &&
		document.getElementById('tour-connection').textContent === '' && document.getElementById('tour').getAttribute('data-applied') !== null`,
		tourState, 20*time.Second)
	do(t, w.viewer, "stop intercepting", func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, fetch.Disable, cdp.Empty{})
		return chromedp.Void{}, err
	})
}

// moveToExhibit3: the guide moves to exhibit 3 (the overview's link, as a guide clicks it). The
// latency is timed by the two pages' clocks (one machine's): from the guide's click to the
// viewer's walkthrough showing the exhibit; the test's own view, through the browsers' debugging
// connections, is logged beside it.
func (w *tourWalk) moveToExhibit3(t *testing.T) {
	do(t, w.viewer, "time the viewer's walkthrough", chromedp.Evaluate[chromedp.Void](`window.tourShownAt = 0; window.tourHeardAt = 0;
		document.getElementById('exhibition').addEventListener('cc:exhibit-shown', function (ev) {
			if (ev.detail.n === 3 && !window.tourShownAt) window.tourShownAt = Date.now();
		});
		new MutationObserver(function () {
			if (!window.tourHeardAt) window.tourHeardAt = Number(document.getElementById('tour').getAttribute('data-heard-at'));
		}).observe(document.getElementById('tour'), {attributes: true, attributeFilter: ['data-heard-at']})`))
	began := time.Now()
	clicked := get(t, w.guide, "move to exhibit 3", chromedp.Evaluate[float64](`(function () {
		var at = Date.now();
		document.querySelector('.overview-exhibit[data-n="3"]').click();
		return at;
	})()`))
	seen := pollFast(t, w.viewer, "the viewer's page shows exhibit 3", `window.tourShownAt > 0 && document.getElementById('exhibition').getAttribute('data-current') === '3' &&
		!document.getElementById('exhibit-3').hidden`, tourState, 10*time.Second).Sub(began)
	moved := time.Duration(get(t, w.viewer, "shown at", chromedp.Evaluate[float64](`window.tourShownAt`))-clicked) * time.Millisecond
	t.Logf("the viewer's page showed exhibit 3 %s after the guide's click (%s as the test saw it)", moved, seen.Round(time.Millisecond))
	logLeg(t, w.guide, w.viewer, clicked)
	if moved > followBound {
		t.Errorf("the viewer's page took %s to follow the guide to exhibit 3, more than %s", moved, followBound)
	}
	label := get(t, w.viewer, "label", chromedp.AttributeValue(chromedp.ID("exhibit-3"), "data-label"))
	if words := get(t, w.viewer, "announcement", chromedp.TextContent(chromedp.ID("tour-announce"))); words != "导览员来到："+label.Value {
		t.Errorf("the viewer's page announces %q, want the move to %q", words, label.Value)
	}
	// Both deep-zoom viewers open on exhibit 3's tiles before the guide zooms.
	open := `(function () { var v = document.getElementById('zoom-3').ccViewer; return !!v && v.world.getItemCount() > 0; })()`
	waitFor(t, w.guide, "the guide's deep zoom opens", open, tourState, 30*time.Second)
	waitFor(t, w.viewer, "the viewer's deep zoom opens", open, tourState, 30*time.Second)
}

// zoom: the guide zooms into the image's upper middle, right of centre: want is that rectangle of
// the image, which the guide's view holds (and more, as its frame's shape has it). The viewer's
// page watches every frame for a view that holds it too.
func (w *tourWalk) zoom(t *testing.T) {
	size := get(t, w.guide, "image size", chromedp.Evaluate[[2]float64](`(function () {
		var s = document.getElementById('zoom-3').ccViewer.world.getItemAt(0).getContentSize();
		return [s.x, s.y];
	})()`))
	want := [4]float64{size[0] * 0.5, size[1] * 0.25, size[0] * 0.25, size[1] * 0.25}
	tol := 0.03 * size[0]
	do(t, w.viewer, "watch the viewer's view", chromedp.Evaluate[chromedp.Void](`window.tourRegionAt = 0; window.tourHeardAt = 0;
		(function watch() {
			if (`+showsRegion(3, want, tol)+`) { window.tourRegionAt = Date.now(); return; }
			requestAnimationFrame(watch);
		})()`))
	began := time.Now()
	zoom := get(t, w.guide, "zoom", chromedp.Evaluate[[]float64](fmt.Sprintf(`(function () {
		var v = document.getElementById('zoom-3').ccViewer;
		var at = Date.now();
		v.viewport.fitBounds(v.viewport.imageToViewportRectangle(%f, %f, %f, %f), true);
		v.forceRedraw();
		return [at].concat(`+seenRegion(3)+`);
	})()`, want[0], want[1], want[2], want[3])))
	seen := pollFast(t, w.viewer, "the viewer's page shows the guide's region", `window.tourRegionAt > 0`, tourState, 10*time.Second).Sub(began)
	zoomed := time.Duration(get(t, w.viewer, "region at", chromedp.Evaluate[float64](`window.tourRegionAt`))-zoom[0]) * time.Millisecond
	region := [4]float64{zoom[1], zoom[2], zoom[3], zoom[4]}
	t.Logf("the viewer's page showed the region %v of exhibit 3 (image %.0f×%.0f; the guide sees %v) %s after the guide's zoom (%s as the test saw it)",
		want, size[0], size[1], region, zoomed, seen.Round(time.Millisecond))
	logLeg(t, w.guide, w.viewer, zoom[0])
	if zoomed > followBound {
		t.Errorf("the viewer's page took %s to follow the guide's zoom, more than %s", zoomed, followBound)
	}
	if !get(t, w.viewer, "the guide's view", chromedp.Evaluate[bool](showsRegion(3, region, tol))) {
		t.Errorf("the viewer's view is not the guide's %v: %s", region, get(t, w.viewer, "state", chromedp.Evaluate[string](tourState)))
	}
	screenshot(t, w.viewer, "tour-viewer-follows-zh.png")
	screenshot(t, w.guide, "tour-studio-guide-zh.png")
	do(t, w.viewer, "turn on elderly mode", chromedp.Click(chromedp.ID("elderly-toggle")))
	if h := get(t, w.viewer, "switch height", chromedp.Evaluate[float64](`document.getElementById('tour-follow').getBoundingClientRect().height`)); h < 48 {
		t.Errorf("in elderly mode the follow switch is %.0fpx high", h)
	}
}

// exploreFreely: the switch (by keyboard) lets the viewer stay; "back to the
// guide" follows again.
func (w *tourWalk) exploreFreely(t *testing.T) {
	do(t, w.viewer, "explore freely", chromedp.Focus(chromedp.ID("tour-follow")), chromedp.KeyEvent("\r"))
	// Exploring, the walkthrough's position line speaks for the visitor's own moves again.
	waitFor(t, w.viewer, "the switch says exploring", `document.getElementById('tour-follow').getAttribute('aria-pressed') === 'false' &&
		document.getElementById('exhibit-position').getAttribute('aria-live') === 'polite'`, tourState, 5*time.Second)
	// The arrow keys are the walkthrough's only while the focus is in it (here on the switch).
	do(t, w.viewer, "an arrow key outside the walkthrough", chromedp.KeyEvent(kb.ArrowRight))
	if n := get(t, w.viewer, "exhibit", chromedp.AttributeValue(chromedp.ID("exhibition"), "data-current")); n.Value != "3" {
		t.Errorf("an arrow key pressed on the follow switch moved the walkthrough to exhibit %s", n.Value)
	}
	do(t, w.guide, "move to exhibit 1", chromedp.Evaluate[chromedp.Void](`document.querySelector('.overview-exhibit[data-n="1"]').click()`))
	waitFor(t, w.viewer, "the viewer is offered the guide's place", `!document.getElementById('tour-rejoin').hidden`, tourState, 10*time.Second)
	if n := get(t, w.viewer, "exhibit", chromedp.AttributeValue(chromedp.ID("exhibition"), "data-current")); n.Value != "3" {
		t.Errorf("exploring freely, the viewer's page moved to exhibit %s with the guide", n.Value)
	}
	do(t, w.viewer, "back to the guide", chromedp.Click(chromedp.ID("tour-rejoin")))
	waitFor(t, w.viewer, "the viewer is with the guide again", `document.getElementById('exhibition').getAttribute('data-current') === '1' &&
		document.getElementById('tour-follow').getAttribute('aria-pressed') === 'true' && document.activeElement.id === 'tour-follow' &&
		document.getElementById('exhibit-position').getAttribute('aria-live') === 'off'`, tourState, 10*time.Second)
	// The viewer's own move is exploring freely too.
	do(t, w.viewer, "the viewer goes on alone", chromedp.Click(chromedp.ID("exhibit-next")))
	waitFor(t, w.viewer, "an own move is exploring", `document.getElementById('tour-follow').getAttribute('aria-pressed') === 'false'`, tourState, 5*time.Second)
	do(t, w.viewer, "follow again", chromedp.Click(chromedp.ID("tour-follow")))
	// The guide goes back to exhibit 3, to end the tour there.
	do(t, w.guide, "back to exhibit 3", chromedp.Evaluate[chromedp.Void](`document.querySelector('.overview-exhibit[data-n="3"]').click()`))
	waitFor(t, w.viewer, "the viewer follows to exhibit 3 again", `document.getElementById('exhibition').getAttribute('data-current') === '3'`, tourState, 10*time.Second)
	waitFor(t, w.guide, "the guide's position is sent", `(JSON.parse(document.getElementById('tour').getAttribute('data-sent')) || {}).section === 1 &&
		JSON.parse(document.getElementById('tour').getAttribute('data-sent')).exhibit === 1`, tourState, 10*time.Second)
}

// replay: the guide ends the tour (the recording goes on a little past the last move, so that
// the replay holds it); the replay page follows the kept track by the video's time.
func (w *tourWalk) replay(t *testing.T) {
	at := get(t, w.viewer, "live time", chromedp.Evaluate[float64](`document.getElementById('live-video').currentTime`))
	waitFor(t, w.viewer, "the live stream plays on", fmt.Sprintf(`document.getElementById('live-video').currentTime > %f`, at+3), tourState, 30*time.Second)

	// The end; the replay follows the kept track by the video's time.
	do(t, w.guide, "end the tour", chromedp.Click(chromedp.ID("studio-end")), chromedp.WaitVisible(chromedp.ID("end-yes")), chromedp.Click(chromedp.ID("end-yes")))
	testwait.Within(t, "the replay is ready", 4*time.Minute, func() bool {
		w.api.want(http.StatusOK, "GET", "/api/v1/lectures/"+w.lec.ID, nil, &w.lec)
		return w.lec.State == "replay_ready" && w.lec.ReplayItem != ""
	})
	page := w.srv.URL + "/memory/items/" + w.lec.ReplayItem + "?lang=zh-CN"
	video := `document.querySelector('#item-files video.media-play')`
	testwait.UntilStateWithin(t, "the replay page has a video the browser plays", 4*time.Minute, func() (bool, string) {
		do(t, w.viewer, "open the replay", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("tour")))
		_, err := chromedp.Run(w.viewer, chromedp.Poll[bool](`!!`+video+` && `+video+`.readyState >= 1 && isFinite(`+video+`.duration)`,
			chromedp.WithPollingTimeout(5*time.Second)))
		state, _ := chromedp.Run(w.viewer, chromedp.Evaluate[string](`(function () {
			var v = `+video+`;
			return JSON.stringify({video: !!v, files: document.getElementById('item-files') ? document.getElementById('item-files').textContent.replace(/\s+/g, ' ') : null,
				sources: v ? Array.prototype.map.call(v.querySelectorAll('source'), function (s) { return s.type; }) : null,
				ready: v && v.readyState, network: v && v.networkState, error: v && v.error && v.error.code, hls: typeof window.Hls});
		})()`))
		return err == nil, state
	})
	var track []struct {
		Offset   float64 `json:"offset"`
		Position struct{ Section, Exhibit int }
	}
	if err := json.Unmarshal([]byte(get(t, w.viewer, "track", chromedp.AttributeValue(chromedp.ID("tour"), "data-track")).Value), &track); err != nil || len(track) < 4 {
		t.Fatalf("the replay's track is %+v (%v)", track, err)
	}
	duration := get(t, w.viewer, "duration", chromedp.Evaluate[float64](video+`.duration`))
	last, first := track[len(track)-1], track[0]
	t.Logf("the replay is %.1f s long; the track has %d stops from %.2f s to %.2f s", duration, len(track), first.Offset, last.Offset)
	if first.Position.Section != 0 || first.Position.Exhibit != 0 {
		t.Fatalf("the track starts at %+v, want the first exhibit", first)
	}
	if last.Position.Section != 1 || last.Position.Exhibit != 1 || last.Offset > duration {
		t.Fatalf("the track ends at %+v, want exhibit 3 (room 1, second) within the %.1f s replay", last, duration)
	}
	seek := func(at float64, n int) {
		t.Helper()
		do(t, w.viewer, fmt.Sprintf("seek to %.2f s", at), chromedp.Evaluate[chromedp.Void](fmt.Sprintf(video+`.currentTime = %f`, at)))
		waitFor(t, w.viewer, fmt.Sprintf("the replay at %.2f s shows exhibit %d", at, n), fmt.Sprintf(`document.getElementById('exhibition').getAttribute('data-current') === '%d'`, n),
			tourState, 10*time.Second)
	}
	seek(min(last.Offset+0.2, duration-0.05), 3)
	seek(first.Offset+0.05, 0)
	screenshot(t, w.viewer, "tour-replay-zh.png")
}

// noScriptErrors: no script failed in either browser.
func (w *tourWalk) noScriptErrors(t *testing.T) {
	for who, list := range w.errs {
		for _, e := range list() {
			t.Errorf("a script failed in the %s's browser: %s", who, e)
		}
	}
}
