package server_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/tiff"

	"github.com/shizuishan/culturecloud/internal/devservices"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// presentationRules are, for each resource type, the properties IIIF Presentation 3.0
// requires (must) and those it recommends (should), which this product always gives.
var presentationRules = map[string]struct{ must, should []string }{
	"Manifest": {must: []string{"@context", "id", "type", "label", "items"},
		should: []string{"summary", "metadata", "thumbnail", "provider", "requiredStatement", "homepage", "seeAlso"}},
	"Collection":     {must: []string{"@context", "id", "type", "label", "items"}, should: []string{"summary", "provider", "homepage"}},
	"Canvas":         {must: []string{"id", "type", "items"}, should: []string{"label"}},
	"AnnotationPage": {must: []string{"id", "type", "items"}},
	"Annotation":     {must: []string{"id", "type", "motivation", "body", "target"}},
	"Range":          {must: []string{"id", "type", "items"}, should: []string{"label"}},
}

// checkPresentation walks a Presentation document and reports every rule it breaks.
func checkPresentation(t *testing.T, doc map[string]any) {
	t.Helper()
	var walk func(where string, r map[string]any, top bool)
	walk = func(where string, r map[string]any, top bool) {
		typ, _ := r["type"].(string)
		rules, known := presentationRules[typ]
		if !known {
			return
		}
		for _, p := range append(append([]string{}, rules.must...), rules.should...) {
			if p == "@context" && !top {
				continue
			}
			if v, ok := r[p]; !ok || v == nil || v == "" {
				t.Errorf("%s: %s has no %s", where, typ, p)
			}
		}
		if id, _ := r["id"].(string); !strings.HasPrefix(id, "http://") && !strings.HasPrefix(id, "https://") {
			t.Errorf("%s: %s id %q is not an absolute http(s) address", where, typ, id)
		}
		for _, p := range []string{"label", "summary"} {
			if v, ok := r[p]; ok && !isLanguageMap(v) {
				t.Errorf("%s: %s.%s is not a language map: %v", where, typ, p, v)
			}
		}
		checkKind(t, where, typ, r)
		items, _ := r["items"].([]any)
		for i, it := range items {
			m, _ := it.(map[string]any)
			if typ == "Collection" {
				checkMember(t, where, m)
				continue
			}
			if typ == "Range" && m["type"] == "Canvas" {
				// A reference: the Canvas itself is in the Manifest's items.
				if id, _ := m["id"].(string); !strings.HasPrefix(id, "http") {
					t.Errorf("%s: range item %v", where, m)
				}
				continue
			}
			walk(where+"."+typ+"["+itoa(i)+"]", m, false)
		}
		for i, s := range anyList(r["structures"]) {
			m, _ := s.(map[string]any)
			walk(where+".structures["+itoa(i)+"]", m, false)
		}
	}
	walk("doc", doc, true)
}

// checkKind holds the rules particular to one type.
func checkKind(t *testing.T, where, typ string, r map[string]any) {
	t.Helper()
	switch typ {
	case "Manifest", "Collection":
		if r["@context"] != "http://iiif.io/api/presentation/3/context.json" {
			t.Errorf("%s: @context %v", where, r["@context"])
		}
		for i, e := range anyList(r["metadata"]) {
			m, _ := e.(map[string]any)
			if !isLanguageMap(m["label"]) || !isLanguageMap(m["value"]) || len(m["label"].(map[string]any)["en"].([]any)) == 0 {
				t.Errorf("%s: metadata[%d] is not a zh/en label with a value: %v", where, i, e)
			}
		}
	case "Canvas":
		_, w := r["width"]
		_, h := r["height"]
		if w != h {
			t.Errorf("%s: a Canvas has both width and height or neither: %v", where, r)
		}
		if !w && r["duration"] == nil {
			t.Errorf("%s: a Canvas has a size or a duration", where)
		}
	case "Annotation":
		if r["motivation"] != "painting" {
			t.Errorf("%s: motivation %v", where, r["motivation"])
		}
	}
}

