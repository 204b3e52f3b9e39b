package server_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/internal/testwait"
)

type derivativesJSON struct {
	Files map[string]struct {
		State   string `json:"state"`
		Outputs []struct {
			Name string `json:"name"`
			URL  string `json:"url"`
		} `json:"outputs"`
	} `json:"files"`
}

type mediaJSON struct {
	Files map[string]struct {
		State    string `json:"state"`
		Master   string `json:"master"`
		Poster   string `json:"poster"`
		Download string `json:"download"`
	} `json:"files"`
}

// processed waits until the file's thumbnails (and, for video, its streams) are made, and
// returns their URLs.
func (c *client) processed(itemID, path string, video bool) (derivativesJSON, mediaJSON) {
	c.t.Helper()
	var der derivativesJSON
	var med mediaJSON
	testwait.Until(c.t, "thumbnails are made", func() bool {
		c.want(http.StatusOK, "GET", "/api/v1/items/"+itemID+"/derivatives", nil).json(c.t, &der)
		st := der.Files[path].State
		return st == "done" || st == "failed"
	})
	if der.Files[path].State != "done" || len(der.Files[path].Outputs) == 0 {
		c.t.Fatalf("derivatives %+v", der.Files[path])
	}
	if video {
		testwait.Until(c.t, "the video is transcoded", func() bool {
			c.want(http.StatusOK, "GET", "/api/v1/items/"+itemID+"/media", nil).json(c.t, &med)
			st := med.Files[path].State
			return st == "done" || st == "failed"
		})
		if m := med.Files[path]; m.State != "done" || m.Master == "" || m.Poster == "" {
			c.t.Fatalf("media %+v", m)
		}
	}
	return der, med
}

func (c *client) current(id string) itemJSON {
	c.t.Helper()
	var it itemJSON
	c.want(http.StatusOK, "GET", "/api/v1/items/"+id, nil).json(c.t, &it)
	return it
}

