package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/i18n"
)

var (
	testThemes = []Term{{ID: "migrant", ZH: "移民文化", EN: "Migrant heritage"}, {ID: "industrial", ZH: "工业文化", EN: "Industrial heritage"}}
	testTypes  = []Term{{ID: "StillImage", ZH: "图片", EN: "Image"}, {ID: "Sound", ZH: "音频", EN: "Sound"}}
	testLic    = []Term{{ID: "cc-by-4.0", ZH: "署名 4.0", EN: "CC BY 4.0", Download: true}, {ID: "in-copyright", ZH: "版权所有", EN: "In copyright"}}
	testLangs  = []Term{{ID: "zh", ZH: "中文", EN: "Chinese"}}
	textarea   = regexp.MustCompile(`<textarea\b[^>]*>`)
	trCall     = regexp.MustCompile(`tr\([a-zA-Z]+, '([a-z-]+)'\)`)
)

// libraryKeys are the keys the server and the templates build at run time.
func libraryKeys() []string {
	keys := []string{"memory.decade", "memory.has_media.true", "memory.has_media.false"}
	for _, p := range []string{"memory_search", "memory_item", "memory_collection", "console_home", "console_item"} {
		keys = append(keys, "title."+p)
	}
	for _, s := range []string{"draft", "in_review", "published", "withdrawn"} {
		keys = append(keys, "status."+s, "console.move."+s)
	}
	for _, s := range []string{"relevance", "newest", "views"} {
		keys = append(keys, "memory.sort."+s)
	}
	for _, f := range []string{"type", "theme", "district", "decade", "format", "has_media"} {
		keys = append(keys, "facet."+f)
	}
	for _, f := range []string{"title", "creator", "subject", "description", "publisher", "contributor", "date", "type", "format",
		"identifier", "source", "language", "relation", "coverage", "rights"} {
		keys = append(keys, "dc."+f)
	}
	return keys
}

func sampleItem(download bool) *ItemData {
	lat, lon := "38.98", "106.38"
	lic := testLic[1]
	if download {
		lic = testLic[0]
	}
	d := &ItemData{
		ID: "szm-abc", Version: "v3", Status: "in_review", Title: "石嘴山煤矿老照片", Description: "1958 年的石炭井。",
		Fields: []FieldRow{{Key: "dc.title", Values: []string{"石嘴山煤矿老照片"}}, {Key: "dc.creator", Values: []string{"王", "李"}}},
		Theme:  testThemes[1], Type: testTypes[0], Licence: lic, Language: testLangs[0], Unit: "大武口区图书馆",
		Place: "石炭井", Coordinates: lat + ", " + lon, Period: "1958-1966", AltText: "矿工合影", Transcript: "口述：……",
		Tags:  []string{"煤矿", "支宁"},
		Views: &ViewCounts{Total: 12, Today: 3},
		Staff: true, Transitions: []string{"published", "draft"}, CanDownload: download,
		History: []Version{{Version: "v3", Created: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), User: "gao", Message: "fields", Current: true},
			{Version: "v2", Created: time.Date(2026, 1, 1, 3, 4, 0, 0, time.UTC), User: "gao", Message: "create"}},
		Form:        ItemForm{Title: "石嘴山煤矿老照片", Type: "StillImage", Theme: "industrial", Licence: lic.ID, Unit: "dwk-library", Language: "zh", Lat: lat, Lon: lon},
		Vocab:       Vocab{Themes: testThemes, Types: testTypes, Licences: testLic, Languages: testLangs},
		UnitOptions: []Param{{Name: "dwk", Value: "大武口区"}, {Name: "dwk-library", Value: "大武口区 / 大武口区图书馆"}},
	}
	for _, f := range []FileView{
		{Path: "files/a.png", Name: "a.png", MediaType: "image/png", Kind: "image", Size: 2048},
		{Path: "files/b.mp3", Name: "b.mp3", MediaType: "audio/mpeg", Kind: "audio", Size: 4 << 20},
		{Path: "files/c.mp4", Name: "c.mp4", MediaType: "video/mp4", Kind: "video", Size: 9 << 20},
		{Path: "files/d.pdf", Name: "d.pdf", MediaType: "application/pdf", Kind: "pdf", Size: 100},
		{Path: "files/e.txt", Name: "e.txt", MediaType: "text/plain", Kind: "other", Size: 10},
	} {
		f.URL = "/api/v1/items/szm-abc/" + f.Path
		if download {
			f.Download = f.URL + "?download=1"
		}
		d.Files = append(d.Files, f)
	}
	return d
}

