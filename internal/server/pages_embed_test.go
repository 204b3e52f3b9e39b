package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/config"
)

// TestLectureEmbed: /embed/lectures/{id} is a bare player page that the sites of
// live.embed_origins may frame, in Chinese first and in English; every other page still
// refuses to be framed by another site.
func TestLectureEmbed(t *testing.T) {
	srv := startLiveServer(t, func(cfg *config.Config) { cfg.Live.EmbedOrigins = partnerOrigin + ",https://lib.dwk.example.cn" })
	_, lecturer, citizen := liveAccounts(t, srv)
	anon := newClient(t, srv.URL)
	public := lecturer.createLecture("嵌入测试：石炭井的煤与人", time.Now().Add(2*time.Hour), "public")
	members := lecturer.createLecture("嵌入测试：会员讲座", time.Now().Add(2*time.Hour), "registered")
	embed := "/embed/lectures/" + public.ID

	frameable := func(t testing.TB, r reply) {
		t.Helper()
		if xfo := r.header.Get("X-Frame-Options"); xfo != "" {
			t.Errorf("X-Frame-Options %q on the embeddable player", xfo)
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self' "+partnerOrigin+" https://lib.dwk.example.cn;") {
			t.Errorf("CSP %q does not let the partner sites frame it", csp)
		}
	}
	// ?lang=en stays in the client's cookie: the later steps use other clients.
	runScenarios(t, []apiScenario{
		{name: "player in Chinese", client: anon, method: "GET", path: embed, status: http.StatusOK,
			bodyHas: []string{`<html lang="zh-CN">`, `id="lecture-page"`, `data-kind="lecture"`, `id="live-video"`, "嵌入测试：石炭井的煤与人",
				`href="/lectures/` + public.ID + `" target="_blank" rel="noopener"`, "在石嘴山数字文化云打开", `data-t-went-live=`},
			bodyLacks: []string{`id="site-menu"`, `class="site-header"`}, check: frameable},
		{name: "player in English", client: anon, method: "GET", path: embed + "?lang=en", status: http.StatusOK,
			bodyHas: []string{`<html lang="en">`, "Open on Shizuishan Culture Cloud", "(opens in a new tab)"}, check: frameable},
		{name: "members' lecture, visitor", client: newClient(t, srv.URL), method: "GET", path: "/embed/lectures/" + members.ID, status: http.StatusOK,
			bodyHas: []string{`id="sign-in-to-watch"`, "请到石嘴山数字文化云登录后观看"}, bodyLacks: []string{`id="live-video"`}, check: frameable},
		{name: "members' lecture, signed in", client: citizen, method: "GET", path: "/embed/lectures/" + members.ID, status: http.StatusOK,
			bodyHas: []string{`id="live-video"`}, bodyLacks: []string{`id="sign-in-to-watch"`}},
		{name: "unknown lecture", client: anon, method: "GET", path: "/embed/lectures/lec-doesnotexist", status: http.StatusNotFound},
		{name: "the lecture's own page is not frameable", client: anon, method: "GET", path: "/lectures/" + public.ID, status: http.StatusOK,
			check: func(t testing.TB, r reply) {
				if xfo := r.header.Get("X-Frame-Options"); xfo != "SAMEORIGIN" {
					t.Errorf("X-Frame-Options %q", xfo)
				}
				if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self';") || strings.Contains(csp, partnerOrigin) {
					t.Errorf("CSP %q", csp)
				}
			}},
	})
}
