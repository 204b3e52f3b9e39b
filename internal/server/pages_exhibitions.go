package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/exhibitions"
	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/review"
	"github.com/shizuishan/culturecloud/internal/transcoding"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/web"
	"github.com/shizuishan/culturecloud/media/captions"
	"github.com/shizuishan/culturecloud/search"
)

// maxTranscriptBytes bounds the captions read for an audio guide's transcript.
const maxTranscriptBytes = 1 << 20

// iiifInfo is the IIIF Image API info.json of an image file ("{item}~{sha256}").
func iiifInfo(item, sha string) string {
	return "/iiif/3/" + url.PathEscape(item+"~"+sha) + "/info.json"
}

// plainImageSize bounds the plain image of an exhibit, shown until (or instead of) the deep
// zoom: enough for a tablet, and a few hundred kilobytes instead of a scan's tens of megabytes.
const plainImageSize = "!1280,1280"

// plainImage is the IIIF URL of an exhibit's plain image: its region, or the whole image,
// scaled down to plainImageSize. The IIIF service serves every published image, including
// those whose licence keeps their original file from the public.
func plainImage(item, sha string, r *exhibitions.Region) string {
	region := "full"
	if r != nil {
		region = strconv.Itoa(r.X) + "," + strconv.Itoa(r.Y) + "," + strconv.Itoa(r.W) + "," + strconv.Itoa(r.H)
	}
	return "/iiif/3/" + url.PathEscape(item+"~"+sha) + "/" + region + "/" + plainImageSize + "/0/default.jpg"
}

// exhibitionsPage is /exhibitions: the exhibition search with facets, rendered on the server.
func (s *Server) exhibitionsPage(c *gin.Context) {
	ctx := c.Request.Context()
	l := lang(c)
	p := s.pagePrincipal(c)
	q, problems := search.ParseExhibitionQuery(c.Query)
	for field := range problems {
		switch field {
		case "q":
			q.Text = ""
		case "page", "per_page":
			q.Page, q.PerPage = 1, 20
		default:
			q.Theme, q.Unit, q.OpenNow = "", "", false
		}
	}
	q.Now = s.Exhibitions.Now()
	tree, _, err := s.Units.LoadUnits(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "exhibitions: units", "err", err)
	}
	themes := s.Library.Vocabulary().Themes
	label := func(facet, value string) string {
		switch facet {
		case "theme":
			return web.TermName(l, webTerm(themes, value))
		case "unit":
			return unitLabel(l, &tree, value)
		case "open_now":
			return i18n.T(l, "exh.open_now")
		}
		return value
	}
	openNow := ""
	if q.OpenNow {
		openNow = "true"
	}
	facets := append(search.ExhibitionFacets(), "open_now")
	fs := newFacetedSearch("/exhibitions", map[string]string{"q": q.Text}, facets,
		map[string]string{"theme": q.Theme, "unit": q.Unit, "open_now": openNow}, label)
	d := &web.ExhibitionsData{Q: q.Text, Hidden: fs.hidden(), Filters: fs.filters()}
	res, err := s.Search.SearchExhibitions(ctx, q)
	if err != nil {
		s.log.WarnContext(ctx, "exhibitions", "err", err)
		d.Failed = true
		s.renderData(c, http.StatusServiceUnavailable, "exhibitions", p, d)
		return
	}
	d.Total, d.Page = res.Total, q.Page
	d.TotalPages = int((res.Total + int64(q.PerPage) - 1) / int64(q.PerPage))
	d.Facets = fs.sidebar(res.Facets)
	for _, h := range res.Hits {
		d.Cards = append(d.Cards, s.exhibitionCard(h, q.Now))
	}
	d.PrevURL, d.NextURL = fs.pager(d.Page, d.TotalPages)
	s.renderData(c, http.StatusOK, "exhibitions", p, d)
}

// day is a Unix time as the day it falls on in Beijing.
func day(unix int64) string {
	return time.Unix(unix, 0).In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
}

// exhibitionCard is a search hit as a card (lists come from the index alone).
func (s *Server) exhibitionCard(h search.ExhibitionDoc, now time.Time) web.ExhibitionCard {
	card := web.ExhibitionCard{ID: h.ID, Title: h.Title, Subtitle: h.Subtitle, Curator: h.Curator,
		Theme: webTerm(s.Library.Vocabulary().Themes, h.Theme), Opens: day(h.OpensAt), Permanent: h.Permanent,
		OpenNow: h.OpensAt <= now.Unix() && now.Unix() < h.ClosesAt, Exhibits: h.Exhibits}
	if !h.Permanent {
		card.Closes = day(h.ClosesAt - 1)
	}
	if h.CoverItem != "" && h.CoverFile != "" {
		card.Cover = "/api/v1/items/" + url.PathEscape(h.CoverItem) + "/derivatives/" + h.CoverFile + "/thumb-480.jpg"
	}
	return card
}

