package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

type itemJSON struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Version string `json:"version"`
	Title   string `json:"title"`
}

func sampleItem(title string, extra map[string]any) map[string]any {
	it := map[string]any{
		"title": title, "type": "StillImage", "theme": "migrant", "unit": "dwk-library", "licence": "cc-by-4.0",
		"creator": []string{"大武口区图书馆"}, "subject": []string{"支宁", "老照片"}, "period": "1958-1966",
		"description": "上海支宁青年在石嘴山的合影，记录了数据处理站的早期工作。", "language": "zh",
		"place": map[string]any{"name": "大武口", "lat": 39.01, "lon": 106.38},
	}
	for k, v := range extra {
		it[k] = v
	}
	return it
}

func (c *client) createItem(body map[string]any) itemJSON {
	c.t.Helper()
	var it itemJSON
	c.want(http.StatusCreated, "POST", "/api/v1/items", body).json(c.t, &it)
	return it
}

func (c *client) move(it itemJSON, status string) itemJSON {
	c.t.Helper()
	var out itemJSON
	c.want(http.StatusOK, "POST", "/api/v1/items/"+it.ID+"/status", map[string]any{"status": status}, "If-Match", `"`+it.Version+`"`).json(c.t, &out)
	if out.Status != status {
		c.t.Fatalf("status %s, want %s", out.Status, status)
	}
	return out
}

// publish submits the item and has the client's reviewer approve it.
func (c *client) publish(it itemJSON) itemJSON {
	c.t.Helper()
	return c.reviewer.approve("items", c.move(it, "in_review"))
}

// approve is a reviewer's approval of a submission in a unit with one level of review.
func (c *client) approve(kind string, it itemJSON) itemJSON {
	c.t.Helper()
	var out itemJSON
	r := c.want(http.StatusOK, "POST", "/api/v1/"+kind+"/"+it.ID+"/review", map[string]any{"decision": "approve"}, "If-Match", `"`+it.Version+`"`)
	r.json(c.t, &out)
	if out.Status != "published" {
		c.t.Fatalf("approved %s is %s, want published", it.ID, out.Status)
	}
	out.Version = strings.Trim(r.header.Get("ETag"), `"`)
	return out
}

type searchJSON struct {
	Hits []struct {
		ID        string `json:"id"`
		Thumb     string `json:"thumb"`
		Highlight struct {
			Title string `json:"title"`
		} `json:"highlight"`
	} `json:"hits"`
	Total  int                       `json:"total"`
	Facets map[string]map[string]int `json:"facets"`
}

func (c *client) search(query string) searchJSON {
	c.t.Helper()
	var res searchJSON
	c.want(http.StatusOK, "GET", "/api/v1/items?"+query, nil).json(c.t, &res)
	return res
}

func (r searchJSON) has(id string) bool {
	for _, h := range r.Hits {
		if h.ID == id {
			return true
		}
	}
	return false
}

func staffClients(t *testing.T, srv *testenv.Server) (admin, dwk, hn *client) {
	admin = newClient(t, srv.URL)
	admin.login(testenv.AdminName, testenv.AdminPassword)
	for _, s := range []map[string]any{
		{"name": "lib.dwk", "display_name": "大武口馆员", "password": "Dawukou-Library-9", "role": "librarian", "unit": "dwk"},
		{"name": "lib.hn", "display_name": "惠农馆员", "password": "Huinong-Library-9", "role": "librarian", "unit": "hn"},
	} {
		admin.want(http.StatusCreated, "POST", "/api/v1/accounts", s)
	}
	dwk, hn = newClient(t, srv.URL), newClient(t, srv.URL)
	dwk.login("lib.dwk", "Dawukou-Library-9")
	hn.login("lib.hn", "Huinong-Library-9")
	reviewer := cityReviewer(t, srv, admin)
	admin.reviewer, dwk.reviewer, hn.reviewer = reviewer, reviewer, reviewer
	return admin, dwk, hn
}

