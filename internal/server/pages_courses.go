package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/courses"
	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/learning"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/review"
	"github.com/shizuishan/culturecloud/internal/transcoding"
	"github.com/shizuishan/culturecloud/internal/web"
	"github.com/shizuishan/culturecloud/search"
)

// courseCataloguePage is /courses: the course search with facets, rendered on the server.
func (s *Server) courseCataloguePage(c *gin.Context) {
	ctx := c.Request.Context()
	l := lang(c)
	p := s.pagePrincipal(c)
	v := s.Library.Vocabulary()
	q, problems := search.ParseCourseQuery(c.Query)
	for field := range problems {
		switch field {
		case "q":
			q.Text = ""
		case "page":
			q.Page = 1
		default:
			q.Category, q.Level, q.InstitutionKind, q.District = "", "", "", ""
		}
	}
	d := &web.CatalogueData{Q: q.Text}
	current := map[string]string{"category": q.Category, "level": q.Level, "institution_kind": q.InstitutionKind, "district": q.District}
	tree, _, err := s.Units.LoadUnits(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "catalogue: units", "err", err)
	}
	label := func(facet, value string) string {
		switch facet {
		case "category":
			return web.TermName(l, webTerm(v.CourseCategories, value))
		case "level":
			return web.TermName(l, webTerm(v.CourseLevels, value))
		case "institution_kind":
			return web.TermName(l, webTerm(v.InstitutionKinds, value))
		case "district":
			return unitLabel(l, &tree, value)
		}
		return value
	}
	fs := newFacetedSearch("/courses", map[string]string{"q": q.Text}, search.CourseFacets(), current, label)
	d.Hidden, d.Filters = fs.hidden(), fs.filters()
	res, err := s.Search.SearchCourses(ctx, q)
	if err != nil {
		s.log.WarnContext(ctx, "catalogue", "err", err)
		d.Failed = true
		s.renderData(c, http.StatusServiceUnavailable, "course_catalogue", p, d)
		return
	}
	d.Total, d.Page = res.Total, q.Page
	d.TotalPages = int((res.Total + int64(q.PerPage) - 1) / int64(q.PerPage))
	d.Facets = fs.sidebar(res.Facets)
	for _, h := range res.Hits {
		d.Courses = append(d.Courses, s.hitCard(h))
	}
	d.PrevURL, d.NextURL = fs.pager(d.Page, d.TotalPages)
	s.renderData(c, http.StatusOK, "course_catalogue", p, d)
}

// courseCard is a course for a list.
func (s *Server) courseCard(course courses.Course) web.CourseCard {
	v := s.Library.Vocabulary()
	card := web.CourseCard{ID: course.ID, Title: course.Title, Description: truncate(course.Description, 120),
		Category: webTerm(v.CourseCategories, course.Category), Level: webTerm(v.CourseLevels, course.Level),
		Institution: course.Institution.Name, Lecturer: course.LecturerName, Lessons: len(course.Lessons)}
	if course.Cover != nil {
		card.Cover = fileURL(course.Cover.Item, course.Cover.Path)
	}
	return card
}

// hitCard is a search hit as a card: lists come from the index alone, without reading
// every course from MinIO.
func (s *Server) hitCard(h search.CourseDoc) web.CourseCard {
	v := s.Library.Vocabulary()
	card := web.CourseCard{ID: h.ID, Title: h.Title, Description: truncate(h.Description, 120),
		Category: webTerm(v.CourseCategories, h.Category), Level: webTerm(v.CourseLevels, h.Level),
		Institution: h.Institution, Lecturer: h.Lecturer, Lessons: h.Lessons}
	if h.CoverItem != "" {
		card.Cover = fileURL(h.CoverItem, h.CoverPath)
	}
	return card
}

