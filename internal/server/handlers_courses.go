package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/courses"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/validate"
	"github.com/shizuishan/culturecloud/search"
)

func (s *Server) searchCourses(c *gin.Context) {
	q, problems := search.ParseCourseQuery(c.Query)
	if len(problems) > 0 {
		s.fail(c, queryProblems(problems))
		return
	}
	res, err := s.Search.SearchCourses(c.Request.Context(), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

// getCourse shows a published course to anyone, other states to its unit's staff.
func (s *Server) getCourse(c *gin.Context) {
	course, err := s.Courses.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if course.Status != library.Published {
		p, err := s.identify(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		tree, _, err := s.Units.LoadUnits(c.Request.Context())
		if err != nil {
			s.fail(c, err)
			return
		}
		if p == nil || !courses.CanEdit(p.account, course.Unit, &tree) {
			s.abort(c, problem.NotFound)
			return
		}
	}
	c.Header("ETag", quoteETag(course.Version))
	c.JSON(http.StatusOK, course)
}

func (s *Server) createCourse(c *gin.Context) {
	var in courses.Input
	if !s.decode(c, &in) {
		return
	}
	course, err := s.Courses.Create(c.Request.Context(), caller(c).account, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", quoteETag(course.Version))
	c.Header("Location", "/api/v1/courses/"+course.ID)
	c.JSON(http.StatusCreated, course)
}

func (s *Server) respondCourse(c *gin.Context, course courses.Course, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", quoteETag(course.Version))
	c.JSON(http.StatusOK, course)
}

func (s *Server) updateCourse(c *gin.Context) {
	version, ok := s.ifMatch(c)
	if !ok {
		return
	}
	var in courses.Input
	if !s.decode(c, &in) {
		return
	}
	course, err := s.Courses.Update(c.Request.Context(), caller(c).account, c.Param("id"), version, in)
	s.respondCourse(c, course, err)
}

func (s *Server) moveCourse(c *gin.Context) {
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
	course, err := s.Courses.Move(c.Request.Context(), caller(c).account, c.Param("id"), version, req.Status)
	s.respondCourse(c, course, err)
}
