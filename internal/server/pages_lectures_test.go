package server_test

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/testenv"
)

// TestLecturePages: the listing, a lecture's page, the feeds (static segments beside
// /lectures/:id), the per-lecture calendar file, who may open the studio and the console.
func TestLecturePages(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	srv := testenv.StartServer(t, cfg)
	admin := newClient(t, srv.URL)
	admin.login(testenv.AdminName, testenv.AdminPassword)
	const lecturerName, lecturerPassword = "page.lecturer", "Lecture-Pages-2026"
	admin.want(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"name": lecturerName, "display_name": "赵老师",
		"password": lecturerPassword, "role": "lecturer", "unit": "dwk-culture-centre"})
	lecturer := newClient(t, srv.URL)
	lecturer.login(lecturerName, lecturerPassword)
	citizen := newClient(t, srv.URL)
	citizen.want(http.StatusCreated, "POST", "/api/v1/auth/register", map[string]any{"name": "page.citizen", "display_name": "小刚",
		"password": "Yellow-River-2026"})
	citizen.login("page.citizen", "Yellow-River-2026")
	visitor := newClient(t, srv.URL)

	// Tomorrow at 19:30 in Beijing.
	cst := time.FixedZone("CST", 8*3600)
	tomorrow := time.Now().In(cst).Add(24 * time.Hour)
	start := time.Date(tomorrow.Year(), tomorrow.Month(), tomorrow.Day(), 19, 30, 0, 0, cst)
	var created struct {
		ID        string `json:"id"`
		StreamKey string `json:"stream_key"`
	}
	lecturer.want(http.StatusCreated, "POST", "/api/v1/lectures", map[string]any{
		"title": "贺兰山岩画里的日月星辰", "lecturer": map[string]any{"account": lecturerName, "name": "宁夏大学 赵教授"},
		"unit": "dwk-culture-centre", "start": start.Format(time.RFC3339), "duration_minutes": 90, "visibility": "public",
		"description": "岩画<script>alert(1)</script>中的天象。",
	}).json(t, &created)
	id := created.ID

	page := visitor.want(http.StatusOK, "GET", "/lectures?lang=zh-CN", nil)
	body := string(page.body)
	for _, must := range []string{`href="/lectures/` + id + `"`, "贺兰山岩画里的日月星辰", "宁夏大学 赵教授", "19:30–21:00", `href="/lectures/feed.rss"`} {
		if !strings.Contains(body, must) {
			t.Errorf("/lectures lacks %s", must)
		}
	}

	page = visitor.want(http.StatusOK, "GET", "/lectures/"+id, nil)
	body = string(page.body)
	for _, must := range []string{`data-state="scheduled"`, `href="/lectures/` + id + `/calendar.ics"`, "岩画&lt;script&gt;", `id="chat-login"`} {
		if !strings.Contains(body, must) {
			t.Errorf("lecture page lacks %s", must)
		}
	}
	if strings.Contains(body, "<script>alert") || strings.Contains(body, `id="studio-link"`) {
		t.Error("lecture page shows raw HTML or the studio link to a visitor")
	}
	if !strings.Contains(string(lecturer.want(http.StatusOK, "GET", "/lectures/"+id, nil).body), `id="studio-link"`) {
		t.Error("the lecturer gets no studio link")
	}
	nf := visitor.want(http.StatusNotFound, "GET", "/lectures/lec-nope", nil)
	if !strings.HasPrefix(nf.header.Get("Content-Type"), "text/html") {
		t.Errorf("missing lecture: %s", nf.header.Get("Content-Type"))
	}

	// The feeds: static segments win over :id, with their content types and absolute links.
	pageURL := srv.URL + "/lectures/" + id
	for _, f := range []struct{ path, contentType, must string }{
		{"/lectures/feed.rss", "application/rss+xml; charset=utf-8", "<link>" + pageURL + "</link>"},
		{"/lectures/feed.atom?lang=en", "application/atom+xml; charset=utf-8", `href="` + pageURL + `"`},
		{"/lectures/calendar.ics", "text/calendar; charset=utf-8", "UID:" + id + "@127.0.0.1"},
	} {
		r := visitor.want(http.StatusOK, "GET", f.path, nil)
		if got := r.header.Get("Content-Type"); got != f.contentType {
			t.Errorf("%s: Content-Type %q, want %q", f.path, got, f.contentType)
		}
		if !strings.Contains(string(r.body), f.must) {
			t.Errorf("%s lacks %s:\n%s", f.path, f.must, r.body)
		}
		if strings.HasSuffix(f.path, "rss") || strings.Contains(f.path, "atom") {
			if err := xml.Unmarshal(r.body, new(struct{})); err != nil {
				t.Errorf("%s is not XML: %v", f.path, err)
			}
		}
	}
	ics := visitor.want(http.StatusOK, "GET", "/lectures/"+id+"/calendar.ics", nil)
	if !strings.Contains(ics.header.Get("Content-Disposition"), "attachment") || !strings.Contains(string(ics.body), "DTSTART:"+start.UTC().Format("20060102T150405Z")) {
		t.Errorf("lecture calendar: %s %s", ics.header.Get("Content-Disposition"), ics.body)
	}

	// The studio: visitors sign in first, those who may not edit the lecture find nothing.
	r := visitor.want(http.StatusSeeOther, "GET", "/studio/lectures/"+id, nil)
	if loc := r.header.Get("Location"); loc != "/login?next="+url.QueryEscape("/studio/lectures/"+id) {
		t.Errorf("studio redirects a visitor to %q", loc)
	}
	citizen.want(http.StatusNotFound, "GET", "/studio/lectures/"+id, nil)
	studio := string(lecturer.want(http.StatusOK, "GET", "/studio/lectures/"+id, nil).body)
	for _, must := range []string{`value="` + srv.URL + `/api/v1/lectures/` + id + `/whip"`, `id="studio-go-live"`, `id="key-rotate"`, `data-can-edit="1"`} {
		if !strings.Contains(studio, must) {
			t.Errorf("studio lacks %s", must)
		}
	}
	admin.want(http.StatusOK, "GET", "/studio/lectures/"+id, nil)
	lecturer.want(http.StatusNotFound, "GET", "/studio/lectures/lec-nope", nil)

	// The console.
	citizen.want(http.StatusForbidden, "GET", "/console/lectures", nil)
	visitor.want(http.StatusSeeOther, "GET", "/console/lectures/new", nil)
	list := string(lecturer.want(http.StatusOK, "GET", "/console/lectures", nil).body)
	if !strings.Contains(list, `href="/studio/lectures/`+id+`"`) || !strings.Contains(list, `href="/console/lectures/`+id+`"`) {
		t.Error("the console does not list the lecture with its studio and editor")
	}
	form := string(lecturer.want(http.StatusOK, "GET", "/console/lectures/new", nil).body)
	if !strings.Contains(form, `<option value="`+lecturerName+`" selected>`) || !strings.Contains(form, `value="90"`) {
		t.Error("the new lecture form does not name the lecturer or the default length")
	}
	edit := string(lecturer.want(http.StatusOK, "GET", "/console/lectures/"+id, nil).body)
	if !strings.Contains(edit, `value="`+start.Format("2006-01-02T15:04")+`"`) || !strings.Contains(edit, `id="lecture-cancel"`) {
		t.Error("the lecture editor does not show the start in Beijing time or the cancel button")
	}
	citizen.want(http.StatusForbidden, "GET", "/console/lectures/"+id, nil)

	// The home page announces it.
	if home := string(visitor.want(http.StatusOK, "GET", "/", nil).body); !strings.Contains(home, `id="home-lectures"`) || !strings.Contains(home, `href="/lectures/`+id+`"`) {
		t.Error("the home page does not announce the lecture")
	}
}

