package e2e_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
	"github.com/shizuishan/culturecloud/internal/web"
)

// partnerPage is a page of another site (a district library's, say) that publishes into the
// product with WHIP and plays with WHEP through the npm package whip-whep, loaded as ES
// modules from that site. It records the status of every request the clients make, and
// offers sendrecv for playing, as a player that adds transceivers without a direction does.
const partnerPage = `<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>大武口区图书馆 · 讲座直播</title></head>
<body>
<h1>大武口区图书馆</h1>
<video id="watch" playsinline autoplay muted controls aria-label="讲座直播"></video>
<script type="module">
import { WHIPClient } from '/whip-whep/whip.js';
import { WHEPClient } from '/whip-whep/whep.js';
const log = window.fetchLog = [];
const plain = window.fetch.bind(window);
window.fetch = async function (url, opts) {
  const method = (opts && opts.method) || 'GET';
  try {
    const res = await plain(url, opts);
    log.push(method + ' ' + res.status);
    return res;
  } catch (e) {
    log.push(method + ' failed: ' + e.message);
    throw e;
  }
};
window.publish = async function (url, key) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: true });
  const pc = new RTCPeerConnection();
  stream.getTracks().forEach(function (t) { pc.addTransceiver(t, { direction: 'sendonly' }); });
  window.whip = new WHIPClient();
  await window.whip.publish(pc, url, key);
  return 'published';
};
window.watch = async function (url) {
  const pc = new RTCPeerConnection();
  pc.addTransceiver('video');
  pc.addTransceiver('audio');
  const stream = new MediaStream();
  pc.ontrack = function (ev) {
    stream.addTrack(ev.track);
    const v = document.getElementById('watch');
    if (v.srcObject !== stream) v.srcObject = stream;
  };
  window.whep = new WHEPClient();
  await window.whep.view(pc, url);
  window.answer = pc.remoteDescription.sdp;
  return 'watching';
};
// frame shows the product's embeddable player in the page, as a partner site does.
window.frame = function (url) {
  const f = document.createElement('iframe');
  f.id = 'embed';
  f.title = '讲座播放器';
  f.allow = 'autoplay';
  f.width = 640;
  f.height = 480;
  f.onload = function () { window.frameLoaded = true; };
  f.src = url;
  document.body.appendChild(f);
};
window.partnerReady = true;
</script>
</body>
</html>`

// whipWhepDir is where deploy/install.sh put the whip-whep package, beside the vendor folder.
func whipWhepDir(t *testing.T) string {
	t.Helper()
	dist := web.FindVendor("")
	if dist == "" {
		testenv.Unavailable(t, errors.New("no .tools/web: run deploy/install.sh"))
	}
	dir := filepath.Join(filepath.Dir(dist), "node_modules", "whip-whep")
	if _, err := os.Stat(filepath.Join(dir, "whep.js")); err != nil {
		testenv.Unavailable(t, err)
	}
	return dir
}

// partnerSite serves partnerPage and the whip-whep modules on another loopback origin.
func partnerSite(t *testing.T) *httptest.Server {
	t.Helper()
	modules := http.StripPrefix("/whip-whep/", http.FileServer(http.Dir(whipWhepDir(t))))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(partnerPage))
	})
	mux.Handle("GET /whip-whep/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, ".js") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8") // module scripts need a JavaScript type
		modules.ServeHTTP(w, r)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// partnerState describes the partner's page for failure messages.
const partnerState = `(function () {
	var v = document.getElementById('watch');
	return JSON.stringify({requests: window.fetchLog, width: v && v.videoWidth, time: v && v.currentTime, ready: v && v.readyState,
		paused: v && v.paused});
})()`

// partnerLive is a lecture starting now on a server that lets a partner site's pages publish
// and play across origins (and, when asked, frame its players), with its lecturer signed in.
// The partner's page offers publish(url, key) and watch(url) and a <video id="watch">.
type partnerLive struct {
	srv      *testenv.Server
	lecturer *apiUser
	partner  string // the partner site's origin
	id, key  string
	api      string // the lecture's API URL
}

func startPartnerLecture(t *testing.T, partner string, embed bool, title, description string) partnerLive {
	t.Helper()
	cfg := testenv.Config(t, testenv.Shared(t))
	cfg.Live.AllowedOrigins = partner
	if embed {
		cfg.Live.EmbedOrigins = partner
	}
	cfg.Live.EndGrace = time.Minute
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv := testenv.StartServer(t, cfg)
	createLecturer(t, srv.URL)
	lecturer := apiLogin(t, srv.URL, lecturerName, lecturerPassword)
	var lec struct {
		ID        string `json:"id"`
		StreamKey string `json:"stream_key"`
	}
	lecturer.want(http.StatusCreated, "POST", "/api/v1/lectures", map[string]any{
		"title": title, "lecturer": map[string]any{"account": lecturerName}, "unit": "dwk-culture-centre",
		"start": time.Now().UTC().Format(time.RFC3339), "duration_minutes": 60, "visibility": "public",
		"description": description}, &lec)
	return partnerLive{srv: srv, lecturer: lecturer, partner: partner, id: lec.ID, key: lec.StreamKey,
		api: srv.URL + "/api/v1/lectures/" + lec.ID}
}

