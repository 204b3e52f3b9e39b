package server

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/web"
)

const (
	// feedPast is how far back the feeds reach for lectures that already took place (or
	// were called off, so that subscribed calendars drop them).
	feedPast = 30 * 24 * time.Hour
	// feedMax bounds the entries of a feed.
	feedMax = 100
	// replaysShown bounds the replays on the listing.
	replaysShown = 24
	// homeUpcoming is how many upcoming lectures the home page shows.
	homeUpcoming = 3
)

// lectureCard is a lecture for a list.
func lectureCard(l i18n.Lang, tree *units.Tree, lec lectures.Lecture) web.LectureCard {
	card := web.LectureCard{ID: lec.ID, Title: lec.Title, Lecturer: lec.Lecturer.Name, State: string(lec.State),
		Start: lec.Start, End: lec.End(), Minutes: lec.Minutes, ReplayItem: lec.ReplayItem, Registered: lec.Visibility == lectures.Registered}
	if tree != nil {
		card.Unit = unitLabel(l, tree, lec.Unit)
	}
	if lec.Cover != nil {
		card.Cover = fileURL(lec.Cover.Item, lec.Cover.Path)
	}
	return card
}

// unitTree loads the units for labels; without them the pages show no unit names.
func (s *Server) unitTree(ctx context.Context) *units.Tree {
	tree, _, err := s.Units.LoadUnits(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "lecture pages: units", "err", err)
		return nil
	}
	return &tree
}

// lecturesPage is /lectures: live now, upcoming and the replays.
func (s *Server) lecturesPage(c *gin.Context) {
	ctx := c.Request.Context()
	l := lang(c)
	p := s.pagePrincipal(c)
	d := &web.LecturesData{}
	live, err1 := s.Lectures.LiveNow(ctx)
	upcoming, err2 := s.Lectures.Upcoming(ctx)
	replays, err3 := s.Lectures.Replays(ctx)
	if err := errors.Join(err1, err2, err3); err != nil {
		s.log.WarnContext(ctx, "lectures page", "err", err)
		d.Failed = true
		s.renderData(c, http.StatusServiceUnavailable, "lectures", p, d)
		return
	}
	tree := s.unitTree(ctx)
	for _, lec := range live {
		d.Live = append(d.Live, lectureCard(l, tree, lec))
	}
	for _, lec := range upcoming {
		d.Upcoming = append(d.Upcoming, lectureCard(l, tree, lec))
	}
	for _, lec := range replays {
		if len(d.Replays) == replaysShown {
			break
		}
		d.Replays = append(d.Replays, lectureCard(l, tree, lec))
	}
	s.renderData(c, http.StatusOK, "lectures", p, d)
}

// feedLectures are the lectures of the feeds: live ones, those still to come, and those of
// the last month whatever became of them; live first, then the next to come, then the past
// newest first.
func (s *Server) feedLectures(ctx context.Context) ([]lectures.Lecture, error) {
	all, err := s.Lectures.All(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	all = slices.DeleteFunc(all, func(l lectures.Lecture) bool {
		return l.State != lectures.Live && l.End().Before(now.Add(-feedPast))
	})
	rank := func(l lectures.Lecture) int {
		switch {
		case l.State == lectures.Live:
			return 0
		case l.End().After(now):
			return 1
		}
		return 2
	}
	slices.SortFunc(all, func(a, b lectures.Lecture) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		if rank(a) == 2 {
			return cmp.Or(b.Start.Compare(a.Start), strings.Compare(a.ID, b.ID))
		}
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.ID, b.ID))
	})
	if len(all) > feedMax {
		all = all[:feedMax]
	}
	return all, nil
}

// lectureFeed serves the lectures as RSS, Atom or iCalendar.
func (s *Server) lectureFeed(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		list, err := s.feedLectures(ctx)
		if err != nil {
			s.log.WarnContext(ctx, "lecture feed", "err", err)
			s.render(c, http.StatusServiceUnavailable, "error", s.pagePrincipal(c))
			return
		}
		base, l := s.publicBase(c), lang(c)
		var (
			body        []byte
			contentType string
		)
		switch kind {
		case "rss":
			body, err = lectures.RSS(list, base, l)
			contentType = "application/rss+xml; charset=utf-8"
		case "atom":
			body, err = lectures.Atom(list, base, l)
			contentType = "application/atom+xml; charset=utf-8"
		default:
			body = lectures.ICalendar(list, base, l)
			contentType = "text/calendar; charset=utf-8"
			c.Header("Content-Disposition", `inline; filename="lectures.ics"`)
		}
		if err != nil {
			s.log.ErrorContext(ctx, "lecture feed", "kind", kind, "err", err)
			s.render(c, http.StatusInternalServerError, "error", s.pagePrincipal(c))
			return
		}
		// The language comes from ?lang=, the cookie or Accept-Language.
		c.Header("Cache-Control", "public, max-age=300")
		c.Header("Vary", "Accept-Language, Cookie")
		c.Data(http.StatusOK, contentType, body)
	}
}