// exhibitionPage is the walkthrough: section by section, each exhibit with its deep zoom,
// texts and audio guide. The public sees only what is still in the library.
func (s *Server) exhibitionPage(c *gin.Context) {
	ctx := c.Request.Context()
	p := s.pagePrincipal(c)
	if wait, err := s.exhibitionReadLimit(c, p); err != nil || wait > 0 {
		if err != nil {
			s.log.WarnContext(ctx, "exhibition page: limits", "err", err)
		}
		status := http.StatusServiceUnavailable
		if wait > 0 {
			status = http.StatusTooManyRequests
			c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		}
		s.render(c, status, "error", p)
		return
	}
	v, err := s.Exhibitions.View(ctx, p.accountOrNil(), c.Param("id"))
	if errors.Is(err, exhibitions.ErrNotFound) {
		s.render(c, http.StatusNotFound, "notfound", p)
		return
	}
	if err != nil {
		s.log.ErrorContext(ctx, "exhibition page", "err", err)
		s.render(c, http.StatusServiceUnavailable, "error", p)
		return
	}
	e := v.Exhibition
	if v.Staff {
		// Staff see the exhibition as the public does, with the notes on what is missing.
		if e, err = s.Exhibitions.Public(ctx, e); err != nil {
			s.log.ErrorContext(ctx, "exhibition page", "err", err)
			s.render(c, http.StatusServiceUnavailable, "error", p)
			return
		}
	}
	l := lang(c)
	tree, _, err := s.Units.LoadUnits(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "exhibition page: units", "err", err)
	}
	d := &web.ExhibitionData{Introduction: e.Introduction, Unit: unitLabel(l, &tree, e.Unit), Status: string(e.Status),
		Staff: v.Staff, Notes: noteTexts(l, v.Notes)}
	d.ExhibitionCard = web.ExhibitionCard{ID: e.ID, Title: e.Title, Subtitle: e.Subtitle, Curator: e.Curator,
		Theme: webTerm(s.Library.Vocabulary().Themes, e.Theme), Opens: e.Opens, Closes: e.Closes, Permanent: e.Permanent,
		OpenNow: e.OpenAt(s.Exhibitions.Now())}
	s.walkSections(ctx, d, e)
	if e.Status == library.Published {
		d.Visits = s.countVisit(c, exhibitions.VisitTarget(e.ID))
	}
	c.Header("Cache-Control", "no-store")
	s.renderData(c, http.StatusOK, "exhibition", p, d)
}

// walkSections fills the rooms and exhibits of the walkthrough of e.
func (s *Server) walkSections(ctx context.Context, d *web.ExhibitionData, e exhibitions.Exhibition) {
	items := map[string]*library.Item{}
	for i, sec := range e.Sections {
		sv := web.SectionView{N: i, Title: sec.Title, Intro: sec.Intro, First: d.Total}
		for j, ex := range sec.Exhibits {
			ev := s.exhibitView(ctx, items, d.Total, ex)
			ev.Section, ev.Index, ev.Key = i, j, exhibitions.ExhibitKey(ex)
			sv.Exhibits = append(sv.Exhibits, ev)
			d.Total++
		}
		sv.Panorama = s.panoramaView(ctx, items, e.Sections, sec, sv)
		d.Sections = append(d.Sections, sv)
	}
}

// tourWalk is the walkthrough of a guided tour's exhibition as the public sees it (the
// guide's positions count exhibits the same way); nil for a lecture that is no tour, or
// when the exhibition cannot be read (the page then shows the lecture alone).
func (s *Server) tourWalk(ctx context.Context, exhibition string) *web.ExhibitionData {
	if exhibition == "" {
		return nil
	}
	v, err := s.Exhibitions.View(ctx, nil, exhibition)
	if err != nil {
		s.log.WarnContext(ctx, "tour: exhibition", "exhibition", exhibition, "err", err)
		return nil
	}
	e := v.Exhibition
	d := &web.ExhibitionData{Status: string(e.Status)}
	d.ExhibitionCard = web.ExhibitionCard{ID: e.ID, Title: e.Title, Subtitle: e.Subtitle, Curator: e.Curator}
	s.walkSections(ctx, d, e)
	return d
}

