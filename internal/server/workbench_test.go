package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/testwait"
)

type staffListJSON struct {
	Hits []struct {
		ID       string `json:"id"`
		Unit     string `json:"unit"`
		Editable bool   `json:"editable"`
	} `json:"hits"`
}

func (c *client) staffList(query url.Values) staffListJSON {
	c.t.Helper()
	var res staffListJSON
	c.want(http.StatusOK, "GET", "/api/v1/staff/items?"+query.Encode(), nil).json(c.t, &res)
	return res
}

func (r staffListJSON) ids() map[string]bool {
	out := map[string]bool{}
	for _, h := range r.Hits {
		out[h.ID] = true
	}
	return out
}

func TestStaffListFilterValidation(t *testing.T) {
	srv := startServer(t)
	_, dwk, _ := staffClients(t, srv)
	for _, tc := range []struct{ query, field string }{
		{"status=lost", "status"},
		{"type=Painting", "type"},
		{"theme=space", "theme"},
		{"unit=atlantis", "unit"},
		{"created_from=2026-13-01", "created_from"},
		{"created_to=yesterday", "created_to"},
		{"updated_from=2026-03-02&updated_to=2026-03-01", "updated_to"},
		{"page=0", "page"},
		{"sort=random", "sort"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			p := dwk.want(http.StatusBadRequest, "GET", "/api/v1/staff/items?"+tc.query, nil).problem(t)
			errs, _ := p["errors"].([]any)
			if len(errs) != 1 || errs[0].(map[string]any)["field"] != tc.field {
				t.Fatalf("errors %v, want one on %s", p["errors"], tc.field)
			}
		})
	}
}

func TestStaffListFilters(t *testing.T) {
	srv := startServer(t)
	admin, dwk, hn := staffClients(t, srv)
	photo := dwk.createItem(sampleItem("矿区老照片", nil))
	song := dwk.move(dwk.createItem(sampleItem("惠农花儿录音", map[string]any{"type": "Sound", "theme": "intangible"})), "in_review")
	hnPublished := hn.publish(hn.createItem(sampleItem("惠农老街", map[string]any{"unit": "hn-library"})))
	hnDraft := hn.createItem(sampleItem("惠农草稿", map[string]any{"unit": "hn-library"}))

	testwait.Until(t, "the staff index holds the four items", func() bool {
		got := admin.staffList(url.Values{"per_page": {"100"}}).ids()
		return got[photo.ID] && got[song.ID] && got[hnPublished.ID] && got[hnDraft.ID]
	})
	today := time.Now().In(time.FixedZone("CST", 8*3600))
	day := func(offset int) string { return today.AddDate(0, 0, offset).Format("2006-01-02") }
	for _, tc := range []struct {
		name   string
		who    *client
		query  url.Values
		want   []string
		absent []string
	}{
		{"type", dwk, url.Values{"type": {"Sound"}}, []string{song.ID}, []string{photo.ID}},
		{"theme", dwk, url.Values{"theme": {"migrant"}}, []string{photo.ID}, []string{song.ID}},
		{"status", dwk, url.Values{"status": {"in_review"}}, []string{song.ID}, []string{photo.ID}},
		{"text and status", dwk, url.Values{"q": {"老照片"}, "status": {"draft"}}, []string{photo.ID}, []string{song.ID}},
		{"own unit only by default", dwk, url.Values{}, []string{photo.ID, song.ID}, []string{hnPublished.ID, hnDraft.ID}},
		{"another unit: published only", dwk, url.Values{"unit": {"hn"}}, []string{hnPublished.ID}, []string{hnDraft.ID, photo.ID}},
		{"admin: every status", admin, url.Values{"unit": {"hn"}}, []string{hnPublished.ID, hnDraft.ID}, []string{photo.ID}},
		{"created in range", dwk, url.Values{"created_from": {day(-1)}, "created_to": {day(1)}}, []string{photo.ID, song.ID}, nil},
		{"created before", dwk, url.Values{"created_to": {day(-2)}}, nil, []string{photo.ID, song.ID}},
		{"updated after", dwk, url.Values{"updated_from": {day(2)}}, nil, []string{photo.ID, song.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.who.staffList(tc.query)
			got := res.ids()
			for _, id := range tc.want {
				if !got[id] {
					t.Errorf("%s missing from %v", id, got)
				}
			}
			for _, id := range tc.absent {
				if got[id] {
					t.Errorf("%s listed in %v", id, got)
				}
			}
			for _, h := range res.Hits {
				if mine := h.Unit == "dwk-library"; tc.who == dwk && h.Editable != mine {
					t.Errorf("%s of %s: editable %v for dwk's librarian", h.ID, h.Unit, h.Editable)
				}
			}
		})
	}
}