// cityReviewer is a librarian of the city: she may review what every unit submits.
func cityReviewer(t *testing.T, srv *testenv.Server, admin *client) *client {
	admin.want(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"name": "rev.szs", "display_name": "市馆审核员",
		"password": "City-Reviewer-9", "role": "librarian", "unit": "szs"})
	rev := newClient(t, srv.URL)
	rev.login("rev.szs", "City-Reviewer-9")
	return rev
}

func TestItemValidation(t *testing.T) {
	srv := startServer(t)
	_, dwk, _ := staffClients(t, srv)
	long := strings.Repeat("长", 201)
	tests := []struct {
		name  string
		extra map[string]any
		field string
	}{
		{"unknown theme", map[string]any{"theme": "aliens"}, "theme"},
		{"unknown type", map[string]any{"type": "Hologram"}, "type"},
		{"unknown licence", map[string]any{"licence": "mine"}, "licence"},
		{"impossible date", map[string]any{"date": "1958-02-30"}, "date"},
		{"future period", map[string]any{"period": "2999"}, "period"},
		{"reversed period", map[string]any{"period": "1966-1958"}, "period"},
		{"oversized title", map[string]any{"title": long}, "title"},
		{"missing title", map[string]any{"title": " "}, "title"},
		{"unknown unit", map[string]any{"unit": "atlantis"}, "unit"},
		{"latitude only", map[string]any{"place": map[string]any{"name": "x", "lat": 39.0}}, "place"},
		{"latitude out of range", map[string]any{"place": map[string]any{"name": "x", "lat": 139.0, "lon": 10.0}}, "place"},
		{"too many tags", map[string]any{"tags": strings.Split(strings.Repeat("a,", 40), ",")}, "tags"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := dwk.want(http.StatusUnprocessableEntity, "POST", "/api/v1/items", sampleItem("测试", tt.extra)).problem(t)
			found := false
			for _, e := range p["errors"].([]any) {
				found = found || e.(map[string]any)["field"] == tt.field
			}
			if !found {
				t.Fatalf("no error on %s: %v", tt.field, p["errors"])
			}
		})
	}
	// Outside the librarian's district: refused.
	dwk.want(http.StatusForbidden, "POST", "/api/v1/items", sampleItem("惠农区的照片", map[string]any{"unit": "hn-library"}))
}

