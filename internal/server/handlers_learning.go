package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/courses"
	"github.com/shizuishan/culturecloud/internal/learning"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/transcoding"
	"github.com/shizuishan/culturecloud/internal/validate"
)

// publishedCourse loads a course that learners may use.
func (s *Server) publishedCourse(c *gin.Context) (courses.Course, bool) {
	course, err := s.Courses.Get(c.Request.Context(), c.Param("id"))
	if err == nil && course.Status != library.Published {
		err = courses.ErrNotFound
	}
	if err != nil {
		s.fail(c, err)
		return courses.Course{}, false
	}
	return course, true
}

func (s *Server) enrol(c *gin.Context) {
	course, ok := s.publishedCourse(c)
	if !ok {
		return
	}
	r, err := s.Learning.Enrol(c.Request.Context(), caller(c).account.Name, course.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func (s *Server) courseProgress(c *gin.Context) {
	r, err := s.Learning.Get(c.Request.Context(), caller(c).account.Name, c.Param("id"))
	if errors.Is(err, learning.ErrNotEnrolled) {
		s.abort(c, problem.NotFound)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, r)
}

// lessonNumber reads :n, answering 404 for anything but a lesson of the course.
func (s *Server) lessonNumber(c *gin.Context, course courses.Course) (int, bool) {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 0 || n >= len(course.Lessons) {
		s.abort(c, problem.NotFound)
		return 0, false
	}
	return n, true
}

// learnerViewer is the viewer id of a signed-in learner for completion counts.
func (s *Server) learnerViewer(name string) string {
	sum := sha256.Sum256([]byte("learner:" + name))
	return s.Views.ViewerID(hex.EncodeToString(sum[:16]), "", "")
}

// saveProgress stores where the learner is in a lesson (sent every few seconds and on pause).
func (s *Server) saveProgress(c *gin.Context) {
	course, ok := s.publishedCourse(c)
	if !ok {
		return
	}
	n, ok := s.lessonNumber(c, course)
	if !ok {
		return
	}
	var rep learning.Report
	if !s.decode(c, &rep) {
		return
	}
	rep, err := rep.Measured(s.lessonDuration(c.Request.Context(), course.Lessons[n].Media))
	if err != nil {
		s.fail(c, err)
		return
	}
	learner := caller(c).account.Name
	r, lessonDone, courseDone, err := s.Learning.Save(c.Request.Context(), learner, course.ID, n, len(course.Lessons), rep)
	if errors.Is(err, learning.ErrNotEnrolled) {
		d := problem.New(lang(c), problem.Forbidden)
		d.Detail = "enrol in the course first"
		s.abortWith(c, d)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if lessonDone {
		if _, err := s.Views.RecordOnce(c.Request.Context(), learning.CompletionTarget(course.ID, n), s.learnerViewer(learner), time.Now()); err != nil {
			s.log.WarnContext(c.Request.Context(), "completion not counted", "err", err)
		}
	}
	c.JSON(http.StatusOK, gin.H{"progress": r, "lesson_completed": lessonDone, "course_completed": courseDone})
}

// countPlay records that a lesson started playing (one per visitor per window).
func (s *Server) countPlay(c *gin.Context) {
	course, ok := s.publishedCourse(c)
	if !ok {
		return
	}
	n, ok := s.lessonNumber(c, course)
	if !ok {
		return
	}
	counted, ok := s.countViewOrRefuse(c, learning.PlayTarget(course.ID, n))
	if !ok {
		return
	}
	c.JSON(http.StatusOK, gin.H{"counted": counted})
}

func (s *Server) myLearning(c *gin.Context) {
	list, err := s.Learning.Courses(c.Request.Context(), caller(c).account.Name)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"courses": list})
}

// certificate is there once every lesson of the course is completed.
func (s *Server) certificate(c *gin.Context) {
	course, ok := s.publishedCourse(c)
	if !ok {
		return
	}
	a := caller(c).account
	r, err := s.Learning.Get(c.Request.Context(), a.Name, course.ID)
	if errors.Is(err, learning.ErrNotEnrolled) || err == nil && r.CompletedAt == nil {
		s.abort(c, problem.NotFound)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	cert, err := s.issueCertificate(c.Request.Context(), a, course, *r.CompletedAt)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, publicCertificate(cert, s.publicBase(c)))
}

// certificateJSON is a certificate as the API shows it: without the holder's account name.
type certificateJSON struct {
	Serial      string    `json:"serial"`
	Holder      string    `json:"learner"`
	CourseID    string    `json:"course_id"`
	CourseTitle string    `json:"course"`
	Lecturer    string    `json:"lecturer"`
	Institution string    `json:"institution"`
	Lessons     int       `json:"lessons"`
	CompletedAt time.Time `json:"completed_at"`
	IssuedAt    time.Time `json:"issued_at"`
	VerifyURL   string    `json:"verify_url"`
}

func publicCertificate(c learning.Certificate, base string) certificateJSON {
	return certificateJSON{Serial: c.Serial, Holder: c.Holder, CourseID: c.CourseID, CourseTitle: c.CourseTitle,
		Lecturer: c.Lecturer, Institution: c.Institution, Lessons: c.Lessons, CompletedAt: c.CompletedAt,
		IssuedAt: c.IssuedAt, VerifyURL: base + "/certificates/" + c.Serial}
}

// verifyCertificate tells anyone with a serial whether the certificate is genuine.
func (s *Server) verifyCertificate(c *gin.Context) {
	serial, ok := learning.NormalizeSerial(c.Param("serial"))
	if !ok {
		s.fail(c, validate.Errors{{Field: "serial", Code: "serial"}})
		return
	}
	cert, err := s.Learning.Verify(c.Request.Context(), serial)
	if errors.Is(err, learning.ErrNoCertificate) {
		s.abort(c, problem.NotFound)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, publicCertificate(cert, s.publicBase(c)))
}

// lessonDuration is the measured duration of a lesson's file in seconds; 0 when unknown.
func (s *Server) lessonDuration(ctx context.Context, ref courses.FileRef) float64 {
	rec, err := s.Transcoding.Get(ctx, ref.Item)
	if err != nil {
		s.log.WarnContext(ctx, "lesson duration", "item", ref.Item, "err", err)
		return 0
	}
	if m, ok := rec.Files[ref.Path]; ok && m.State == transcoding.Done {
		return m.Duration
	}
	return 0
}

// readCourseStats reads the plays and completions of the course's lessons.
func (s *Server) readCourseStats(ctx context.Context, course courses.Course) (learning.CourseStats, error) {
	titles := make([]string, len(course.Lessons))
	for i, l := range course.Lessons {
		titles[i] = l.Title
	}
	return learning.ReadCourseStats(ctx, s.Views, course.ID, titles, time.Now())
}

func (s *Server) courseStatsAPI(c *gin.Context) {
	course, ok := s.publishedCourse(c)
	if !ok {
		return
	}
	st, err := s.readCourseStats(c.Request.Context(), course)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}
