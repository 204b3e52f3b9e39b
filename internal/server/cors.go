package server

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/config"
)

// Cross-origin WHIP and WHEP (CORS). Players and encoders in pages of other sites (the
// provincial culture cloud, a district library) publish and play through the same endpoints
// as the site's own pages. Only live.allowed_origins may, and never with credentials: a
// cross-origin request carries no cookie of ours, so it acts as nobody but the bearer of the
// stream key it sends itself, and its answers hold nothing that only a signed-in visitor
// may read. For the same reason "*" is safe to allow, and no Access-Control-Allow-Credentials
// is ever sent (browsers refuse it with "*" in any case).

// corsMaxAge is how long a browser may keep a preflight's answer (browsers cap it at 2 h).
const corsMaxAge = 10 * time.Minute

// corsExposed are the answer headers WHIP/WHEP clients read: the session's URL, the ICE
// servers, the session's entity tag for trickle ICE, when to come back, and why a key was
// refused. Content-Type is readable without being listed.
const corsExposed = "Location, Link, ETag, Retry-After, Accept-Post, Accept-Patch, WWW-Authenticate, X-Request-ID"

// corsRequestHeaders are the request headers a cross-origin client may send: the SDP's type,
// the stream key (WHIP clients send it as a bearer token), the trickle ICE precondition.
var corsRequestHeaders = []string{"Authorization", "Content-Type", "If-Match", "Accept", "Accept-Language"}

// origins is a parsed live.allowed_origins.
type origins struct {
	any  bool
	list []string
}

func parseOrigins(s string) origins {
	if strings.TrimSpace(s) == "*" {
		return origins{any: true}
	}
	return origins{list: config.List(s)}
}

// allow is the Access-Control-Allow-Origin for a request's Origin; "" refuses it.
func (o origins) allow(origin string) string {
	switch {
	case origin == "":
		return ""
	case o.any:
		return "*"
	case slices.Contains(o.list, origin):
		return origin
	}
	return ""
}

// liveEndpoint is what a WHIP/WHEP URL takes, for Allow and the CORS answers.
type liveEndpoint struct {
	methods     []string // besides OPTIONS
	acceptPost  string
	acceptPatch string
}

var (
	liveOffer   = liveEndpoint{methods: []string{http.MethodPost}, acceptPost: "application/sdp"}
	liveSession = liveEndpoint{methods: []string{http.MethodDelete, http.MethodPatch}, acceptPatch: "application/trickle-ice-sdpfrag"}
	liveLayer   = liveEndpoint{methods: []string{http.MethodPost}, acceptPost: "application/json"}
)

func (e liveEndpoint) allow() string {
	return strings.Join(append([]string{http.MethodOptions}, e.methods...), ", ")
}

// liveCORS adds the CORS headers to the answers of a WHIP/WHEP endpoint's requests, errors
// included, so that a player on an allowed site can read why it was refused.
func (s *Server) liveCORS(c *gin.Context) {
	h := c.Writer.Header()
	if !s.liveOrigins.any {
		h.Add("Vary", "Origin")
	}
	if allow := s.liveOrigins.allow(c.GetHeader("Origin")); allow != "" {
		h.Set("Access-Control-Allow-Origin", allow)
		h.Set("Access-Control-Expose-Headers", corsExposed)
	}
	c.Next()
}

// livePreflight answers OPTIONS on a WHIP/WHEP endpoint (RFC 9725 §4.1: a client may ask
// before it posts, and browsers do for every cross-origin POST of application/sdp): what
// the URL takes, and to an allowed origin's preflight, what it may send.
func (s *Server) livePreflight(e liveEndpoint) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Allow", e.allow())
		if e.acceptPost != "" {
			h.Set("Accept-Post", e.acceptPost)
		}
		if e.acceptPatch != "" {
			h.Set("Accept-Patch", e.acceptPatch)
		}
		h.Set("Cache-Control", "no-store")
		method := c.GetHeader("Access-Control-Request-Method")
		// OPTIONS itself is asked for too: WHIP clients send it with the bearer token to learn
		// the ICE servers (RFC 9725 §4.4), which makes the browser preflight it.
		methods := append(slices.Clone(e.methods), http.MethodOptions)
		if allow := h.Get("Access-Control-Allow-Origin"); allow != "" && slices.Contains(methods, method) {
			h.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
			h.Set("Access-Control-Allow-Headers", strings.Join(corsRequestHeaders, ", "))
			h.Set("Access-Control-Max-Age", strconv.Itoa(int(corsMaxAge/time.Second)))
		} else if method != "" {
			// Not allowed: the preflight is answered without the permissions, and the
			// browser stops there. The answer holds nothing else to read.
			h.Del("Access-Control-Allow-Origin")
			h.Del("Access-Control-Expose-Headers")
		}
		c.Status(http.StatusNoContent)
	}
}
