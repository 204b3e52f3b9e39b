package server

import (
	"context"
	"errors"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/collections"
	"github.com/shizuishan/culturecloud/internal/fixity"
	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/indexer"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/review"
	"github.com/shizuishan/culturecloud/internal/transcoding"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/web"
	"github.com/shizuishan/culturecloud/search"
)

// searchSorts are the sort orders the search page offers, in order.
var searchSorts = []string{"relevance", "newest", "views"}

// pagePrincipal identifies the caller of a public page; a store failure only makes the
// visitor appear signed out.
func (s *Server) pagePrincipal(c *gin.Context) *principal {
	p, err := s.identify(c)
	if err != nil {
		s.log.WarnContext(c.Request.Context(), "page without identity", "err", err)
		return nil
	}
	return p
}

// staffPage admits librarians and admins: visitors go to the login page, others see 403.
func (s *Server) staffPage(c *gin.Context) (*principal, bool) {
	return s.rolePage(c, accounts.Admin, accounts.Librarian)
}

// rolePage admits accounts with one of roles: visitors go to the login page, others see 403.
func (s *Server) rolePage(c *gin.Context, roles ...accounts.Role) (*principal, bool) {
	p, err := s.identify(c)
	if err != nil {
		s.log.WarnContext(c.Request.Context(), "page without identity", "err", err)
		s.render(c, http.StatusServiceUnavailable, "error", nil)
		return nil, false
	}
	if p == nil {
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		return nil, false
	}
	if !slices.Contains(roles, p.account.Role) {
		s.render(c, http.StatusForbidden, "error", p)
		return nil, false
	}
	return p, true
}

func webTerm(list []library.Term, id string) web.Term {
	if t, ok := library.Find(list, id); ok {
		return web.Term{ID: t.ID, ZH: t.ZH, EN: t.EN, Download: t.Download}
	}
	return web.Term{ID: id}
}

func webTerms(list []library.Term) []web.Term {
	out := make([]web.Term, 0, len(list))
	for _, t := range list {
		out = append(out, web.Term{ID: t.ID, ZH: t.ZH, EN: t.EN, Download: t.Download})
	}
	return out
}

func unitLabel(lang i18n.Lang, tree *units.Tree, id string) string {
	u, ok := tree.Get(id)
	if !ok {
		return id
	}
	return unitName(lang, u)
}

// homeData is the library's part of the home page: themes, trending and latest items.
// A store that does not answer leaves its list empty; the page stays up.
func (s *Server) homeData(c *gin.Context, p *principal) *web.HomeData {
	ctx := c.Request.Context()
	v := s.Library.Vocabulary()
	d := &web.HomeData{Themes: webTerms(v.Themes), Trending: s.trendingCards(ctx, 10)}
	res, err := s.Search.SearchItems(ctx, search.ItemQuery{Sort: "newest", Page: 1, PerPage: 8})
	if err != nil {
		s.log.WarnContext(ctx, "home: latest", "err", err)
	} else {
		for _, h := range res.Hits {
			d.Latest = append(d.Latest, web.Card{ID: h.ID, Title: h.Title, Theme: webTerm(v.Themes, h.Theme),
				Type: webTerm(v.Types, h.Type), Thumb: thumbURL(h.ID, h.Thumb)})
		}
	}
	s.addCourseCards(ctx, p, d)
	s.addLectureCards(ctx, lang(c), d)
	s.addExhibitionCount(ctx, d)
	return d
}

// thumbURL makes a search document's thumbnail (a URL or a path in the item) into a URL.
func thumbURL(id, thumb string) string {
	switch {
	case thumb == "":
		return ""
	case strings.HasPrefix(thumb, "/"):
		return thumb
	}
	return fileURL(id, thumb)
}

func fileURL(id, path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return "/api/v1/items/" + url.PathEscape(id) + "/files/" + strings.Join(parts, "/")
}

