package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// publishedExhibition creates body as f's curator and has it approved; it returns its id.
func (f *exhibitionFixture) publishedExhibition(t *testing.T, body map[string]any) string {
	t.Helper()
	var ex struct {
		ID string `json:"id"`
	}
	r := f.dwk.want(http.StatusCreated, "POST", "/api/v1/exhibitions", body)
	r.json(t, &ex)
	one := "/api/v1/exhibitions/" + ex.ID
	r = f.dwk.want(http.StatusOK, "POST", one+"/status", map[string]any{"status": "in_review"}, "If-Match", r.header.Get("ETag"))
	f.dwk.reviewer.want(http.StatusOK, "POST", one+"/review", map[string]any{"decision": "approve"}, "If-Match", r.header.Get("ETag"))
	return ex.ID
}

type exhibitionStatsJSON struct {
	Visits struct {
		Total, Unique, Today int64
	} `json:"visits"`
	Exhibits []struct {
		Section, Index int
		Key, Label     string
		Views, Unique  int64
		Dwell          map[string]int64
	} `json:"exhibits"`
	Days []struct {
		Day          string `json:"day"`
		Visits       int64  `json:"visits"`
		ExhibitViews int64  `json:"exhibit_views"`
	} `json:"days"`
	DwellBuckets []string `json:"dwell_buckets"`
	Tours        []struct {
		ID, State                    string
		Views, Unique, Peak, Current int64
	} `json:"tours"`
}