// TestLectureFeedsPublicURL: with http.public_url set, the feeds and the studio name that
// address, not the one the request came to.
func TestLectureFeedsPublicURL(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	cfg.HTTP.PublicURL = "https://wenhuayun.example.cn/"
	srv := testenv.StartServer(t, cfg)
	admin := newClient(t, srv.URL)
	admin.login(testenv.AdminName, testenv.AdminPassword)
	admin.want(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"name": "feed.lecturer", "display_name": "钱老师",
		"password": "Lecture-Feeds-2026", "role": "lecturer", "unit": "szs"})
	var created struct {
		ID string `json:"id"`
	}
	admin.want(http.StatusCreated, "POST", "/api/v1/lectures", map[string]any{
		"title": "沙湖的鸟", "lecturer": map[string]any{"account": "feed.lecturer"}, "unit": "szs",
		"start": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339), "duration_minutes": 60,
	}).json(t, &created)
	rss := string(admin.want(http.StatusOK, "GET", "/lectures/feed.rss", nil).body)
	if !strings.Contains(rss, "<link>https://wenhuayun.example.cn/lectures/"+created.ID+"</link>") {
		t.Errorf("rss does not use the public URL:\n%s", rss)
	}
	if !strings.Contains(string(admin.want(http.StatusOK, "GET", "/lectures/calendar.ics", nil).body), "UID:"+created.ID+"@wenhuayun.example.cn") {
		t.Error("ics does not use the public host")
	}
}