// viewableCourse loads a course for a page: published courses for anyone, others for the
// staff who may edit them; anything else is the not-found page.
func (s *Server) viewableCourse(c *gin.Context) (courses.Course, *principal, bool, bool) {
	ctx := c.Request.Context()
	p := s.pagePrincipal(c)
	course, err := s.Courses.Get(ctx, c.Param("id"))
	if errors.Is(err, courses.ErrNotFound) {
		s.render(c, http.StatusNotFound, "notfound", p)
		return courses.Course{}, p, false, false
	}
	if err != nil {
		s.log.ErrorContext(ctx, "course page", "err", err)
		s.render(c, http.StatusServiceUnavailable, "error", p)
		return courses.Course{}, p, false, false
	}
	staff := false
	if p != nil {
		tree, _, err := s.Units.LoadUnits(ctx)
		staff = err == nil && courses.CanEdit(p.account, course.Unit, &tree)
	}
	if course.Status != library.Published && !staff {
		s.render(c, http.StatusNotFound, "notfound", p)
		return courses.Course{}, p, false, false
	}
	return course, p, staff, true
}

// lessonMedia is what the pages know of a lesson's file: its kind, its original and its stream.
type lessonMedia struct {
	file  library.File
	found bool
	media transcoding.FileMedia
	done  bool
}

// lessonsMedia reads the items and transcoding records of a course's lessons, once per item.
func (s *Server) lessonsMedia(ctx context.Context, course courses.Course) []lessonMedia {
	items := map[string]library.Item{}
	recs := map[string]transcoding.Record{}
	out := make([]lessonMedia, len(course.Lessons))
	for i, l := range course.Lessons {
		it, ok := items[l.Media.Item]
		if !ok {
			var err error
			if it, err = s.Library.Get(ctx, l.Media.Item); err != nil {
				s.log.WarnContext(ctx, "lesson item", "item", l.Media.Item, "err", err)
			}
			items[l.Media.Item] = it
			rec, err := s.Transcoding.Get(ctx, l.Media.Item)
			if err != nil {
				s.log.WarnContext(ctx, "lesson media", "item", l.Media.Item, "err", err)
			}
			recs[l.Media.Item] = rec
		}
		for _, f := range it.Files {
			if f.Path == l.Media.Path {
				out[i].file, out[i].found = f, true
			}
		}
		if m, ok := recs[l.Media.Item].Files[l.Media.Path]; ok && out[i].found && m.SHA256 == out[i].file.SHA256 {
			out[i].media, out[i].done = m, m.State == transcoding.Done
		}
	}
	return out
}

func mediaKind(mediaType string) string {
	if strings.HasPrefix(mediaType, "audio/") {
		return "audio"
	}
	return "video"
}

// learnerRecord reads the signed-in learner's record of a course; nil when not enrolled
// or when the store does not answer (the page then shows the course without progress).
func (s *Server) learnerRecord(ctx context.Context, p *principal, course string) *learning.Record {
	if p == nil {
		return nil
	}
	r, err := s.Learning.Get(ctx, p.account.Name, course)
	if err != nil {
		if !errors.Is(err, learning.ErrNotEnrolled) {
			s.log.WarnContext(ctx, "learner record", "err", err)
		}
		return nil
	}
	return &r
}