// TestExhibitionCounts: the walkthrough page counts a visit and names each exhibit's counter
// key; exhibit views count once per visitor, dwell lands in its bucket, the curators' console
// and the stats API show it all, and every bad report is refused without counting.
func TestExhibitionCounts(t *testing.T) {
	f := newExhibitionFixture(t, func(c *config.Config) { c.Views.MaxPerVisitor = 14 })
	region := map[string]any{"region": map[string]any{"x": 8, "y": 8, "w": 32, "h": 24}, "label": "洗煤厂局部"}
	id := f.publishedExhibition(t, exhibition(nil,
		section("洗煤厂", exhibit(f.photo.ID, f.photoSHA, region), exhibit(f.photo.ID, "", map[string]any{"label": "洗煤厂全景"})),
		section("井架", exhibit(f.photo2.ID, "", map[string]any{"label": "石炭井井架"}))))
	one := "/api/v1/exhibitions/" + id

	visitor := newClient(t, f.srv.URL)
	page := string(visitor.want(http.StatusOK, "GET", "/exhibitions/"+id, nil).body)
	var stats exhibitionStatsJSON
	f.dwk.want(http.StatusOK, "GET", one+"/stats", nil).json(t, &stats)
	if stats.Visits.Total != 1 || stats.Visits.Today != 1 || len(stats.Exhibits) != 3 || len(stats.Days) != 30 || len(stats.DwellBuckets) != 6 || len(stats.Tours) != 0 {
		t.Fatalf("stats after one page view: %+v", stats)
	}
	keys := make([]string, 3)
	for i, e := range stats.Exhibits {
		keys[i] = e.Key
		if !strings.Contains(page, `data-key="`+e.Key+`"`) {
			t.Errorf("the page does not carry exhibit %d's key %q", i, e.Key)
		}
	}
	// The region of the photograph and the whole photograph are two exhibits; the key of a
	// plain item reference is the item.
	if keys[0] == keys[1] || keys[1] != f.photo.ID || keys[2] != f.photo2.ID || !strings.HasPrefix(keys[0], f.photo.ID+"~") {
		t.Fatalf("exhibit keys %q", keys)
	}
	if !strings.Contains(page, `id="visit-total"`) || !strings.Contains(page, `data-counts="`+one+`/exhibits/"`) {
		t.Error("the page shows no visit count or has no counts URL")
	}
	// The plain image of an exhibit is its region (or the whole image) through the IIIF
	// service, scaled down: never the original file, which may be a scan of tens of megabytes.
	plain := "/iiif/3/" + f.photo.ID + "~" + f.photoSHA + "/8,8,32,24/!1280,1280/0/default.jpg"
	if !strings.Contains(page, `src="`+plain+`"`) || strings.Contains(page, `src="/api/v1/items/`) {
		t.Errorf("the exhibit's plain image is not %s", plain)
	} else if r := visitor.want(http.StatusOK, "GET", plain, nil); r.header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("the plain image is %s", r.header.Get("Content-Type"))
	}

	exhibitPath := func(key, what string) string { return one + "/exhibits/" + key + "/" + what }
	broken := newClient(t, f.srv.URL)
	broken.malformed = true
	runScenarios(t, []apiScenario{
		{name: "an exhibit view", client: visitor, method: "POST", path: exhibitPath(keys[0], "views"), status: http.StatusOK, bodyHas: []string{`"counted":true`}},
		{name: "again within the window", client: visitor, method: "POST", path: exhibitPath(keys[0], "views"), status: http.StatusOK, bodyHas: []string{`"counted":false`}},
		{name: "another exhibit", client: visitor, method: "POST", path: exhibitPath(keys[2], "views"), status: http.StatusOK, bodyHas: []string{`"counted":true`}},
		{name: "a glance", client: visitor, method: "POST", path: exhibitPath(keys[0], "dwell"), body: map[string]any{"seconds": 3.5}, status: http.StatusOK, bodyHas: []string{`"bucket":"lt5s"`}},
		{name: "a long look", client: visitor, method: "POST", path: exhibitPath(keys[0], "dwell"), body: map[string]any{"seconds": 200}, status: http.StatusOK, bodyHas: []string{`"bucket":"ge3m"`}},
		{name: "half a minute", client: visitor, method: "POST", path: exhibitPath(keys[2], "dwell"), body: map[string]any{"seconds": 30}, status: http.StatusOK, bodyHas: []string{`"bucket":"lt1m"`}},
		{name: "an exhibit not in the exhibition", client: visitor, method: "POST", path: exhibitPath(f.audio.ID, "views"), status: http.StatusUnprocessableEntity, check: fieldProblem("exhibit", "not_in_exhibition")},
		{name: "a negative dwell", client: visitor, method: "POST", path: exhibitPath(keys[0], "dwell"), body: map[string]any{"seconds": -1}, status: http.StatusUnprocessableEntity, check: fieldProblem("seconds", "range")},
		{name: "a dwell of days", client: visitor, method: "POST", path: exhibitPath(keys[0], "dwell"), body: map[string]any{"seconds": 1e9}, status: http.StatusUnprocessableEntity, check: fieldProblem("seconds", "range")},
		{name: "a dwell without seconds", client: visitor, method: "POST", path: exhibitPath(keys[0], "dwell"), body: map[string]any{}, status: http.StatusUnprocessableEntity, check: fieldProblem("seconds", "required")},
		{name: "seconds as text", client: broken, method: "POST", path: exhibitPath(keys[0], "dwell"), body: `{"seconds":"long"}`, status: http.StatusBadRequest, problem: true},
		{name: "not JSON", client: broken, method: "POST", path: exhibitPath(keys[0], "dwell"), body: `seconds=3`, status: http.StatusBadRequest, problem: true},
		{name: "an exhibition that does not exist", client: visitor, method: "POST", path: "/api/v1/exhibitions/nope/exhibits/" + keys[0] + "/views", status: http.StatusNotFound, problem: true},
		{name: "a visit by the API", client: newClient(t, f.srv.URL), method: "POST", path: one + "/views", status: http.StatusOK, bodyHas: []string{`"counted":true`}},
	})

	f.dwk.want(http.StatusOK, "GET", one+"/stats", nil).json(t, &stats)
	want := []struct {
		views int64
		dwell string
	}{{1, "map[ge3m:1 lt5s:1]"}, {0, "map[]"}, {1, "map[lt1m:1]"}}
	for i, w := range want {
		if e := stats.Exhibits[i]; e.Views != w.views || fmt.Sprint(e.Dwell) != w.dwell {
			t.Errorf("exhibit %d: %d views, dwell %v; want %d, %s", i, e.Views, e.Dwell, w.views, w.dwell)
		}
	}
	if last := stats.Days[len(stats.Days)-1]; stats.Visits.Total != 2 || last.Visits != 2 || last.ExhibitViews != 2 {
		t.Errorf("visits %d, today %+v; want 2 visits and 2 exhibit views", stats.Visits.Total, last)
	}

	// The curators see the counts as charts with their figures.
	console := string(f.dwk.want(http.StatusOK, "GET", "/console/exhibitions/"+id, nil).body)
	for _, s := range []string{`id="exhibition-stats"`, `id="exhibition-visits">2<`, `class="dwell-chart"`, `class="dwell-5"`, `id="exhibit-stats"`, "洗煤厂局部"} {
		if !strings.Contains(console, s) {
			t.Errorf("the console lacks %s", s)
		}
	}

	// A visitor over the limit for dwell reports is refused, and what is refused is not
	// counted; views have their own budget, so the walk still counts its exhibits.
	accepted := 0
	for range 20 {
		r := visitor.do("POST", exhibitPath(keys[1], "dwell"), map[string]any{"seconds": 10})
		if r.status == http.StatusOK {
			accepted++
			continue
		}
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Fatalf("dwell report over the limit: %d %s (Retry-After %q)", r.status, r.body, r.header.Get("Retry-After"))
		}
		f.dwk.want(http.StatusOK, "GET", one+"/stats", nil).json(t, &stats)
		if n := stats.Exhibits[1].Dwell["lt15s"]; n != int64(accepted) || accepted < 1 || accepted > 14 {
			t.Errorf("%d dwells counted of %d accepted (limit 14 a visitor, 3 used before)", n, accepted)
		}
		visitor.want(http.StatusOK, "POST", exhibitPath(keys[1], "views"), nil)
		return
	}
	t.Fatal("20 dwell reports in a row were never refused (views.max_per_visitor = 14)")
}