// noteTexts are the curators' notes in words.
func noteTexts(l i18n.Lang, notes []exhibitions.Note) []web.ExhibitionNote {
	out := make([]web.ExhibitionNote, 0, len(notes))
	for _, n := range notes {
		out = append(out, web.ExhibitionNote{Field: n.Field, Item: n.Item, Text: i18n.T(l, "exh.note."+n.Code, n.Field, n.Item)})
	}
	return out
}

// itemOnce reads an item once per page; nil when it cannot be read (the exhibit then shows
// its own texts without the item's).
func (s *Server) itemOnce(ctx context.Context, items map[string]*library.Item, id string) *library.Item {
	if it, ok := items[id]; ok {
		return it
	}
	it, err := s.Library.Get(ctx, id)
	var got *library.Item
	if err == nil {
		got = &it
	} else {
		s.log.WarnContext(ctx, "exhibition: item", "item", id, "err", err)
	}
	items[id] = got
	return got
}

// exhibitView is an exhibit as the walkthrough shows it: the image file it names (or the
// item's first), its IIIF tiles, its alt text from the item, and its audio guide.
func (s *Server) exhibitView(ctx context.Context, items map[string]*library.Item, n int, ex exhibitions.Exhibit) web.ExhibitView {
	v := web.ExhibitView{N: n, Item: ex.Item, Label: ex.Label, TextZH: ex.TextZH, TextEN: ex.TextEN, Alt: ex.Label}
	if it := s.itemOnce(ctx, items, ex.Item); it != nil {
		v.ItemTitle = it.Title
		v.Alt = firstNonEmpty(it.AltText, it.Title+"。"+truncate(it.Description, 200), ex.Label)
		if f := exhibitFile(it, ex.File); f != nil && strings.HasPrefix(f.MediaType, "image/") {
			v.TileSource = iiifInfo(it.ID, f.SHA256)
			v.Image = plainImage(it.ID, f.SHA256, ex.Region)
		}
	}
	if r := ex.Region; r != nil {
		v.Region = strconv.Itoa(r.X) + "," + strconv.Itoa(r.Y) + "," + strconv.Itoa(r.W) + "," + strconv.Itoa(r.H)
	}
	if ex.AudioGuide == "" {
		return v
	}
	guide := s.itemOnce(ctx, items, ex.AudioGuide)
	if guide == nil {
		return v
	}
	v.AudioTitle = guide.Title
	v.Transcript = firstNonEmpty(guide.Transcript, guide.Description)
	for _, f := range guide.Files {
		if strings.HasPrefix(f.MediaType, "audio/") || transcoding.IsMedia(f.MediaType) {
			v.Audio = fileURL(guide.ID, f.Path)
			if text := s.captionText(ctx, guide.ID, f.SHA256); text != "" {
				v.Transcript = text
				v.Captions = "/api/v1/items/" + url.PathEscape(guide.ID) + "/captions/" + f.SHA256 + "/zh"
			}
			break
		}
	}
	return v
}

// captionText is the text of the Chinese captions of a media file, "" when there are none.
func (s *Server) captionText(ctx context.Context, item, sha string) string {
	if s.Captions == nil {
		return ""
	}
	data, err := s.Captions.Get(ctx, transcoding.Folder(item, sha)+"captions-zh.vtt")
	if err != nil {
		return ""
	}
	f, err := captions.Parse(bytes.NewReader(data), maxTranscriptBytes)
	if err != nil {
		return ""
	}
	lines := make([]string, 0, len(f.Cues))
	for _, cue := range f.Cues {
		lines = append(lines, strings.ReplaceAll(cue.Text, "\n", " "))
	}
	return strings.Join(lines, " ")
}