func checkMember(t *testing.T, where string, m map[string]any) {
	t.Helper()
	id, _ := m["id"].(string)
	if (m["type"] != "Manifest" && m["type"] != "Collection") || !strings.HasPrefix(id, "http") || !isLanguageMap(m["label"]) {
		t.Errorf("%s: collection member %v", where, m)
	}
}

func isLanguageMap(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return false
	}
	for _, vals := range m {
		list, ok := vals.([]any)
		if !ok || len(list) == 0 {
			return false
		}
	}
	return true
}

func anyList(v any) []any { l, _ := v.([]any); return l }

// parseWithIIIFParser reads a document with @iiif/parser, as viewers built on it do, and
// returns how many resources of each type it found.
func parseWithIIIFParser(t *testing.T, body []byte) map[string]int {
	t.Helper()
	modules := devservices.ToolPath("iiif-parser", "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "@iiif", "parser")); err != nil {
		testenv.Unavailable(t, err)
	}
	cmd := exec.Command("node", filepath.Join("testdata", "iiif-parse.cjs"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	cmd.Stdin = bytes.NewReader(body)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("@iiif/parser: %v\n%s", err, stderr.Bytes())
	}
	var res struct {
		Type     string         `json:"type"`
		Warnings []string       `json:"warnings"`
		Counts   map[string]int `json:"counts"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("@iiif/parser said %s: %v", out, err)
	}
	if len(res.Warnings) > 0 {
		t.Errorf("@iiif/parser had to repair the document: %v", res.Warnings)
	}
	return res.Counts
}

func pngOfSize(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i*5 + i/11)
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// getPresentation reads a public Presentation document and checks how it is served.
func getPresentation(t *testing.T, anon *client, path string) (map[string]any, []byte) {
	t.Helper()
	r := anon.want(http.StatusOK, "GET", path, nil)
	if ct := r.header.Get("Content-Type"); ct != `application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"` {
		t.Errorf("%s: Content-Type %q", path, ct)
	}
	if r.header.Get("Access-Control-Allow-Origin") != "*" || !strings.HasPrefix(r.header.Get("Cache-Control"), "public") {
		t.Errorf("%s: CORS %q, cache %q", path, r.header.Get("Access-Control-Allow-Origin"), r.header.Get("Cache-Control"))
	}
	var doc map[string]any
	r.json(t, &doc)
	checkPresentation(t, doc)
	return doc, r.body
}

// publishedImageAndVideo is a published item with a 300×200 image and a short video whose
// renditions and thumbnails are made; before it is published, it has no Manifest.
func publishedImageAndVideo(t *testing.T, srv *testenv.Server, dwk, anon *client) (item, imageSHA string) {
	t.Helper()
	it := dwk.createItem(sampleItem("支宁青年合影与录像", nil))
	img := dwk.attach(it.ID, dwk.uploadFile("group.png", pngOfSize(300, 200)))
	video := dwk.attach(it.ID, dwk.uploadFile("arrival.mp4", testVideo(t)))
	if img.State != "done" || video.State != "done" {
		t.Fatalf("attach: %+v %+v", img, video)
	}
	var media struct {
		Files map[string]struct{ State string } `json:"files"`
	}
	testwait.Until(t, "the video is transcoded", func() bool {
		dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID+"/media", nil).json(t, &media)
		st := media.Files[video.Result.File.Path].State
		return st == "done" || st == "failed"
	})
	var derived struct {
		Files map[string]struct{ State string } `json:"files"`
	}
	testwait.Until(t, "the thumbnails are made", func() bool {
		dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID+"/derivatives", nil).json(t, &derived)
		return derived.Files[img.Result.File.Path].State != ""
	})
	anon.want(http.StatusNotFound, "GET", "/iiif/items/"+it.ID+"/manifest", nil)
	var draft map[string]any
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID, nil).json(t, &draft)
	if _, ok := draft["iiif_manifest"]; ok {
		t.Fatalf("a draft offers a manifest: %v", draft["iiif_manifest"])
	}
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID, nil).json(t, &it)
	dwk.publish(it)
	return it.ID, img.Result.File.SHA256
}

