package server

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // TURN REST credentials are HMAC-SHA1 by definition (coturn use-auth-secret)
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/live"
	"github.com/shizuishan/culturecloud/internal/liveroom"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/validate"
	"github.com/shizuishan/culturecloud/internal/web"
	"github.com/shizuishan/culturecloud/media/sfu"
)

// WHIP and WHEP signalling of live lectures: who may publish or watch, the SDP exchange,
// trickle ICE, simulcast layers and ICE servers.

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
		// Trickle ICE is taken and ICE restarts are not: RFC 9725 §4.3.1 answers such a
		// PATCH with 422 (405 would say that PATCH is not taken at all).
		s.liveProblem(c, problem.Validation, "no_ice_restart")
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

// sessionETag is the entity tag of a WHIP/WHEP session's ICE session (RFC 9725 §4.3.1).
// Sessions never restart ICE here, so it is fixed for the session's life: made from the
// session's ID, and not the ID itself so that it is no second copy of the session's URL.
func sessionETag(session string) string {
	sum := sha256.Sum256([]byte("ice-session:" + session))
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// answerSDP writes a WHIP/WHEP answer: 201, the session's location, its entity tag and the
// ICE servers.
func (s *Server) answerSDP(c *gin.Context, location, session, answer string) {
	c.Header("Location", location)
	c.Header("ETag", sessionETag(session))
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
	s.answerSDP(c, "/api/v1/lectures/"+id+"/whip/"+session, session, answer)
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
	if err := s.Live.StopSession(l.ID, c.Param("session"), true); err != nil {
		s.failLive(c, err)
		return
	}
	c.Status(http.StatusOK)
}

// trickle takes ICE candidates for a session (RFC 8840 fragments); an ICE restart is 422.
// The session must be the lecture's and of the kind the URL names (else 404), and an
// If-Match must name its entity tag (else 412: the client's ICE session is not this one).
func (s *Server) trickle(c *gin.Context) {
	if ct := c.GetHeader("Content-Type"); !strings.HasPrefix(ct, "application/trickle-ice-sdpfrag") {
		s.abort(c, problem.UnsupportedMediaType)
		return
	}
	id, session := c.Param("id"), c.Param("session")
	publisher := strings.Contains(c.FullPath(), "/whip/")
	if err := s.Live.CheckSession(id, session, publisher); err != nil {
		s.failLive(c, err)
		return
	}
	if conds := c.Request.Header.Values("If-Match"); len(conds) > 0 && !ifMatchHolds(strings.Join(conds, ", "), sessionETag(session)) {
		s.liveProblem(c, problem.PreconditionFailed, "stale_session")
		return
	}
	b, err := io.ReadAll(io.LimitReader(c.Request.Body, maxSDP))
	if err != nil {
		s.abort(c, problem.BadRequest, err.Error())
		return
	}
	if err := s.Live.Trickle(id, session, publisher, string(b)); err != nil {
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
	s.answerSDP(c, "/api/v1/lectures/"+id+"/whep/"+session, session, answer)
}

func (s *Server) whepEnd(c *gin.Context) {
	if err := s.Live.StopSession(c.Param("id"), c.Param("session"), false); err != nil {
		s.failLive(c, err)
		return
	}
	c.Status(http.StatusOK)
}

// whepLayer pins (or with "" releases) the simulcast layer of a viewer.
func (s *Server) whepLayer(c *gin.Context) {
	if _, err := s.Live.ViewerStats(c.Param("id"), c.Param("session")); err != nil {
		s.failLive(c, err) // an unknown session is a 404 before the body is read
		return
	}
	var req struct {
		Layer string `json:"layer"`
	}
	if !s.decode(c, &req) {
		return
	}
	st, err := s.Live.SetLayer(c.Param("id"), c.Param("session"), req.Layer)
	if err != nil {
		s.failLive(c, err)
		return
	}
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