// courseData is what the course page and the lesson player show of a course, given the
// learner's record (nil when not enrolled) and the lessons' media (lessonsMedia).
func (s *Server) courseData(ctx context.Context, l i18n.Lang, course courses.Course, p *principal, staff bool,
	rec *learning.Record, media []lessonMedia) *web.CourseData {
	v := s.Library.Vocabulary()
	d := &web.CourseData{ID: course.ID, Title: course.Title, Description: course.Description, Status: string(course.Status),
		Category: webTerm(v.CourseCategories, course.Category), Level: webTerm(v.CourseLevels, course.Level),
		Institution: course.Institution.Name, InstitutionKind: webTerm(v.InstitutionKinds, course.Institution.Kind),
		Lecturer: course.LecturerName, AllowGuests: course.AllowGuests, SignedIn: p != nil, Staff: staff}
	if tree, _, err := s.Units.LoadUnits(ctx); err == nil {
		d.Unit = unitLabel(l, &tree, course.Unit)
	}
	if course.Cover != nil {
		d.Cover = fileURL(course.Cover.Item, course.Cover.Path)
	}
	d.Continue = -1
	for i, lesson := range course.Lessons {
		row := web.LessonRow{N: i, Title: lesson.Title, Kind: mediaKind(media[i].file.MediaType), Ready: media[i].done}
		if media[i].done && media[i].media.Duration > 0 {
			row.Duration = web.Clock(media[i].media.Duration)
		}
		if rec != nil {
			if lp, ok := rec.Lessons[strconv.Itoa(i)]; ok {
				row.Completed = lp.CompletedAt != nil
				if lp.Duration > 0 {
					row.Percent = min(100, int(lp.Position*100/lp.Duration))
				}
			}
			if row.Completed {
				d.Done++
			} else if d.Continue < 0 {
				d.Continue = i
			}
		}
		d.Lessons = append(d.Lessons, row)
	}
	if rec != nil {
		d.Enrolled = true
		d.Completed = rec.CompletedAt != nil
		if len(course.Lessons) > 0 {
			d.Percent = d.Done * 100 / len(course.Lessons)
		}
		if last := rec.LastLesson; last >= 0 && last < len(course.Lessons) && !d.Lessons[last].Completed {
			d.Continue = last
		}
	}
	if d.Continue < 0 {
		d.Continue = 0
	}
	return d
}

