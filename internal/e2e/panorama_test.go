package e2e_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/shizuishan/culturecloud/internal/app"
	"github.com/shizuishan/culturecloud/internal/demo"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// panoramaSection is the demo exhibition's panorama room (the third), and panoramaFirst the
// global number of its first exhibit.
const (
	panoramaSection = 2
	panoramaFirst   = 4
)

// panoramaState is what the panorama room shows: the viewer's state, whether a canvas is
// drawn in the room, the exhibit shown, the fallback notice, and the viewer's direction in
// degrees (yaw -180..180) with its zoom.
const panoramaState = `(function () {
	var root = document.getElementById('exhibition');
	var room = document.getElementById('panorama-2');
	var stage = room && room.querySelector('.panorama-stage');
	var v = stage && stage.ccViewer;
	var shown = Array.prototype.filter.call(document.querySelectorAll('figure.exhibit'), function (f) { return !f.hidden; });
	var out = {state: root.getAttribute('data-panorama') || '', node: root.getAttribute('data-panorama-node') || '',
		canvas: !!(room && room.querySelector('.panorama-slot canvas')),
		shown: shown.map(function (f) { return f.id; }).join(','),
		fallback: !!room && !room.querySelector('.panorama-fallback').hidden,
		views: (window.__views || []).length, error: root.getAttribute('data-panorama-error') || '',
		overlay: room && room.querySelector('.psv-overlay') ? room.querySelector('.psv-overlay').textContent : '',
		loader: !!(room && room.querySelector('.psv-loader-container')), size: stage ? stage.clientWidth + 'x' + stage.clientHeight : ''};
	if (v) {
		var p = v.getPosition();
		var yaw = p.yaw * 180 / Math.PI;
		out.yaw = yaw > 180 ? yaw - 360 : yaw;
		out.pitch = p.pitch * 180 / Math.PI;
		out.zoom = v.getZoomLevel();
		out.psvReady = !!v.state.ready;
		out.loading = String(v.state.loadingPromise ? 'pending' : 'none');
	}
	return JSON.stringify(out);
})()`

// panoramaDemo starts a server with the demo library and exhibition and returns its URL and
// the exhibition's id.
func panoramaDemo(t *testing.T) (string, string) {
	t.Helper()
	cfg := testenv.Config(t, testenv.Shared(t))
	srv := testenv.StartServer(t, cfg)
	core, err := app.Connect(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	if _, err := demo.LoadLibrary(t.Context(), core.Docs, core.Library, core.Collections); err != nil {
		t.Fatal(err)
	}
	id, err := demo.LoadExhibitions(t.Context(), core.Docs, core.Library, core.Exhibitions)
	if err != nil {
		t.Fatal(err)
	}
	return srv.URL, id
}

// webGLBrowser is a headless Chromium that draws WebGL in software (SwiftShader).
func webGLBrowser(t *testing.T) context.Context {
	t.Helper()
	return newBrowser(t, chromedp.Flag("disable-gpu", false), chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("enable-unsafe-swiftshader", true))
}

// untilPanorama polls a condition on the panorama state s, failing with it.
func untilPanorama(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	js := `(function () { var s = JSON.parse(` + panoramaState + `); return ` + cond + `; })()`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(25*time.Second),
		chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](panoramaState))
		t.Fatalf("%s: %v (state %s)", what, err, state)
	}
}