// highlight escapes a snippet and turns the search engine's markers into <mark>.
func highlight(marked string) template.HTML {
	s := html.EscapeString(marked)
	s = strings.ReplaceAll(s, search.HighlightPre, "<mark>")
	s = strings.ReplaceAll(s, search.HighlightPost, "</mark>")
	if strings.Count(s, "<mark>") != strings.Count(s, "</mark>") {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "<mark>", ""), "</mark>", "")
	}
	return template.HTML(s) //nolint:gosec // escaped above; only our own <mark> tags are added
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// memorySearchPage is /memory: the search, rendered on the server so that it works without
// JavaScript.
func (s *Server) memorySearchPage(c *gin.Context) {
	ctx := c.Request.Context()
	l := lang(c)
	p := s.pagePrincipal(c)
	v := s.Library.Vocabulary()

	q, problems := search.ParseItemQuery(c.Query)
	d := &web.SearchData{Sorts: searchSorts}
	for field := range problems {
		d.Problems = append(d.Problems, field)
		switch field {
		case "sort":
			q.Sort = "relevance"
		case "q":
			q.Text = strings.Map(func(r rune) rune {
				if r < 0x20 {
					return ' '
				}
				return r
			}, truncate(q.Text, 200))
			q.Text = strings.TrimSuffix(q.Text, "…")
		}
	}
	sort.Strings(d.Problems)
	d.Q, d.Sort = q.Text, q.Sort

	// The current state as URL parameters; every link of the page starts from it.
	current := map[string]string{"type": q.Type, "theme": q.Theme, "district": q.District, "format": q.Format}
	if q.Decade != 0 {
		current["decade"] = strconv.Itoa(q.Decade)
	}
	if q.HasMedia != nil {
		current["has_media"] = strconv.FormatBool(*q.HasMedia)
	}
	sortParam := q.Sort
	if sortParam == "relevance" {
		sortParam = ""
	}
	tree, _, err := s.Units.LoadUnits(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "search page: units", "err", err)
	}
	fs := newFacetedSearch("/memory", map[string]string{"q": q.Text, "sort": sortParam}, search.ItemFacets(), current,
		s.itemFacetLabel(l, &tree), "decade")
	d.Hidden, d.Filters = fs.hidden(), fs.filters()

	res, err := s.Search.SearchItems(ctx, q)
	status := http.StatusOK
	if err != nil {
		s.log.WarnContext(ctx, "search page", "err", err)
		d.Failed = true
		status = http.StatusServiceUnavailable
		s.renderData(c, status, "memory_search", p, d)
		return
	}
	d.Total, d.Page = res.Total, q.Page
	d.TotalPages = int(min(res.TotalPages, 500))

	d.Facets = fs.sidebar(res.Facets)

	for _, h := range res.Hits {
		title := h.Highlight.Title
		if title == "" {
			title = h.Title
		}
		snippet := h.Highlight.Description
		if snippet == "" {
			snippet = truncate(h.Description, 160)
		}
		hit := web.Hit{ID: h.ID, Title: highlight(title), Snippet: highlight(snippet), Theme: webTerm(v.Themes, h.Theme),
			Type: webTerm(v.Types, h.Type), Period: h.Period, Thumb: thumbURL(h.ID, h.Thumb), HasMedia: h.HasMedia, Views: h.Views}
		if h.District != "" {
			hit.District = unitLabel(l, &tree, h.District)
		}
		d.Hits = append(d.Hits, hit)
	}

	d.PrevURL, d.NextURL = fs.pager(d.Page, d.TotalPages)
	d.Pages = pageLinks(d.Page, d.TotalPages, fs.pageURL)
	if q.Text != "" && q.Page == 1 {
		d.Exhibitions = s.matchingExhibitions(ctx, q.Text)
	}
	// Nothing found, or nothing asked yet: offer ways in (themes, what others look at), and
	// a way out of the filters that may be why nothing was found.
	if len(d.Hits) == 0 || q.Text == "" && len(d.Filters) == 0 && d.Page == 1 {
		d.Suggest = &web.Suggestions{Themes: webTerms(v.Themes), Popular: s.popularCards(ctx, suggestedItems)}
		if len(d.Filters) > 0 {
			d.ClearFiltersURL = fs.clearFilters()
		}
	}
	s.renderData(c, status, "memory_search", p, d)
}

// itemFacetLabel names a facet value of the library search for people.
func (s *Server) itemFacetLabel(l i18n.Lang, tree *units.Tree) func(facet, value string) string {
	v := s.Library.Vocabulary()
	return func(facet, value string) string {
		switch facet {
		case "type":
			return web.TermName(l, webTerm(v.Types, value))
		case "theme":
			return web.TermName(l, webTerm(v.Themes, value))
		case "district":
			return unitLabel(l, tree, value)
		case "format":
			return i18n.FormatName(l, value)
		case "decade":
			if n, err := strconv.Atoi(value); err == nil {
				return i18n.T(l, "memory.decade", n)
			}
		case "has_media":
			if value == "true" || value == "false" {
				return i18n.T(l, "memory.has_media."+value)
			}
		}
		return value
	}
}