// coursePage is /courses/{id}: the course, its lessons and the learner's progress.
func (s *Server) coursePage(c *gin.Context) {
	course, p, staff, ok := s.viewableCourse(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	d := s.courseData(ctx, lang(c), course, p, staff, s.learnerRecord(ctx, p, course.ID), s.lessonsMedia(ctx, course))
	s.renderData(c, http.StatusOK, "course_page", p, d)
}

// lessonPage is the player of one lesson, resuming where the learner stopped.
func (s *Server) lessonPage(c *gin.Context) {
	course, p, staff, ok := s.viewableCourse(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 0 || n >= len(course.Lessons) {
		s.render(c, http.StatusNotFound, "notfound", p)
		return
	}
	rec := s.learnerRecord(ctx, p, course.ID)
	all := s.lessonsMedia(ctx, course)
	cd := s.courseData(ctx, lang(c), course, p, staff, rec, all)
	lesson := course.Lessons[n]
	media := all[n]
	d := &web.LessonData{Course: *cd, N: n, Title: lesson.Title, Kind: mediaKind(media.file.MediaType),
		Fallback: fileURL(lesson.Media.Item, lesson.Media.Path), FallbackType: media.file.MediaType, PrevN: n - 1, NextN: n + 1}
	if d.NextN >= len(course.Lessons) {
		d.NextN = -1
	} else {
		d.NextTitle = course.Lessons[d.NextN].Title
	}
	if media.done {
		d.Stream, d.Poster, d.Captions = s.stream(ctx, lesson.Media.Item, media.media)
		d.Duration = media.media.Duration
	}
	d.SaveProgress = rec != nil && course.Status == library.Published
	d.MayPlay = rec != nil || course.AllowGuests || staff
	if rec != nil {
		// A finished lesson starts again from the beginning; an unfinished one where it stopped.
		if lp, ok := rec.Lessons[strconv.Itoa(n)]; ok && lp.Position < lp.Duration-5 {
			d.Resume = lp.Position
		}
	}
	for _, a := range lesson.Attachments {
		name := a.Name
		if name == "" {
			name = a.Path[strings.LastIndex(a.Path, "/")+1:]
		}
		d.Attachments = append(d.Attachments, web.FileView{Name: name, Path: a.Path, URL: fileURL(a.Item, a.Path)})
	}
	s.renderData(c, http.StatusOK, "lesson", p, d)
}

// certificatePage is there for a learner who completed every lesson of a course.
func (s *Server) certificatePage(c *gin.Context) {
	course, p, _, ok := s.viewableCourse(c)
	if !ok {
		return
	}
	if p == nil {
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		return
	}
	rec := s.learnerRecord(c.Request.Context(), p, course.ID)
	if rec == nil || rec.CompletedAt == nil {
		s.render(c, http.StatusNotFound, "notfound", p)
		return
	}
	cert, err := s.issueCertificate(c.Request.Context(), p.account, course, *rec.CompletedAt)
	if err != nil {
		s.log.ErrorContext(c.Request.Context(), "certificate", "err", err)
		s.render(c, http.StatusServiceUnavailable, "error", p)
		return
	}
	d := certificateView(cert, true)
	d.VerifyURL = s.publicBase(c) + "/certificates/" + cert.Serial
	s.renderData(c, http.StatusOK, "certificate", p, d)
}

// issueCertificate stores the learner's certificate of course the first time it is asked
// for, and returns the stored one ever after.
func (s *Server) issueCertificate(ctx context.Context, learner accounts.Account, course courses.Course, completed time.Time) (learning.Certificate, error) {
	return s.Learning.Issue(ctx, learning.Certificate{Learner: learner.Name, Holder: learner.DisplayName, CourseID: course.ID,
		CourseTitle: course.Title, Lecturer: course.LecturerName, Institution: course.Institution.Name,
		Lessons: len(course.Lessons), CompletedAt: completed})
}

func certificateView(c learning.Certificate, own bool) *web.CertificateData {
	return &web.CertificateData{CourseID: c.CourseID, CourseTitle: c.CourseTitle, Learner: c.Holder, Lecturer: c.Lecturer,
		Institution: c.Institution, Lessons: c.Lessons, Completed: web.Beijing(c.CompletedAt).Format("2006-01-02"),
		Serial: c.Serial, Own: own}
}

// verifyCertificatePage shows, to anyone with its serial, whether a certificate is genuine.
func (s *Server) verifyCertificatePage(c *gin.Context) {
	p := s.pagePrincipal(c)
	raw := c.Param("serial")
	if raw == "" {
		raw = c.Query("serial")
	}
	d := &web.VerifyData{Serial: raw}
	if raw == "" {
		s.renderData(c, http.StatusOK, "certificate_verify", p, d)
		return
	}
	serial, ok := learning.NormalizeSerial(raw)
	if !ok {
		d.Malformed = true
		s.renderData(c, http.StatusBadRequest, "certificate_verify", p, d)
		return
	}
	if c.Param("serial") != serial {
		c.Redirect(http.StatusSeeOther, "/certificates/"+serial)
		return
	}
	cert, err := s.Learning.Verify(c.Request.Context(), serial)
	switch {
	case errors.Is(err, learning.ErrNoCertificate):
		d.Unknown = true
		s.renderData(c, http.StatusNotFound, "certificate_verify", p, d)
	case err != nil:
		s.log.ErrorContext(c.Request.Context(), "verify certificate", "err", err)
		s.render(c, http.StatusServiceUnavailable, "error", p)
	default:
		d.Certificate = certificateView(cert, p != nil && p.account.Name == cert.Learner)
		s.renderData(c, http.StatusOK, "certificate_verify", p, d)
	}
}

// consoleCoursesPage lists the courses the lecturer or staff member may edit.
func (s *Server) consoleCoursesPage(c *gin.Context) {
	p, ok := s.rolePage(c, staffRoles...)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	tree, _, err := s.Units.LoadUnits(ctx)
	ids, err2 := s.Courses.IDs(ctx)
	if err = errors.Join(err, err2); err != nil {
		s.log.ErrorContext(ctx, "course console", "err", err)
		s.render(c, http.StatusServiceUnavailable, "error", p)
		return
	}
	d := &web.ConsoleCoursesData{}
	type row struct {
		web.ConsoleCourseRow
		updated int64
	}
	var rows []row
	for _, id := range ids {
		course, err := s.Courses.Get(ctx, id)
		if err != nil || !courses.CanEdit(p.account, course.Unit, &tree) {
			continue
		}
		rows = append(rows, row{web.ConsoleCourseRow{ID: course.ID, Title: course.Title, Status: string(course.Status),
			Updated: course.UpdatedAt.Local().Format("2006-01-02 15:04"), Lessons: len(course.Lessons)}, course.UpdatedAt.Unix()})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].updated > rows[j].updated })
	for _, r := range rows {
		d.Courses = append(d.Courses, r.ConsoleCourseRow)
	}
	s.renderData(c, http.StatusOK, "console_courses", p, d)
}