// lectureCalendar is one lecture as an iCalendar file, for "add to my calendar".
func (s *Server) lectureCalendar(c *gin.Context) {
	ctx := c.Request.Context()
	lec, err := s.Lectures.Get(ctx, c.Param("id"))
	if errors.Is(err, lectures.ErrNotFound) {
		s.render(c, http.StatusNotFound, "notfound", s.pagePrincipal(c))
		return
	}
	if err != nil {
		s.log.ErrorContext(ctx, "lecture calendar", "err", err)
		s.render(c, http.StatusServiceUnavailable, "error", s.pagePrincipal(c))
		return
	}
	c.Header("Content-Disposition", `attachment; filename="lecture-`+lec.ID+`.ics"`)
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "text/calendar; charset=utf-8", lectures.ICalendar([]lectures.Lecture{lec}, s.publicBase(c), lang(c)))
}

// pageLecture loads the lecture of a page with the viewer, the unit tree and whether the
// viewer may edit it; a missing lecture is the not-found page.
func (s *Server) pageLecture(c *gin.Context, p *principal) (lectures.Lecture, *units.Tree, bool, bool) {
	ctx := c.Request.Context()
	lec, err := s.Lectures.Get(ctx, c.Param("id"))
	if errors.Is(err, lectures.ErrNotFound) {
		s.render(c, http.StatusNotFound, "notfound", p)
		return lec, nil, false, false
	}
	if err != nil {
		s.log.ErrorContext(ctx, "lecture page", "err", err)
		s.render(c, http.StatusServiceUnavailable, "error", p)
		return lec, nil, false, false
	}
	tree := s.unitTree(ctx)
	canEdit := p != nil && tree != nil && lectures.CanEdit(p.account, lec, tree)
	return lec, tree, canEdit, true
}

func lectureData(l i18n.Lang, tree *units.Tree, lec lectures.Lecture, p *principal, canEdit bool) web.LectureData {
	return web.LectureData{LectureCard: lectureCard(l, tree, lec), Description: lec.Description, SignedIn: p != nil,
		MayWatch: lec.CanWatch(p != nil), CanEdit: canEdit, Peak: lec.Peak, Total: lec.Total}
}

// lecturePage is /lectures/{id}: the lecture, its player while live, the chat and questions.
func (s *Server) lecturePage(c *gin.Context) {
	p := s.pagePrincipal(c)
	lec, tree, canEdit, ok := s.pageLecture(c, p)
	if !ok {
		return
	}
	d := lectureData(lang(c), tree, lec, p, canEdit)
	if d.MayWatch {
		d.Tour = s.tourWalk(c.Request.Context(), lec.Exhibition)
	}
	s.renderData(c, http.StatusOK, "lecture", p, &d)
}

// studioPage is the lecturer's studio: going live from the browser, moderation and the
// stream key. Only those who may edit the lecture see it; for anyone else it does not exist.
func (s *Server) studioPage(c *gin.Context) {
	p, err := s.identify(c)
	if err != nil {
		s.log.WarnContext(c.Request.Context(), "page without identity", "err", err)
		s.render(c, http.StatusServiceUnavailable, "error", nil)
		return
	}
	if p == nil {
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		return
	}
	lec, tree, canEdit, ok := s.pageLecture(c, p)
	if !ok {
		return
	}
	if !canEdit {
		s.render(c, http.StatusNotFound, "notfound", p)
		return
	}
	from, to := s.Lectures.Window(lec)
	d := &web.StudioData{Lecture: lectureData(lang(c), tree, lec, p, true),
		WHIPURL:    s.publicBase(c) + "/api/v1/lectures/" + lec.ID + "/whip",
		CanRotate:  slices.Contains(staffRoles, p.account.Role),
		WindowFrom: from, WindowTo: to}
	d.Lecture.Tour = s.tourWalk(c.Request.Context(), lec.Exhibition)
	s.renderData(c, http.StatusOK, "studio", p, d)
}