// Staff who open another unit's item learn whose it is (403 naming the unit); the public and
// citizens still find nothing where the item is unpublished.
func TestOtherUnitsItemNamesItsUnit(t *testing.T) {
	srv := startServer(t)
	admin, dwk, hn := staffClients(t, srv)
	draft := hn.createItem(sampleItem("惠农区草稿", map[string]any{"unit": "hn"}))
	published := hn.publish(hn.createItem(sampleItem("惠农区老照片", map[string]any{"unit": "hn"})))
	dwk.lang = "en"
	for _, tc := range []struct {
		method, path string
		body         any
		headers      []string
	}{
		{"GET", "/api/v1/items/" + draft.ID, nil, nil},
		{"GET", "/api/v1/items/" + draft.ID + "/history", nil, nil},
		{"PUT", "/api/v1/items/" + draft.ID, sampleItem("改名", map[string]any{"unit": "hn"}), []string{"If-Match", `"` + draft.Version + `"`}},
		{"POST", "/api/v1/items/" + draft.ID + "/status", map[string]any{"status": "in_review"}, []string{"If-Match", `"` + draft.Version + `"`}},
		{"POST", "/api/v1/items/" + published.ID + "/status", map[string]any{"status": "withdrawn"}, []string{"If-Match", `"` + published.Version + `"`}},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			p := dwk.want(http.StatusForbidden, tc.method, tc.path, tc.body, tc.headers...).problem(t)
			if p["detail"] != "This item belongs to Huinong District; you cannot edit it." || p["type"] != "/problems/other_unit" {
				t.Fatalf("problem %v", p)
			}
		})
	}
	dwk.lang = ""
	page := dwk.want(http.StatusForbidden, "GET", "/console/items/"+draft.ID, nil)
	if !strings.Contains(string(page.body), "此条目属于惠农区，您不能编辑它") {
		t.Fatalf("console page does not say whose the item is: %s", page.body)
	}

	anon := newClient(t, srv.URL)
	anon.want(http.StatusNotFound, "GET", "/api/v1/items/"+draft.ID, nil).problem(t)
	anon.want(http.StatusNotFound, "GET", "/memory/items/"+draft.ID, nil)
	citizen := newClient(t, srv.URL)
	admin.want(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"name": "reader.wang", "password": "Reader-Wang-92",
		"display_name": "王读者", "role": "citizen"})
	citizen.login("reader.wang", "Reader-Wang-92")
	citizen.want(http.StatusNotFound, "GET", "/api/v1/items/"+draft.ID, nil).problem(t)
}

type batchJSON struct {
	Results []struct {
		ID      string         `json:"id"`
		Outcome string         `json:"outcome"`
		Status  string         `json:"status"`
		Version string         `json:"version"`
		Problem map[string]any `json:"problem"`
	} `json:"results"`
	Moved   int `json:"moved"`
	Refused int `json:"refused"`
}

func TestBulkStatusChange(t *testing.T) {
	srv := startServer(t)
	_, dwk, hn := staffClients(t, srv)
	a := dwk.createItem(sampleItem("石炭井老照片甲", nil))
	b := dwk.createItem(sampleItem("石炭井老照片乙", nil))
	theirs := hn.createItem(sampleItem("惠农区的草稿", map[string]any{"unit": "hn-library"}))

	var res batchJSON
	dwk.want(http.StatusOK, "POST", "/api/v1/items/status", map[string]any{"status": "in_review",
		"ids": []string{a.ID, theirs.ID, b.ID, "szm-nothere00"}}).json(t, &res)
	want := []struct{ id, outcome, problem string }{
		{a.ID, "moved", ""}, {theirs.ID, "refused", "/problems/other_unit"}, {b.ID, "moved", ""}, {"szm-nothere00", "refused", "/problems/not_found"},
	}
	if len(res.Results) != len(want) || res.Moved != 2 || res.Refused != 2 {
		t.Fatalf("results %+v", res)
	}
	for i, w := range want {
		got := res.Results[i]
		if got.ID != w.id || got.Outcome != w.outcome || w.problem != "" && got.Problem["type"] != w.problem {
			t.Errorf("result %d: %+v, want %+v", i, got, w)
		}
		if w.outcome == "moved" && got.Status != "in_review" {
			t.Errorf("%s moved to %q", got.ID, got.Status)
		}
	}
	if d, _ := res.Results[1].Problem["detail"].(string); !strings.Contains(d, "惠农区图书馆") {
		t.Errorf("refusal does not name the unit: %v", res.Results[1].Problem)
	}
	if got := hn.current(theirs.ID); got.Status != "draft" {
		t.Fatalf("the refused item moved to %s", got.Status)
	}

	// 先审后发 holds per item: nobody publishes by a bulk move, their own work or not.
	dwk.want(http.StatusOK, "POST", "/api/v1/items/status", map[string]any{"status": "published", "ids": []string{a.ID}}).json(t, &res)
	if res.Results[0].Outcome != "refused" || res.Results[0].Problem["type"] != "/problems/review_required" {
		t.Fatalf("bulk publish: %+v", res.Results)
	}
	dwk.reviewer.approve("items", dwk.current(a.ID))
	dwk.want(http.StatusOK, "POST", "/api/v1/items/status", map[string]any{"status": "withdrawn", "ids": []string{a.ID, b.ID}}).json(t, &res)
	if res.Results[0].Outcome != "moved" || res.Results[0].Status != "withdrawn" || res.Results[1].Outcome != "refused" ||
		res.Results[1].Problem["type"] != "/problems/validation" {
		t.Fatalf("bulk withdraw: %+v", res.Results)
	}

	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("szm-many%05d", i)
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no ids", map[string]any{"status": "in_review", "ids": []string{}}, "ids"},
		{"more than max_batch", map[string]any{"status": "in_review", "ids": many}, "ids"},
		{"an id twice", map[string]any{"status": "in_review", "ids": []string{a.ID, a.ID}}, "ids[1]"},
		{"unknown status", map[string]any{"status": "gone", "ids": []string{a.ID}}, "status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := dwk.want(http.StatusUnprocessableEntity, "POST", "/api/v1/items/status", tc.body).problem(t)
			errs, _ := p["errors"].([]any)
			if len(errs) != 1 || errs[0].(map[string]any)["field"] != tc.field {
				t.Fatalf("errors %v, want one on %s", p["errors"], tc.field)
			}
		})
	}
}