// TestPanoramaHall walks into the demo exhibition's 720° hall: Photo Sphere Viewer draws the
// scene, a hotspot marker opens its exhibit, a guide's cc:go turns the view (read back from
// the viewer) and the moves are announced as cc:view-changed. A browser without WebGL shows
// the room's exhibits as the plain list with a notice.
func TestPanoramaHall(t *testing.T) {
	base, id := panoramaDemo(t)
	page := base + "/exhibitions/" + id + "#exhibit-4"

	// The hall's viewer is made when the walk enters it, not before.
	ctx := webGLBrowser(t)
	do(t, ctx, "open the room before the hall", chromedp.Navigate(base+"/exhibitions/"+id+"#exhibit-3"),
		chromedp.WaitVisible(chromedp.ID("exhibit-3")))
	untilPanorama(t, ctx, "the viewer's modules are loaded", `s.state === 'idle'`)
	if state := get(t, ctx, "the state", chromedp.Evaluate[string](panoramaState)); strings.Contains(state, `"canvas":true`) {
		t.Errorf("the hall is drawn before the walk enters it: %s", state)
	}
	do(t, ctx, "walk into the hall", chromedp.KeyEvent(kb.ArrowRight))
	untilPanorama(t, ctx, "the viewer draws the hall", `s.state === 'ready' && s.canvas && s.node === '2' && s.shown === 'exhibit-4'`)
	do(t, ctx, "listen to the view", chromedp.Evaluate[chromedp.Void](`(function () {
		window.__views = [];
		document.getElementById('exhibition').addEventListener('cc:view-changed', function (ev) { window.__views.push(ev.detail); });
		return true;
	})()`))

	// The marker of the second exhibit (yaw 30°, in view from the start) opens it.
	do(t, ctx, "click the hotspot", chromedp.WaitVisible(chromedp.CSS(`.psv-marker .panorama-marker[data-label*="石炭井"]`)),
		chromedp.Click(chromedp.CSS(`.psv-marker .panorama-marker[data-label*="石炭井"]`)))
	untilPanorama(t, ctx, "the hotspot's exhibit shows", `s.shown === 'exhibit-5'`)

	// A guide's position turns the view.
	do(t, ctx, "a guide's cc:go", chromedp.Evaluate[chromedp.Void](`document.getElementById('exhibition').dispatchEvent(new CustomEvent('cc:go',
		{detail: {section: 2, exhibit: 0, yaw: -60, pitch: 10, zoom: 40}}))`))
	untilPanorama(t, ctx, "the view turned", `s.shown === 'exhibit-4' && Math.abs(s.yaw + 60) < 0.5 && Math.abs(s.pitch - 10) < 0.5 && Math.abs(s.zoom - 40) < 0.5`)
	untilPanorama(t, ctx, "the move was announced", `(function () {
		var v = window.__views[window.__views.length - 1];
		return !!v && v.section === 2 && v.exhibit === 0 && Math.abs(v.yaw + 60) < 0.5 && Math.abs(v.pitch - 10) < 0.5 && Math.abs(v.zoom - 40) < 0.5;
	})()`)

	// The plain list reaches the same exhibits from the keyboard.
	do(t, ctx, "the list's link", chromedp.Focus(chromedp.CSS(`#panorama-2 .panorama-spot[data-exhibit="1"]`)), chromedp.KeyEvent("\r"))
	untilPanorama(t, ctx, "the list's exhibit shows", `s.shown === 'exhibit-5'`)

	// Without WebGL: the exhibits as a list, and a notice.
	plain := newBrowser(t, chromedp.Flag("disable-webgl", true), chromedp.Flag("disable-3d-apis", true))
	do(t, plain, "open the room without WebGL", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("exhibit-4")))
	untilPanorama(t, plain, "the fallback", `s.state === 'fallback' && s.fallback && !s.canvas && s.shown === 'exhibit-4'`)
	do(t, plain, "the list's link without WebGL", chromedp.Click(chromedp.CSS(`#panorama-2 .panorama-spot[data-exhibit="1"]`)))
	untilPanorama(t, plain, "the list works without WebGL", `s.shown === 'exhibit-5'`)
}

