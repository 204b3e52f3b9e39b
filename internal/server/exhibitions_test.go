package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// exhibitionFixture is the Dawukou library's staff with the items an exhibition may show:
// two published photographs (PNG, 64 and 128 pixels square), a published oral history (Sound), and a draft of
// the Huinong library that Dawukou's staff may not see.
type exhibitionFixture struct {
	srv                  *testenv.Server
	dwk, hn, anon        *client
	photo, photo2, audio itemJSON
	photoSHA, photo2SHA  string
	otherUnitDraft       itemJSON
}

func newExhibitionFixture(t *testing.T, configure ...func(*config.Config)) *exhibitionFixture {
	t.Helper()
	cfg := testenv.Config(t, testenv.Shared(t))
	for _, f := range configure {
		f(cfg)
	}
	srv := testenv.StartServer(t, cfg)
	_, dwk, hn := staffClients(t, srv)
	f := &exhibitionFixture{srv: srv, dwk: dwk, hn: hn, anon: newClient(t, srv.URL)}
	photo := func(title, name string, size int) (itemJSON, string) {
		it := dwk.createItem(sampleItem(title, map[string]any{"theme": "industrial"}))
		job := dwk.attach(it.ID, dwk.uploadFile(name, pngBytes(size)))
		if job.State != "done" {
			t.Fatalf("attach %+v", job)
		}
		dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID, nil).json(t, &it)
		return dwk.publish(it), job.Result.File.SHA256
	}
	f.photo, f.photoSHA = photo("大武口洗煤厂全景", "washery.png", 2000)     // 64×64
	f.photo2, f.photo2SHA = photo("石炭井矿区井架", "headframe.png", 20000) // 128×128
	f.audio = dwk.publish(dwk.createItem(sampleItem("洗煤厂老工人口述", map[string]any{"type": "Sound", "theme": "industrial"})))
	f.otherUnitDraft = hn.createItem(sampleItem("惠农区草稿照片", map[string]any{"unit": "hn-library"}))
	return f
}

func exhibit(item, sha string, extra map[string]any) map[string]any {
	e := map[string]any{"item": item, "label": "洗煤厂", "text_zh": "上世纪六十年代的大武口洗煤厂。"}
	if sha != "" {
		e["file"] = sha
	}
	for k, v := range extra {
		e[k] = v
	}
	return e
}

// exhibition is the body of an exhibition with the given sections, extra fields overriding.
func exhibition(extra map[string]any, sections ...map[string]any) map[string]any {
	e := map[string]any{"title": "石嘴山工业记忆", "subtitle": "煤城六十年", "curator": "大武口区图书馆 王馆员",
		"unit": "dwk-library", "theme": "industrial", "introduction": "从洗煤厂到井架，一座煤城的记忆。",
		"opens": "2020-01-01", "permanent": true, "sections": sections}
	for k, v := range extra {
		e[k] = v
	}
	return e
}

func section(title string, exhibits ...map[string]any) map[string]any {
	if exhibits == nil {
		exhibits = []map[string]any{}
	}
	return map[string]any{"title": title, "intro": "展厅导语。", "exhibits": exhibits}
}

// fieldProblem is a check that the answer is a 422 naming field with code.
func fieldProblem(field, code string) func(testing.TB, reply) {
	return func(t testing.TB, r reply) {
		var p struct {
			Errors []struct{ Field, Code string } `json:"errors"`
		}
		r.json(t, &p)
		for _, e := range p.Errors {
			if e.Field == field && e.Code == code {
				return
			}
		}
		t.Fatalf("problem %s does not name %s (%s)", r.body, field, code)
	}
}

