package e2e_test

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/shizuishan/culturecloud/internal/app"
	"github.com/shizuishan/culturecloud/internal/demo"
	"github.com/shizuishan/culturecloud/internal/testenv"
)

// walkState is where the walkthrough is: the exhibit shown, what the live region says, the
// exhibits and rooms visible, the focused element, and the deep-zoom box of the exhibit shown.
const walkState = `(function () {
	var root = document.getElementById('exhibition');
	var n = root.getAttribute('data-current');
	var shown = Array.prototype.filter.call(document.querySelectorAll('figure.exhibit'), function (f) { return !f.hidden; });
	var rooms = Array.prototype.filter.call(document.querySelectorAll('section.room'), function (r) { return !r.hidden; });
	var box = document.getElementById('zoom-' + n);
	var img = box && box.querySelector('img');
	return JSON.stringify({current: n, position: document.getElementById('exhibit-position').textContent,
		shown: shown.map(function (f) { return f.id; }).join(','), rooms: rooms.map(function (r) { return r.id; }).join(','),
		focus: document.activeElement && document.activeElement.id, viewer: box ? box.getAttribute('data-viewer') || '' : '',
		osd: typeof window.OpenSeadragon, zoom: !!box && box.classList.contains('zoom-ready'),
		image: img ? (img.complete && img.naturalWidth > 0 && getComputedStyle(img).display !== 'none') : false,
		alt: img ? img.alt : '', next: document.getElementById('exhibit-next').disabled});
})()`

// TestExhibitionWalkthroughKeyboard walks the demo exhibition (two rooms of two exhibits,
// then a panorama room of two more)
// with the arrow keys: one exhibit at a time, the room it is in, the live region, the focus,
// the deep-zoom viewer on the IIIF tiles and the plain image while those are not there.
func TestExhibitionWalkthroughKeyboard(t *testing.T) {
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
	ctx := browser(t)
	do(t, ctx, "open the exhibition", chromedp.Navigate(srv.URL+"/exhibitions/"+id), chromedp.WaitVisible(chromedp.ID("exhibit-0")))

	// until polls a condition on the walkthrough's state s (walkState), failing with it.
	until := func(what, cond string) {
		t.Helper()
		js := `(function () { var s = JSON.parse(` + walkState + `); return ` + cond + `; })()`
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(30*time.Second),
			chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](walkState))
			t.Fatalf("%s: %v (state %s)", what, err, state)
		}
	}
	// The plain image shows until the tiles have opened; then the deep-zoom viewer does.
	until("the first exhibit with its plain image or its tiles, and alt text",
		`s.current === '0' && s.shown === 'exhibit-0' && s.rooms === 'section-0' && (s.image || s.zoom) && s.alt !== '' && /(^|\D)1\D+6(\D|$)/.test(s.position)`)
	if get(t, ctx, "OpenSeadragon", chromedp.Evaluate[bool](`typeof window.OpenSeadragon === 'function'`)) {
		until("the deep-zoom viewer opened on the IIIF tiles",
			`/^\/iiif\/3\/szm-[a-z0-9]+~[0-9a-f]{64}\/info\.json$/.test(s.viewer) && s.zoom`)
	} else {
		t.Log("OpenSeadragon is not in the vendor folder: only the plain image is checked")
	}
	steps := []struct {
		key  string
		n    int
		room string
	}{
		{kb.ArrowRight, 1, "section-0"},
		{kb.ArrowRight, 2, "section-1"},
		{kb.ArrowRight, 3, "section-1"},
		{kb.ArrowRight, 4, "section-2"},
		{kb.ArrowRight, 5, "section-2"},
		{kb.ArrowRight, 5, "section-2"}, // the last stays the last
		{kb.ArrowLeft, 4, "section-2"},
		{kb.ArrowLeft, 3, "section-1"},
		{kb.ArrowLeft, 2, "section-1"},
		{kb.ArrowLeft, 1, "section-0"},
	}
	for i, st := range steps {
		do(t, ctx, fmt.Sprintf("step %d", i), chromedp.KeyEvent(st.key))
		until(fmt.Sprintf("step %d", i), fmt.Sprintf(`s.current === '%d' && s.shown === 'exhibit-%d' && s.rooms === '%s' && `+
			`s.focus === 'exhibit-%d' && /(^|\D)%d\D+6(\D|$)/.test(s.position) && s.next === %t`, st.n, st.n, st.room, st.n, st.n+1, st.n == 5))
	}
	// The second exhibit is a detail: the viewer opens on its region.
	if !get(t, ctx, "region", chromedp.Evaluate[bool](`document.getElementById('exhibit-1').getAttribute('data-region') === '320,120,240,160'`)) {
		t.Error("the detail exhibit has no region")
	}
	// The first exhibit has an audio guide with its transcript.
	if !get(t, ctx, "audio guide", chromedp.Evaluate[bool](`!!document.querySelector('#exhibit-0 audio[src]') && document.querySelector('#exhibit-0 .transcript').textContent.indexOf('夜班') >= 0`)) {
		t.Error("the audio guide or its transcript is missing")
	}
}
