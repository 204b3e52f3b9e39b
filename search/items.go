package search

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"go.yaml.in/yaml/v3"

	"github.com/shizuishan/culturecloud/configs"
)

// ItemsIndex holds the published items of the Shizuishan Memory library; StaffItemsIndex
// holds every item in every status, for the librarians' console.
const (
	ItemsIndex      = "items"
	StaffItemsIndex = "items_staff"
)

// ItemDoc is the searchable view of a published item.
type ItemDoc struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Creator     []string `json:"creator,omitempty"`
	Subject     []string `json:"subject,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Place       string   `json:"place,omitempty"`
	// UnitNames are the names of the item's unit and of every unit above it (大武口区图书馆,
	// 大武口区, 大武口, 石嘴山市): a search for a place finds what its libraries and culture
	// centres hold.
	UnitNames   []string `json:"unit_names,omitempty"`
	Transcript  string   `json:"transcript,omitempty"`
	Type        string   `json:"type"`
	Theme       string   `json:"theme"`
	Unit        string   `json:"unit"`
	UnitPath    []string `json:"unit_path"`
	District    string   `json:"district,omitempty"` // the district or county the unit lies in
	Decade      int      `json:"decade,omitempty"`
	YearFrom    int      `json:"year_from,omitempty"`
	YearTo      int      `json:"year_to,omitempty"`
	Period      string   `json:"period,omitempty"`
	Format      []string `json:"format,omitempty"`
	HasMedia    bool     `json:"has_media"`
	Licence     string   `json:"licence"`
	PublishedAt int64    `json:"published_at"`
	CreatedAt   int64    `json:"created_at,omitempty"`
	UpdatedAt   int64    `json:"updated_at"`
	Status      string   `json:"status,omitempty"`
	Views       int64    `json:"views"`
	Thumb       string   `json:"thumb,omitempty"`
	Synonyms    string   `json:"synonyms,omitempty"` // see SynonymsIn
	Pinyin      string   `json:"pinyin"`
	Grams       string   `json:"grams"`
}

// ItemFacets are the attributes with facet counts, in display order.
func ItemFacets() []string {
	return []string{"type", "theme", "district", "decade", "format", "has_media"}
}

// ItemSorts maps the public sort names to Meilisearch sort expressions.
func ItemSorts() map[string][]string {
	return map[string][]string{
		"relevance": nil,
		"newest":    {"published_at:desc"},
		"views":     {"views:desc"},
	}
}

// ItemsSettings are the index settings; synonyms come from configs/synonyms.yaml.
func ItemsSettings(synonymGroups [][]string) meilisearch.Settings {
	return meilisearch.Settings{
		SearchableAttributes: []string{"title", "subject", "tags", "creator", "place", "description", "unit_names", "transcript", "synonyms", "grams", "pinyin"},
		FilterableAttributes: append([]string{"unit", "unit_path", "licence", "year_from", "year_to"}, ItemFacets()...),
		SortableAttributes:   []string{"published_at", "views", "year_from"},
		DisplayedAttributes:  []string{"*"},
		Synonyms:             SynonymMap(synonymGroups),
		Pagination:           &meilisearch.Pagination{MaxTotalHits: 10000},
		Faceting:             &meilisearch.Faceting{MaxValuesPerFacet: 100},
		// Typos make no sense in character pairs and pinyin initials. The word sizes must be
		// given: left at zero they would let a one-character query match any character.
		TypoTolerance: &meilisearch.TypoTolerance{
			Enabled:             true,
			MinWordSizeForTypos: meilisearch.MinWordSizeForTypos{OneTypo: 5, TwoTypos: 9},
			DisableOnAttributes: []string{"grams", "pinyin"},
		},
	}
}

func staffSettings(groups [][]string) meilisearch.Settings {
	s := ItemsSettings(groups)
	s.FilterableAttributes = append(s.FilterableAttributes, "status", "created_at", "updated_at")
	s.SortableAttributes = append(s.SortableAttributes, "updated_at")
	return s
}

// ParseSynonyms reads configs/synonyms.yaml: a list of groups of equivalent words. A word may
// appear only once in the file: in two groups it would silently join them.
func ParseSynonyms(data []byte) ([][]string, error) {
	var groups [][]string
	if err := yaml.Unmarshal(data, &groups); err != nil {
		return nil, fmt.Errorf("synonyms: %w", err)
	}
	groupOf := map[string]int{}
	for i, g := range groups {
		if len(g) < 2 {
			return nil, fmt.Errorf("synonyms: group %d has fewer than two words", i+1)
		}
		for _, w := range g {
			switch {
			case w == "":
				return nil, fmt.Errorf("synonyms: group %d has an empty word", i+1)
			case strings.TrimSpace(w) != w:
				return nil, fmt.Errorf("synonyms: group %d: %q has spaces around it", i+1, w)
			}
			if j, ok := groupOf[w]; ok {
				return nil, fmt.Errorf("synonyms: %q is in group %d and again in group %d", w, j+1, i+1)
			}
			groupOf[w] = i
		}
	}
	return groups, nil
}

// SynonymMap makes every word of a group a synonym of every other.
func SynonymMap(groups [][]string) map[string][]string {
	m := map[string][]string{}
	for _, g := range groups {
		for _, w := range g {
			for _, other := range g {
				if other != w {
					m[w] = append(m[w], other)
				}
			}
		}
	}
	return m
}

// productSynonyms are the groups of configs/synonyms.yaml, read once (a test checks that the
// file parses, so the error cannot happen at run time).
var productSynonyms = sync.OnceValue(func() [][]string {
	groups, err := ParseSynonyms(configs.Synonyms)
	if err != nil {
		return nil
	}
	return groups
})

// SynonymsIn lists, for every synonym group one of whose words occurs in texts, the group's
// other words. A document carries them (field "synonyms") because Meilisearch applies a
// synonym only to a query of at most three segmented words: 非物质文化遗产, 宁夏回族自治区 or
// 我为乡亲送戏来 would not find 非遗, 宁夏 or 送戏下乡 by the index settings alone.
func SynonymsIn(texts ...string) string {
	var out []string
	for _, g := range productSynonyms() {
		var present []string
		for _, w := range g {
			for _, text := range texts {
				if strings.Contains(text, w) {
					present = append(present, w)
					break
				}
			}
		}
		if len(present) == 0 {
			continue
		}
		for _, w := range g {
			if !slices.Contains(present, w) {
				out = append(out, w)
			}
		}
	}
	return strings.Join(out, " ")
}

// Indexes is every index the product uses, with its settings; the synonyms come from
// configs/synonyms.yaml (checked by a test, so the parse cannot fail at run time).
func Indexes() []Index {
	groups := productSynonyms()
	return []Index{
		{Name: AccountsIndex, PrimaryKey: "id", Settings: accountsSettings()},
		{Name: ItemsIndex, PrimaryKey: "id", Settings: ItemsSettings(groups)},
		{Name: StaffItemsIndex, PrimaryKey: "id", Settings: staffSettings(groups)},
		{Name: CoursesIndex, PrimaryKey: "id", Settings: coursesSettings(groups)},
		{Name: ExhibitionsIndex, PrimaryKey: "id", Settings: exhibitionsSettings(groups)},
	}
}

// IndexNamed returns the definition of one index.
func IndexNamed(name string) (Index, bool) {
	for _, ix := range Indexes() {
		if ix.Name == name {
			return ix, true
		}
	}
	return Index{}, false
}

// ItemQuery is a public search, already validated (see ParseItemQuery).
type ItemQuery struct {
	Text     string
	Type     string
	Theme    string
	District string
	Decade   int
	Format   string
	HasMedia *bool
	Sort     string
	Page     int // from 1
	PerPage  int
}

// ItemHit is one result with highlighted snippets.
type ItemHit struct {
	ItemDoc
	Highlight struct {
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"highlight"`
}

