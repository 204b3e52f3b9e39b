package server

import (

	//nolint:gosec // TURN REST credentials are HMAC-SHA1 by definition (coturn use-auth-secret)

	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
)

// lectureView is a lecture as the API shows it, with what the caller may do.
type lectureView struct {
	lectures.Lecture
	CanEdit   bool   `json:"can_edit,omitempty"`
	CanGoLive bool   `json:"can_go_live,omitempty"`
	StreamKey string `json:"stream_key,omitempty"` // only right after create or rotate
	WHIP      string `json:"whip_url,omitempty"`
	WHEP      string `json:"whep_url"`
}

func (s *Server) viewLecture(c *gin.Context, l lectures.Lecture, p *principal, tree *units.Tree) lectureView {
	v := lectureView{Lecture: l, WHEP: "/api/v1/lectures/" + l.ID + "/whep"}
	if p != nil && tree != nil {
		v.CanEdit = lectures.CanEdit(p.account, l, tree)
		v.CanGoLive = lectures.CanGoLive(p.account, l) || v.CanEdit
		if v.CanGoLive {
			v.WHIP = "/api/v1/lectures/" + l.ID + "/whip"
		}
	}
	return v
}

// listLectures lists upcoming (default), live or replay lectures.
func (s *Server) listLectures(c *gin.Context) {
	ctx := c.Request.Context()
	var (
		list []lectures.Lecture
		err  error
	)
	switch c.DefaultQuery("state", "upcoming") {
	case "upcoming":
		list, err = s.Lectures.Upcoming(ctx)
	case "live":
		list, err = s.Lectures.LiveNow(ctx)
	case "replay":
		list, err = s.Lectures.Replays(ctx)
	default:
		s.fail(c, validate.Errors{{Field: "state", Code: "vocabulary"}})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]lectureView, 0, len(list))
	for _, l := range list {
		out = append(out, s.viewLecture(c, l, nil, nil))
	}
	c.JSON(http.StatusOK, gin.H{"lectures": out})
}

// lectureFor loads a lecture with the caller and the unit tree.
func (s *Server) lectureFor(c *gin.Context) (lectures.Lecture, *principal, *units.Tree, bool) {
	ctx := c.Request.Context()
	l, err := s.Lectures.Get(ctx, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return l, nil, nil, false
	}
	p, err := s.identify(c)
	if err != nil {
		s.fail(c, err)
		return l, nil, nil, false
	}
	tree, _, err := s.Units.LoadUnits(ctx)
	if err != nil {
		s.fail(c, err)
		return l, nil, nil, false
	}
	return l, p, &tree, true
}

func (s *Server) getLecture(c *gin.Context) {
	l, p, tree, ok := s.lectureFor(c)
	if !ok {
		return
	}
	c.Header("ETag", quoteETag(l.Version))
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, s.viewLecture(c, l, p, tree))
}

func (s *Server) createLecture(c *gin.Context) {
	var in lectures.Input
	if !s.decode(c, &in) {
		return
	}
	l, key, err := s.Lectures.Create(c.Request.Context(), caller(c).account, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	tree, _, _ := s.Units.LoadUnits(c.Request.Context())
	v := s.viewLecture(c, l, caller(c), &tree)
	v.StreamKey = key
	c.Header("ETag", quoteETag(l.Version))
	c.Header("Location", "/api/v1/lectures/"+l.ID)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, v)
}

func (s *Server) updateLecture(c *gin.Context) {
	version, ok := s.ifMatch(c)
	if !ok {
		return
	}
	var in lectures.Input
	if !s.decode(c, &in) {
		return
	}
	l, err := s.Lectures.Update(c.Request.Context(), caller(c).account, c.Param("id"), version, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", quoteETag(l.Version))
	c.JSON(http.StatusOK, l)
}

func (s *Server) cancelLecture(c *gin.Context) {
	version, ok := s.ifMatch(c)
	if !ok {
		return
	}
	l, err := s.Lectures.Cancel(c.Request.Context(), caller(c).account, c.Param("id"), version)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", quoteETag(l.Version))
	c.JSON(http.StatusOK, l)
}

// endLecture ends a live lecture now (the studio's "end" button); a WHIP DELETE alone
// leaves the grace period for an encoder that restarts.
func (s *Server) endLecture(c *gin.Context) {
	l, p, tree, ok := s.lectureFor(c)
	if !ok {
		return
	}
	if !lectures.CanGoLive(p.account, l) && !lectures.CanEdit(p.account, l, tree) {
		s.abort(c, problem.Forbidden)
		return
	}
	if err := s.Live.EndLecture(c.Request.Context(), l.ID); err != nil {
		s.failLive(c, err)
		return
	}
	c.Status(http.StatusAccepted)
}

// rotateKey makes a new stream key; the old one stops working at once.
func (s *Server) rotateKey(c *gin.Context) {
	key, err := s.Lectures.RotateKey(c.Request.Context(), caller(c).account, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"stream_key": key})
}

func (s *Server) lectureStats(c *gin.Context) {
	st, err := s.Room.Stats(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.failLive(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"current": st.Current, "peak": st.Peak, "total": st.Total})
}
