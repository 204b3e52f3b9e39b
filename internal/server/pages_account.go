package server

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/courses"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/web"
)

// accountPage is the person's own page: details, what they are learning with a way back in,
// their certificates, and the password form.
func (s *Server) accountPage(c *gin.Context) {
	p, ok := s.rolePage(c, accounts.Roles()...)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	d := &web.AccountData{Email: p.account.Email}
	records, err := s.Learning.Courses(ctx, p.account.Name)
	if err != nil {
		s.log.WarnContext(ctx, "my learning", "err", err)
		d.LearningUnavailable = true
	}
	for _, r := range records {
		course, err := s.Courses.Get(ctx, r.Course)
		if err != nil || course.Status != library.Published || len(course.Lessons) == 0 {
			continue // a course withdrawn since: nothing to go back to
		}
		row := web.LearningRow{CourseID: course.ID, Title: course.Title, Total: len(course.Lessons),
			Continue: min(max(r.LastLesson, 0), len(course.Lessons)-1), ContinueTitle: lessonTitle(course, r.LastLesson)}
		for _, lp := range r.Lessons {
			if lp.CompletedAt != nil {
				row.Done++
			}
		}
		row.Done = min(row.Done, row.Total)
		if r.CompletedAt != nil {
			cert, err := s.issueCertificate(ctx, p.account, course, *r.CompletedAt)
			if err != nil {
				s.log.WarnContext(ctx, "certificate for account page", "err", err)
			} else {
				row.Certificate = certificateView(cert, true)
			}
			d.Completed = append(d.Completed, row)
			continue
		}
		d.InProgress = append(d.InProgress, row)
	}
	s.renderData(c, http.StatusOK, "account", p, d)
}

// lessonTitle is the title of lesson n, or its number when it has none.
func lessonTitle(course courses.Course, n int) string {
	if n >= 0 && n < len(course.Lessons) && course.Lessons[n].Title != "" {
		return course.Lessons[n].Title
	}
	return strconv.Itoa(n + 1)
}

// resetPage asks for the account whose password is forgotten; it says how long the link works.
func (s *Server) resetPage(c *gin.Context) {
	s.renderData(c, http.StatusOK, "password_reset", s.pagePrincipal(c), &web.ResetData{Minutes: int(s.Resets.TTL().Minutes())})
}
