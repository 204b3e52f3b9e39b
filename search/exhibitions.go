package search

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/meilisearch/meilisearch-go"
)

// ExhibitionsIndex holds the published cloud exhibitions (云展览).
const ExhibitionsIndex = "exhibitions"

// Permanent is the closing time of a permanent exhibition: the last second of 9999, so
// that "closes after now" holds for it without a special case in the filter.
const Permanent int64 = 253402300799

// ExhibitionDoc is the searchable view of a published exhibition.
type ExhibitionDoc struct {
	ID           string `json:"id"`
	Title        string `json:"title"`
	Subtitle     string `json:"subtitle,omitempty"`
	Curator      string `json:"curator,omitempty"`
	Introduction string `json:"introduction,omitempty"`
	Theme        string `json:"theme"`
	Unit         string `json:"unit"`
	// OpensAt and ClosesAt bound the days it is open, in Unix seconds: open while
	// OpensAt <= now < ClosesAt (Permanent for a permanent exhibition).
	OpensAt     int64  `json:"opens_at"`
	ClosesAt    int64  `json:"closes_at"`
	Permanent   bool   `json:"permanent"`
	Sections    int    `json:"sections"`
	Exhibits    int    `json:"exhibits"`
	CoverItem   string `json:"cover_item,omitempty"` // the cover: an image file of a library item
	CoverFile   string `json:"cover_file,omitempty"` // its SHA-256
	PublishedAt int64  `json:"published_at"`
	Pinyin      string `json:"pinyin"`
	Grams       string `json:"grams"`
}

// ExhibitionFacets are the stored attributes with facet counts; "open_now" is counted
// apart, as it depends on the clock.
func ExhibitionFacets() []string { return []string{"theme", "unit"} }

func exhibitionsSettings(groups [][]string) meilisearch.Settings {
	return meilisearch.Settings{
		SearchableAttributes: []string{"title", "subtitle", "curator", "introduction", "grams", "pinyin"},
		FilterableAttributes: append(ExhibitionFacets(), "opens_at", "closes_at"),
		SortableAttributes:   []string{"published_at", "opens_at"},
		DisplayedAttributes:  []string{"*"},
		Synonyms:             SynonymMap(groups),
		TypoTolerance: &meilisearch.TypoTolerance{Enabled: true,
			MinWordSizeForTypos: meilisearch.MinWordSizeForTypos{OneTypo: 5, TwoTypos: 9},
			DisableOnAttributes: []string{"grams", "pinyin"}},
	}
}

// ExhibitionQuery is a validated exhibition search. Now is the caller's clock: whether an
// exhibition is open is asked of that moment.
type ExhibitionQuery struct {
	Text, Theme, Unit string
	OpenNow           bool
	Now               time.Time
	Page, PerPage     int
}

// ParseExhibitionQuery reads URL parameters; the returned map names each refused field.
func ParseExhibitionQuery(get func(string) string) (ExhibitionQuery, map[string]string) {
	q := ExhibitionQuery{Text: strings.TrimSpace(get("q")), Page: 1, PerPage: 20}
	problems := map[string]string{}
	control := func(r rune) bool { return r < 0x20 }
	if len([]rune(q.Text)) > 200 || strings.ContainsFunc(q.Text, control) {
		problems["q"] = "text"
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"theme", &q.Theme}, {"unit", &q.Unit}} {
		v := get(f.name)
		if len(v) > 64 || strings.ContainsFunc(v, control) {
			problems[f.name] = "text"
			continue
		}
		*f.dst = v
	}
	if v := get("open_now"); v != "" {
		open, err := strconv.ParseBool(v)
		if err != nil || v != "true" && v != "false" {
			problems["open_now"] = "boolean"
		}
		q.OpenNow = open
	}
	paging, more := ParseItemQuery(func(k string) string {
		if k == "page" || k == "per_page" {
			return get(k)
		}
		return ""
	})
	for k, v := range more {
		problems[k] = v
	}
	q.Page, q.PerPage = paging.Page, paging.PerPage
	return q, problems
}

// ExhibitionResults is one page of exhibitions with facet counts, "open_now" among them.
type ExhibitionResults struct {
	Hits   []ExhibitionDoc           `json:"hits"`
	Total  int64                     `json:"total"`
	Page   int                       `json:"page"`
	Facets map[string]map[string]int `json:"facets"`
}

// openNowFilter is "open at now".
func openNowFilter(now time.Time) string {
	sec := strconv.FormatInt(now.Unix(), 10)
	return "opens_at <= " + sec + " AND closes_at > " + sec
}

// SearchExhibitions runs a public exhibition search, and counts how many of the matches
// are open at q.Now (a second, hitless query: Meilisearch facets only stored values).
func (c *Client) SearchExhibitions(ctx context.Context, q ExhibitionQuery) (*ExhibitionResults, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var filter []string
	for _, f := range []struct{ attr, value string }{{"theme", q.Theme}, {"unit", q.Unit}} {
		if f.value != "" {
			filter = append(filter, Eq(f.attr, f.value))
		}
	}
	open := openNowFilter(q.Now)
	if q.OpenNow {
		filter = append(filter, open)
	}
	perPage := int64(max(q.PerPage, 1))
	req := &meilisearch.SearchRequest{HitsPerPage: &perPage, Page: int64(max(q.Page, 1)), Facets: ExhibitionFacets(),
		AttributesToRetrieve: []string{"id", "title", "subtitle", "curator", "introduction", "theme", "unit", "opens_at",
			"closes_at", "permanent", "sections", "exhibits", "cover_item", "cover_file", "published_at"},
		MatchingStrategy: meilisearch.All}
	if len(filter) > 0 {
		req.Filter = filter
	}
	if q.Text == "" {
		req.Sort = []string{"published_at:desc"}
	}
	index := c.ms.Index(c.UID(ExhibitionsIndex))
	resp, err := index.Search(ctx, q.Text, req)
	if err != nil {
		return nil, unavailable("search exhibitions", err)
	}
	res := &ExhibitionResults{Hits: []ExhibitionDoc{}, Total: resp.TotalHits, Page: q.Page, Facets: map[string]map[string]int{}}
	if len(resp.FacetDistribution) > 0 {
		if err := json.Unmarshal(resp.FacetDistribution, &res.Facets); err != nil {
			return nil, fmt.Errorf("facets: %w", err)
		}
	}
	if err := resp.Hits.DecodeInto(&res.Hits); err != nil {
		return nil, err
	}
	openCount := resp.TotalHits
	if !q.OpenNow {
		one := int64(1)
		count := &meilisearch.SearchRequest{HitsPerPage: &one, Page: 1, AttributesToRetrieve: []string{"id"},
			Filter: append(filter, open), MatchingStrategy: meilisearch.All}
		cresp, err := index.Search(ctx, q.Text, count)
		if err != nil {
			return nil, unavailable("count open exhibitions", err)
		}
		openCount = cresp.TotalHits
	}
	res.Facets["open_now"] = map[string]int{}
	if openCount > 0 {
		res.Facets["open_now"]["true"] = int(openCount)
	}
	return res, nil
}
