package server

import (
	"net/url"
	"slices"
	"sort"
	"strconv"

	"github.com/shizuishan/culturecloud/internal/web"
)

// facetedSearch builds the links and sidebar of a faceted search page (the library's search,
// the course catalogue): every link starts from the query's fixed parameters (text, sort) and
// the facet values chosen, and changes one thing.
type facetedSearch struct {
	path    string
	facets  []string          // in display order
	current map[string]string // facet → value chosen ("" for none)
	base    url.Values
	label   func(facet, value string) string
	byLabel map[string]bool // facets whose options sort by label (decades), not by count
}

// newFacetedSearch starts from fixed (empty values left out) and the chosen facet values.
func newFacetedSearch(path string, fixed map[string]string, facets []string, current map[string]string,
	label func(facet, value string) string, byLabel ...string) facetedSearch {
	base := url.Values{}
	for k, v := range fixed {
		if v != "" {
			base.Set(k, v)
		}
	}
	for _, name := range facets {
		if current[name] != "" {
			base.Set(name, current[name])
		}
	}
	f := facetedSearch{path: path, facets: facets, current: current, base: base, label: label, byLabel: map[string]bool{}}
	for _, name := range byLabel {
		f.byLabel[name] = true
	}
	return f
}

// link is the page's address after change (nil: as it is, without a page number).
func (f facetedSearch) link(change func(url.Values)) string {
	u := url.Values{}
	for k, vs := range f.base {
		u[k] = slices.Clone(vs)
	}
	if change != nil {
		change(u)
	}
	if len(u) == 0 {
		return f.path
	}
	return f.path + "?" + u.Encode()
}

// hidden are the chosen facet values, for the search form to keep.
func (f facetedSearch) hidden() []web.Param {
	var out []web.Param
	for _, name := range f.facets {
		if f.current[name] != "" {
			out = append(out, web.Param{Name: name, Value: f.current[name]})
		}
	}
	return out
}

// filters are the chosen facet values, each with the link that drops it.
func (f facetedSearch) filters() []web.Filter {
	var out []web.Filter
	for _, name := range f.facets {
		if f.current[name] != "" {
			out = append(out, web.Filter{Facet: name, Label: f.label(name, f.current[name]),
				RemoveURL: f.link(func(u url.Values) { u.Del(name) })})
		}
	}
	return out
}

// clearFilters is the link with every facet value dropped.
func (f facetedSearch) clearFilters() string {
	return f.link(func(u url.Values) {
		for _, name := range f.facets {
			u.Del(name)
		}
	})
}

// sidebar is every facet with its options: the counts found, and a chosen value even when
// nothing has it now (so that it can be dropped). Most found first, then by name.
func (f facetedSearch) sidebar(counts map[string]map[string]int) []web.Facet {
	out := make([]web.Facet, 0, len(f.facets))
	for _, name := range f.facets {
		facet := web.Facet{Name: name}
		found := counts[name]
		if cur := f.current[name]; cur != "" {
			if _, ok := found[cur]; !ok {
				found = mapsWith(found, cur, 0)
			}
		}
		for value, n := range found {
			selected := f.current[name] == value
			facet.Options = append(facet.Options, web.FacetOption{Label: f.label(name, value), Count: n, Selected: selected,
				URL: f.link(func(u url.Values) {
					if selected {
						u.Del(name)
					} else {
						u.Set(name, value)
					}
				})})
		}
		sort.SliceStable(facet.Options, func(i, j int) bool {
			a, b := facet.Options[i], facet.Options[j]
			if !f.byLabel[name] && a.Count != b.Count {
				return a.Count > b.Count
			}
			return a.Label < b.Label
		})
		out = append(out, facet)
	}
	return out
}

// pageURL is the link to result page n (page 1 without a number).
func (f facetedSearch) pageURL(n int) string {
	return f.link(func(u url.Values) {
		if n > 1 {
			u.Set("page", strconv.Itoa(n))
		}
	})
}

// pager is the links to the previous and next result pages ("" where there is none).
func (f facetedSearch) pager(page, total int) (prev, next string) {
	if page > 1 {
		prev = f.pageURL(min(page-1, max(total, 1)))
	}
	if page < total {
		next = f.pageURL(page + 1)
	}
	return prev, next
}