type draftJSON struct {
	ID          string `json:"id"`
	Version     string `json:"version"`
	Status      string `json:"status"`
	Title       string `json:"title"`
	Type        string `json:"type"`
	TypeGuessed bool   `json:"type_guessed"`
	Format      string `json:"format"`
	Licence     string `json:"licence"`
	Unit        string `json:"unit"`
	Files       []struct {
		Path string `json:"path"`
	} `json:"files"`
}

// Files dropped on "new item" make a draft named and typed after the first; the type and
// format then follow the files in the library, until someone chooses a type.
func TestDraftFromDroppedFiles(t *testing.T) {
	srv := startServer(t)
	_, dwk, _ := staffClients(t, srv)
	var d draftJSON
	dwk.want(http.StatusCreated, "POST", "/api/v1/items", map[string]any{
		"from_file": map[string]any{"name": "口述史_石炭井矿工.wav", "media_type": ""}}).json(t, &d)
	if d.Status != "draft" || d.Title != "口述史 石炭井矿工" || d.Type != "Sound" || !d.TypeGuessed || d.Licence != "rights-unknown" || d.Unit != "dwk" {
		t.Fatalf("draft from a file: %+v", d)
	}
	// Nothing to review yet: it has no theme.
	p := dwk.want(http.StatusUnprocessableEntity, "POST", "/api/v1/items/"+d.ID+"/status", map[string]any{"status": "in_review"},
		"If-Match", `"`+d.Version+`"`).problem(t)
	if errs, _ := p["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["field"] != "theme" {
		t.Fatalf("submitting a draft without theme: %v", p)
	}

	// The file that arrives is a picture: the guessed type and the format follow it.
	dwk.attach(d.ID, dwk.uploadFile("口述史_石炭井矿工.png", pngBytes(2000)))
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+d.ID, nil).json(t, &d)
	if d.Type != "StillImage" || d.Format != "image/png" || !d.TypeGuessed {
		t.Fatalf("after the first file: %+v", d)
	}
	// Chosen by hand, the type stays; removing the file empties the format it gave.
	dwk.want(http.StatusOK, "PUT", "/api/v1/items/"+d.ID, map[string]any{"title": d.Title, "type": "Text", "theme": "industrial",
		"unit": "dwk", "licence": "rights-unknown", "format": d.Format}, "If-Match", `"`+d.Version+`"`).json(t, &d)
	r := dwk.want(http.StatusOK, "DELETE", "/api/v1/items/"+d.ID+"/files/"+d.Files[0].Path, nil, "If-Match", `"`+d.Version+`"`)
	d = draftJSON{}
	r.json(t, &d)
	if d.Type != "Text" || d.TypeGuessed || d.Format != "" {
		t.Fatalf("after choosing a type and removing the file: %+v", d)
	}

	// Bad drops: a name that makes no title, a file of no known type, another unit.
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no title", map[string]any{"from_file": map[string]any{"name": " ", "media_type": "image/png"}}, "title"},
		{"no type", map[string]any{"from_file": map[string]any{"name": "数据.bin", "media_type": "application/octet-stream"}}, "type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := dwk.want(http.StatusUnprocessableEntity, "POST", "/api/v1/items", tc.body).problem(t)
			if errs, _ := p["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["field"] != tc.field {
				t.Fatalf("errors %v, want one on %s", p["errors"], tc.field)
			}
		})
	}
	dwk.want(http.StatusForbidden, "POST", "/api/v1/items", map[string]any{"unit": "hn",
		"from_file": map[string]any{"name": "a.png", "media_type": "image/png"}}).problem(t)
}