// exhibitFile is the file an exhibit shows: the one it names, else the item's first image.
func exhibitFile(it *library.Item, sha string) *library.File {
	for i := range it.Files {
		f := &it.Files[i]
		if sha != "" && f.SHA256 == sha || sha == "" && strings.HasPrefix(f.MediaType, "image/") {
			return f
		}
	}
	return nil
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// consoleExhibitionsPage lists the exhibitions the curator may edit.
func (s *Server) consoleExhibitionsPage(c *gin.Context) {
	p, ok := s.rolePage(c, staffRoles...)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	list, err := s.Exhibitions.Editable(ctx, p.account)
	if err != nil {
		s.log.ErrorContext(ctx, "exhibition console", "err", err)
		s.render(c, http.StatusServiceUnavailable, "error", p)
		return
	}
	d := &web.ConsoleExhibitionsData{}
	for _, e := range list {
		row := web.ConsoleExhibitionRow{ID: e.ID, Title: e.Title, Status: string(e.Status),
			Updated: e.UpdatedAt.Local().Format("2006-01-02 15:04"), Sections: len(e.Sections)}
		for _, sec := range e.Sections {
			row.Exhibits += len(sec.Exhibits)
		}
		d.Rows = append(d.Rows, row)
	}
	s.renderData(c, http.StatusOK, "console_exhibitions", p, d)
}

// consoleExhibitionPage is the exhibition editor: a new exhibition, or one the curator may edit.
func (s *Server) consoleExhibitionPage(c *gin.Context) {
	p, ok := s.rolePage(c, staffRoles...)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	l := lang(c)
	tree, _, err := s.Units.LoadUnits(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "exhibition editor: units", "err", err)
		s.render(c, http.StatusServiceUnavailable, "error", p)
		return
	}
	d := &web.ConsoleExhibitionData{Form: web.ExhibitionForm{Unit: p.account.Unit, Curator: p.account.DisplayName,
		Permanent: true, Opens: s.Exhibitions.Now().Format(time.DateOnly)}, Sections: "[]",
		Themes: webTerms(s.Library.Vocabulary().Themes), UnitOptions: unitOptions(l, &tree, p.account)}
	if id := c.Param("id"); id != "" {
		acc := p.account
		v, err := s.Exhibitions.View(ctx, &acc, id)
		if errors.Is(err, exhibitions.ErrNotFound) || err == nil && !v.Staff {
			s.render(c, http.StatusNotFound, "notfound", p)
			return
		}
		if err != nil {
			s.log.ErrorContext(ctx, "exhibition editor", "err", err)
			s.render(c, http.StatusServiceUnavailable, "error", p)
			return
		}
		s.fillExhibitionForm(d, v, &tree, l)
		d.Stats = s.exhibitionStatsView(c, v.Exhibition)
	}
	s.renderData(c, http.StatusOK, "console_exhibition", p, d)
}

func (s *Server) fillExhibitionForm(d *web.ConsoleExhibitionData, v exhibitions.View, tree *units.Tree, l i18n.Lang) {
	e := v.Exhibition
	d.ID, d.Version, d.Status = e.ID, strings.Trim(e.Version, `"`), string(e.Status)
	d.Form = web.ExhibitionForm{Title: e.Title, Subtitle: e.Subtitle, Curator: e.Curator, Unit: e.Unit, Theme: e.Theme,
		Introduction: e.Introduction, Opens: e.Opens, Closes: e.Closes, Permanent: e.Permanent}
	if e.Cover != nil {
		d.Form.CoverItem, d.Form.CoverFile = e.Cover.Item, e.Cover.File
	}
	sections := e.Sections
	if sections == nil {
		sections = []exhibitions.Section{}
	}
	b, _ := json.Marshal(sections)
	d.Sections = string(b)
	d.Transitions = workflowActions(e.Status, tree.ReviewPolicy(e.Unit) != review.None)
	d.Notes = noteTexts(l, v.Notes)
}

// addExhibitionCount tells the home page how many exhibitions are open now.
func (s *Server) addExhibitionCount(ctx context.Context, d *web.HomeData) {
	res, err := s.Search.SearchExhibitions(ctx, search.ExhibitionQuery{OpenNow: true, Now: s.Exhibitions.Now(), Page: 1, PerPage: 1})
	if err != nil {
		s.log.WarnContext(ctx, "home: exhibitions", "err", err)
		return
	}
	d.Exhibitions = res.Total
}

// searchExhibitionsShown is how many exhibitions the library's search shows beside its items.
const searchExhibitionsShown = 3

// matchingExhibitions are the first exhibitions text finds, for the site's search page; none
// when the index does not answer (the items still show).
func (s *Server) matchingExhibitions(ctx context.Context, text string) []web.ExhibitionCard {
	now := s.Exhibitions.Now()
	res, err := s.Search.SearchExhibitions(ctx, search.ExhibitionQuery{Text: text, Now: now, Page: 1, PerPage: searchExhibitionsShown})
	if err != nil {
		s.log.WarnContext(ctx, "search page: exhibitions", "err", err)
		return nil
	}
	cards := make([]web.ExhibitionCard, 0, len(res.Hits))
	for _, h := range res.Hits {
		cards = append(cards, s.exhibitionCard(h, now))
	}
	return cards
}

// countVisit counts the page's visit of target (over a limit the page still shows, the visit
// is not counted) and reads the counts to show; nil when the counter cannot be read.
func (s *Server) countVisit(c *gin.Context, target string) *web.ViewCounts {
	ctx := c.Request.Context()
	if _, _, err := s.countView(c, target); err != nil {
		s.log.WarnContext(ctx, "page: record view", "target", target, "err", err)
	}
	st, err := s.Views.Stats(ctx, target, time.Now())
	if err != nil {
		s.log.WarnContext(ctx, "page: view stats", "target", target, "err", err)
		return nil
	}
	return &web.ViewCounts{Total: st.Total, Today: st.Today}
}

