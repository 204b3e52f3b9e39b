package e2e_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/shizuishan/culturecloud/internal/devservices"
	"github.com/shizuishan/culturecloud/internal/testenv"
)

// eyevinnPage is a partner site's page that publishes with @eyevinn/whip-web-client and plays
// with @eyevinn/webrtc-player (bundled by deploy/install.sh into window.Eyevinn), the way a
// site that took Eyevinn's clients off the shelf would. Like partnerPage, it logs the status of
// every request the clients make.
const eyevinnPage = `<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>惠农区图书馆 · 讲座直播</title></head>
<body>
<h1>惠农区图书馆</h1>
<video id="watch" playsinline autoplay muted controls aria-label="讲座直播"></video>
<script>
(function () {
  var log = window.fetchLog = [];
  var plain = window.fetch.bind(window);
  window.fetch = function (url, opts) {
    var method = (opts && opts.method) || 'GET';
    return plain(url, opts).then(function (res) { log.push(method + ' ' + res.status); return res; },
      function (e) { log.push(method + ' failed: ' + e.message); throw e; });
  };
})();
</script>
<script src="/eyevinn-webrtc.js"></script>
<script>
window.publish = async function (url, key) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: true });
  window.whip = new Eyevinn.WHIPClient({ endpoint: url, opts: { authkey: key, iceServers: [] } });
  await window.whip.ingest(stream);
  return 'published';
};
window.watch = async function (url) {
  window.player = new Eyevinn.WebRTCPlayer({ video: document.getElementById('watch'), type: 'whep', iceServers: [] });
  await window.player.load(new URL(url));
  return 'watching';
};
window.partnerReady = typeof Eyevinn === 'object';
</script>
</body>
</html>`

// eyevinnSite serves eyevinnPage and the bundle on another loopback origin.
func eyevinnSite(t *testing.T) *httptest.Server {
	t.Helper()
	bundle := devservices.ToolPath("eyevinn", "eyevinn-webrtc.js")
	if _, err := os.Stat(bundle); err != nil {
		testenv.Unavailable(t, err) // deploy/install.sh makes it
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(eyevinnPage))
	})
	mux.HandleFunc("GET /eyevinn-webrtc.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		http.ServeFile(w, r, bundle)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestEyevinnClientsFromAnotherSite: a page on another origin goes live with Eyevinn's WHIP
// client (stream key as its bearer token) and plays with Eyevinn's WHEP player; the product
// answers their preflights, frames arrive, and the video's time advances.
func TestEyevinnClientsFromAnotherSite(t *testing.T) {
	live := startPartnerLecture(t, eyevinnSite(t).URL, false, "跨站直播：惠农区的黄河故事", "用 Eyevinn 的客户端在区图书馆的网页上直播和观看。")
	pub := liveBrowser(t, true)
	live.publish(t, pub)
	vis := liveBrowser(t, false)
	live.watch(t, vis)
	plays(t, vis)
	screenshot(t, vis, "partner-site-eyevinn.png")

	for name, ctx := range map[string]context.Context{"publisher": pub, "player": vis} {
		requests := get(t, ctx, name+" requests", chromedp.Evaluate[[]string](`window.fetchLog`))
		t.Logf("%s's requests: %q", name, requests)
		for _, r := range requests {
			if _, status, _ := strings.Cut(r, " "); !strings.HasPrefix(status, "2") {
				t.Errorf("the %s's requests were %q: every one should succeed", name, requests)
				break
			}
		}
	}
}