// suggestedItems is how many popular items an empty search offers.
const suggestedItems = 6

// popularCards are the items viewed most in the trending window, published ones only; when
// nobody has looked at anything lately, the most viewed of all. An unanswering store gives
// fewer cards, never an error page.
func (s *Server) popularCards(ctx context.Context, n int) []web.Card {
	v := s.Library.Vocabulary()
	cards := s.trendingCards(ctx, n)
	if len(cards) > 0 {
		return cards
	}
	res, err := s.Search.SearchItems(ctx, search.ItemQuery{Sort: "views", Page: 1, PerPage: n})
	if err != nil {
		s.log.WarnContext(ctx, "popular items", "err", err)
		return nil
	}
	for _, h := range res.Hits {
		cards = append(cards, web.Card{ID: h.ID, Title: h.Title, Theme: webTerm(v.Themes, h.Theme), Type: webTerm(v.Types, h.Type),
			Thumb: thumbURL(h.ID, h.Thumb)})
	}
	return cards
}

// trendingCards are up to n published items of the trending list, most viewed first.
func (s *Server) trendingCards(ctx context.Context, n int) []web.Card {
	v := s.Library.Vocabulary()
	ranked, err := s.Views.Trending(ctx, "item:", 3*n, time.Now())
	if err != nil {
		s.log.WarnContext(ctx, "trending", "err", err)
	}
	var cards []web.Card
	for _, r := range ranked {
		if len(cards) == n {
			break
		}
		it, err := s.Library.Get(ctx, strings.TrimPrefix(r.Target, "item:"))
		if err != nil || it.Status != library.Published {
			continue
		}
		cards = append(cards, web.Card{ID: it.ID, Title: it.Title, Theme: webTerm(v.Themes, it.Theme), Type: webTerm(v.Types, it.Type)})
	}
	return cards
}

func mapsWith(m map[string]int, k string, v int) map[string]int {
	out := make(map[string]int, len(m)+1)
	for key, n := range m {
		out[key] = n
	}
	out[k] = v
	return out
}

// pageLinks lists the first and last page and two pages either side of the current one,
// with gaps between.
func pageLinks(current, total int, pageURL func(int) string) []web.PageLink {
	var out []web.PageLink
	last := 0
	for n := 1; n <= total; n++ {
		if n != 1 && n != total && (n < current-2 || n > current+2) {
			continue
		}
		if last != 0 && n > last+1 {
			out = append(out, web.PageLink{Gap: true})
		}
		out = append(out, web.PageLink{Number: n, URL: pageURL(n), Current: n == current})
		last = n
	}
	return out
}