// TestPanoramaEditorPlacesHotspot: in the console, a click on the preview of a panorama room's
// scene places a hotspot for the chosen exhibit, and saving stores it (read back through the
// API).
func TestPanoramaEditorPlacesHotspot(t *testing.T) {
	base, id := panoramaDemo(t)
	admin := apiLogin(t, base, testenv.AdminName, testenv.AdminPassword)
	type saved struct {
		Sections []struct {
			Kind     string `json:"kind"`
			Hotspots []struct {
				Exhibit int     `json:"exhibit"`
				Yaw     float64 `json:"yaw"`
				Pitch   float64 `json:"pitch"`
			} `json:"hotspots"`
		} `json:"sections"`
	}
	var before saved
	admin.want(200, "GET", "/api/v1/exhibitions/"+id, nil, &before)
	if n := len(before.Sections[panoramaSection].Hotspots); n != 2 {
		t.Fatalf("the demo hall has %d hotspots, want 2", n)
	}

	ctx := webGLBrowser(t)
	login(t, ctx, base, testenv.AdminName, testenv.AdminPassword)
	do(t, ctx, "open the editor", chromedp.Navigate(base+"/console/exhibitions/"+id),
		chromedp.WaitVisible(chromedp.ID("place-mode-2")))
	do(t, ctx, "place hotspots for the first exhibit", chromedp.SetValue(chromedp.ID("place-mode-2"), "h:0"),
		chromedp.Evaluate[chromedp.Void](`(function () { var s = document.getElementById('place-mode-2'); s.dispatchEvent(new Event('change')); return true; })()`),
		chromedp.Click(chromedp.CSS(`#section-editor > li:nth-child(3) .panorama-open`)))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(function () {
		var box = document.getElementById('panorama-preview-2');
		return !!box && box.getAttribute('data-ready') === '1' && !!box.querySelector('canvas');
	})()`, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		t.Fatalf("the preview does not open: %v", err)
	}
	do(t, ctx, "the curator chooses the first exhibit again", chromedp.SetValue(chromedp.ID("place-mode-2"), "h:0"),
		chromedp.Evaluate[chromedp.Void](`(function () { var s = document.getElementById('place-mode-2'); s.dispatchEvent(new Event('change')); return true; })()`))
	do(t, ctx, "click the preview", chromedp.Click(chromedp.ID("panorama-preview-2")))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll('#section-editor > li:nth-child(3) .hotspot-edit').length === 3`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("the click placed no hotspot: %v", err)
	}
	do(t, ctx, "save", chromedp.Click(chromedp.ID("exhibition-save")))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('exhibition-form-status').textContent.trim() !== ''`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("saving says nothing: %v", err)
	}
	if msg := get(t, ctx, "the form's status", chromedp.Evaluate[string](`document.getElementById('exhibition-form-status').textContent`)); !strings.Contains(msg, "已保存") && !strings.Contains(msg, "Saved") {
		t.Fatalf("saving: the form says %q", msg)
	}
	var after saved
	testwait.Until(t, "the hotspot is saved", func() bool {
		after = saved{}
		admin.want(200, "GET", "/api/v1/exhibitions/"+id, nil, &after)
		return len(after.Sections) > panoramaSection && len(after.Sections[panoramaSection].Hotspots) == 3
	})
	hs := after.Sections[panoramaSection].Hotspots
	if len(hs) != 3 || after.Sections[panoramaSection].Kind != "panorama" {
		t.Fatalf("after saving, the hall is %+v", after.Sections[panoramaSection])
	}
	if h := hs[2]; h.Exhibit != 0 || h.Yaw < -180 || h.Yaw > 180 || h.Pitch < -90 || h.Pitch > 90 {
		t.Fatalf("the placed hotspot %+v", h)
	}

	// Hotspots follow their exhibits: moving the hall's first exhibit down swaps the places
	// the hotspots name, removing it drops its hotspots and moves the later ones up.
	targets := func(what string) string {
		return get(t, ctx, what, chromedp.Evaluate[string](`Array.prototype.map.call(
			document.querySelectorAll('#section-editor > li:nth-child(3) .hotspot-edit select'), function (s) { return s.value; }).join(',')`))
	}
	want := func(to func(int) int) string {
		var out []string
		for _, h := range hs {
			if k := to(h.Exhibit); k >= 0 {
				out = append(out, strconv.Itoa(k))
			}
		}
		return strings.Join(out, ",")
	}
	exhibitButton := func(n, b int) string {
		return fmt.Sprintf(`#section-editor > li:nth-child(3) .exhibit-edit:nth-child(%d) > fieldset > button:nth-of-type(%d)`, n, b)
	}
	if got, w := targets("the hotspots' exhibits"), want(func(k int) int { return k }); got != w {
		t.Fatalf("the hotspots open exhibits %s, want %s", got, w)
	}
	do(t, ctx, "move the first exhibit down", chromedp.Click(chromedp.CSS(exhibitButton(1, 2))))
	swap := func(k int) int {
		switch k {
		case 0:
			return 1
		case 1:
			return 0
		}
		return k
	}
	if got, w := targets("the hotspots' exhibits after the move"), want(swap); got != w {
		t.Errorf("after moving an exhibit the hotspots open %s, want %s", got, w)
	}
	do(t, ctx, "remove the moved exhibit", chromedp.Click(chromedp.CSS(exhibitButton(2, 3))))
	gone := func(k int) int {
		switch k = swap(k); {
		case k == 1:
			return -1
		case k > 1:
			return k - 1
		}
		return k
	}
	if got, w := targets("the hotspots' exhibits after the removal"), want(gone); got != w {
		t.Errorf("after removing an exhibit the hotspots open %s, want %s", got, w)
	}
}