// consoleLecturesPage lists the lectures the caller may edit: live ones first, then those
// to come (soonest first), then the past (newest first).
func (s *Server) consoleLecturesPage(c *gin.Context) {
	p, ok := s.rolePage(c, staffRoles...)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	tree, _, err := s.Units.LoadUnits(ctx)
	all, err2 := s.Lectures.All(ctx)
	if err = errors.Join(err, err2); err != nil {
		s.log.ErrorContext(ctx, "lecture console", "err", err)
		s.render(c, http.StatusServiceUnavailable, "error", p)
		return
	}
	all = slices.DeleteFunc(all, func(l lectures.Lecture) bool { return !lectures.CanEdit(p.account, l, &tree) })
	rank := func(l lectures.Lecture) int {
		switch l.State {
		case lectures.Live:
			return 0
		case lectures.Scheduled:
			return 1
		}
		return 2
	}
	slices.SortFunc(all, func(a, b lectures.Lecture) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		if rank(a) == 2 {
			return cmp.Or(b.Start.Compare(a.Start), strings.Compare(a.ID, b.ID))
		}
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.ID, b.ID))
	})
	d := &web.ConsoleLecturesData{}
	for _, l := range all {
		d.Lectures = append(d.Lectures, lectureCard(lang(c), &tree, l))
	}
	s.renderData(c, http.StatusOK, "console_lectures", p, d)
}

// defaultLectureMinutes is the length the form suggests: a talk and its questions.
const defaultLectureMinutes = 90

// consoleLecturePage is the form that schedules a lecture, or edits one the caller may edit.
func (s *Server) consoleLecturePage(c *gin.Context) {
	p, ok := s.rolePage(c, staffRoles...)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	l := lang(c)
	tree, _, err := s.Units.LoadUnits(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "lecture editor: units", "err", err)
		s.render(c, http.StatusServiceUnavailable, "error", p)
		return
	}
	d := &web.ConsoleLectureData{Cover: "null", Now: s.Lectures.Now(), UnitOptions: unitOptions(l, &tree, p.account),
		Form: web.LectureForm{Unit: p.account.Unit, Minutes: defaultLectureMinutes, Visibility: string(lectures.Public)}}
	if p.account.Role == accounts.Lecturer {
		d.Form.Lecturer = p.account.Name
	}
	if id := c.Param("id"); id != "" {
		lec, err := s.Lectures.Get(ctx, id)
		if errors.Is(err, lectures.ErrNotFound) || err == nil && !lectures.CanEdit(p.account, lec, &tree) {
			s.render(c, http.StatusNotFound, "notfound", p)
			return
		}
		if err != nil {
			s.log.ErrorContext(ctx, "lecture editor", "err", err)
			s.render(c, http.StatusServiceUnavailable, "error", p)
			return
		}
		d.ID, d.Version, d.State = lec.ID, strings.Trim(lec.Version, `"`), string(lec.State)
		d.Form = web.LectureForm{Title: lec.Title, LecturerName: lec.Lecturer.Name, Lecturer: lec.Lecturer.Account, Unit: lec.Unit,
			Start: web.Beijing(lec.Start).Format("2006-01-02T15:04"), Minutes: lec.Minutes, Description: lec.Description,
			Visibility: string(lec.Visibility)}
		if lec.Cover != nil {
			b, _ := json.Marshal(lec.Cover)
			d.Cover = string(b)
		}
		// A lecture's unit may lie outside the editor's units (its lecturer edits it too):
		// the select offers it all the same, so that saving keeps it.
		if !slices.ContainsFunc(d.UnitOptions, func(o web.Param) bool { return o.Name == lec.Unit }) {
			d.UnitOptions = append(d.UnitOptions, web.Param{Name: lec.Unit, Value: unitLabel(l, &tree, lec.Unit)})
		}
	}
	d.Lecturers = s.lecturerOptions(ctx, p.account, d.Form.Lecturer)
	s.renderData(c, http.StatusOK, "console_lecture", p, d)
}

// addLectureCards puts the lectures on air and the next few upcoming ones on the home page.
func (s *Server) addLectureCards(ctx context.Context, l i18n.Lang, d *web.HomeData) {
	live, err := s.Lectures.LiveNow(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "home: live lectures", "err", err)
		return
	}
	upcoming, err := s.Lectures.Upcoming(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "home: upcoming lectures", "err", err)
	}
	if len(live) == 0 && len(upcoming) == 0 {
		return
	}
	tree := s.unitTree(ctx)
	for _, lec := range live {
		d.LiveLectures = append(d.LiveLectures, lectureCard(l, tree, lec))
	}
	for _, lec := range upcoming {
		if len(d.Lectures) == homeUpcoming {
			break
		}
		d.Lectures = append(d.Lectures, lectureCard(l, tree, lec))
	}
}
