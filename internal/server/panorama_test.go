package server_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"testing"
)

// sceneJPEG is an equirectangular-looking JPEG of w×h pixels.
func sceneJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: uint8(x), G: uint8(y), B: 90, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sceneDraft is a draft item of the fixture's unit with one JPEG of w×h pixels.
func (f *exhibitionFixture) sceneDraft(t *testing.T, title string, w, h int) (itemJSON, string) {
	t.Helper()
	it := f.dwk.createItem(sampleItem(title, map[string]any{"theme": "industrial"}))
	job := f.dwk.attach(it.ID, f.dwk.uploadFile("hall.jpg", sceneJPEG(t, w, h)))
	if job.State != "done" {
		t.Fatalf("attach %+v", job)
	}
	f.dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID, nil).json(t, &it)
	return it, job.Result.File.SHA256
}

// scenePhoto is sceneDraft, published.
func (f *exhibitionFixture) scenePhoto(t *testing.T, title string, w, h int) (itemJSON, string) {
	t.Helper()
	it, sha := f.sceneDraft(t, title, w, h)
	return f.dwk.publish(it), sha
}

// panoramaRoom is a panorama section showing scene with the fixture's first photo as its
// one exhibit, extra fields overriding.
func panoramaRoom(f *exhibitionFixture, scene string, extra map[string]any) map[string]any {
	s := map[string]any{"title": "展厅全景", "kind": "panorama", "scene": map[string]any{"item": scene},
		"exhibits": []any{exhibit(f.photo.ID, f.photoSHA, nil)},
		"hotspots": []any{map[string]any{"exhibit": 0, "yaw": 30, "pitch": -5}}}
	for k, v := range extra {
		s[k] = v
	}
	return s
}

// TestPanoramaValidation: each bad scene, hotspot or link of a panorama room is a 422 naming
// its field path and code, and a refused update leaves the stored exhibition as it was.
func TestPanoramaValidation(t *testing.T) {
	f := newExhibitionFixture(t)
	hall, hallSHA := f.scenePhoto(t, "洗煤厂车间全景", 256, 128)
	square, _ := f.scenePhoto(t, "方形照片", 128, 128)
	const path = "/api/v1/exhibitions"
	good := exhibit(f.photo.ID, f.photoSHA, nil)
	room := func(extra map[string]any) map[string]any { return panoramaRoom(f, hall.ID, extra) }
	hotspot := func(ex int, yaw, pitch float64) []any {
		return []any{map[string]any{"exhibit": ex, "yaw": yaw, "pitch": pitch}}
	}
	link := func(sec int, yaw, pitch float64) []any {
		return []any{map[string]any{"section": sec, "yaw": yaw, "pitch": pitch}}
	}
	bad := func(name string, field, code string, sections ...map[string]any) apiScenario {
		return apiScenario{name: name, client: f.dwk, method: "POST", path: path, body: exhibition(nil, sections...),
			status: http.StatusUnprocessableEntity, problem: true, check: fieldProblem(field, code)}
	}
	runScenarios(t, []apiScenario{
		bad("a panorama without a scene", "sections[0].scene", "required", room(map[string]any{"scene": nil})),
		bad("a scene nobody has", "sections[0].scene.item", "unknown_item", room(map[string]any{"scene": map[string]any{"item": "szm-nothere22"}})),
		bad("a scene of another unit's drafts", "sections[0].scene.item", "unknown_item",
			room(map[string]any{"scene": map[string]any{"item": f.otherUnitDraft.ID}})),
		bad("a scene that is a sound", "sections[0].scene.item", "not_image", room(map[string]any{"scene": map[string]any{"item": f.audio.ID}})),
		bad("a scene file the item lacks", "sections[0].scene.file", "unknown_file",
			room(map[string]any{"scene": map[string]any{"item": hall.ID, "file": f.photoSHA}})),
		bad("a square scene", "sections[0].scene.file", "scene_aspect", room(map[string]any{"scene": map[string]any{"item": square.ID}})),
		bad("a hotspot's yaw beyond 180", "sections[0].hotspots[0].yaw", "range", room(map[string]any{"hotspots": hotspot(0, 181, 0)})),
		bad("a hotspot below the floor", "sections[0].hotspots[0].pitch", "range", room(map[string]any{"hotspots": hotspot(0, 0, -90.5)})),
		bad("a hotspot of an exhibit the room lacks", "sections[0].hotspots[0].exhibit", "unknown_exhibit",
			room(map[string]any{"hotspots": hotspot(1, 0, 0)})),
		bad("a hotspot of a negative exhibit", "sections[0].hotspots[0].exhibit", "unknown_exhibit",
			room(map[string]any{"hotspots": hotspot(-1, 0, 0)})),
		bad("a link to itself", "sections[0].links[0].section", "link_self", room(map[string]any{"links": link(0, 0, 0)})),
		bad("a link to no room", "sections[1].links[0].section", "unknown_section", room(nil), room(map[string]any{"links": link(2, 0, 0)})),
		bad("a link to a gallery", "sections[0].links[0].section", "not_panorama", room(map[string]any{"links": link(1, 0, 0)}), section("画廊", good)),
		bad("a link's pitch beyond the zenith", "sections[0].links[0].pitch", "range", room(map[string]any{"links": link(1, 0, 91)}), room(nil)),
		bad("a hall without exhibits", "sections[0].exhibits", "panorama_empty",
			room(map[string]any{"exhibits": []any{}, "hotspots": []any{}})),
		bad("a gallery with a scene", "sections[0].scene", "not_panorama",
			map[string]any{"title": "画廊", "exhibits": []any{good}, "scene": map[string]any{"item": hall.ID}}),
		bad("a gallery with hotspots", "sections[0].hotspots", "not_panorama",
			map[string]any{"title": "画廊", "kind": "gallery", "exhibits": []any{good}, "hotspots": hotspot(0, 0, 0)}),
	})

	// A good one is saved with its scene pinned to the file; a refused update leaves it so.
	var created struct {
		ID       string `json:"id"`
		Sections []struct {
			Scene struct{ Item, File string } `json:"scene"`
		} `json:"sections"`
	}
	r := f.dwk.want(http.StatusCreated, "POST", path, exhibition(nil, room(map[string]any{"links": link(1, -120, 0)}), room(nil)))
	r.json(t, &created)
	if created.Sections[0].Scene.File != hallSHA {
		t.Fatalf("the scene is pinned to %q, want %q", created.Sections[0].Scene.File, hallSHA)
	}
	etag := r.header.Get("ETag")
	one := path + "/" + created.ID
	runScenarios(t, []apiScenario{
		{name: "a refused update", client: f.dwk, method: "PUT", path: one, headers: []string{"If-Match", etag},
			body: exhibition(map[string]any{"title": "改过的标题"}, room(map[string]any{"hotspots": hotspot(0, -200, 0)})), status: http.StatusUnprocessableEntity,
			problem: true, check: fieldProblem("sections[0].hotspots[0].yaw", "range")},
		{name: "leaves it as it was", client: f.dwk, method: "GET", path: one, status: http.StatusOK,
			bodyHas: []string{`"yaw":-120`, `"yaw":30`}, bodyLacks: []string{"改过的标题", "-200"}},
	})
}