func TestItemWorkflowHistoryAndConcurrency(t *testing.T) {
	srv := startServer(t)
	_, dwk, hn := staffClients(t, srv)
	anon := newClient(t, srv.URL)

	it := dwk.createItem(sampleItem("大武口洗煤厂老照片", map[string]any{"theme": "industrial"}))
	if it.Status != "draft" || it.Version != "v1" {
		t.Fatalf("new item %+v", it)
	}
	// Drafts are invisible to the public; other districts' librarians are told whose they are.
	anon.want(http.StatusNotFound, "GET", "/api/v1/items/"+it.ID, nil)
	hn.want(http.StatusForbidden, "GET", "/api/v1/items/"+it.ID, nil)
	hn.want(http.StatusForbidden, "PUT", "/api/v1/items/"+it.ID, sampleItem("改", nil), "If-Match", `"v1"`)

	// Writes need the version they were based on.
	dwk.want(http.StatusPreconditionRequired, "PUT", "/api/v1/items/"+it.ID, sampleItem("改名", nil)).problem(t)
	var v2 itemJSON
	dwk.want(http.StatusOK, "PUT", "/api/v1/items/"+it.ID, sampleItem("大武口洗煤厂旧影", map[string]any{"theme": "industrial"}),
		"If-Match", `"v1"`).json(t, &v2)
	dwk.want(http.StatusPreconditionFailed, "PUT", "/api/v1/items/"+it.ID, sampleItem("迟到的修改", nil), "If-Match", `"v1"`).problem(t)

	// Workflow: draft → published is not a step; draft → in review → published is.
	dwk.want(http.StatusUnprocessableEntity, "POST", "/api/v1/items/"+it.ID+"/status", map[string]any{"status": "published"}, "If-Match", `"`+v2.Version+`"`)
	pub := dwk.publish(v2)
	anon.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID, nil)

	var hist struct {
		Versions []struct {
			Version, User, Message string
		} `json:"versions"`
	}
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID+"/history", nil).json(t, &hist)
	want := []struct{ msg, user string }{{"review: approved 1/1, status: in_review → published", "rev.szs"},
		{"status: draft → in_review", "lib.dwk"}, {"metadata: title", "lib.dwk"}, {"created", "lib.dwk"}}
	if len(hist.Versions) != len(want) {
		t.Fatalf("history %+v", hist.Versions)
	}
	for i, w := range want {
		if hist.Versions[i].Message != w.msg || hist.Versions[i].User != w.user {
			t.Fatalf("history[%d] = %+v, want %q by %s", i, hist.Versions[i], w.msg, w.user)
		}
	}
	anon.want(http.StatusUnauthorized, "GET", "/api/v1/items/"+it.ID+"/history", nil)

	// Restore v1's metadata as a new version; the item stays published.
	var restored itemJSON
	dwk.want(http.StatusOK, "POST", "/api/v1/items/"+it.ID+"/restore", map[string]any{"version": "v1"}, "If-Match", `"`+pub.Version+`"`).json(t, &restored)
	if restored.Title != "大武口洗煤厂老照片" || restored.Status != "published" || restored.Version != "v5" {
		t.Fatalf("restored %+v", restored)
	}
	var old itemJSON
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID+"/versions/v2", nil).json(t, &old)
	if old.Title != "大武口洗煤厂旧影" {
		t.Fatalf("v2 title %q", old.Title)
	}
}

