package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/exhibitions"
	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/live"
	"github.com/shizuishan/culturecloud/internal/liveroom"
	"github.com/shizuishan/culturecloud/internal/validate"
)

// notATour refuses the guide's API on a lecture that leads through no exhibition.
var notATour = validate.Errors{{Field: "lecture", Code: "not_a_tour"}}

// guideEvents is GET /api/v1/lectures/{id}/guide: a tour guide's positions as Server-Sent
// Events ("position"). A new stream starts with where the guide is now, so a viewer who
// joins late is at once where the others are; a resumed one (Last-Event-ID) goes on after it.
func (s *Server) guideEvents(c *gin.Context) {
	l, _, _, ok := s.chatLecture(c)
	if !ok {
		return
	}
	if l.Exhibition == "" {
		s.fail(c, notATour)
		return
	}
	release, err := s.eventStreams.take(c.ClientIP())
	if err != nil {
		s.failLive(c, err)
		return
	}
	defer release()
	ctx := c.Request.Context()
	last := c.GetHeader("Last-Event-ID")
	if last != "" && !liveroom.ValidID(last) {
		s.fail(c, validate.Errors{{Field: "Last-Event-ID", Code: "text"}})
		return
	}
	var now *liveroom.Event
	if last == "" {
		ev, ok, err := s.Room.Guide(ctx, l.ID)
		if err != nil {
			s.failLive(c, err)
			return
		}
		if ok {
			now, last = &ev, ev.ID
		}
	}
	events, err := s.Room.FollowGuide(ctx, l.ID, last)
	if err != nil {
		s.failLive(c, err)
		return
	}
	s.eventStream(c, events, func() {
		if now != nil {
			_, _ = c.Writer.WriteString("id: " + now.ID + "\n")
			c.SSEvent(string(now.Type), now)
		}
	})
}

// moveGuide is POST /api/v1/lectures/{id}/guide: the guide (whoever may edit the lecture)
// says where the tour is, while it is live. The exhibit must be one the public sees in the
// tour's exhibition, counted as its walkthrough counts them.
func (s *Server) moveGuide(c *gin.Context) {
	l, ok := s.moderator(c)
	if !ok {
		return
	}
	var pos liveroom.Position
	if !s.decode(c, &pos) {
		return
	}
	if l.Exhibition == "" {
		s.fail(c, notATour)
		return
	}
	if l.State != lectures.Live {
		s.failLive(c, live.ErrNotLive)
		return
	}
	if err := pos.Validate(); err != nil {
		s.fail(c, err)
		return
	}
	key, err := s.inTour(c.Request.Context(), l.Exhibition, pos)
	if err != nil {
		s.fail(c, err)
		return
	}
	pos.Key = key
	ev, err := s.Room.Move(c.Request.Context(), l.ID, pos)
	if err != nil {
		s.failLive(c, err)
		return
	}
	c.JSON(http.StatusCreated, ev)
}

// inTour checks that pos names an exhibit of the exhibition as the public sees it, and
// returns what that exhibit shows (exhibitions.ExhibitKey).
func (s *Server) inTour(ctx context.Context, exhibition string, pos liveroom.Position) (string, error) {
	v, err := s.Exhibitions.View(ctx, nil, exhibition)
	if err != nil {
		return "", err
	}
	switch {
	case pos.Section >= len(v.Sections):
		return "", validate.Errors{{Field: "section", Code: "not_in_tour"}}
	case pos.Exhibit >= len(v.Sections[pos.Section].Exhibits):
		return "", validate.Errors{{Field: "exhibit", Code: "not_in_tour"}}
	}
	return exhibitions.ExhibitKey(v.Sections[pos.Section].Exhibits[pos.Exhibit]), nil
}