// TestPanoramaSceneWithdrawn: publishing needs the scene published; once it is withdrawn, the
// public sees the room as a gallery of its exhibits and the curators get a note.
func TestPanoramaSceneWithdrawn(t *testing.T) {
	f := newExhibitionFixture(t)
	const path = "/api/v1/exhibitions"
	draft, _ := f.sceneDraft(t, "未发布的全景", 256, 128)
	var unpublished struct {
		ID string `json:"id"`
	}
	r := f.dwk.want(http.StatusCreated, "POST", path, exhibition(nil, panoramaRoom(f, draft.ID, nil)))
	r.json(t, &unpublished)
	r = f.dwk.want(http.StatusOK, "POST", path+"/"+unpublished.ID+"/status", map[string]any{"status": "in_review"}, "If-Match", r.header.Get("ETag"))
	runScenarios(t, []apiScenario{{name: "a hall whose scene is a draft is not published", client: f.dwk.reviewer, method: "POST",
		path: path + "/" + unpublished.ID + "/review", body: map[string]any{"decision": "approve"}, headers: []string{"If-Match", r.header.Get("ETag")},
		status: http.StatusUnprocessableEntity, problem: true, check: fieldProblem("sections[0].scene.item", "exhibit_not_published")}})

	hall, _ := f.scenePhoto(t, "洗煤厂车间全景", 256, 128)
	r = f.dwk.want(http.StatusCreated, "POST", path, exhibition(nil, panoramaRoom(f, hall.ID, nil)))
	type exhibitionJSON struct {
		ID       string `json:"id"`
		Sections []struct {
			Kind     string `json:"kind"`
			Scene    any    `json:"scene"`
			Hotspots []any  `json:"hotspots"`
			Exhibits []any  `json:"exhibits"`
		} `json:"sections"`
		Notes []struct{ Field, Code string } `json:"notes"`
	}
	var ex exhibitionJSON
	r.json(t, &ex)
	one := path + "/" + ex.ID
	r = f.dwk.want(http.StatusOK, "POST", one+"/status", map[string]any{"status": "in_review"}, "If-Match", r.header.Get("ETag"))
	f.dwk.reviewer.want(http.StatusOK, "POST", one+"/review", map[string]any{"decision": "approve"}, "If-Match", r.header.Get("ETag"))
	f.anon.want(http.StatusOK, "GET", one, nil).json(t, &ex)
	if len(ex.Sections) != 1 || ex.Sections[0].Kind != "panorama" || ex.Sections[0].Scene == nil || len(ex.Sections[0].Hotspots) != 1 {
		t.Fatalf("the public sees %+v", ex)
	}
	f.dwk.want(http.StatusOK, "GET", "/api/v1/items/"+hall.ID, nil).json(t, &hall)
	f.dwk.move(hall, "withdrawn")
	ex = exhibitionJSON{} // fields the answer leaves out must not linger from the last one
	f.anon.want(http.StatusOK, "GET", one, nil).json(t, &ex)
	if len(ex.Sections) != 1 || ex.Sections[0].Kind != "gallery" || ex.Sections[0].Scene != nil ||
		len(ex.Sections[0].Hotspots) != 0 || len(ex.Sections[0].Exhibits) != 1 {
		t.Fatalf("after the scene's withdrawal the public sees %+v", ex)
	}
	ex = exhibitionJSON{}
	f.dwk.want(http.StatusOK, "GET", one, nil).json(t, &ex)
	if len(ex.Notes) != 1 || ex.Notes[0].Field != "sections[0].scene.item" || ex.Notes[0].Code != "not_published" {
		t.Fatalf("the curators' notes: %+v", ex.Notes)
	}
	if page := f.anon.want(http.StatusOK, "GET", "/exhibitions/"+ex.ID, nil); bytes.Contains(page.body, []byte(`id="panorama-0"`)) {
		t.Error("the walkthrough still shows the withdrawn scene")
	}
}