func TestItemSearch(t *testing.T) {
	srv := startServer(t)
	admin, dwk, _ := staffClients(t, srv)
	anon := newClient(t, srv.URL)

	a := dwk.publish(dwk.createItem(sampleItem("石嘴山支宁青年合影", nil)))
	b := admin.publish(admin.createItem(sampleItem("泥哇呜制作技艺", map[string]any{"theme": "intangible", "unit": "pl-culture-centre",
		"type": "MovingImage", "subject": []string{"非物质文化遗产"}, "period": "2015", "description": "平罗县的传统乐器。"})))
	draft := dwk.createItem(sampleItem("未发布的石嘴山草稿", nil))

	start := time.Now()
	testwait.Until(t, "published items are searchable", func() bool {
		return anon.search("q="+url.QueryEscape("石嘴山")).has(a.ID) && anon.search("q="+url.QueryEscape("泥哇呜")).has(b.ID)
	})
	t.Logf("searchable %v after publishing", time.Since(start).Round(time.Millisecond))

	tests := []struct {
		name    string
		query   string
		want    []string
		notWant []string
	}{
		{"chinese", "q=" + url.QueryEscape("支宁"), []string{a.ID}, []string{b.ID, draft.ID}},
		{"full pinyin", "q=zhining", []string{a.ID}, []string{b.ID}},
		// Every item belongs to a unit of the city, so the city's name finds them all.
		{"pinyin of the unit's place", "q=shizuishan", []string{a.ID, b.ID}, nil},
		{"pinyin inside a title", "q=zhiningqingnian", []string{a.ID}, []string{b.ID}},
		{"pinyin inside a description", "q=chuantong", []string{b.ID}, []string{a.ID}},
		{"pinyin initials", "q=szs", []string{a.ID}, nil},
		{"word inside a word", "q=" + url.QueryEscape("处理"), []string{a.ID}, nil},
		{"synonym 非遗", "q=" + url.QueryEscape("非遗"), []string{b.ID}, nil},
		{"theme facet", "theme=intangible", []string{b.ID}, []string{a.ID}},
		{"district facet", "district=pl", []string{b.ID}, []string{a.ID}},
		{"decade facet", "decade=1950", []string{a.ID}, []string{b.ID}},
		{"injection in a filter", "theme=" + url.QueryEscape(`intangible" OR theme = "migrant`), nil, []string{a.ID, b.ID}},
		{"injection with backslash", "theme=" + url.QueryEscape(`migrant\" OR 1=1 OR theme=\"`), nil, []string{a.ID, b.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := anon.search(tt.query)
			for _, id := range tt.want {
				if !res.has(id) {
					t.Errorf("%s: missing %s in %+v", tt.query, id, res.Hits)
				}
			}
			for _, id := range tt.notWant {
				if res.has(id) {
					t.Errorf("%s: should not find %s", tt.query, id)
				}
			}
		})
	}
	res := anon.search("q=" + url.QueryEscape("合影"))
	if len(res.Hits) == 0 || !strings.Contains(res.Hits[0].Highlight.Title, "\uE000") {
		t.Fatalf("no highlight in %+v", res.Hits)
	}
	if res.Facets["theme"]["migrant"] != 1 || res.Facets["district"]["dwk"] != 1 {
		t.Fatalf("facets %+v", res.Facets)
	}

	// Withdrawn items leave the public index.
	var cur itemJSON
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+a.ID, nil).json(t, &cur)
	dwk.move(cur, "withdrawn")
	testwait.Until(t, "withdrawn item disappears", func() bool { return !anon.search("q=" + url.QueryEscape("支宁")).has(a.ID) })
	anon.want(http.StatusNotFound, "GET", "/api/v1/items/"+a.ID, nil)
	// Items never published are not in the public index: creating and editing drafts sent
	// it no deletions, and the one withdrawal sent one. (The indexer queues an item's public
	// task before its staff task, so once the draft is in the staff index, any public task
	// for it has been sent.)
	testwait.Until(t, "the draft is in the staff index", func() bool {
		var list searchJSON
		dwk.want(http.StatusOK, "GET", "/api/v1/staff/items?status=draft", nil).json(t, &list)
		return list.has(draft.ID)
	})
	if n := deletionTasks(t, srv, "items"); n != 1 {
		t.Errorf("%d deletion tasks on the public index, want 1 (the withdrawal)", n)
	}

	for _, bad := range []string{"page=-1", "per_page=1000", "sort=random", "decade=1955", "has_media=perhaps",
		"q=" + strings.Repeat("x", 10_000), fmt.Sprintf("type=%s", strings.Repeat("t", 100))} {
		anon.want(http.StatusUnprocessableEntity, "GET", "/api/v1/items?"+bad, nil).problem(t)
	}
}