// consoleCoursePage is the course editor: a new course, or one the caller may edit.
func (s *Server) consoleCoursePage(c *gin.Context) {
	p, ok := s.rolePage(c, staffRoles...)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	l := lang(c)
	tree, _, err := s.Units.LoadUnits(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "course editor: units", "err", err)
		s.render(c, http.StatusServiceUnavailable, "error", p)
		return
	}
	v := s.Library.Vocabulary()
	d := &web.ConsoleCourseData{Form: web.CourseForm{Unit: p.account.Unit, AllowGuests: true}, Lessons: "[]", Cover: "null",
		Categories: webTerms(v.CourseCategories), Levels: webTerms(v.CourseLevels), InstitutionKinds: webTerms(v.InstitutionKinds),
		Themes: webTerms(v.Themes), UnitOptions: unitOptions(l, &tree, p.account)}
	if p.account.Role == accounts.Lecturer {
		d.Form.Lecturer = p.account.Name
	}
	if id := c.Param("id"); id != "" {
		course, err := s.Courses.Get(ctx, id)
		if errors.Is(err, courses.ErrNotFound) || err == nil && !courses.CanEdit(p.account, course.Unit, &tree) {
			s.render(c, http.StatusNotFound, "notfound", p)
			return
		}
		if err != nil {
			s.log.ErrorContext(ctx, "course editor", "err", err)
			s.render(c, http.StatusServiceUnavailable, "error", p)
			return
		}
		d.ID, d.Version, d.Status = course.ID, strings.Trim(course.Version, `"`), string(course.Status)
		d.Form = web.CourseForm{Title: course.Title, Category: course.Category, Level: course.Level, Lecturer: course.Lecturer,
			Unit: course.Unit, InstitutionName: course.Institution.Name, InstitutionKind: course.Institution.Kind,
			Description: course.Description, AllowGuests: course.AllowGuests}
		lessons := course.Lessons
		if lessons == nil {
			lessons = []courses.Lesson{}
		}
		b, _ := json.Marshal(lessons)
		d.Lessons = string(b)
		if course.Cover != nil {
			b, _ := json.Marshal(course.Cover)
			d.Cover = string(b)
		}
		d.Transitions = workflowActions(course.Status, (&tree).ReviewPolicy(course.Unit) != review.None)
		if course.Status == library.Published {
			d.Stats = s.courseStatsView(ctx, course)
		}
	}
	d.Lecturers = s.lecturerOptions(ctx, p.account, d.Form.Lecturer)
	s.renderData(c, http.StatusOK, "console_course", p, d)
}

// workflowActions are the buttons of the editor of a course or an exhibition: "published"
// from a draft means submitting and publishing in one go, which the script does step by step
// through the workflow. Where the unit reviews, a reviewer publishes from the review queue,
// so no button publishes.
func workflowActions(st library.Status, reviewed bool) []string {
	var out []string
	switch st {
	case library.Draft:
		out = []string{string(library.InReview), string(library.Published)}
	case library.InReview:
		out = []string{string(library.Published), string(library.Draft)}
	case library.Published:
		out = []string{string(library.Withdrawn)}
	case library.Withdrawn:
		out = []string{string(library.Published), string(library.Draft)}
	}
	if reviewed {
		out = slices.DeleteFunc(out, func(s string) bool { return s == string(library.Published) })
	}
	return out
}

