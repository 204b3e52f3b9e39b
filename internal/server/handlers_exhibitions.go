package server

import (
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/exhibitions"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/sessions"
	"github.com/shizuishan/culturecloud/internal/validate"
	"github.com/shizuishan/culturecloud/search"
)

// queryProblems are the refused parameters of a list query as field errors ("range" has
// its numbers in the message of the item search only).
func queryProblems(problems map[string]string) validate.Errors {
	var errs validate.Errors
	for field, code := range problems {
		if code == "range" {
			code = "range_any"
		}
		errs.Add(field, code)
	}
	return errs
}

// searchExhibitions lists published exhibitions; "open now" is asked of the exhibitions'
// clock.
func (s *Server) searchExhibitions(c *gin.Context) {
	q, problems := search.ParseExhibitionQuery(c.Query)
	if len(problems) > 0 {
		d := problem.New(lang(c), problem.BadQuery)
		d.Errors = fieldErrors(lang(c), queryProblems(problems))
		s.abortWith(c, d)
		return
	}
	q.Now = s.Exhibitions.Now()
	res, err := s.Search.SearchExhibitions(c.Request.Context(), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

// getExhibition shows a published exhibition to anyone (without what left the library), and
// every state, whole and with notes, to the staff who may edit it.
func (s *Server) getExhibition(c *gin.Context) {
	p, err := s.identify(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if wait, err := s.exhibitionReadLimit(c, p); err != nil || wait > 0 {
		if err != nil {
			s.fail(c, err)
		} else {
			s.tooMany(c, wait)
		}
		return
	}
	v, err := s.Exhibitions.View(c.Request.Context(), p.accountOrNil(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if v.Staff {
		c.Header("Cache-Control", "no-store")
	}
	c.Header("ETag", quoteETag(v.Version))
	c.JSON(http.StatusOK, v)
}

// exhibitionReadLimit counts one showing of an exhibition to a reader who is not staff
// (showing one reads every item it shows) against the exhibitions.* limits, per client IP
// and for the whole site; over one, wait is how long until the window ends.
func (s *Server) exhibitionReadLimit(c *gin.Context, p *principal) (time.Duration, error) {
	if p != nil && slices.Contains(staffRoles, p.account.Role) {
		return 0, nil
	}
	lim := s.Config.Exhibitions
	blocked, wait, err := s.ViewLimiter.Take(c.Request.Context(),
		sessions.Limit{Key: "exhibitions:all", Max: lim.MaxPagesGlobal},
		sessions.Limit{Key: "exhibitions:ip:" + c.ClientIP(), Max: lim.MaxPagesPerIP})
	if err != nil || !blocked {
		return 0, err
	}
	return max(wait, time.Second), nil
}

func (s *Server) respondExhibition(c *gin.Context, status int, e exhibitions.Exhibition, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", quoteETag(e.Version))
	if status == http.StatusCreated {
		c.Header("Location", "/api/v1/exhibitions/"+e.ID)
	}
	c.JSON(status, e)
}

func (s *Server) createExhibition(c *gin.Context) {
	var in exhibitions.Input
	if !s.decode(c, &in) {
		return
	}
	e, err := s.Exhibitions.Create(c.Request.Context(), caller(c).account, in)
	s.respondExhibition(c, http.StatusCreated, e, err)
}

func (s *Server) updateExhibition(c *gin.Context) {
	version, ok := s.ifMatch(c)
	if !ok {
		return
	}
	var in exhibitions.Input
	if !s.decode(c, &in) {
		return
	}
	e, err := s.Exhibitions.Update(c.Request.Context(), caller(c).account, c.Param("id"), version, in)
	s.respondExhibition(c, http.StatusOK, e, err)
}

func (s *Server) moveExhibition(c *gin.Context) {
	version, ok := s.ifMatch(c)
	if !ok {
		return
	}
	var req statusRequest
	if !s.decode(c, &req) {
		return
	}
	switch req.Status {
	case library.Draft, library.InReview, library.Published, library.Withdrawn:
	default:
		s.fail(c, validate.Errors{{Field: "status", Code: "transition"}})
		return
	}
	e, err := s.Exhibitions.Move(c.Request.Context(), caller(c).account, c.Param("id"), version, req.Status)
	s.respondExhibition(c, http.StatusOK, e, err)
}

func (s *Server) reviewExhibition(c *gin.Context) {
	d, version, ok := s.decision(c)
	if !ok {
		return
	}
	e, err := s.Exhibitions.Review(c.Request.Context(), caller(c).account, c.Param("id"), version, d)
	s.respondExhibition(c, http.StatusOK, e, err)
}

func (s *Server) deleteExhibition(c *gin.Context) {
	version, ok := s.ifMatch(c)
	if !ok {
		return
	}
	if err := s.Exhibitions.Delete(c.Request.Context(), caller(c).account, c.Param("id"), version); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