// itemData turns an item into what its page and the console's form show.
func (s *Server) itemData(l i18n.Lang, it library.Item, tree *units.Tree) *web.ItemData {
	v := s.Library.Vocabulary()
	licence := webTerm(v.Licences, it.Licence)
	d := &web.ItemData{
		ID: it.ID, Version: it.Version, Status: string(it.Status), Title: it.Title, Description: it.Description,
		Theme: webTerm(v.Themes, it.Theme), Type: webTerm(v.Types, it.Type), Licence: licence,
		Unit: unitLabel(l, tree, it.Unit), Place: it.Place.Name, Period: it.Period, AltText: it.AltText,
		Transcript: it.Transcript, Tags: it.Tags, CanDownload: licence.Download,
	}
	if it.Language != "" {
		d.Language = webTerm(v.Languages, it.Language)
	}
	if it.Place.Lat != nil && it.Place.Lon != nil {
		d.Coordinates = strconv.FormatFloat(*it.Place.Lat, 'f', -1, 64) + ", " + strconv.FormatFloat(*it.Place.Lon, 'f', -1, 64)
	}
	for _, f := range []struct {
		key    string
		values []string
	}{
		{"dc.title", []string{it.Title}}, {"dc.creator", it.Creator}, {"dc.subject", it.Subject},
		{"dc.publisher", []string{it.Publisher}}, {"dc.contributor", it.Contributor}, {"dc.date", []string{it.Date}},
		{"dc.format", []string{it.Format}}, {"dc.identifier", []string{it.Identifier}}, {"dc.source", []string{it.Source}},
		{"dc.relation", []string{it.Relation}}, {"dc.coverage", []string{it.Coverage}}, {"dc.rights", []string{it.Rights}},
	} {
		values := slices.DeleteFunc(slices.Clone(f.values), func(s string) bool { return strings.TrimSpace(s) == "" })
		if len(values) > 0 {
			d.Fields = append(d.Fields, web.FieldRow{Key: f.key, Values: values})
		}
	}
	for _, f := range it.Files {
		fv := web.FileView{Path: f.Path, Name: f.Name, MediaType: f.MediaType, Size: f.Size, URL: fileURL(it.ID, f.Path), Kind: "other"}
		switch {
		case strings.HasPrefix(f.MediaType, "image/"):
			fv.Kind = "image"
		case strings.HasPrefix(f.MediaType, "audio/"):
			fv.Kind = "audio"
		case strings.HasPrefix(f.MediaType, "video/"):
			fv.Kind = "video"
		case f.MediaType == "application/pdf":
			fv.Kind = "pdf"
		}
		if licence.Download {
			fv.Download = fv.URL + "?download=1"
		}
		d.Files = append(d.Files, fv)
	}
	reviewed := tree.ReviewPolicy(it.Unit) != review.None // a reviewer publishes, from the review queue
	for _, to := range []library.Status{library.InReview, library.Published, library.Draft, library.Withdrawn} {
		if library.CanMove(it.Status, to) && !(to == library.Published && reviewed) {
			d.Transitions = append(d.Transitions, string(to))
		}
	}
	return d
}

// memoryItemPage is /memory/items/{id}. Opening a published item counts a view before the
// page is written, so the count shown includes this visit.
func (s *Server) memoryItemPage(c *gin.Context) {
	ctx := c.Request.Context()
	it, err := s.Library.Get(ctx, c.Param("id"))
	if errors.Is(err, library.ErrNotFound) {
		s.render(c, http.StatusNotFound, "notfound", s.pagePrincipal(c))
		return
	}
	if err != nil {
		s.log.ErrorContext(ctx, "item page", "err", err)
		s.render(c, http.StatusServiceUnavailable, "error", nil)
		return
	}
	p := s.pagePrincipal(c)
	tree, _, err := s.Units.LoadUnits(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "item page: units", "err", err)
	}
	staff := p != nil && err == nil && library.CanEdit(p.account, it.Unit, &tree)
	if it.Status != library.Published && !staff {
		if p != nil && err == nil {
			s.refusePage(c, p, library.Refusal(p.account, it, &tree))
			return
		}
		s.render(c, http.StatusNotFound, "notfound", p)
		return
	}
	d := s.itemData(lang(c), it, &tree)
	d.IIIFManifest = s.manifestOf(c, it)
	s.addStreams(ctx, it, d)
	s.addReplay(ctx, lang(c), p != nil, it, d)
	if !staff && !d.CanDownload {
		s.withoutOriginals(ctx, it, d)
	}
	d.Staff = staff
	if it.Status == library.Published {
		d.Views = s.countVisit(c, indexer.ItemTarget(it.ID))
	}
	if staff {
		h, err := s.Library.History(ctx, it.ID)
		if err != nil {
			s.log.WarnContext(ctx, "item page: history", "err", err)
		}
		for _, e := range h {
			d.History = append(d.History, web.Version{Version: e.Version, Created: e.Created, User: e.User, Message: e.Message,
				Current: e.Version == it.Version})
		}
	}
	s.renderData(c, http.StatusOK, "memory_item", p, d)
}

// memoryCollectionPage is /memory/collections/{id}; the script loads the collection.
func (s *Server) memoryCollectionPage(c *gin.Context) {
	p := s.pagePrincipal(c)
	d := &web.CollectionData{ID: c.Param("id")}
	// The title is read here so that the page's <title> names the collection; if the store
	// does not answer, the script still loads it (and says why not).
	col, err := s.Collections.Get(c.Request.Context(), d.ID)
	switch {
	case errors.Is(err, collections.ErrNotFound):
		s.render(c, http.StatusNotFound, "notfound", p)
		return
	case err != nil:
		s.log.WarnContext(c.Request.Context(), "collection page", "err", err)
	default:
		d.Title = col.Title
	}
	s.renderData(c, http.StatusOK, "memory_collection", p, d)
}