func sampleSearch() *SearchData {
	return &SearchData{
		Q: "煤矿", Sort: "newest", Sorts: []string{"relevance", "newest", "views"},
		Hidden:   []Param{{Name: "theme", Value: "industrial"}},
		Problems: []string{"page"},
		Filters:  []Filter{{Facet: "theme", Label: "工业文化", RemoveURL: "/memory?q=煤矿"}},
		Facets: []Facet{{Name: "theme", Options: []FacetOption{{Label: "工业文化", Count: 3, Selected: true, URL: "/memory?q=煤矿"}}},
			{Name: "decade", Options: []FacetOption{{Label: "1950年代", Count: 2, URL: "/memory?decade=1950"}}}},
		Hits: []Hit{{ID: "szm-abc", Title: template.HTML("石嘴山<mark>煤矿</mark>老照片"), Snippet: "<mark>煤矿</mark>工人", Theme: testThemes[1],
			Type: testTypes[0], District: "大武口区", Period: "1958", Views: 7}},
		Total: 45, Page: 2, TotalPages: 3,
		Pages:   []PageLink{{Number: 1, URL: "/memory?q=a"}, {Number: 2, URL: "/memory?q=a&page=2", Current: true}, {Number: 3, URL: "/memory?q=a&page=3"}},
		PrevURL: "/memory?q=a", NextURL: "/memory?q=a&page=3",
	}
}

type libCase struct {
	name   string
	d      PageData
	want   []string
	reject []string
}