// open opens the partner's page in ctx and waits for its script.
func (p partnerLive) open(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx, "open the partner's page", chromedp.Navigate(p.partner+"/"),
		chromedp.Poll[chromedp.Void](`window.partnerReady === true`, chromedp.WithPollingTimeout(20*time.Second)))
}

// publish goes live from the partner's page in ctx with the stream key, and waits until the
// lecture is live.
func (p partnerLive) publish(t *testing.T, ctx context.Context) {
	t.Helper()
	p.open(t, ctx)
	if got := get(t, ctx, "publish", chromedp.Evaluate[string](`publish(`+jsString(p.api+"/whip")+`, `+jsString(p.key)+`)`,
		chromedp.EvalAwaitPromise)); got != "published" {
		t.Fatalf("publish: %q", got)
	}
	testwait.Within(t, "the lecture goes live", 45*time.Second, func() bool {
		var lec struct{ State string }
		p.lecturer.want(http.StatusOK, "GET", "/api/v1/lectures/"+p.id, nil, &lec)
		return lec.State == "live"
	})
}

// watch starts playing on the partner's page in ctx.
func (p partnerLive) watch(t *testing.T, ctx context.Context) {
	t.Helper()
	p.open(t, ctx)
	if got := get(t, ctx, "watch", chromedp.Evaluate[string](`watch(`+jsString(p.api+"/whep")+`)`, chromedp.EvalAwaitPromise)); got != "watching" {
		t.Fatalf("watch: %q", got)
	}
}

// plays waits until the partner page's video in ctx has frames and its time advances.
func plays(t *testing.T, ctx context.Context) {
	t.Helper()
	waitFor(t, ctx, "frames arrive", `document.getElementById('watch').videoWidth > 0`, partnerState, 60*time.Second)
	first := get(t, ctx, "current time", chromedp.Evaluate[float64](`document.getElementById('watch').currentTime`))
	waitFor(t, ctx, "the video's time advances", `document.getElementById('watch').currentTime > `+strconv.FormatFloat(first+1, 'f', 3, 64), partnerState, 30*time.Second)
}

// TestWHIPAndWHEPFromAnotherSite: a page on another origin (a second loopback port) goes
// live with whip-whep's WHIP client and the lecture's stream key, and plays with its WHEP
// client; the browser lets both through because the product answers their CORS preflights.
// Frames arrive and the video's time advances; ending both sessions the way whip-whep does
// (close the connection, then DELETE) is answered 200.
func TestWHIPAndWHEPFromAnotherSite(t *testing.T) {
	live := startPartnerLecture(t, partnerSite(t).URL, true, "跨站直播：贺兰山岩画", "在区图书馆的网页上直播和观看。")
	pub := liveBrowser(t, true)
	live.publish(t, pub)

	// The player is another tab of another browser, on the partner's page too.
	vis := liveBrowser(t, false)
	live.watch(t, vis)
	if answer := get(t, vis, "answer", chromedp.Evaluate[string](`window.answer`)); strings.Contains(answer, "a=sendrecv") || !strings.Contains(answer, "a=sendonly") {
		t.Errorf("the answer to the sendrecv offer is not sendonly:\n%s", answer)
	}
	plays(t, vis)
	screenshot(t, vis, "partner-site-whep.png")

	// The same page frames the product's embeddable player, which plays the lecture too.
	do(t, vis, "frame the embeddable player", chromedp.Evaluate[chromedp.Void](`frame(`+jsString(live.srv.URL+"/embed/lectures/"+live.id)+`)`),
		chromedp.Poll[chromedp.Void](`window.frameLoaded === true`, chromedp.WithPollingTimeout(20*time.Second)))
	frames := get(t, vis, "the frame", chromedp.Nodes(chromedp.CSS("#embed")))
	if _, err := chromedp.Run(vis, chromedp.Poll[bool](`(function () {
		var v = document.getElementById('live-video');
		return !!v && v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > 0;
	})()`, chromedp.WithPollingInFrame(frames[0]), chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		t.Fatalf("the framed player does not play: %v", err)
	}
	screenshot(t, vis, "partner-site-embed.png")

	// whip-whep ends a session by closing its connection, then deleting it.
	do(t, vis, "stop watching", chromedp.Evaluate[chromedp.Void](`whep.stop()`, chromedp.EvalAwaitPromise))
	do(t, pub, "stop publishing", chromedp.Evaluate[chromedp.Void](`whip.stop()`, chromedp.EvalAwaitPromise))
	for name, ctx := range map[string]context.Context{"publisher": pub, "player": vis} {
		requests := get(t, ctx, name+" requests", chromedp.Evaluate[[]string](`window.fetchLog`))
		t.Logf("%s's requests: %q", name, requests)
		if len(requests) == 0 || requests[0] != "POST 201" || requests[len(requests)-1] != "DELETE 200" {
			t.Errorf("the %s's requests were %q: want POST 201 first and DELETE 200 last", name, requests)
		}
		for _, r := range requests[1 : len(requests)-1] {
			if r != "PATCH 204" {
				t.Errorf("the %s's trickle ICE got %q", name, r)
			}
		}
	}
}