// exhibitionStatsView is the editor's statistics section; nil (no section) when the counters
// cannot be read, so that the editor still works while Redis is down.
func (s *Server) exhibitionStatsView(c *gin.Context, e exhibitions.Exhibition) *web.ExhibitionStats {
	st, err := s.exhibitionStats(c, e)
	if err != nil {
		s.log.WarnContext(c.Request.Context(), "exhibition statistics", "exhibition", e.ID, "err", err)
		return nil
	}
	v := &web.ExhibitionStats{Visits: st.Visits.Total, Unique: st.Visits.Unique, Buckets: st.DwellBuckets}
	days := make([]web.DayValues, len(st.Days))
	for i, d := range st.Days {
		days[i] = web.DayValues{Day: d.Day, A: d.Visits, B: d.ExhibitViews}
	}
	v.Chart = web.NewDayChart(days)
	rows := make([]web.DwellRow, 0, len(st.Exhibits))
	counted := map[string]bool{} // two exhibits showing the same thing share one counter
	for _, ex := range st.Exhibits {
		hist := make([]int64, len(st.DwellBuckets))
		for i, b := range st.DwellBuckets {
			hist[i] = ex.Dwell[b]
		}
		if !counted[ex.Key] {
			counted[ex.Key] = true
			v.ExhibitViews += ex.Views
		}
		v.Exhibits = append(v.Exhibits, web.ExhibitStatsRow{Label: ex.Label, Views: ex.Views, Unique: ex.Unique, Dwell: hist})
		rows = append(rows, web.DwellRow{Label: ex.Label, Views: ex.Views, Dwell: hist})
	}
	v.Dwell = web.NewDwellChart(rows)
	for _, tour := range st.Tours {
		v.Tours = append(v.Tours, web.TourStatsRow{ID: tour.ID, Title: tour.Title, State: tour.State,
			Start: web.Beijing(tour.Start).Format("2006-01-02 15:04"), Views: tour.Views, Unique: tour.Unique, Peak: tour.Peak, Current: tour.Current})
	}
	return v
}

// sceneFileMaxBytes is the largest scene file a page loads as it is; a larger one is loaded
// through the IIIF service at the largest size it gives (4096 pixels wide by default, enough
// for a hall seen on a screen), which costs a cut of the whole image on the server.
const sceneFileMaxBytes = 12 << 20

// panoramaView is the scene of a panorama room as the walkthrough shows it (the file, or the
// IIIF service's rendering of a large one), its hotspots named by their exhibits, its links
// by their rooms.
func (s *Server) panoramaView(ctx context.Context, items map[string]*library.Item, sections []exhibitions.Section,
	sec exhibitions.Section, sv web.SectionView) *web.PanoramaView {
	if sec.Kind != exhibitions.Panorama || sec.Scene == nil || sec.Scene.File == "" {
		return nil
	}
	it := s.itemOnce(ctx, items, sec.Scene.Item)
	if it == nil {
		return nil
	}
	f := exhibitFile(it, sec.Scene.File)
	if f == nil {
		return nil
	}
	pv := &web.PanoramaView{Alt: firstNonEmpty(it.AltText, it.Title, sec.Title), Scene: fileURL(it.ID, f.Path)}
	// A large file, or one whose licence keeps the original from the public (the file's URL
	// refuses them), goes through the IIIF service.
	if f.Size > sceneFileMaxBytes || !s.licenceAllowsDownload(*it) {
		pv.Scene = "/iiif/3/" + url.PathEscape(it.ID+"~"+f.SHA256) + "/full/max/0/default.jpg"
	}
	for _, h := range sec.Hotspots {
		if h.Exhibit >= 0 && h.Exhibit < len(sv.Exhibits) {
			ev := sv.Exhibits[h.Exhibit]
			pv.Hotspots = append(pv.Hotspots, web.HotspotView{N: ev.N, Exhibit: h.Exhibit, Label: ev.Label, Yaw: h.Yaw, Pitch: h.Pitch})
		}
	}
	for _, l := range sec.Links {
		if l.Section >= 0 && l.Section < len(sections) {
			pv.Links = append(pv.Links, web.LinkView{Section: l.Section, Title: sections[l.Section].Title, Yaw: l.Yaw, Pitch: l.Pitch})
		}
	}
	return pv
}
