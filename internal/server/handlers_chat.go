package server

import (

	//nolint:gosec // TURN REST credentials are HMAC-SHA1 by definition (coturn use-auth-secret)

	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/live"
	"github.com/shizuishan/culturecloud/internal/liveroom"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
)

// chatLecture loads a lecture the caller may watch (and so chat in).
func (s *Server) chatLecture(c *gin.Context) (lectures.Lecture, *principal, *units.Tree, bool) {
	l, p, tree, ok := s.lectureFor(c)
	if ok && !l.CanWatch(p != nil) {
		s.failLive(c, live.ErrCannotWatch)
		return l, p, tree, false
	}
	return l, p, tree, ok
}

// chatEvents streams the chat as Server-Sent Events: first the recent history, then every
// event; a reconnecting browser sends Last-Event-ID and misses nothing.
func (s *Server) chatEvents(c *gin.Context) {
	l, _, _, ok := s.chatLecture(c)
	if !ok {
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
	// A new stream starts with the history (which the page shows in place of what it had);
	// a resumed one (Last-Event-ID) only continues, so that nothing is shown twice or lost.
	history := []liveroom.Message{}
	resumed := last != ""
	if !resumed {
		msgs, tail, err := s.Room.History(ctx, l.ID, 100)
		if err != nil {
			s.failLive(c, err)
			return
		}
		if len(msgs) > 0 {
			history = msgs
		}
		last = tail
	}
	events, err := s.Room.Subscribe(ctx, l.ID, last)
	if err != nil {
		s.failLive(c, err)
		return
	}
	s.eventStream(c, events, func() {
		if !resumed {
			c.SSEvent("history", history)
		}
	})
}

// eventStream answers with Server-Sent Events: prelude writes what comes first (a history, a
// current position), then each event with its id, so that a browser reconnects with
// Last-Event-ID and misses nothing. It ends when the client leaves, the server shuts down,
// or events closes (the subscriber fell behind: the browser reconnects).
func (s *Server) eventStream(c *gin.Context, events <-chan liveroom.Event, prelude func()) {
	ctx := c.Request.Context()
	// A stream outlives the server's write timeout: every write sets its own deadline.
	rc := http.NewResponseController(c.Writer)
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	write := func(fn func()) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		fn()
		return rc.Flush() == nil
	}
	if !write(func() {
		prelude()
		_, _ = c.Writer.WriteString("retry: 3000\n\n")
	}) {
		return
	}
	ping := time.NewTicker(20 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.streams:
			return
		case <-ping.C:
			if !write(func() { _, _ = c.Writer.WriteString(": ping\n\n") }) {
				return
			}
		case ev, open := <-events:
			if !open {
				return
			}
			if !write(func() {
				_, _ = c.Writer.WriteString("id: " + ev.ID + "\n")
				c.SSEvent(string(ev.Type), ev)
			}) {
				return
			}
		}
	}
}

func chatAuthor(a accounts.Account) liveroom.Author {
	return liveroom.Author{ID: "a:" + a.Name, Name: a.DisplayName}
}

// postChat posts a chat message or a question while the lecture is live.
func (s *Server) postChat(c *gin.Context) {
	l, _, _, ok := s.chatLecture(c)
	if !ok {
		return
	}
	var req struct {
		Kind string `json:"kind"`
		Text string `json:"text"`
	}
	if !s.decode(c, &req) {
		return
	}
	kind := liveroom.Kind(req.Kind)
	if kind != liveroom.Chat && kind != liveroom.Question {
		s.fail(c, validate.Errors{{Field: "kind", Code: "vocabulary"}})
		return
	}
	if l.State != lectures.Live {
		s.failLive(c, live.ErrNotLive)
		return
	}
	m, err := s.Room.Post(c.Request.Context(), l.ID, chatAuthor(caller(c).account), kind, req.Text)
	if errors.Is(err, liveroom.ErrInvalid) {
		s.fail(c, validate.Errors{{Field: "text", Code: "too_long", Args: []any{500}}})
		return
	}
	if err != nil {
		s.failLive(c, err)
		return
	}
	c.JSON(http.StatusCreated, m)
}

// moderator loads the lecture and lets through only those who may edit it.
func (s *Server) moderator(c *gin.Context) (lectures.Lecture, bool) {
	l, p, tree, ok := s.lectureFor(c)
	if !ok {
		return l, false
	}
	if p == nil || !lectures.CanEdit(p.account, l, tree) {
		s.abort(c, problem.Forbidden)
		return l, false
	}
	return l, true
}

func (s *Server) deleteChat(c *gin.Context) {
	l, ok := s.moderator(c)
	if !ok {
		return
	}
	ev, err := s.Room.Delete(c.Request.Context(), l.ID, c.Param("msg"), caller(c).account.Name)
	if err != nil {
		s.failLive(c, err)
		return
	}
	c.JSON(http.StatusOK, ev)
}

func (s *Server) answerQuestion(c *gin.Context) {
	l, ok := s.moderator(c)
	if !ok {
		return
	}
	ev, err := s.Room.MarkAnswered(c.Request.Context(), l.ID, c.Param("msg"), caller(c).account.Name)
	if err != nil {
		s.failLive(c, err)
		return
	}
	c.JSON(http.StatusOK, ev)
}

// muteUser stops a user from posting in the lecture for some minutes.
func (s *Server) muteUser(c *gin.Context) {
	l, ok := s.moderator(c)
	if !ok {
		return
	}
	var req struct {
		Author  string `json:"author"`
		Minutes int    `json:"minutes"`
	}
	if !s.decode(c, &req) {
		return
	}
	var errs validate.Errors
	if !strings.HasPrefix(req.Author, "a:") || len(req.Author) > 66 {
		errs.Add("author", "text")
	}
	if req.Minutes < 1 || req.Minutes > 30*24*60 {
		errs.Add("minutes", "range", 1, 30*24*60)
	}
	if err := errs.Err(); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Room.Mute(c.Request.Context(), l.ID, req.Author, time.Duration(req.Minutes)*time.Minute, caller(c).account.Name); err != nil {
		s.failLive(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) unmuteUser(c *gin.Context) {
	l, ok := s.moderator(c)
	if !ok {
		return
	}
	if err := s.Room.Unmute(c.Request.Context(), l.ID, c.Param("author")); err != nil {
		s.failLive(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