// TestPanoramaLinkBetweenHalls: a second hall linked from the demo's; following the link in
// the viewer moves the walk to the other hall's first exhibit, and the one viewer with it.
func TestPanoramaLinkBetweenHalls(t *testing.T) {
	base, id := panoramaDemo(t)
	admin := apiLogin(t, base, testenv.AdminName, testenv.AdminPassword)
	var e map[string]any
	h := admin.want(200, "GET", "/api/v1/exhibitions/"+id, nil, &e)
	for _, k := range []string{"id", "status", "created_at", "created_by", "updated_at", "updated_by", "published_at", "review", "notes"} {
		delete(e, k)
	}
	sections := e["sections"].([]any)
	hall := sections[panoramaSection].(map[string]any)
	second := map[string]any{}
	for k, v := range hall {
		second[k] = v
	}
	second["title"] = "第二全景厅<b>x</b>" // curators' text: the link's tooltip shows it as text
	second["links"] = []any{map[string]any{"section": panoramaSection, "yaw": -120, "pitch": 0}}
	hall["links"] = []any{map[string]any{"section": 3, "yaw": 10, "pitch": -10}}
	e["sections"] = append(sections, second)
	admin.want(200, "PUT", "/api/v1/exhibitions/"+id, e, nil, "If-Match", h.Get("ETag"))

	ctx := webGLBrowser(t)
	do(t, ctx, "open the first hall", chromedp.Navigate(base+"/exhibitions/"+id+"#exhibit-4"), chromedp.WaitVisible(chromedp.ID("exhibit-4")))
	untilPanorama(t, ctx, "the viewer draws the first hall", `s.state === 'ready' && s.canvas && s.node === '2'`)
	link := `#panorama-2 .psv-virtual-tour-link[data-section="3"]`
	if label := get(t, ctx, "the link's label", chromedp.Evaluate[string](`(function () {
		var l = document.querySelector('`+link+`');
		return l && l.getAttribute('aria-hidden') === 'true' && !l.hasAttribute('tabindex') ? l.getAttribute('data-label') : '';
	})()`)); !strings.Contains(label, "第二全景厅") {
		t.Errorf("the link's label is %q", label)
	}
	rect := get(t, ctx, "where the link is", chromedp.Evaluate[[]float64](`(function () {
		var r = document.querySelector('`+link+`').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2];
	})()`))
	do(t, ctx, "hover the link", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, rect[0]-3, rect[1]-3), chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, rect[0], rect[1]))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(function () {
		var t = document.querySelector('#panorama-2 .psv-tooltip h3');
		return !!t && t.textContent === '第二全景厅<b>x</b>' && !t.querySelector('b');
	})()`, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		tip, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(function () {
			var t = document.querySelector('.psv-tooltip'); return t ? t.innerHTML : 'no tooltip';
		})()`))
		t.Fatalf("the link's tooltip does not show the hall's title as text: %v (%s)", err, tip)
	}
	do(t, ctx, "follow the link", chromedp.WaitVisible(chromedp.CSS(link)), chromedp.Click(chromedp.CSS(link)))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(function () {
		var root = document.getElementById('exhibition');
		var fig = document.getElementById('exhibit-6');
		return root.getAttribute('data-panorama-node') === '3' && !!fig && !fig.hidden &&
			!!document.querySelector('#panorama-3 .panorama-slot canvas');
	})()`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](panoramaState))
		t.Fatalf("the link did not lead to the second hall: %v (first hall %s)", err, state)
	}

	// In the editor, links follow their rooms: moving the second hall up swaps the rooms the
	// two links name, removing the first hall drops the link to it.
	login(t, ctx, base, testenv.AdminName, testenv.AdminPassword)
	do(t, ctx, "open the editor", chromedp.Navigate(base+"/console/exhibitions/"+id), chromedp.WaitVisible(chromedp.ID("place-mode-3")))
	linkTargets := func(what string) string {
		return get(t, ctx, what, chromedp.Evaluate[string](`Array.prototype.map.call(document.querySelectorAll('#section-editor > li'), function (li) {
			return Array.prototype.map.call(li.querySelectorAll('.link-edit select'), function (s) { return s.value; }).join('+');
		}).join(',')`))
	}
	roomButton := func(n, b int) string {
		return fmt.Sprintf(`#section-editor > li:nth-child(%d) > fieldset > button:nth-of-type(%d)`, n, b)
	}
	for _, step := range []struct {
		name, button, want string
	}{
		{"as saved", "", ",,3,2"},
		{"move the second hall up", roomButton(4, 2), ",,3,2"}, // the halls swapped places, and their links' targets
		{"remove the first hall", roomButton(4, 4), ",,"},
	} {
		if step.button != "" {
			do(t, ctx, step.name, chromedp.Click(chromedp.CSS(step.button)))
		}
		if got := linkTargets(step.name); got != step.want {
			t.Errorf("%s: the rooms' links lead to %q, want %q", step.name, got, step.want)
		}
	}
	if title := get(t, ctx, "the third room's title", chromedp.Evaluate[string](`document.querySelector('#section-editor > li:nth-child(3) input[data-field="sections[2].title"]').value`)); title != "第二全景厅<b>x</b>" {
		t.Errorf("after the move the third room is %q, want the second hall", title)
	}
}