// TestExhibitionCountsOfADraft: a draft exhibition counts nothing and shows no counts URL.
func TestExhibitionCountsOfADraft(t *testing.T) {
	f := newExhibitionFixture(t)
	var ex struct {
		ID string `json:"id"`
	}
	f.dwk.want(http.StatusCreated, "POST", "/api/v1/exhibitions", exhibition(nil, section("一", exhibit(f.photo.ID, "", nil)))).json(t, &ex)
	one := "/api/v1/exhibitions/" + ex.ID
	f.anon.want(http.StatusNotFound, "POST", one+"/exhibits/"+f.photo.ID+"/views", nil)
	f.anon.want(http.StatusNotFound, "POST", one+"/views", nil)
	f.anon.want(http.StatusUnauthorized, "GET", one+"/stats", nil)
	f.hn.want(http.StatusNotFound, "GET", one+"/stats", nil)
	if page := string(f.dwk.want(http.StatusOK, "GET", "/exhibitions/"+ex.ID, nil).body); strings.Contains(page, "data-counts=") {
		t.Error("the preview of a draft would count its exhibits")
	}
	f.dwk.want(http.StatusOK, "GET", one+"/stats", nil)
}

// TestTourAudienceInExhibitionStats: a live guided tour's viewers and its peak are counted
// with the views, and the exhibition's statistics list the tour with them.
func TestTourAudienceInExhibitionStats(t *testing.T) {
	f := newTourFixture(t)
	var tour lectureJSON
	f.schedule(t, f.exhibition, http.StatusCreated).json(t, &tour)
	stats := func() exhibitionStatsJSON {
		var st exhibitionStatsJSON
		f.dwk.want(http.StatusOK, "GET", "/api/v1/exhibitions/"+f.exhibition+"/stats", nil).json(t, &st)
		return st
	}
	if st := stats(); len(st.Tours) != 1 || st.Tours[0].ID != tour.ID || st.Tours[0].State != "scheduled" || st.Tours[0].Peak != 0 {
		t.Fatalf("tours before going live: %+v", st.Tours)
	}
	publish(t, f.srv.URL, tour.ID, tour.StreamKey)
	testwait.Until(t, "the tour is live", func() bool { return f.anon.lecture(tour.ID).State == "live" })
	var viewers []*liveViewer
	for range 2 {
		v, err := watch(t, f.srv.URL, tour.ID, viewerOpts{})
		if err != nil {
			t.Fatal(err)
		}
		viewers = append(viewers, v)
	}
	testwait.Until(t, "two viewers play", func() bool { return viewers[0].playing() && viewers[1].playing() })
	testwait.Until(t, "the statistics show the tour's audience", func() bool {
		st := stats().Tours[0]
		return st.State == "live" && st.Current == 2 && st.Peak == 2 && st.Views == 2
	})
	console := string(f.dwk.want(http.StatusOK, "GET", "/console/exhibitions/"+f.exhibition, nil).body)
	if !strings.Contains(console, `id="tour-stats"`) || !strings.Contains(console, `href="/lectures/`+tour.ID+`"`) {
		t.Error("the curators' console does not list the tour")
	}
}