// consoleHomePage is the librarians' console; its lists are loaded by the script.
func (s *Server) consoleHomePage(c *gin.Context) {
	p, ok := s.staffPage(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	tree, _, err := s.Units.LoadUnits(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "console: units", "err", err)
		s.render(c, http.StatusServiceUnavailable, "error", p)
		return
	}
	v := s.Library.Vocabulary()
	d := &web.ConsoleData{Filter: map[string]string{}, Types: webTerms(v.Types), Themes: webTerms(v.Themes),
		// Every unit: other units' published items are listed too, read-only.
		Units:    unitChoices(lang(c), &tree, func(units.Unit) bool { return true }),
		Statuses: []string{string(library.Draft), string(library.InReview), string(library.Published), string(library.Withdrawn)}}
	for _, k := range workbenchFilters {
		d.Filter[k] = c.Query(k)
	}
	s.renderData(c, http.StatusOK, "console_home", p, d)
}

// workbenchFilters are the query parameters of the console's list, as GET /api/v1/staff/items
// takes them.
var workbenchFilters = []string{"q", "status", "type", "theme", "unit", "created_from", "created_to", "updated_from", "updated_to"}

// consoleItemPage is the metadata form of a new item (/console/items/new) or of one the
// librarian may edit; for items of other units it says whose they are (403).
func (s *Server) consoleItemPage(c *gin.Context) {
	p, ok := s.staffPage(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	tree, _, err := s.Units.LoadUnits(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "console: units", "err", err)
		s.render(c, http.StatusServiceUnavailable, "error", p)
		return
	}
	l := lang(c)
	v := s.Library.Vocabulary()
	d := &web.ItemData{Form: web.ItemForm{Unit: p.account.Unit, Language: "zh"}}
	if id := c.Param("id"); id != "" {
		it, err := s.Library.Get(ctx, id)
		if errors.Is(err, library.ErrNotFound) {
			s.render(c, http.StatusNotFound, "notfound", p)
			return
		}
		if err == nil && !library.CanEdit(p.account, it.Unit, &tree) {
			s.refusePage(c, p, library.Refusal(p.account, it, &tree))
			return
		}
		if err != nil {
			s.log.ErrorContext(ctx, "console item", "err", err)
			s.render(c, http.StatusServiceUnavailable, "error", p)
			return
		}
		d = s.itemData(l, it, &tree)
		d.Form = itemForm(it.Fields)
		d.Staff = true
		d.Fixity = s.fixityView(ctx, it.ID)
	}
	d.Vocab = web.Vocab{Themes: webTerms(v.Themes), Types: webTerms(v.Types), Licences: webTerms(v.Licences), Languages: webTerms(v.Languages)}
	d.UnitOptions = unitOptions(l, &tree, p.account)
	s.renderData(c, http.StatusOK, "console_item", p, d)
}

// refusePage answers a page for an item the viewer may not edit: staff learn whose it is
// (403), anyone else finds nothing (404).
func (s *Server) refusePage(c *gin.Context, p *principal, err error) {
	var unitErr *library.UnitError
	if !errors.As(err, &unitErr) {
		s.render(c, http.StatusNotFound, "notfound", p)
		return
	}
	l := lang(c)
	s.renderData(c, http.StatusForbidden, "error", p, i18n.T(l, "problem.other_unit.detail", unitName(l, unitErr.Unit)))
}

// unitOptions are the units an account may file things under (id, path of names), sorted.
func unitOptions(l i18n.Lang, tree *units.Tree, a accounts.Account) []web.Param {
	return unitChoices(l, tree, func(u units.Unit) bool { return a.Role == accounts.Admin || tree.Within(a.Unit, u.ID) })
}