// TestExhibitionValidation: every bad reference is a 422 naming its field path, and a refused
// update leaves the stored exhibition as it was.
func TestExhibitionValidation(t *testing.T) {
	f := newExhibitionFixture(t)
	const path = "/api/v1/exhibitions"
	good := exhibit(f.photo.ID, f.photoSHA, nil)
	bad := func(name string, body map[string]any, field, code string) apiScenario {
		return apiScenario{name: name, client: f.dwk, method: "POST", path: path, body: body,
			status: http.StatusUnprocessableEntity, problem: true, check: fieldProblem(field, code)}
	}
	runScenarios(t, []apiScenario{
		bad("an item of another unit's drafts", exhibition(nil, section("一", good, exhibit(f.otherUnitDraft.ID, "", nil))),
			"sections[0].exhibits[1].item", "unknown_item"),
		bad("an item that does not exist", exhibition(nil, section("一"), section("二", good, good, exhibit("szm-nothere22", "", nil))),
			"sections[1].exhibits[2].item", "unknown_item"),
		bad("a file the item lacks", exhibition(nil, section("一", exhibit(f.photo.ID, f.photo2SHA, nil))),
			"sections[0].exhibits[0].file", "unknown_file"),
		bad("an audio guide that is a photograph", exhibition(nil, section("一", exhibit(f.photo.ID, "", map[string]any{"audio_guide": f.photo2.ID}))),
			"sections[0].exhibits[0].audio_guide", "not_audio"),
		bad("a region beyond the image", exhibition(nil, section("一", exhibit(f.photo.ID, f.photoSHA,
			map[string]any{"region": map[string]any{"x": 60, "y": 0, "w": 10, "h": 10}}))),
			"sections[0].exhibits[0].region", "region_outside"),
		bad("a region of no size", exhibition(nil, section("一", exhibit(f.photo.ID, f.photoSHA,
			map[string]any{"region": map[string]any{"x": 0, "y": 0, "w": 0, "h": 10}}))),
			"sections[0].exhibits[0].region", "region"),
		bad("a region of an oral history", exhibition(nil, section("一", exhibit(f.audio.ID, "",
			map[string]any{"region": map[string]any{"x": 0, "y": 0, "w": 5, "h": 5}}))),
			"sections[0].exhibits[0].item", "not_image"),
		bad("closes before it opens", exhibition(map[string]any{"permanent": false, "opens": "2030-05-01", "closes": "2030-04-30"}, section("一", good)),
			"closes", "day_order"),
		bad("an unknown theme", exhibition(map[string]any{"theme": "aliens"}, section("一", good)), "theme", "vocabulary"),
		bad("a kind of room that does not exist", exhibition(nil, map[string]any{"title": "全景", "kind": "cinema", "exhibits": []any{}}),
			"sections[0].kind", "section_kind"),
		{name: "a unit outside the curator's", client: f.dwk, method: "POST", path: path,
			body: exhibition(map[string]any{"unit": "hn-library"}, section("一", good)), status: http.StatusForbidden},
		{name: "not for the public", client: f.anon, method: "POST", path: path, body: exhibition(nil, section("一", good)),
			status: http.StatusUnauthorized},
	})
	var created struct {
		ID string `json:"id"`
	}
	r := f.dwk.want(http.StatusCreated, "POST", path, exhibition(nil, section("一", good)))
	r.json(t, &created)
	etag := r.header.Get("ETag")
	one := path + "/" + created.ID
	runScenarios(t, []apiScenario{
		{name: "a refused update", client: f.dwk, method: "PUT", path: one, headers: []string{"If-Match", etag},
			body:   exhibition(map[string]any{"title": "改过的标题"}, section("一", good, exhibit(f.otherUnitDraft.ID, "", nil))),
			status: http.StatusUnprocessableEntity, check: fieldProblem("sections[0].exhibits[1].item", "unknown_item")},
		{name: "leaves it as it was", client: f.dwk, method: "GET", path: one, status: http.StatusOK,
			bodyHas: []string{"石嘴山工业记忆"}, bodyLacks: []string{"改过的标题"},
			check: func(t testing.TB, r reply) {
				if r.header.Get("ETag") != etag {
					t.Fatalf("ETag %s, want %s", r.header.Get("ETag"), etag)
				}
			}},
		{name: "without If-Match", client: f.dwk, method: "PUT", path: one, body: exhibition(nil, section("一", good)),
			status: http.StatusPreconditionRequired},
		{name: "a stale version", client: f.dwk, method: "PUT", path: one, headers: []string{"If-Match", `"0123"`},
			body: exhibition(nil, section("一", good)), status: http.StatusPreconditionFailed},
		{name: "malformed", client: f.dwk, method: "PUT", path: one, headers: []string{"If-Match", etag},
			body: `{"title": 5}`, status: http.StatusBadRequest, problem: true},
	})
}

