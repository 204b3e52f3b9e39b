package server

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // TURN REST credentials are HMAC-SHA1 by definition (coturn use-auth-secret)
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/live"
	"github.com/shizuishan/culturecloud/internal/liveroom"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
	"github.com/shizuishan/culturecloud/internal/web"
	"github.com/shizuishan/culturecloud/media/sfu"
)

// maxSDP bounds an SDP offer; real offers with simulcast are a few kilobytes.
const maxSDP = 64 << 10

// liveProblem answers with kind and a detail from the catalogue (key live.<detail>).
func (s *Server) liveProblem(c *gin.Context, kind problem.Kind, detail string) {
	d := problem.New(lang(c), kind)
	d.Detail = i18n.T(lang(c), "live."+detail)
	s.abortWith(c, d)
}

// failLive maps the errors of going live and watching; others go to fail.
func (s *Server) failLive(c *gin.Context, err error) {
	var retry *liveroom.RetryError
	var window *lectures.WindowError
	var full *live.CapError
	switch {
	case errors.As(err, &full):
		secs := max(1, int(full.After.Round(time.Second)/time.Second))
		d := problem.New(lang(c), problem.RateLimited, secs)
		if full.Node {
			d = problem.New(lang(c), problem.Unavailable, "live")
			d.Detail = i18n.T(lang(c), "live.full", secs)
		}
		d.RetryAfter = secs
		s.abortWith(c, d)
	case errors.As(err, &window):
		s.abortWith(c, notNowProblem(lang(c), window))
	case errors.Is(err, lectures.ErrWrongKey):
		c.Header("WWW-Authenticate", `Bearer realm="whip"`)
		s.liveProblem(c, problem.Unauthorized, "wrong_key")
	case errors.Is(err, lectures.ErrNotScheduledNow):
		s.liveProblem(c, problem.Conflict, "not_now")
	case errors.Is(err, sfu.ErrPublisherExists):
		s.liveProblem(c, problem.Conflict, "publisher_exists")
	case errors.Is(err, sfu.ErrBadOffer):
		d := problem.New(lang(c), problem.BadRequest)
		d.Detail = i18n.T(lang(c), "live.bad_offer") + " " + strings.TrimPrefix(err.Error(), sfu.ErrBadOffer.Error()+": ")
		s.abortWith(c, d)
	case errors.Is(err, sfu.ErrNoCodec):
		s.liveProblem(c, problem.Validation, "no_codec")
	case errors.Is(err, live.ErrPublisherLost):
		s.abortWith(c, problem.New(lang(c), problem.PublisherLost))
	case errors.Is(err, live.ErrNotLive):
		s.liveProblem(c, problem.Conflict, "not_live")
	case errors.Is(err, live.ErrCannotWatch):
		s.liveProblem(c, problem.Unauthorized, "sign_in")
	case errors.Is(err, sfu.ErrNoSession):
		s.abort(c, problem.NotFound)
	case errors.Is(err, sfu.ErrBadLayer):
		s.fail(c, validate.Errors{{Field: "layer", Code: "vocabulary"}})
	case errors.Is(err, sfu.ErrNotSupported):
		c.Header("Allow", "POST, DELETE")
		s.abort(c, problem.MethodNotAllowed, c.Request.Method)
	case errors.As(err, &retry):
		secs := max(1, int(retry.After.Round(time.Second)/time.Second))
		d := problem.New(lang(c), problem.RateLimited, secs)
		if errors.Is(err, liveroom.ErrMuted) {
			d = problem.New(lang(c), problem.Forbidden)
			d.Detail = i18n.T(lang(c), "live.muted")
		}
		d.RetryAfter = secs
		s.abortWith(c, d)
	case errors.Is(err, liveroom.ErrInvalid), errors.Is(err, liveroom.ErrNotQuestion):
		s.fail(c, validate.Errors{{Field: "text", Code: "text"}})
	case errors.Is(err, liveroom.ErrNotFound):
		s.abort(c, problem.NotFound)
	case errors.Is(err, sfu.ErrClosed):
		s.fail(c, errUnavailableLive)
	default:
		s.fail(c, err)
	}
}

var errUnavailableLive = errors.New("live media server is stopping")

// notNowProblem says why a lecture cannot go live: its state, or when its window is.
func notNowProblem(l i18n.Lang, w *lectures.WindowError) problem.Details {
	if w.State != lectures.Scheduled {
		d := problem.New(l, problem.NotNow, "", "")
		d.Detail = i18n.T(l, "live.not_now_state", i18n.T(l, "lecture.state."+string(w.State)))
		return d
	}
	return problem.New(l, problem.NotNow, web.LectureTime(l, w.From), web.LectureTime(l, w.To))
}

