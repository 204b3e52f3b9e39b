package search

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/meilisearch/meilisearch-go"
)

// CoursesIndex holds the published online art courses.
const CoursesIndex = "courses"

// CourseDoc is the searchable view of a published course.
type CourseDoc struct {
	ID              string `json:"id"`
	Title           string `json:"title"`
	Description     string `json:"description,omitempty"`
	Category        string `json:"category"`
	Level           string `json:"level"`
	Institution     string `json:"institution"`
	InstitutionKind string `json:"institution_kind"`
	Lecturer        string `json:"lecturer"`
	Unit            string `json:"unit"`
	District        string `json:"district,omitempty"`
	Lessons         int    `json:"lessons"`
	CoverItem       string `json:"cover_item,omitempty"` // the cover image: a file of a library item
	CoverPath       string `json:"cover_path,omitempty"`
	PublishedAt     int64  `json:"published_at"`
	Pinyin          string `json:"pinyin"`
	Grams           string `json:"grams"`
}

// CourseFacets are the course attributes with facet counts.
func CourseFacets() []string {
	return []string{"category", "level", "institution_kind", "district"}
}

func coursesSettings(groups [][]string) meilisearch.Settings {
	return meilisearch.Settings{
		SearchableAttributes: []string{"title", "lecturer", "institution", "description", "grams", "pinyin"},
		FilterableAttributes: CourseFacets(),
		SortableAttributes:   []string{"published_at"},
		DisplayedAttributes:  []string{"*"},
		Synonyms:             SynonymMap(groups),
		TypoTolerance: &meilisearch.TypoTolerance{Enabled: true,
			MinWordSizeForTypos: meilisearch.MinWordSizeForTypos{OneTypo: 5, TwoTypos: 9},
			DisableOnAttributes: []string{"grams", "pinyin"}},
	}
}

// CourseQuery is a validated course search.
type CourseQuery struct {
	Text, Category, Level, InstitutionKind, District string
	Page, PerPage                                    int
}

// ParseCourseQuery reads URL parameters; the returned map names each refused field.
func ParseCourseQuery(get func(string) string) (CourseQuery, map[string]string) {
	q := CourseQuery{Text: strings.TrimSpace(get("q")), Page: 1, PerPage: 20}
	problems := map[string]string{}
	if len([]rune(q.Text)) > 200 || strings.ContainsFunc(q.Text, func(r rune) bool { return r < 0x20 }) {
		problems["q"] = "text"
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"category", &q.Category}, {"level", &q.Level}, {"institution_kind", &q.InstitutionKind}, {"district", &q.District}} {
		v := get(f.name)
		if len(v) > 64 || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 }) {
			problems[f.name] = "text"
			continue
		}
		*f.dst = v
	}
	item, more := ParseItemQuery(func(k string) string {
		if k == "page" || k == "per_page" {
			return get(k)
		}
		return ""
	})
	for k, v := range more {
		problems[k] = v
	}
	q.Page, q.PerPage = item.Page, item.PerPage
	return q, problems
}

// CourseResults is one page of courses with facet counts.
type CourseResults struct {
	Hits   []CourseDoc               `json:"hits"`
	Total  int64                     `json:"total"`
	Page   int                       `json:"page"`
	Facets map[string]map[string]int `json:"facets"`
}

// SearchCourses runs a public course search.
func (c *Client) SearchCourses(ctx context.Context, q CourseQuery) (*CourseResults, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var filter []string
	for _, f := range []struct{ attr, value string }{{"category", q.Category}, {"level", q.Level},
		{"institution_kind", q.InstitutionKind}, {"district", q.District}} {
		if f.value != "" {
			filter = append(filter, Eq(f.attr, f.value))
		}
	}
	perPage := int64(q.PerPage)
	req := &meilisearch.SearchRequest{HitsPerPage: &perPage, Page: int64(q.Page), Facets: CourseFacets(),
		AttributesToRetrieve: []string{"id", "title", "description", "category", "level", "institution", "institution_kind",
			"lecturer", "unit", "district", "lessons", "published_at", "cover_item", "cover_path"},
		MatchingStrategy: meilisearch.All}
	if len(filter) > 0 {
		req.Filter = filter
	}
	if q.Text == "" {
		req.Sort = []string{"published_at:desc"}
	}
	resp, err := c.ms.Index(c.UID(CoursesIndex)).Search(ctx, q.Text, req)
	if err != nil {
		return nil, unavailable("search courses", err)
	}
	res := &CourseResults{Hits: []CourseDoc{}, Total: resp.TotalHits, Page: q.Page, Facets: map[string]map[string]int{}}
	if len(resp.FacetDistribution) > 0 {
		if err := json.Unmarshal(resp.FacetDistribution, &res.Facets); err != nil {
			return nil, fmt.Errorf("facets: %w", err)
		}
	}
	if err := resp.Hits.DecodeInto(&res.Hits); err != nil {
		return nil, err
	}
	return res, nil
}