// unitChoices are the units keep accepts (id, path of names), sorted by path.
func unitChoices(l i18n.Lang, tree *units.Tree, keep func(units.Unit) bool) []web.Param {
	var out []web.Param
	for _, u := range tree.Units {
		if !keep(u) {
			continue
		}
		var names []string
		for _, id := range tree.Path(u.ID) {
			names = append(names, unitLabel(l, tree, id))
		}
		out = append(out, web.Param{Name: u.ID, Value: strings.Join(names, " / ")})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return out
}

func itemForm(f library.Fields) web.ItemForm {
	list := func(v []string) string { return strings.Join(v, ", ") }
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	return web.ItemForm{
		Title: f.Title, Creator: list(f.Creator), Subject: list(f.Subject), Description: f.Description, Publisher: f.Publisher,
		Contributor: list(f.Contributor), Date: f.Date, Type: f.Type, Format: f.Format, Identifier: f.Identifier, Source: f.Source,
		Language: f.Language, Relation: f.Relation, Coverage: f.Coverage, Rights: f.Rights, Theme: f.Theme, Unit: f.Unit,
		PlaceName: f.Place.Name, Lat: num(f.Place.Lat), Lon: num(f.Place.Lon), Period: f.Period, Licence: f.Licence,
		Tags: list(f.Tags), AltText: f.AltText, Transcript: f.Transcript,
	}
}

// withoutOriginals shows the public a view-only item as it is served to them (see
// mayDownload): pictures by their largest thumbnail, video and audio by their streams alone,
// other files not at all (the page says why).
func (s *Server) withoutOriginals(ctx context.Context, it library.Item, d *web.ItemData) {
	rec, err := s.Derivatives.Get(ctx, it.ID)
	if err != nil {
		s.log.WarnContext(ctx, "item page without thumbnails", "item", it.ID, "err", err)
	}
	for i := range d.Files {
		fv := &d.Files[i]
		fv.URL, fv.Download = "", ""
		st, ok := rec.Files[fv.Path]
		if fv.Kind != "image" || !ok || st.State != "done" || !hasFile(it, st.SHA256) {
			continue
		}
		widest := -1
		for j, o := range st.Outputs {
			if widest < 0 || o.Width > st.Outputs[widest].Width {
				widest = j
			}
		}
		if widest >= 0 {
			fv.URL = "/api/v1/items/" + url.PathEscape(it.ID) + "/derivatives/" + st.SHA256 + "/" + url.PathEscape(st.Outputs[widest].Name)
		}
	}
}

// addStreams points the players of an item page at the HLS streams of transcoded files (the
// original stays as a fallback source), with their posters and captions.
func (s *Server) addStreams(ctx context.Context, it library.Item, d *web.ItemData) {
	rec, err := s.Transcoding.Get(ctx, it.ID)
	if err != nil {
		s.log.WarnContext(ctx, "item page without streams", "item", it.ID, "err", err)
		return
	}
	for i := range d.Files {
		fv := &d.Files[i]
		if m, ok := rec.Files[fv.Path]; ok {
			fv.Stream, fv.Poster, fv.Captions = s.stream(ctx, it.ID, m)
		}
	}
}

// stream is what a player needs of a transcoded file: the master playlist, the poster and
// the captions; all empty until transcoding is done.
func (s *Server) stream(ctx context.Context, item string, m transcoding.FileMedia) (master, poster string, captions []web.CaptionTrack) {
	if m.State != transcoding.Done || m.Master == "" {
		return "", "", nil
	}
	base := "/api/v1/items/" + item + "/media/" + m.SHA256 + "/"
	master = base + m.Master
	if m.Poster != "" {
		poster = base + m.Poster
	}
	for _, c := range []web.CaptionTrack{{Lang: "zh", Label: "中文"}, {Lang: "en", Label: "English"}} {
		if _, err := s.Captions.Get(ctx, transcoding.Folder(item, m.SHA256)+"captions-"+c.Lang+".vtt"); err == nil {
			c.URL = "/api/v1/items/" + item + "/captions/" + m.SHA256 + "/" + c.Lang
			captions = append(captions, c)
		}
	}
	return master, poster, captions
}

// fixityView is the last fixity check of an item for the console, nil when it cannot be read
// (the page still serves its form).
func (s *Server) fixityView(ctx context.Context, id string) *web.FixityView {
	r, err := s.Fixity.Last(ctx, id)
	if errors.Is(err, fixity.ErrNeverChecked) {
		return &web.FixityView{}
	}
	if err != nil {
		s.log.WarnContext(ctx, "console: fixity result", "id", id, "err", err)
		return nil
	}
	v := &web.FixityView{Checked: true, At: r.CheckedAt, OK: r.OK}
	for _, d := range r.Damaged {
		v.Damaged = append(v.Damaged, d.String())
	}
	return v
}