// lecturerOptions lists the lecturers a course may name: a lecturer names themself, staff
// choose among the lecturers in the search index. The current one is always offered.
func (s *Server) lecturerOptions(ctx context.Context, actor accounts.Account, current string) []web.Param {
	var out []web.Param
	seen := map[string]bool{}
	add := func(name, display string) {
		if name != "" && !seen[name] {
			seen[name] = true
			out = append(out, web.Param{Name: name, Value: display + " (" + name + ")"})
		}
	}
	if actor.Role == accounts.Lecturer {
		add(actor.Name, actor.DisplayName)
	} else {
		res, err := s.Search.Search(ctx, search.AccountsIndex, search.Query{Filter: []string{search.Eq("role", string(accounts.Lecturer))}, Limit: 200})
		if err != nil {
			s.log.WarnContext(ctx, "course editor: lecturers", "err", err)
		} else {
			docs := []search.AccountDoc{}
			if err := res.Hits.DecodeInto(&docs); err == nil {
				for _, a := range docs {
					add(a.Name, a.DisplayName)
				}
			}
		}
	}
	if current != "" && !seen[current] {
		if a, err := s.Accounts.Store().Get(ctx, current); err == nil {
			add(a.Name, a.DisplayName)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return out
}

// addCourseCards puts the learner's unfinished courses ("continue watching") and the newest
// courses on the home page.
func (s *Server) addCourseCards(ctx context.Context, p *principal, d *web.HomeData) {
	if p != nil {
		recs, err := s.Learning.Courses(ctx, p.account.Name)
		if err != nil {
			s.log.WarnContext(ctx, "home: continue watching", "err", err)
		}
		sort.SliceStable(recs, func(i, j int) bool { return recs[i].UpdatedAt.After(recs[j].UpdatedAt) })
		for _, r := range recs {
			if len(d.Continue) == 4 {
				break
			}
			if r.CompletedAt != nil {
				continue
			}
			course, err := s.Courses.Get(ctx, r.Course)
			if err != nil || course.Status != library.Published || len(course.Lessons) == 0 {
				continue
			}
			card := s.courseCard(course)
			done := 0
			for _, lp := range r.Lessons {
				if lp.CompletedAt != nil {
					done++
				}
			}
			card.Percent = min(100, done*100/len(course.Lessons))
			card.NextLesson = min(max(r.LastLesson, 0), len(course.Lessons)-1)
			if lp, ok := r.Lessons[strconv.Itoa(card.NextLesson)]; ok && lp.CompletedAt != nil {
				for i := range course.Lessons {
					if lp, ok := r.Lessons[strconv.Itoa(i)]; !ok || lp.CompletedAt == nil {
						card.NextLesson = i
						break
					}
				}
			}
			card.NextTitle = course.Lessons[card.NextLesson].Title
			d.Continue = append(d.Continue, card)
		}
	}
	res, err := s.Search.SearchCourses(ctx, search.CourseQuery{Page: 1, PerPage: 4})
	if err != nil {
		s.log.WarnContext(ctx, "home: courses", "err", err)
		return
	}
	for _, h := range res.Hits {
		d.Courses = append(d.Courses, s.hitCard(h))
	}
}

// courseStatsView is the console's statistics section; nil (no section) when the counters
// cannot be read, so that the editor still works while Redis is down.
func (s *Server) courseStatsView(ctx context.Context, course courses.Course) *web.CourseStats {
	st, err := s.readCourseStats(ctx, course)
	if err != nil {
		s.log.WarnContext(ctx, "course statistics", "course", course.ID, "err", err)
		return nil
	}
	v := &web.CourseStats{Plays: st.Plays, Completions: st.Completions}
	days := make([]web.DayValues, len(st.Days))
	for i, d := range st.Days {
		days[i] = web.DayValues{Day: d.Day, A: d.Plays, B: d.Completions}
	}
	v.Chart = web.NewDayChart(days)
	for _, l := range st.Lessons {
		v.Lessons = append(v.Lessons, web.LessonStats{Number: l.Lesson + 1, Title: l.Title, Plays: l.Plays, Completions: l.Completions})
	}
	return v
}
