package search_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/search"
)

// TestSearchExhibitionsOpenNow: "open now" follows the clock the caller gives, not the
// machine's, and combines with the theme and unit facets.
func TestSearchExhibitionsOpenNow(t *testing.T) {
	e := newEnv(t)
	day := func(s string) time.Time {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	docs := []search.ExhibitionDoc{
		{ID: "exh-permanent01", Title: "石嘴山工业记忆", Theme: "industrial", Unit: "szs-library",
			OpensAt: day("2020-01-01").Unix(), ClosesAt: search.Permanent, Permanent: true, Exhibits: 5},
		{ID: "exh-spring0001", Title: "支宁移民老照片展", Theme: "migrant", Unit: "dwk-library",
			OpensAt: day("2030-03-01").Unix(), ClosesAt: day("2030-06-01").Unix(), Exhibits: 3},
		{ID: "exh-rockart001", Title: "贺兰山岩画", Theme: "history", Unit: "dwk-library",
			OpensAt: day("2030-05-01").Unix(), ClosesAt: day("2030-09-01").Unix(), Exhibits: 8},
	}
	task, err := e.client.Upsert(t.Context(), search.ExhibitionsIndex, docs)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.client.Wait(t.Context(), task); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		q       search.ExhibitionQuery
		want    []string
		openNow int
	}{
		{"everything, in winter", search.ExhibitionQuery{Now: day("2030-01-15")},
			[]string{"exh-permanent01", "exh-spring0001", "exh-rockart001"}, 1},
		{"open in winter: only the permanent one", search.ExhibitionQuery{Now: day("2030-01-15"), OpenNow: true},
			[]string{"exh-permanent01"}, 1},
		{"open in April", search.ExhibitionQuery{Now: day("2030-04-10"), OpenNow: true},
			[]string{"exh-permanent01", "exh-spring0001"}, 2},
		{"open in May, of one unit", search.ExhibitionQuery{Now: day("2030-05-10"), OpenNow: true, Unit: "dwk-library"},
			[]string{"exh-spring0001", "exh-rockart001"}, 2},
		{"the closing day has ended", search.ExhibitionQuery{Now: day("2030-06-01"), OpenNow: true, Theme: "migrant"},
			nil, 0},
		{"by text", search.ExhibitionQuery{Now: day("2030-04-10"), Text: "岩画"}, []string{"exh-rockart001"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Page, tc.q.PerPage = 1, 20
			res, err := e.client.SearchExhibitions(t.Context(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, h := range res.Hits {
				got[h.ID] = true
			}
			if len(got) != len(tc.want) {
				t.Fatalf("hits %v, want %v", res.Hits, tc.want)
			}
			for _, id := range tc.want {
				if !got[id] {
					t.Fatalf("hits %v lack %s", res.Hits, id)
				}
			}
			if n := res.Facets["open_now"]["true"]; n != tc.openNow {
				t.Errorf("open_now facet %d, want %d (%v)", n, tc.openNow, res.Facets)
			}
		})
	}
	res, err := e.client.SearchExhibitions(t.Context(), search.ExhibitionQuery{Now: day("2030-05-10"), Page: 1, PerPage: 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.Facets["theme"]["industrial"] != 1 || res.Facets["unit"]["dwk-library"] != 2 {
		t.Errorf("facets %v", res.Facets)
	}
}

func TestParseExhibitionQuery(t *testing.T) {
	tests := []struct {
		raw     string
		problem string
	}{
		{"q=工业&theme=industrial&unit=szs-library&open_now=true&page=2", ""},
		{"open_now=yes", "open_now"},
		{"page=0", "page"},
		{"theme=" + url.QueryEscape("a\x01b"), "theme"},
	}
	for _, tc := range tests {
		values, _ := url.ParseQuery(tc.raw)
		q, problems := search.ParseExhibitionQuery(values.Get)
		if tc.problem == "" && len(problems) > 0 || tc.problem != "" && problems[tc.problem] == "" {
			t.Errorf("%s: problems %v, want %q", tc.raw, problems, tc.problem)
		}
		if tc.problem == "" && (!q.OpenNow || q.Page != 2 || q.Theme != "industrial") {
			t.Errorf("%s: parsed %+v", tc.raw, q)
		}
	}
}