func libraryCases(lang i18n.Lang) []libCase {
	librarian := &Viewer{Name: "gao", DisplayName: "高馆员", Role: "librarian", Unit: "dwk-library"}
	newItem := &ItemData{Form: ItemForm{Unit: "dwk"}, Vocab: Vocab{Themes: testThemes, Types: testTypes, Licences: testLic, Languages: testLangs},
		UnitOptions: []Param{{Name: "dwk", Value: "大武口区"}}}
	visitorItem := sampleItem(true)
	visitorItem.Staff, visitorItem.History, visitorItem.Status = false, nil, "published"
	return append([]libCase{
		{"home", PageData{Page: "home", Data: &HomeData{Themes: testThemes,
			Trending: []Card{{ID: "szm-1", Title: "热门一", Theme: testThemes[0]}},
			Latest:   []Card{{ID: "szm-2", Title: "最新一", Theme: testThemes[1], Thumb: "/t.jpg"}}}},
			[]string{`action="/memory"`, `id="home-q"`, `href="/memory?theme=migrant"`, `href="/memory/items/szm-1"`, `id="featured-collections"`, "library.js"}, nil},
		{"home empty", PageData{Page: "home", Data: &HomeData{Themes: testThemes}}, []string{`id="themes-title"`}, []string{`id="latest-list"`}},
		{"search none, with suggestions", PageData{Page: "memory_search", Data: &SearchData{Q: "x", Page: 1,
			Filters:         []Filter{{Facet: "theme", Label: "移民", RemoveURL: "/memory?q=x"}},
			ClearFiltersURL: "/memory?q=x",
			Suggest:         &Suggestions{Themes: testThemes, Popular: []Card{{ID: "szm-1", Title: "热门一", Theme: testThemes[0]}}}}},
			[]string{`id="no-results"`, `id="remove-filters" href="/memory?q=x"`, `id="search-suggestions"`, `href="/memory?theme=migrant"`,
				`id="popular-items"`, `href="/memory/items/szm-1"`},
			[]string{`id="hits"`}},
		{"search", PageData{Page: "memory_search", Data: sampleSearch()},
			[]string{`<mark>煤矿</mark>`, `aria-current="page"`, `rel="next"`, `rel="prev"`, `<option value="newest" selected>`, `name="theme" value="industrial"`,
				`class="facet-option selected"`, `role="alert"`, `method="get"`},
			[]string{`id="no-results"`}},
		{"search empty", PageData{Page: "memory_search", Data: &SearchData{Q: "x", Sort: "relevance", Sorts: []string{"relevance"}}},
			[]string{`id="no-results"`}, []string{`class="pagination"`}},
		{"search failed", PageData{Page: "memory_search", Data: &SearchData{Sort: "relevance", Failed: true}}, []string{`role="alert"`}, []string{`id="no-results"`}},
		{"item staff", PageData{Page: "memory_item", Viewer: librarian, CSRF: "c", Data: sampleItem(false)},
			[]string{`<audio class="media-play" controls preload="metadata"`, `<video class="media-play" controls preload="metadata"`,
				`<object class="pdf-view" data="/api/v1/items/szm-abc/files/d.pdf" type="application/pdf"`, `<dialog class="image-viewer" id="image-viewer"`,
				`id="viewer-zoom-in"`, `id="viewer-zoom-out"`, `id="viewer-close"`, `class="zoom-open"`, `id="view-total">12<`, `id="view-today">3<`,
				`class="restore-version" data-version="v2"`, `href="/console/items/szm-abc"`, "38.98, 106.38", "2026-01-02 11:04"},
			[]string{`download=1`, `data-version="v3" aria-label`}},
		{"item visitor", PageData{Page: "memory_item", Data: visitorItem},
			[]string{`href="/api/v1/items/szm-abc/files/a.png?download=1" download`, `id="view-total"`},
			[]string{`restore-version`, `id="item-edit"`, `id="history-table"`}},
		{"collection", PageData{Page: "memory_collection", Data: &CollectionData{ID: "c1"}}, []string{`data-lib-api="/api/v1/collections/c1"`}, nil},
		{"console", PageData{Page: "console_home", Viewer: librarian, CSRF: "c"},
			[]string{`href="/console/items/new"`, `data-status="draft"`, `data-queue="to_review"`, `data-queue="mine"`, `data-t-reason=`, `data-status="published"`}, nil},
		{"console workbench", PageData{Page: "console_home", Viewer: librarian, CSRF: "c", Data: &ConsoleData{
			Filter:   map[string]string{"q": "老街", "status": "draft", "unit": "dwk", "created_from": "2026-01-01"},
			Statuses: []string{"draft", "in_review"}, Units: []Param{{Name: "dwk", Value: "石嘴山市 / 大武口区"}}}},
			[]string{`id="wb-filters"`, `method="get" action="/console"`, `value="老街"`, `<option value="draft" selected>`, `<option value="dwk" selected>`,
				`id="wb-created_from" name="created_from" type="date" value="2026-01-01"`, `id="wb-all"`, `id="wb-action"`, `data-t-result-refused=`}, nil},
		{"console new", PageData{Page: "console_item", Viewer: librarian, CSRF: "c", Data: newItem},
			[]string{`id="item-form"`, `<option value="dwk" selected>`, `id="item-save"`, `id="new-files-input" class="file-input" multiple`}, []string{`id="upload-input"`, `class="move-status"`}},
		{"console edit", PageData{Page: "console_item", Viewer: librarian, CSRF: "c", Data: sampleItem(true)},
			[]string{`data-version="v3"`, `id="upload-input" class="file-input" multiple`, `id="drop-zone"`, `id="status-published"`, `id="status-draft"`,
				`<option value="industrial" selected>`, `<option value="dwk-library" selected>`, `value="38.98"`, `id="upload-list"`},
			[]string{`<form id="item-form" class="item-form" data-api`}},
	}, append(courseCases(lang), liveCases()...)...)
}