// ItemResults is one page of results with facet counts.
type ItemResults struct {
	Hits       []ItemHit                 `json:"hits"`
	Total      int64                     `json:"total"`
	Page       int                       `json:"page"`
	PerPage    int                       `json:"per_page"`
	TotalPages int64                     `json:"total_pages"`
	Facets     map[string]map[string]int `json:"facets"`
	ElapsedMS  int64                     `json:"elapsed_ms"`
}

// Highlight markers: private-use characters that cannot come from the data, replaced by
// <mark> after HTML escaping where the snippet is shown.
const (
	HighlightPre  = "\uE000"
	HighlightPost = "\uE001"
)

// SearchItems runs a public search. Every filter value goes through Eq, so user input never
// shapes a filter expression.
func (c *Client) SearchItems(ctx context.Context, q ItemQuery) (*ItemResults, error) {
	return c.searchItems(ctx, ItemsIndex, q, nil)
}

// StaffFilter narrows the staff search; zero values leave a side open. Times are Unix
// seconds, bounds inclusive.
type StaffFilter struct {
	Status string
	// Unit: the item's unit or a unit above it ("": all units).
	Unit string
	// Published widens Unit to what a caller may see of other units' items: every published
	// item under PublishedUnit ("": of every unit).
	Published     bool
	PublishedUnit string
	CreatedFrom   int64
	CreatedTo     int64
	UpdatedFrom   int64
	UpdatedTo     int64
}