// TestExhibitionLifecycle follows an exhibition from draft through review to the public and
// the index, and shows that an item withdrawn from the library leaves it without a broken
// exhibit and with a note to its curators.
func TestExhibitionLifecycle(t *testing.T) {
	f := newExhibitionFixture(t)
	const path = "/api/v1/exhibitions"
	body := exhibition(nil,
		section("洗煤厂", exhibit(f.photo.ID, f.photoSHA, map[string]any{"audio_guide": f.audio.ID, "text_en": "The coal washery.",
			"region": map[string]any{"x": 8, "y": 8, "w": 32, "h": 24}})),
		section("井架", exhibit(f.photo2.ID, "", map[string]any{"label": "石炭井井架"}), exhibit(f.photo.ID, "", nil)))
	body["cover"] = map[string]any{"item": f.photo.ID}
	var ex struct {
		ID       string `json:"id"`
		Status   string `json:"status"`
		Sections []struct {
			Exhibits []struct {
				Item string `json:"item"`
			} `json:"exhibits"`
		} `json:"sections"`
		Notes []struct{ Field, Item, Code string } `json:"notes"`
	}
	r := f.dwk.want(http.StatusCreated, "POST", path, body)
	r.json(t, &ex)
	etag := r.header.Get("ETag")
	one := path + "/" + ex.ID
	runScenarios(t, []apiScenario{
		{name: "a draft is not public", client: f.anon, method: "GET", path: one, status: http.StatusNotFound},
		{name: "nor for staff of another unit", client: f.hn, method: "GET", path: one, status: http.StatusNotFound},
		{name: "submit", client: f.dwk, method: "POST", path: one + "/status", body: map[string]any{"status": "in_review"},
			headers: []string{"If-Match", etag}, status: http.StatusOK, check: keepETag(&etag)},
	})
	runScenarios(t, []apiScenario{
		{name: "the reviewer finds it in her queue", client: f.dwk.reviewer, method: "GET", path: "/api/v1/review/queue",
			status: http.StatusOK, bodyHas: []string{`"kind":"exhibition","id":"` + ex.ID + `"`}},
		{name: "the curator cannot publish her own", client: f.dwk, method: "POST", path: one + "/status",
			body: map[string]any{"status": "published"}, headers: []string{"If-Match", etag},
			status: http.StatusForbidden, check: problemType("/problems/review_required")},
		{name: "nor approve it", client: f.dwk, method: "POST", path: one + "/review", body: map[string]any{"decision": "approve"},
			headers: []string{"If-Match", etag}, status: http.StatusForbidden},
		{name: "a reviewer approves", client: f.dwk.reviewer, method: "POST", path: one + "/review",
			body: map[string]any{"decision": "approve"}, headers: []string{"If-Match", etag}, status: http.StatusOK,
			bodyHas: []string{`"status":"published"`}, check: keepETag(&etag)},
		{name: "the public sees it", client: f.anon, method: "GET", path: one, status: http.StatusOK,
			bodyHas: []string{f.photo2.ID, f.audio.ID}, bodyLacks: []string{`"notes"`}},
	})
	runScenarios(t, []apiScenario{
		{name: "a published exhibition is not deleted", client: f.dwk, method: "DELETE", path: one,
			headers: []string{"If-Match", etag}, status: http.StatusUnprocessableEntity, check: fieldProblem("status", "not_draft")},
	})
	testwait.Until(t, "the exhibition is found by search", func() bool {
		var res struct {
			Hits   []struct{ ID string } `json:"hits"`
			Facets map[string]map[string]int
		}
		f.anon.want(http.StatusOK, "GET", "/api/v1/exhibitions?q=工业记忆&open_now=true&theme=industrial", nil).json(t, &res)
		return len(res.Hits) == 1 && res.Hits[0].ID == ex.ID && res.Facets["open_now"]["true"] == 1
	})
	f.anon.want(http.StatusBadRequest, "GET", "/api/v1/exhibitions?open_now=maybe", nil)
	runScenarios(t, []apiScenario{
		{name: "the list page", client: f.anon, method: "GET", path: "/exhibitions?open_now=true", status: http.StatusOK,
			bodyHas: []string{`href="/exhibitions/` + ex.ID + `"`, `id="exhibition-list"`}},
		{name: "the curators' list", client: f.dwk, method: "GET", path: "/console/exhibitions", status: http.StatusOK,
			bodyHas: []string{`href="/console/exhibitions/` + ex.ID + `"`}},
		{name: "a new exhibition's editor", client: f.dwk, method: "GET", path: "/console/exhibitions/new", status: http.StatusOK,
			bodyHas: []string{`id="exhibition-form"`, `id="add-section"`}},
		{name: "no editor for another unit's staff", client: f.hn, method: "GET", path: "/console/exhibitions/" + ex.ID,
			status: http.StatusNotFound},
	})
	// The site's search shows it beside the items, and the home page counts it.
	if page := f.anon.want(http.StatusOK, "GET", "/memory?q="+url.QueryEscape("工业记忆"), nil); !strings.Contains(string(page.body), `href="/exhibitions/`+ex.ID+`"`) {
		t.Error("the site search does not show the exhibition")
	}
	if home := f.anon.want(http.StatusOK, "GET", "/", nil); !strings.Contains(string(home.body), `id="home-exhibitions-count"`) {
		t.Error("the home page does not count the exhibition")
	}

	// The second photograph is withdrawn from the library: the public no longer sees it,
	// the curators are told.
	var photo2 itemJSON
	f.dwk.want(http.StatusOK, "GET", "/api/v1/items/"+f.photo2.ID, nil).json(t, &photo2)
	f.dwk.move(photo2, "withdrawn")
	f.anon.want(http.StatusOK, "GET", one, nil).json(t, &ex)
	if len(ex.Sections) != 2 || len(ex.Sections[1].Exhibits) != 1 || ex.Sections[1].Exhibits[0].Item != f.photo.ID || len(ex.Notes) != 0 {
		t.Fatalf("the public sees %+v", ex)
	}
	if page := f.anon.want(http.StatusOK, "GET", "/exhibitions/"+ex.ID, nil); strings.Contains(string(page.body), f.photo2.ID) {
		t.Error("the walkthrough still shows the withdrawn item")
	}
	f.dwk.want(http.StatusOK, "GET", one, nil).json(t, &ex)
	if len(ex.Sections[1].Exhibits) != 2 || len(ex.Notes) != 1 || ex.Notes[0].Field != "sections[1].exhibits[0].item" ||
		ex.Notes[0].Item != f.photo2.ID || ex.Notes[0].Code != "not_published" {
		t.Fatalf("the curators see %+v", ex)
	}
	if console := f.dwk.want(http.StatusOK, "GET", "/console/exhibitions/"+ex.ID, nil); !strings.Contains(string(console.body), `id="exhibition-notes"`) {
		t.Error("the console does not show the note")
	}

	// A draft can be deleted.
	var draft struct {
		ID string `json:"id"`
	}
	r = f.dwk.want(http.StatusCreated, "POST", path, exhibition(nil, section("一")))
	r.json(t, &draft)
	f.dwk.want(http.StatusNoContent, "DELETE", path+"/"+draft.ID, nil, "If-Match", r.header.Get("ETag"))
	f.dwk.want(http.StatusNotFound, "GET", path+"/"+draft.ID, nil)
}