// TestIIIFManifestOfAnItem checks a published item's Manifest against the properties
// Presentation 3.0 requires and recommends, reads it with @iiif/parser, and follows the
// discovery links from the item's record and page.
func TestIIIFManifestOfAnItem(t *testing.T) {
	srv := startServer(t)
	_, dwk, _ := staffClients(t, srv)
	anon := newClient(t, srv.URL)
	id, sha := publishedImageAndVideo(t, srv, dwk, anon)
	want := srv.URL + "/iiif/items/" + id + "/manifest"

	var rec map[string]any
	anon.want(http.StatusOK, "GET", "/api/v1/items/"+id, nil).json(t, &rec)
	if rec["iiif_manifest"] != want {
		t.Fatalf("iiif_manifest %v, want %s", rec["iiif_manifest"], want)
	}
	page := string(anon.want(http.StatusOK, "GET", "/memory/items/"+id, nil).body)
	for _, link := range []string{
		`<link rel="alternate" type="application/ld+json;profile=&quot;http://iiif.io/api/presentation/3/context.json&quot;" href="` + want + `">`,
		`<a href="` + want + `" type="application/ld+json"><img src="/static/iiif-logo.svg`,
	} {
		if !strings.Contains(page, link) {
			t.Errorf("item page lacks %s", link)
		}
	}

	doc, body := getPresentation(t, anon, "/iiif/items/"+id+"/manifest")
	if doc["id"] != want || doc["type"] != "Manifest" || doc["rights"] != "http://creativecommons.org/licenses/by/4.0/" {
		t.Errorf("manifest id %v, type %v, rights %v", doc["id"], doc["type"], doc["rights"])
	}
	if !strings.Contains(string(body), `"label":{"en":["Theme"],"zh":["专题"]}`) {
		t.Errorf("metadata lacks the theme in both languages: %s", body)
	}
	canvases := anyList(doc["items"])
	if len(canvases) != 2 {
		t.Fatalf("%d canvases, want 2 (the image and the video)", len(canvases))
	}
	image := canvases[0].(map[string]any)
	imgBody := paintingBody(t, image)
	service := anyList(imgBody["service"])
	if image["width"] != 300.0 || image["height"] != 200.0 || imgBody["type"] != "Image" || len(service) != 1 ||
		service[0].(map[string]any)["id"] != srv.URL+"/iiif/3/"+id+"~"+sha || service[0].(map[string]any)["type"] != "ImageService3" {
		t.Errorf("image canvas %v", image)
	}
	video := canvases[1].(map[string]any)
	vidBody := paintingBody(t, video)
	if d, _ := video["duration"].(float64); d < 2 || video["width"] == nil || vidBody["type"] != "Choice" {
		t.Errorf("video canvas %v", video)
	}
	formats := map[string]bool{}
	for _, alt := range anyList(vidBody["items"]) {
		a := alt.(map[string]any)
		formats[a["format"].(string)] = a["type"] == "Video" && a["duration"] != nil
		// Each alternative can be fetched: the stream here, the file by a redirect to storage.
		if r := anon.do("GET", strings.TrimPrefix(a["id"].(string), srv.URL), nil, "Range", "bytes=0-0"); r.status != http.StatusPartialContent && r.status != http.StatusFound {
			t.Errorf("%s: %d", a["id"], r.status)
		}
	}
	if !formats["application/vnd.apple.mpegurl"] || !formats["video/mp4"] {
		t.Errorf("video alternatives %v", formats)
	}
	if counts := parseWithIIIFParser(t, body); counts["Canvas"] != 2 || counts["Manifest"] != 1 {
		t.Errorf("@iiif/parser found %v", counts)
	}

	// Withdrawn, the item has no Manifest any more, nor a link to one.
	var it itemJSON
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+id, nil).json(t, &it)
	dwk.move(it, "withdrawn")
	anon.want(http.StatusNotFound, "GET", "/iiif/items/"+id+"/manifest", nil)
	anon.want(http.StatusNotFound, "GET", "/iiif/items/szm-nosuchitem/manifest", nil)
}

func paintingBody(t *testing.T, canvas map[string]any) map[string]any {
	t.Helper()
	page := anyList(canvas["items"])[0].(map[string]any)
	ann := anyList(page["items"])[0].(map[string]any)
	if ann["target"] != canvas["id"] {
		t.Errorf("annotation targets %v, not its canvas %v", ann["target"], canvas["id"])
	}
	return ann["body"].(map[string]any)
}