// SearchStaffItems searches items of every status, narrowed by f.
func (c *Client) SearchStaffItems(ctx context.Context, q ItemQuery, f StaffFilter) (*ItemResults, error) {
	var extra []string
	if f.Status != "" {
		extra = append(extra, Eq("status", f.Status))
	}
	var scope []string
	if f.Unit != "" {
		scope = append(scope, Eq("unit_path", f.Unit))
	}
	if f.Published {
		pub := Eq("status", "published")
		if f.PublishedUnit != "" {
			pub = "(" + pub + " AND " + Eq("unit_path", f.PublishedUnit) + ")"
		}
		scope = append(scope, pub)
	}
	if len(scope) > 0 {
		extra = append(extra, "("+strings.Join(scope, " OR ")+")")
	}
	for _, r := range []struct {
		attr, op string
		v        int64
	}{{"created_at", ">=", f.CreatedFrom}, {"created_at", "<=", f.CreatedTo}, {"updated_at", ">=", f.UpdatedFrom}, {"updated_at", "<=", f.UpdatedTo}} {
		if r.v != 0 {
			extra = append(extra, r.attr+" "+r.op+" "+strconv.FormatInt(r.v, 10))
		}
	}
	if q.Sort == "newest" {
		q.Sort = "updated"
	}
	return c.searchItems(ctx, StaffItemsIndex, q, extra)
}

func (c *Client) searchItems(ctx context.Context, index string, q ItemQuery, extra []string) (*ItemResults, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.ms.Index(c.UID(index)).Search(ctx, q.Text, ItemsRequest(q, extra))
	if err != nil {
		return nil, unavailable("search items", err)
	}
	res := &ItemResults{Hits: make([]ItemHit, 0, len(resp.Hits)), Total: resp.TotalHits, Page: q.Page, PerPage: q.PerPage,
		TotalPages: resp.TotalPages, ElapsedMS: resp.ProcessingTimeMs, Facets: map[string]map[string]int{}}
	if len(resp.FacetDistribution) > 0 {
		if err := json.Unmarshal(resp.FacetDistribution, &res.Facets); err != nil {
			return nil, fmt.Errorf("facets: %w", err)
		}
	}
	for _, h := range resp.Hits {
		var hit ItemHit
		if err := h.DecodeInto(&hit.ItemDoc); err != nil {
			return nil, err
		}
		if raw, ok := h["_formatted"]; ok {
			_ = json.Unmarshal(raw, &hit.Highlight)
		}
		res.Hits = append(res.Hits, hit)
	}
	return res, nil
}