func TestLibraryPages(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	keys := append(usedKeys(t), libraryKeys()...)
	keys = append(keys, liveKeys()...)
	for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
		for _, c := range libraryCases(lang) {
			t.Run(fmt.Sprintf("%s/%s", c.name, lang), func(t *testing.T) {
				d := c.d
				d.Lang, d.Nonce, d.Path = lang, "n0nce", "/x"
				var buf bytes.Buffer
				if err := r.Render(&buf, d); err != nil {
					t.Fatal(err)
				}
				out := buf.String()
				for _, w := range c.want {
					if !strings.Contains(out, w) {
						t.Errorf("output lacks %s", w)
					}
				}
				for _, w := range c.reject {
					if strings.Contains(out, w) {
						t.Errorf("output holds %s", w)
					}
				}
				if strings.Contains(out, "{{") || strings.Contains(out, "%!") {
					t.Error("output holds template braces or a bad format verb")
				}
				for _, k := range keys {
					if strings.Contains(out, `>`+k+`<`) || strings.Contains(out, `"`+k+`"`) {
						t.Errorf("output holds raw i18n key %q", k)
					}
				}
				labels := map[string]bool{}
				for _, m := range labelFor.FindAllStringSubmatch(out, -1) {
					labels[m[1]] = true
				}
				controls := append(inputTag.FindAllString(out, -1), textarea.FindAllString(out, -1)...)
				for _, tag := range controls {
					if m := attrType.FindStringSubmatch(tag); m != nil && m[1] == "hidden" {
						continue
					}
					id := attrID.FindStringSubmatch(tag)
					if id == nil || !labels[id[1]] {
						t.Errorf("control without <label for>: %s", tag)
					}
				}
				ids := map[string]int{}
				for _, m := range anyIDAttr.FindAllStringSubmatch(out, -1) {
					ids[m[1]]++
				}
				for id, n := range ids {
					if n > 1 {
						t.Errorf("id %q used %d times", id, n)
					}
				}
				if m := escapedAttr.FindString(out); m != "" {
					t.Errorf("attribute value escaped as script: %s", m)
				}
				if m := inlineEvent.FindString(out); m != "" {
					t.Errorf("inline event handler: %s", m)
				}
				if m := styleAttr.FindString(out); m != "" {
					t.Errorf("inline style attribute: %s", m)
				}
				inline := 0
				for _, tag := range scriptTag.FindAllString(out, -1) {
					if !strings.Contains(tag, " src=") {
						inline++
					}
				}
				if inline != 1 {
					t.Errorf("%d inline scripts, want exactly 1", inline)
				}
				if m := htmlLang.FindStringSubmatch(out); m == nil || m[1] != lang.HTMLLang() {
					t.Errorf("html lang = %v", m)
				}
				if d.Page != "home" && !strings.Contains(out, "library.css") {
					t.Error("page does not link library.css")
				}
			})
		}
	}
}