// TestIIIFCollections walks the library as an aggregator would: the top Collection lists
// every theme and curated collection, and each lists its published items' Manifests.
func TestIIIFCollections(t *testing.T) {
	srv := startServer(t)
	_, dwk, _ := staffClients(t, srv)
	anon := newClient(t, srv.URL)
	published := dwk.publish(dwk.createItem(sampleItem("石炭井矿区旧照", nil)))
	dwk.attach(published.ID, dwk.uploadFile("mine.png", pngOfSize(120, 90)))
	draft := dwk.createItem(sampleItem("尚未发布的草稿", nil))
	var col struct {
		ID string `json:"id"`
	}
	dwk.want(http.StatusCreated, "POST", "/api/v1/collections", map[string]any{"title": "大武口记忆", "unit": "dwk",
		"items": []string{published.ID, draft.ID}}).json(t, &col)
	manifest := srv.URL + "/iiif/items/" + published.ID + "/manifest"

	top, body := getPresentation(t, anon, "/iiif/collection")
	members := map[string]bool{}
	for _, m := range anyList(top["items"]) {
		members[m.(map[string]any)["id"].(string)] = true
	}
	if !members[srv.URL+"/iiif/themes/migrant"] || !members[srv.URL+"/iiif/collections/"+col.ID] {
		t.Errorf("top collection members %v", members)
	}
	if counts := parseWithIIIFParser(t, body); counts["Collection"] < 2 {
		t.Errorf("@iiif/parser found %v", counts)
	}

	doc, _ := getPresentation(t, anon, "/iiif/collections/"+col.ID)
	if items := anyList(doc["items"]); len(items) != 1 || items[0].(map[string]any)["id"] != manifest {
		t.Errorf("curated collection lists %v, want only the published item", items)
	}
	testwait.Until(t, "the theme's collection lists the published item", func() bool {
		doc, _ := getPresentation(t, anon, "/iiif/themes/migrant")
		for _, m := range anyList(doc["items"]) {
			if m.(map[string]any)["id"] == manifest {
				return true
			}
		}
		return false
	})
	anon.want(http.StatusNotFound, "GET", "/iiif/themes/no-such-theme", nil)
	anon.want(http.StatusNotFound, "GET", "/iiif/collections/col-nosuchcoll", nil)
}

// TestIIIFManifestOfAnExhibition: a published exhibition is a Manifest whose Ranges are its
// sections in order, pointing at each exhibit's Canvas (at its region, where it shows one);
// an item withdrawn from the library leaves it, as it leaves the walkthrough.
func TestIIIFManifestOfAnExhibition(t *testing.T) {
	f := newExhibitionFixture(t)
	body := exhibition(nil,
		section("洗煤厂", exhibit(f.photo.ID, f.photoSHA, map[string]any{"text_en": "The coal washery.",
			"region": map[string]any{"x": 8, "y": 8, "w": 32, "h": 24}})),
		section("井架", exhibit(f.photo2.ID, "", map[string]any{"label": "石炭井井架"}), exhibit(f.photo.ID, "", nil)))
	var ex struct {
		ID string `json:"id"`
	}
	r := f.dwk.want(http.StatusCreated, "POST", "/api/v1/exhibitions", body)
	r.json(t, &ex)
	path := "/iiif/exhibitions/" + ex.ID + "/manifest"
	f.anon.want(http.StatusNotFound, "GET", path, nil)
	r = f.dwk.want(http.StatusOK, "POST", "/api/v1/exhibitions/"+ex.ID+"/status", map[string]any{"status": "in_review"}, "If-Match", r.header.Get("ETag"))
	f.dwk.reviewer.want(http.StatusOK, "POST", "/api/v1/exhibitions/"+ex.ID+"/review", map[string]any{"decision": "approve"}, "If-Match", r.header.Get("ETag"))

	doc, raw := getPresentation(t, f.anon, path)
	canvases, ranges := anyList(doc["items"]), anyList(doc["structures"])
	if doc["id"] != f.srv.URL+path || len(canvases) != 3 || len(ranges) != 2 {
		t.Fatalf("manifest %v: %d canvases, %d ranges", doc["id"], len(canvases), len(ranges))
	}
	first := canvases[0].(map[string]any)
	if s, _ := first["summary"].(map[string]any); s == nil || s["en"] == nil || s["zh"] == nil {
		t.Errorf("the exhibit's texts are not its canvas's summary: %v", first["summary"])
	}
	room1, room2 := ranges[0].(map[string]any), ranges[1].(map[string]any)
	if !strings.Contains(string(raw), `"label":{"zh":["洗煤厂"]}`) || anyList(room1["items"])[0].(map[string]any)["id"] != first["id"].(string)+"#xywh=8,8,32,24" ||
		len(anyList(room2["items"])) != 2 {
		t.Errorf("ranges %v", ranges)
	}
	if counts := parseWithIIIFParser(t, raw); counts["Canvas"] != 3 || counts["Range"] != 2 {
		t.Errorf("@iiif/parser found %v", counts)
	}

	// The headframe photograph is withdrawn from the library: its exhibit leaves the manifest.
	var photo2 itemJSON
	f.dwk.want(http.StatusOK, "GET", "/api/v1/items/"+f.photo2.ID, nil).json(t, &photo2)
	f.dwk.move(photo2, "withdrawn")
	testwait.Until(t, "the withdrawn exhibit leaves the manifest", func() bool {
		doc, _ := getPresentation(t, f.anon, path)
		return len(anyList(doc["items"])) == 2
	})
}