// maxAge reads max-age of a Cache-Control header, -1 when absent.
func maxAge(cc string) int {
	for _, d := range strings.Split(cc, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "max-age="); ok {
			n, err := strconv.Atoi(v)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// TestRemovedFilesAreNotServed checks that the thumbnails, poster and streams of a file removed
// from a published item are gone for the public at once (staff still reach them, as earlier
// versions keep the file), and that no public answer lets shared caches keep them for long.
func TestRemovedFilesAreNotServed(t *testing.T) {
	srv := startServer(t)
	_, dwk, _ := staffClients(t, srv)
	anon := newClient(t, srv.URL)
	it := dwk.createItem(sampleItem("剪纸技艺短片", map[string]any{"type": "MovingImage", "theme": "intangible"}))
	job := dwk.attach(it.ID, dwk.uploadFile("jianzhi.mp4", testVideo(t)))
	if job.State != "done" {
		t.Fatalf("attach %+v", job)
	}
	path := job.Result.File.Path
	der, med := dwk.processed(it.ID, path, true)
	dwk.publish(dwk.current(it.ID))

	thumb := der.Files[path].Outputs[0].URL
	m := med.Files[path]
	base := m.Master[:strings.LastIndex(m.Master, "/")+1]
	master := anon.want(http.StatusOK, "GET", m.Master, nil)
	rung := base + firstURI(master.body)
	urls := map[string]string{"thumbnail": thumb, "poster": m.Poster, "master playlist": m.Master, "rung playlist": rung}
	limit := int(srv.Config.HTTP.PublicCacheMaxAge.Seconds())
	for name, u := range urls {
		r := anon.do("GET", u, nil)
		if r.status != http.StatusOK && r.status != http.StatusFound {
			t.Fatalf("%s of the published file: %d", name, r.status)
		}
		if cc := r.header.Get("Cache-Control"); maxAge(cc) > limit || strings.Contains(cc, "immutable") {
			t.Errorf("%s of a published file: Cache-Control %q lets caches keep it past a removal", name, cc)
		}
	}

	cur := dwk.current(it.ID)
	dwk.want(http.StatusOK, "DELETE", "/api/v1/items/"+it.ID+"/files/"+path, nil, "If-Match", `"`+cur.Version+`"`)
	for name, u := range urls {
		if r := anon.do("GET", u, nil); r.status != http.StatusNotFound {
			t.Errorf("%s of a removed file: status %d, want 404", name, r.status)
		}
	}
	// Staff still see what the history keeps.
	dwk.want(http.StatusOK, "GET", thumb, nil)
	dwk.want(http.StatusOK, "GET", m.Master, nil)
}

// TestViewOnlyItemsServeNoOriginals checks that the public gets only the streams and
// thumbnails of an item whose licence forbids downloads (never the original file, whole or by
// ranges, nor the download copy), that staff still get everything, and that the page says so.
func TestViewOnlyItemsServeNoOriginals(t *testing.T) {
	srv := startServer(t)
	_, dwk, _ := staffClients(t, srv)
	anon := newClient(t, srv.URL)
	it := dwk.createItem(sampleItem("版权所有的老电影", map[string]any{"type": "MovingImage", "licence": "in-copyright"}))
	video := dwk.attach(it.ID, dwk.uploadFile("film.mp4", testVideo(t)))
	photo := dwk.attach(it.ID, dwk.uploadFile("still.png", pngBytes(20_000)))
	if video.State != "done" || photo.State != "done" {
		t.Fatalf("attach %+v %+v", video, photo)
	}
	_, med := dwk.processed(it.ID, video.Result.File.Path, true)
	der, _ := dwk.processed(it.ID, photo.Result.File.Path, false)
	dwk.publish(dwk.current(it.ID))

	var pub mediaJSON
	anon.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID+"/media", nil).json(t, &pub)
	if d := pub.Files[video.Result.File.Path].Download; d != "" {
		t.Errorf("the public is offered the download copy %s", d)
	}
	download := med.Files[video.Result.File.Path].Download
	if download == "" {
		t.Fatal("staff are not offered the download copy")
	}
	for _, f := range []jobJSON{video, photo} {
		file := "/api/v1/items/" + it.ID + "/files/" + f.Result.File.Path
		for _, h := range [][]string{nil, {"Range", "bytes=0-"}} {
			anon.want(http.StatusForbidden, "GET", file, nil, h...).problem(t)
		}
		anon.want(http.StatusForbidden, "GET", file+"?download=1", nil).problem(t)
		dwk.want(http.StatusOK, "GET", file, nil)
	}
	if r := anon.do("GET", download, nil); r.status != http.StatusForbidden {
		t.Errorf("download copy for the public: %d, want 403", r.status)
	}
	if r := dwk.do("GET", download, nil); r.status != http.StatusOK && r.status != http.StatusFound {
		t.Errorf("download copy for staff: %d", r.status)
	}
	// The streams and thumbnails stay public.
	anon.want(http.StatusOK, "GET", med.Files[video.Result.File.Path].Master, nil)
	anon.want(http.StatusOK, "GET", der.Files[photo.Result.File.Path].Outputs[0].URL, nil)

	for _, lang := range []string{"zh-CN", "en"} {
		anon.lang = lang
		page := string(anon.want(http.StatusOK, "GET", "/memory/items/"+it.ID, nil).body)
		if strings.Contains(page, "/files/") {
			t.Errorf("%s page links an original file", lang)
		}
		if !strings.Contains(page, `/derivatives/`+photo.Result.File.SHA256+`/`) || !strings.Contains(page, med.Files[video.Result.File.Path].Master) {
			t.Errorf("%s page shows neither the picture's thumbnail nor the stream", lang)
		}
		want := map[string]string{"zh-CN": "仅供在线浏览", "en": "viewed online but not downloaded"}[lang]
		if !strings.Contains(page, want) {
			t.Errorf("%s page does not say the item is view-only (%q)", lang, want)
		}
	}
	anon.lang = ""
	if page := string(dwk.want(http.StatusOK, "GET", "/memory/items/"+it.ID, nil).body); !strings.Contains(page, "/files/"+photo.Result.File.Path) {
		t.Error("staff page lacks the original")
	}
}

// TestCollectionsKeepDraftsUnseen checks that a collection cannot take (nor confirm) an item
// its editor may not see, and that the public list of collections names no unpublished item.
func TestCollectionsKeepDraftsUnseen(t *testing.T) {
	srv := startServer(t)
	_, dwk, hn := staffClients(t, srv)
	anon := newClient(t, srv.URL)
	pub := dwk.publish(dwk.createItem(sampleItem("大武口老街", nil)))
	draft := dwk.createItem(sampleItem("大武口草稿", nil))

	for name, items := range map[string][]string{"another district's draft": {draft.ID}, "no such item": {"szm-nothere00"}} {
		p := hn.want(http.StatusUnprocessableEntity, "POST", "/api/v1/collections", map[string]any{"title": "惠农记忆", "unit": "hn",
			"items": items}).problem(t)
		e := p["errors"].([]any)[0].(map[string]any)
		if e["field"] != "items[0]" || e["code"] != "unknown_item" {
			t.Errorf("%s: %v, want items[0] unknown_item", name, p["errors"])
		}
	}
	hn.want(http.StatusCreated, "POST", "/api/v1/collections", map[string]any{"title": "惠农记忆", "unit": "hn", "items": []string{pub.ID}})
	dwk.want(http.StatusCreated, "POST", "/api/v1/collections", map[string]any{"title": "大武口记忆", "unit": "dwk", "featured": true,
		"items": []string{pub.ID, draft.ID}})

	var list struct {
		Collections []struct {
			Title     string   `json:"title"`
			ItemCount int      `json:"item_count"`
			ItemIDs   []string `json:"item_ids"`
		} `json:"collections"`
	}
	r := anon.want(http.StatusOK, "GET", "/api/v1/collections", nil)
	r.json(t, &list)
	if strings.Contains(string(r.body), draft.ID) {
		t.Errorf("the public list of collections names the draft %s: %s", draft.ID, r.body)
	}
	for _, c := range list.Collections {
		if c.ItemCount != 1 || len(c.ItemIDs) != 1 || c.ItemIDs[0] != pub.ID {
			t.Errorf("collection %q lists %v (%d), want only the published item", c.Title, c.ItemIDs, c.ItemCount)
		}
	}
}

// TestRestoreNeedsAVersion checks that a restore whose body names no existing earlier version
// is refused with a problem, and makes no version.
func TestRestoreNeedsAVersion(t *testing.T) {
	srv := startServer(t)
	_, dwk, _ := staffClients(t, srv)
	it := dwk.createItem(sampleItem("恢复测试", nil))
	for _, body := range []string{`null`, `{}`, `{"version":""}`, `{"version":"  "}`, `{"version":"v99"}`, `{"version":"../v1"}`, `{"version":"v0"}`} {
		t.Run(body, func(t *testing.T) {
			r := dwk.do("POST", "/api/v1/items/"+it.ID+"/restore", body, "If-Match", `"`+it.Version+`"`)
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422; body %s", r.status, r.body)
			}
			p := r.problem(t)
			if e, _ := p["errors"].([]any); len(e) != 1 || e[0].(map[string]any)["field"] != "version" {
				t.Errorf("errors %v, want one on version", p["errors"])
			}
		})
	}
	if cur := dwk.current(it.ID); cur.Version != it.Version {
		t.Errorf("version %s after refused restores, want %s", cur.Version, it.Version)
	}
}