// retrieved are the attributes a result shows: not the long helper fields made for matching.
var retrieved = []string{"id", "title", "description", "creator", "subject", "tags", "place", "type", "theme", "unit",
	"district", "decade", "year_from", "year_to", "period", "format", "has_media", "licence", "published_at",
	"created_at", "updated_at", "status", "views", "thumb"}

// ItemsRequest is the Meilisearch request for q, with extra filter expressions ANDed. Every
// filter value goes through Eq, so user input never shapes a filter expression.
func ItemsRequest(q ItemQuery, extra []string) *meilisearch.SearchRequest {
	filter := append([]string{}, extra...)
	for _, f := range []struct{ attr, value string }{{"type", q.Type}, {"theme", q.Theme}, {"district", q.District}, {"format", q.Format}} {
		if f.value != "" {
			filter = append(filter, Eq(f.attr, f.value))
		}
	}
	if q.Decade != 0 {
		filter = append(filter, "decade = "+strconv.Itoa(q.Decade))
	}
	if q.HasMedia != nil {
		filter = append(filter, "has_media = "+strconv.FormatBool(*q.HasMedia))
	}
	perPage := int64(q.PerPage)
	req := &meilisearch.SearchRequest{
		HitsPerPage:           &perPage,
		Page:                  int64(q.Page),
		Facets:                ItemFacets(),
		Sort:                  sortFor(q.Sort),
		AttributesToRetrieve:  retrieved,
		AttributesToHighlight: []string{"title", "description"},
		AttributesToCrop:      []string{"description"},
		CropLength:            60,
		HighlightPreTag:       HighlightPre,
		HighlightPostTag:      HighlightPost,
		// Every query word must match: with the default ("last"), a two-character Chinese
		// query matches documents holding either character.
		MatchingStrategy: meilisearch.All,
	}
	if len(filter) > 0 {
		req.Filter = filter
	}
	return req
}

func sortFor(name string) []string {
	if name == "updated" {
		return []string{"updated_at:desc"}
	}
	return ItemSorts()[name]
}

// Rebuild fills a fresh copy of an index with fill and swaps it in atomically, so that
// searches never see a half-built index. fill is called with a function that adds a batch.
// A half-built copy is deleted when the rebuild fails; one left by a rebuild that was killed
// is deleted by the next one (DropRebuilds).
func (c *Client) Rebuild(ctx context.Context, ix Index, fill func(add func(docs any) error) error) error {
	live := c.UID(ix.Name)
	fresh := live + rebuildMark + strconv.FormatInt(time.Now().UnixNano(), 36)
	dropFresh := func() {
		// The copy may be as large as the live index: delete it even when ctx has ended.
		if t, err := c.ms.DeleteIndex(context.WithoutCancel(ctx), fresh); err == nil {
			_ = c.Wait(context.WithoutCancel(ctx), t.TaskUID)
		}
	}
	task, err := c.ms.CreateIndex(ctx, &meilisearch.IndexConfig{Uid: fresh, PrimaryKey: ix.PrimaryKey})
	if err != nil {
		dropFresh() // the request may have been carried out though its answer was lost
		return unavailable("create "+fresh, err)
	}
	if err := c.Wait(ctx, task.TaskUID); err != nil {
		dropFresh()
		return err
	}
	settings := ix.Settings
	if task, err = c.ms.Index(fresh).UpdateSettings(ctx, &settings); err != nil {
		dropFresh()
		return unavailable("settings "+fresh, err)
	}
	if err := c.Wait(ctx, task.TaskUID); err != nil {
		dropFresh()
		return err
	}
	err = fill(func(docs any) error {
		t, err := c.ms.Index(fresh).AddDocuments(ctx, docs, nil)
		if err != nil {
			return unavailable("add documents "+fresh, err)
		}
		return c.Wait(ctx, t.TaskUID)
	})
	if err != nil {
		dropFresh()
		return err
	}
	// Make sure the live index exists, so that the swap has two sides.
	if _, err := c.ms.GetIndex(ctx, live); err != nil {
		if t, cerr := c.ms.CreateIndex(ctx, &meilisearch.IndexConfig{Uid: live, PrimaryKey: ix.PrimaryKey}); cerr == nil {
			_ = c.Wait(ctx, t.TaskUID)
		}
	}
	task, err = c.ms.SwapIndexes(ctx, []*meilisearch.SwapIndexesParams{{Indexes: []string{live, fresh}}})
	if err != nil {
		dropFresh()
		return unavailable("swap", err)
	}
	if err := c.Wait(ctx, task.TaskUID); err != nil {
		dropFresh()
		return err
	}
	dropFresh() // after the swap, "fresh" holds the old documents
	return nil
}

