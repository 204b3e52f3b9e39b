// Package server is the HTTP side of the product: it translates between HTTP and the domain
// packages, and renders the web pages. All routes are listed in routes.go.
package server

import (
	"log/slog"
	"net/http"
	"net/netip"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/attach"
	"github.com/shizuishan/culturecloud/internal/collections"
	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/courses"
	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/derivatives"
	"github.com/shizuishan/culturecloud/internal/exhibitions"
	"github.com/shizuishan/culturecloud/internal/fixity"
	"github.com/shizuishan/culturecloud/internal/imageservice"
	"github.com/shizuishan/culturecloud/internal/jobs"
	"github.com/shizuishan/culturecloud/internal/learning"
	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/live"
	"github.com/shizuishan/culturecloud/internal/liveroom"
	"github.com/shizuishan/culturecloud/internal/mail"
	"github.com/shizuishan/culturecloud/internal/manifests"
	"github.com/shizuishan/culturecloud/internal/outbox"
	"github.com/shizuishan/culturecloud/internal/replays"
	"github.com/shizuishan/culturecloud/internal/sessions"
	"github.com/shizuishan/culturecloud/internal/transcoding"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/views"
	"github.com/shizuishan/culturecloud/internal/web"
	"github.com/shizuishan/culturecloud/media/upload"
	"github.com/shizuishan/culturecloud/search"
)

// Deps is everything the handlers need.
type Deps struct {
	Config      *config.Config
	Log         *slog.Logger
	Accounts    *accounts.Service
	Units       *units.DocStore
	Sessions    *sessions.Store
	Limiter     *sessions.Limiter
	ViewLimiter *sessions.Limiter // the views.* limits, in their own window
	// Backoff slows down failed logins per account and client; Devices marks the browsers
	// that signed in to an account before.
	Backoff     *sessions.Backoff
	Devices     *sessions.Devices
	Resets      *sessions.Resets // password reset links
	Mail        mail.Sender      // sends the reset links
	Search      *search.Client
	Web         *web.Renderer
	Checks      []dep.Checker
	Registry    *prometheus.Registry
	Library     *library.Service
	Views       *views.Counter
	Jobs        *jobs.Store
	Uploads     *upload.Manager
	Attach      *attach.Service
	Outbox      *outbox.Outbox
	Fixity      *fixity.Service
	Collections *collections.Service
	Derivatives *derivatives.Service
	Images      *imageservice.Service // the IIIF Image API
	Courses     *courses.Service
	Learning    *learning.Store
	Transcoding *transcoding.Runner
	Captions    captionStore // WebVTT captions of media files (media/captions.Store)
	Lectures    *lectures.Service
	Room        *liveroom.Room
	Live        *live.Service
	Replays     *replays.Store // what a lecture leaves beside its replay item
	Manifests   *manifests.Builder
	Exhibitions *exhibitions.Service
	// Published remembers items read as published (shared with Exhibitions); New makes one
	// when nil.
	Published *library.PublishedCache
}

// Server holds the dependencies of the handlers.
type Server struct {
	Deps
	log     *slog.Logger
	metrics *metrics
	// trustedProxies may say, in X-Forwarded-Proto, that the browser came over HTTPS.
	trustedProxies []netip.Prefix
	engine         *gin.Engine
	// liveOrigins may use WHIP and WHEP from their pages (live.allowed_origins).
	liveOrigins origins
	// embedAncestors may frame the embeddable players (live.embed_origins).
	embedAncestors string
	// published spares MinIO reads for view counts and stream segments of published items.
	published *library.PublishedCache

	// streams is closed when the server shuts down, so that long-lived answers (chat
	// event streams) end and let the shutdown finish; browsers reconnect elsewhere.
	streams     chan struct{}
	streamsOnce sync.Once
	// eventStreams caps the open event streams (streamcaps.go).
	eventStreams *streamCaps
}

// CloseStreams ends every open event stream (for http.Server.RegisterOnShutdown).
func (s *Server) CloseStreams() { s.streamsOnce.Do(func() { close(s.streams) }) }

// New builds the HTTP handler.
func New(d Deps) (*Server, error) {
	if d.Published == nil {
		d.Published = library.NewPublishedCache(library.PublishedTTL, 100_000, nil)
	}
	s := &Server{Deps: d, log: d.Log, metrics: newMetrics(d.Registry), streams: make(chan struct{}), published: d.Published,
		liveOrigins:    parseOrigins(d.Config.Live.AllowedOrigins),
		embedAncestors: frameAncestors(d.Config.Live.EmbedOrigins),
		eventStreams:   newStreamCaps(d.Config.Live.EventStreamsPerIP, d.Config.Live.MaxEventStreams)}
	e := gin.New()
	e.ContextWithFallback = true
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.RemoveExtraSlash = false
	if err := e.SetTrustedProxies(d.Config.HTTP.TrustedProxyList()); err != nil {
		return nil, err
	}
	var err error
	if s.trustedProxies, err = parsePrefixes(d.Config.HTTP.TrustedProxyList()); err != nil {
		return nil, err
	}
	s.engine = e
	s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// Routes lists method and path of every route, for the OpenAPI test.
func (s *Server) Routes() gin.RoutesInfo { return s.engine.Routes() }