// readSDP reads an application/sdp body.
func (s *Server) readSDP(c *gin.Context) (string, bool) {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(c.GetHeader("Content-Type"), ";")[0]))
	if ct != "application/sdp" {
		s.abort(c, problem.UnsupportedMediaType)
		return "", false
	}
	b, err := io.ReadAll(io.LimitReader(c.Request.Body, maxSDP+1))
	if err != nil {
		s.abort(c, problem.BadRequest, err.Error())
		return "", false
	}
	if len(b) > maxSDP {
		s.abort(c, problem.BodyTooLarge, maxSDP)
		return "", false
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		s.liveProblem(c, problem.BadRequest, "bad_offer")
		return "", false
	}
	return string(b), true
}

// bearer is the token of an Authorization: Bearer header.
func bearer(c *gin.Context) string {
	h := c.GetHeader("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// answerSDP writes a WHIP/WHEP answer: 201, the session's location and the ICE servers.
func (s *Server) answerSDP(c *gin.Context, location, answer string) {
	c.Header("Location", location)
	for _, srv := range s.iceServers(c) {
		for _, u := range srv.URLs {
			link := "<" + u + `>; rel="ice-server"`
			if srv.Username != "" {
				link += `; username="` + srv.Username + `"; credential="` + srv.Credential + `"; credential-type="password"`
			}
			c.Writer.Header().Add("Link", link)
		}
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusCreated, "application/sdp", []byte(answer))
}

// whipAuthorize checks who publishes: the lecture's stream key as a bearer token (OBS and
// other encoders), or a signed-in lecturer or staff member of the lecture with the
// session's CSRF token (the browser studio).
func (s *Server) whipAuthorize(c *gin.Context) (func(lectures.Lecture) error, bool) {
	if key := bearer(c); key != "" {
		return func(l lectures.Lecture) error {
			// Only the key is checked here. Whether the lecture may go live now is for
			// Live.Publish to decide (an encoder coming back within the grace period
			// continues a lecture that is live), and ending a session needs no schedule.
			if err := s.Lectures.CheckKey(c.Request.Context(), l.ID, key); !errors.Is(err, lectures.ErrNotScheduledNow) {
				return err
			}
			return nil
		}, true
	}
	p, err := s.identify(c)
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	if p == nil || p.session == nil {
		c.Header("WWW-Authenticate", `Bearer realm="whip"`)
		s.liveProblem(c, problem.Unauthorized, "wrong_key")
		return nil, false
	}
	if subtle.ConstantTimeCompare([]byte(c.GetHeader("X-CSRF-Token")), []byte(p.session.CSRF)) != 1 {
		s.abort(c, problem.CSRF)
		return nil, false
	}
	tree, _, err := s.Units.LoadUnits(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return func(l lectures.Lecture) error {
		if !lectures.CanGoLive(p.account, l) && !lectures.CanEdit(p.account, l, &tree) {
			return lectures.ErrForbidden
		}
		return nil
	}, true
}

// whipPublish is WHIP ingest (RFC 9725): an SDP offer in, the answer and the session's
// location out.
func (s *Server) whipPublish(c *gin.Context) {
	authorize, ok := s.whipAuthorize(c)
	if !ok {
		return
	}
	offer, ok := s.readSDP(c)
	if !ok {
		return
	}
	id := c.Param("id")
	answer, session, err := s.Live.Publish(c.Request.Context(), id, offer, authorize)
	if err != nil {
		s.failLive(c, err)
		return
	}
	s.answerSDP(c, "/api/v1/lectures/"+id+"/whip/"+session, answer)
}

// whipEnd ends a WHIP session, with the same authorization as publishing.
func (s *Server) whipEnd(c *gin.Context) {
	authorize, ok := s.whipAuthorize(c)
	if !ok {
		return
	}
	l, err := s.Lectures.Get(c.Request.Context(), c.Param("id"))
	if err == nil {
		err = authorize(l)
	}
	if err != nil {
		s.failLive(c, err)
		return
	}
	// The key of one lecture ends that lecture's publisher, not another session.
	if room, publisher, err := s.Live.SFU().SessionRoom(c.Param("session")); err != nil || room != l.ID || !publisher {
		s.abort(c, problem.NotFound)
		return
	}
	if err := s.Live.Stop(c.Param("session")); err != nil {
		s.failLive(c, err)
		return
	}
	c.Status(http.StatusOK)
}

// trickle takes ICE candidates for a session (RFC 8840 fragments); 405 when not supported.
func (s *Server) trickle(c *gin.Context) {
	if ct := c.GetHeader("Content-Type"); !strings.HasPrefix(ct, "application/trickle-ice-sdpfrag") {
		s.abort(c, problem.UnsupportedMediaType)
		return
	}
	b, err := io.ReadAll(io.LimitReader(c.Request.Body, maxSDP))
	if err != nil {
		s.abort(c, problem.BadRequest, err.Error())
		return
	}
	// The session must be the lecture's, and of the kind the URL names.
	room, publisher, err := s.Live.SFU().SessionRoom(c.Param("session"))
	if err != nil || room != c.Param("id") || publisher != strings.Contains(c.FullPath(), "/whip/") {
		s.abort(c, problem.NotFound)
		return
	}
	if err := s.Live.SFU().Trickle(c.Param("session"), string(b)); err != nil {
		s.failLive(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// whepWatch is WHEP playback: an SDP offer in, the answer out. Public lectures need no
// account; ?layer=h|m|l pins a simulcast layer.
func (s *Server) whepWatch(c *gin.Context) {
	offer, ok := s.readSDP(c)
	if !ok {
		return
	}
	p, err := s.identify(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	// One anonymous id per request: a first visit sets the cookie once, and the live room
	// and the view counter count the same visitor.
	visitor := s.viewer(c)
	viewer := "v:" + visitor
	if p != nil {
		viewer = "a:" + p.account.Name
	}
	id := c.Param("id")
	answer, session, err := s.Live.Watch(c.Request.Context(), id, viewer, c.ClientIP(), p != nil, offer, sfu.SubscribeOptions{Layer: c.Query("layer")})
	if err != nil {
		s.failLive(c, err)
		return
	}
	if _, _, err := s.countView(c, "live:"+id); err != nil {
		s.log.WarnContext(c.Request.Context(), "live view not counted", "err", err)
	}
	s.answerSDP(c, "/api/v1/lectures/"+id+"/whep/"+session, answer)
}

// whepSession checks that a viewer session belongs to the lecture in the URL.
func (s *Server) whepSession(c *gin.Context) (string, bool) {
	session := c.Param("session")
	st, err := s.Live.SFU().ViewerStats(session)
	if err != nil || st.Room != c.Param("id") {
		s.abort(c, problem.NotFound)
		return "", false
	}
	return session, true
}

func (s *Server) whepEnd(c *gin.Context) {
	session, ok := s.whepSession(c)
	if !ok {
		return
	}
	if err := s.Live.Stop(session); err != nil {
		s.failLive(c, err)
		return
	}
	c.Status(http.StatusOK)
}

// whepLayer pins (or with "" releases) the simulcast layer of a viewer.
func (s *Server) whepLayer(c *gin.Context) {
	session, ok := s.whepSession(c)
	if !ok {
		return
	}
	var req struct {
		Layer string `json:"layer"`
	}
	if !s.decode(c, &req) {
		return
	}
	if err := s.Live.SFU().SetLayer(session, req.Layer); err != nil {
		s.failLive(c, err)
		return
	}
	st, _ := s.Live.SFU().ViewerStats(session)
	c.JSON(http.StatusOK, gin.H{"layer": st.Layer, "pinned": st.PinnedLayer, "estimate_bps": st.EstimateBitrate})
}

// iceServer is one entry of RTCConfiguration.iceServers.
type iceServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// iceServers are the STUN and TURN servers for browsers. With a shared secret, TURN gets
// time-limited credentials (the TURN REST convention: username "expiry:user", credential
// base64(HMAC-SHA1(secret, username))).
func (s *Server) iceServers(c *gin.Context) []iceServer {
	lc := s.Config.Live
	out := []iceServer{} // an empty list, not null: browsers refuse iceServers: null
	if stun := config.List(lc.STUNURLs); len(stun) > 0 {
		out = append(out, iceServer{URLs: stun})
	}
	if turn := config.List(lc.TURNURLs); len(turn) > 0 {
		srv := iceServer{URLs: turn}
		if secret := lc.TURNSecret.Reveal(); secret != "" {
			user := "viewer"
			if p, err := s.identify(c); err == nil && p != nil {
				user = p.account.Name
			}
			srv.Username = strconv.FormatInt(time.Now().Add(lc.TURNTTL).Unix(), 10) + ":" + user
			mac := hmac.New(sha1.New, []byte(secret))
			mac.Write([]byte(srv.Username))
			srv.Credential = base64.StdEncoding.EncodeToString(mac.Sum(nil))
		}
		out = append(out, srv)
	}
	return out
}

func (s *Server) getICEServers(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"ice_servers": s.iceServers(c)})
}

// ---- Lectures ---------------------------------------------------------------------------

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

// ---- Chat and questions -----------------------------------------------------------------

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
		if !resumed {
			c.SSEvent("history", history)
		}
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
				return // the browser reconnects with its last id
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