func TestLibraryKeys(t *testing.T) {
	for _, k := range append(usedKeys(t), libraryKeys()...) {
		if !i18n.Has(k) {
			t.Errorf("key %q missing", k)
			continue
		}
		for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
			if strings.TrimSpace(i18n.T(lang, k)) == "" {
				t.Errorf("key %q empty in %s", k, lang)
			}
		}
	}
	// Keys formatted with arguments by the server or the templates.
	for key, args := range map[string][]any{
		"memory.decade": {1950}, "memory.total": {3}, "memory.total_for": {3, "煤矿"}, "memory.views": {3}, "memory.page_n": {2},
		"memory.bad_param": {"page"}, "memory.remove_filter": {"x"}, "item.zoom_open": {"a.png"}, "item.open_pdf": {"d.pdf"},
		"item.open_file": {"e.txt"}, "item.no_download": {"CC"}, "item.restore_label": {"v2"}, "collection.items": {3},
	} {
		for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
			if got := i18n.T(lang, key, args...); strings.Contains(got, "%!") {
				t.Errorf("%s in %s: %q", key, lang, got)
			}
		}
	}
	if got := i18n.T(i18n.EN, "memory.decade", 1950); got != "1950s" {
		t.Errorf("decade in English = %q", got)
	}
	for key, ph := range map[string]string{"console.total": "{n}", "upload.sending": "{n}", "upload.retrying": "{n}", "upload.progress_label": "{name}"} {
		for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
			if !strings.Contains(i18n.T(lang, key), ph) {
				t.Errorf("%s in %s lacks %s", key, lang, ph)
			}
		}
	}
	// The restore button's accessible name contains its visible text (WCAG 2.5.3).
	for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
		if !strings.Contains(i18n.T(lang, "item.restore_label", "v2"), i18n.T(lang, "item.restore")) {
			t.Errorf("%s: item.restore_label does not contain item.restore", lang)
		}
	}
}

// TestLibraryScriptTexts: every data-t-* attribute library.js reads is set by a template
// from the catalogue.
func TestLibraryScriptTexts(t *testing.T) {
	js, _ := checkScriptTexts(t, "library.js", 15)
	for _, must := range []string{"X-CSRF-Token", "If-Match", "crypto.subtle.digest('SHA-256'", "localStorage", "/api/v1/uploads/",
		"/urls", "showModal", "'online'", "PARALLEL = 4", "/derivatives", "/views", "412"} {
		if !bytes.Contains(js, []byte(must)) {
			t.Errorf("library.js lacks %s", must)
		}
	}
	if bytes.Contains(js, []byte("innerHTML")) || bytes.Contains(js, []byte(".style.")) {
		t.Error("library.js writes HTML or inline styles")
	}
}

func TestLibraryCSS(t *testing.T) {
	b, err := fs.ReadFile(Static(), "library.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(b)
	for _, must := range []string{"html.elderly", "min-height: 48px", ".zoom-400", "mark"} {
		if !strings.Contains(css, must) {
			t.Errorf("library.css lacks %s", must)
		}
	}
	// The highlight colours: text on the mark background.
	if c := contrast("#1f2328", "#fff3b0"); c < 4.5 {
		t.Errorf("mark contrast %.2f", c)
	}
	if c := contrast("#000000", "#ffe45c"); c < 7 {
		t.Errorf("elderly mark contrast %.2f", c)
	}
}

// checkScriptTexts checks that every data-t-* attribute the script reads (at least
// atLeast of them, so that a changed pattern cannot pass by finding none) is set by a
// template from the catalogue. It returns the script and the template sources for the
// caller's own checks.
func checkScriptTexts(t *testing.T, script string, atLeast int) ([]byte, map[string]string) {
	t.Helper()
	js, err := fs.ReadFile(Static(), script)
	if err != nil {
		t.Fatal(err)
	}
	found := trCall.FindAllSubmatch(js, -1)
	if len(found) < atLeast {
		t.Fatalf("found only %d texts in %s; is the pattern still right?", len(found), script)
	}
	sources := templateSources(t)
	for _, m := range found {
		re := regexp.MustCompile(`\sdata-t-` + regexp.QuoteMeta(string(m[1])) + `="(\{\{t \$\.Lang "[^"]+"\}\})"`)
		ok := false
		for _, src := range sources {
			ok = ok || re.MatchString(src)
		}
		if !ok {
			t.Errorf("%s reads data-t-%s, which no template sets from the catalogue", script, m[1])
		}
	}
	return js, sources
}