func TestCollectionsAndStaffList(t *testing.T) {
	srv := startServer(t)
	_, dwk, hn := staffClients(t, srv)
	anon := newClient(t, srv.URL)
	pub := dwk.publish(dwk.createItem(sampleItem("大武口老街", nil)))
	draft := dwk.createItem(sampleItem("大武口草稿", nil))
	review := dwk.move(dwk.createItem(sampleItem("大武口待审", nil)), "in_review")

	var col struct {
		ID string `json:"id"`
	}
	r := dwk.want(http.StatusCreated, "POST", "/api/v1/collections", map[string]any{"title": "大武口记忆", "unit": "dwk",
		"featured": true, "items": []string{pub.ID, draft.ID}})
	r.json(t, &col)
	etag := r.header.Get("ETag")
	dwk.want(http.StatusUnprocessableEntity, "POST", "/api/v1/collections", map[string]any{"title": "x", "unit": "dwk", "items": []string{"szm-nothere00"}})
	hn.want(http.StatusForbidden, "POST", "/api/v1/collections", map[string]any{"title": "越权", "unit": "dwk"})

	var view struct {
		Items []struct{ ID string } `json:"items"`
	}
	anon.want(http.StatusOK, "GET", "/api/v1/collections/"+col.ID, nil).json(t, &view)
	if len(view.Items) != 1 || view.Items[0].ID != pub.ID {
		t.Fatalf("public collection shows %+v, want only the published item", view.Items)
	}
	dwk.want(http.StatusOK, "PUT", "/api/v1/collections/"+col.ID, map[string]any{"title": "大武口记忆（更新）", "unit": "dwk", "items": []string{pub.ID}}, "If-Match", etag)
	dwk.want(http.StatusPreconditionFailed, "PUT", "/api/v1/collections/"+col.ID, map[string]any{"title": "迟到", "unit": "dwk"}, "If-Match", etag)

	// The pages name the collection and the item in their <title>; an unknown collection is 404.
	for path, title := range map[string]string{
		"/memory/collections/" + col.ID: "<title>大武口记忆（更新） · 石嘴山记忆 · 石嘴山数字文化云</title>",
		"/memory/items/" + pub.ID:       "<title>大武口老街 · 石嘴山记忆 · 石嘴山数字文化云</title>",
	} {
		if page := anon.want(http.StatusOK, "GET", path, nil); !strings.Contains(string(page.body), title) {
			t.Errorf("%s lacks %s", path, title)
		}
	}
	anon.want(http.StatusNotFound, "GET", "/memory/collections/col-nothere000", nil)

	var list searchJSON
	testwait.Until(t, "the review queue lists the item", func() bool {
		dwk.want(http.StatusOK, "GET", "/api/v1/staff/items?status=in_review", nil).json(t, &list)
		return list.has(review.ID)
	})
	dwk.want(http.StatusOK, "GET", "/api/v1/staff/items?status=in_review", nil).json(t, &list)
	if list.has(draft.ID) || list.has(pub.ID) || !list.has(review.ID) {
		t.Fatalf("review queue %+v", list.Hits)
	}
	hn.want(http.StatusOK, "GET", "/api/v1/staff/items", nil).json(t, &list)
	if list.has(draft.ID) || list.has(review.ID) {
		t.Fatal("another district's librarian sees dwk's unpublished items")
	}
	anon.want(http.StatusUnauthorized, "GET", "/api/v1/staff/items", nil)
}

func TestMostViewedSort(t *testing.T) {
	srv := startServer(t)
	_, dwk, _ := staffClients(t, srv)
	var ids []string
	for _, title := range []string{"沙湖旧影甲", "沙湖旧影乙", "沙湖旧影丙"} {
		ids = append(ids, dwk.publish(dwk.createItem(sampleItem(title, map[string]any{"theme": "tourism"}))).ID)
	}
	// Item i gets i+1 distinct visitors.
	for i, id := range ids {
		for v := 0; v <= i; v++ {
			newClient(t, srv.URL).want(http.StatusOK, "POST", "/api/v1/items/"+id+"/views", nil, "User-Agent", fmt.Sprintf("visitor-%d", v))
		}
	}
	testwait.Until(t, "most viewed first", func() bool {
		res := newClient(t, srv.URL).search("theme=tourism&sort=views")
		return len(res.Hits) == 3 && res.Hits[0].ID == ids[2] && res.Hits[1].ID == ids[1] && res.Hits[2].ID == ids[0]
	})
}

// deletionTasks counts the document deletion tasks Meilisearch received for one of the
// server's indexes.
func deletionTasks(t *testing.T, srv *testenv.Server, index string) int {
	t.Helper()
	q := url.Values{"indexUids": {srv.Config.Meilisearch.IndexPrefix + index}, "types": {"documentDeletion"}, "limit": {"1000"}}
	req, err := http.NewRequest(http.MethodGet, srv.Config.Meilisearch.URL+"/tasks?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+srv.Config.Meilisearch.MasterKey.Reveal())
	resp, err := testenv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		Results []struct {
			UID int64 `json:"uid"`
		} `json:"results"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /tasks: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatal(err)
	}
	return len(res.Results)
}
