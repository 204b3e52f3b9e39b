package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/internal/testwait"
)

// TestEmptySearchSuggests: a search that finds nothing says so and offers the themes (as
// theme filters) and the items people look at, and a way to drop its filters; the /memory
// page before any query offers the same.
func TestEmptySearchSuggests(t *testing.T) {
	srv := startServer(t)
	_, dwk, _ := staffClients(t, srv)
	anon := newClient(t, srv.URL)
	popular := dwk.publish(dwk.createItem(sampleItem("石炭井老矿区", nil)))
	anon.want(http.StatusOK, "POST", "/api/v1/items/"+popular.ID+"/views", nil)
	testwait.Until(t, "the item is searchable", func() bool {
		page := string(anon.want(http.StatusOK, "GET", "/memory?q=石炭井", nil).body)
		return strings.Contains(page, `id="hits"`) && strings.Contains(page, "/memory/items/"+popular.ID)
	})

	for _, c := range []struct {
		name, path string
		want       []string
		reject     []string
	}{
		{"no result", "/memory?q=zqxjkvw", []string{`id="no-results"`, `没有找到相关资源`}, []string{`id="remove-filters"`}},
		{"no result with a filter", "/memory?q=zqxjkvw&theme=industrial",
			[]string{`id="no-results"`, `id="remove-filters" href="/memory?q=zqxjkvw"`}, nil},
		{"before a query", "/memory", nil, []string{`id="no-results"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			page := string(anon.want(http.StatusOK, "GET", c.path, nil).body)
			want := append([]string{`id="search-suggestions"`, `href="/memory?theme=migrant"`, `href="/memory?theme=industrial"`,
				`id="popular-items"`, `href="/memory/items/` + popular.ID + `">石炭井老矿区</a>`}, c.want...)
			for _, w := range want {
				if !strings.Contains(page, w) {
					t.Errorf("%s lacks %s", c.path, w)
				}
			}
			for _, r := range c.reject {
				if strings.Contains(page, r) {
					t.Errorf("%s holds %s", c.path, r)
				}
			}
		})
	}
	// A search that finds something offers no suggestions.
	if page := string(anon.want(http.StatusOK, "GET", "/memory?q=石炭井", nil).body); strings.Contains(page, `id="search-suggestions"`) {
		t.Error("a search with results shows suggestions")
	}
}