// TestExhibitionReadLimits: showing an exhibition reads every item it shows, so anonymous
// readers are limited per client IP (and for the whole site); its curators are not.
func TestExhibitionReadLimits(t *testing.T) {
	f := newExhibitionFixture(t, func(c *config.Config) { c.Exhibitions.MaxPagesPerIP = 3 })
	var ex struct {
		ID      string `json:"id"`
		Version string
	}
	r := f.dwk.want(http.StatusCreated, "POST", "/api/v1/exhibitions", exhibition(nil, section("一", exhibit(f.photo.ID, "", nil))))
	r.json(t, &ex)
	r = f.dwk.want(http.StatusOK, "POST", "/api/v1/exhibitions/"+ex.ID+"/status", map[string]any{"status": "in_review"}, "If-Match", r.header.Get("ETag"))
	f.dwk.reviewer.want(http.StatusOK, "POST", "/api/v1/exhibitions/"+ex.ID+"/review", map[string]any{"decision": "approve"}, "If-Match", r.header.Get("ETag"))
	f.anon.want(http.StatusOK, "GET", "/api/v1/exhibitions/"+ex.ID, nil)
	f.anon.want(http.StatusOK, "GET", "/exhibitions/"+ex.ID, nil)
	f.anon.want(http.StatusOK, "GET", "/api/v1/exhibitions/"+ex.ID, nil)
	r = f.anon.want(http.StatusTooManyRequests, "GET", "/api/v1/exhibitions/"+ex.ID, nil)
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	r.problem(t)
	if page := f.anon.do("GET", "/exhibitions/"+ex.ID, nil); page.status != http.StatusTooManyRequests || page.header.Get("Retry-After") == "" {
		t.Errorf("the walkthrough over the limit: %d, Retry-After %q", page.status, page.header.Get("Retry-After"))
	}
	for range 5 {
		f.dwk.want(http.StatusOK, "GET", "/api/v1/exhibitions/"+ex.ID, nil) // the curators, whose reads are not limited
	}
}