// TestIIIFManifestOfATIFFScan: archives scan to TIFF, whose size Go's decoders do not read;
// the Canvas takes it from the image's pyramid once the worker has made it.
func TestIIIFManifestOfATIFFScan(t *testing.T) {
	srv := startServer(t)
	_, dwk, _ := staffClients(t, srv)
	anon := newClient(t, srv.URL)
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for i := range img.Pix {
		img.Pix[i] = byte(i / 7)
	}
	var scan bytes.Buffer
	if err := tiff.Encode(&scan, img, nil); err != nil {
		t.Fatal(err)
	}
	it := dwk.createItem(sampleItem("惠农区老地图扫描", nil))
	job := dwk.attach(it.ID, dwk.uploadFile("map.tif", scan.Bytes()))
	if job.State != "done" {
		t.Fatalf("attach %+v", job)
	}
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID, nil).json(t, &it)
	dwk.publish(it)
	manifest := "/iiif/items/" + it.ID + "/manifest"
	// Until the pyramid is made, the manifest may show the scan's thumbnail instead.
	testwait.Until(t, "the scan's pyramid is made and the manifest shows it", func() bool {
		r := anon.do("GET", manifest, nil)
		return r.status == http.StatusOK && bytes.Contains(r.body, []byte(`"ImageService3"`))
	})
	doc, _ := getPresentation(t, anon, manifest)
	canvases := anyList(doc["items"])
	if len(canvases) != 1 {
		t.Fatalf("%d canvases, want the scan's", len(canvases))
	}
	c := canvases[0].(map[string]any)
	if c["width"] != 640.0 || c["height"] != 480.0 || paintingBody(t, c)["service"] == nil {
		t.Errorf("scan canvas %v", c)
	}
}

// TestIIIFManifestsAreLimited: each Presentation document reads many records, so anonymous
// readers have a limit per client address (and one for the site), answered 429 with
// Retry-After to any origin; staff are not held back.
func TestIIIFManifestsAreLimited(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	cfg.IIIF.MaxManifestsPerIP = 2
	srv := testenv.StartServer(t, cfg)
	_, dwk, _ := staffClients(t, srv)
	anon := newClient(t, srv.URL)
	for range 2 {
		anon.want(http.StatusOK, "GET", "/iiif/collection", nil)
	}
	r := anon.want(http.StatusTooManyRequests, "GET", "/iiif/collection", nil)
	if r.header.Get("Retry-After") == "" || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("429 without Retry-After or CORS: %v", r.header)
	}
	anon.want(http.StatusTooManyRequests, "GET", "/iiif/themes/migrant", nil)
	for range 3 {
		dwk.want(http.StatusOK, "GET", "/iiif/collection", nil)
	}
}