// rebuildMark sits in the name of every index copy that Rebuild fills.
const rebuildMark = "_rebuild_"

// DropRebuilds deletes the index copies of this prefix that a killed or failed rebuild left
// behind, and names them. Run it before a rebuild, never during one (it would delete the
// copy that rebuild is filling).
func (c *Client) DropRebuilds(ctx context.Context) ([]string, error) {
	var dropped []string
	const page = 100
	var leftovers []string
	for offset := int64(0); ; offset += page {
		res, err := c.ms.ListIndexes(ctx, &meilisearch.IndexesQuery{Limit: page, Offset: offset})
		if err != nil {
			return nil, unavailable("list indexes", err)
		}
		for _, ix := range res.Results {
			if rest, ok := strings.CutPrefix(ix.UID, c.prefix); ok && strings.Contains(rest, rebuildMark) {
				leftovers = append(leftovers, ix.UID)
			}
		}
		if offset+page >= res.Total {
			break
		}
	}
	for _, uid := range leftovers {
		task, err := c.ms.DeleteIndex(ctx, uid)
		if err != nil {
			return dropped, unavailable("delete "+uid, err)
		}
		if err := c.Wait(ctx, task.TaskUID); err != nil {
			return dropped, err
		}
		dropped = append(dropped, uid)
	}
	return dropped, nil
}

// ParseItemQuery turns URL parameters into an ItemQuery, refusing anything outside the
// allowed shapes; field names in the returned map explain each problem.
func ParseItemQuery(get func(string) string) (ItemQuery, map[string]string) {
	problems := map[string]string{}
	q := ItemQuery{Text: strings.TrimSpace(get("q")), Sort: get("sort"), Page: 1, PerPage: 20}
	if len([]rune(q.Text)) > 200 {
		problems["q"] = "too_long"
	}
	if strings.ContainsFunc(q.Text, func(r rune) bool { return r < 0x20 }) {
		problems["q"] = "text"
	}
	if q.Sort == "" {
		q.Sort = "relevance"
	}
	if _, ok := ItemSorts()[q.Sort]; !ok {
		problems["sort"] = "sort"
	}
	num := func(name string, def, lo, hi int) int {
		raw := get(name)
		if raw == "" {
			return def
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < lo || n > hi {
			problems[name] = "range"
			return def
		}
		return n
	}
	q.Page = num("page", 1, 1, 500)
	q.PerPage = num("per_page", 20, 1, 100)
	q.Decade = num("decade", 0, 1000, 2100)
	if q.Decade%10 != 0 {
		problems["decade"] = "range"
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"type", &q.Type}, {"theme", &q.Theme}, {"district", &q.District}, {"format", &q.Format}} {
		v := get(f.name)
		if len(v) > 64 || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 }) {
			problems[f.name] = "text"
			continue
		}
		*f.dst = v
	}
	switch get("has_media") {
	case "":
	case "true", "1":
		t := true
		q.HasMedia = &t
	case "false", "0":
		f := false
		q.HasMedia = &f
	default:
		problems["has_media"] = "boolean"
	}
	return q, problems
}
