package server

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/problem"
)

// Keys of values kept in the gin context.
const (
	ctxRequestID    = "request_id"
	ctxLang         = "lang"
	ctxNonce        = "csp_nonce"
	ctxPrincipal    = "principal"
	ctxConflictName = "conflict_name"
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// requestID keeps a well-formed incoming X-Request-ID (from a proxy) or makes one.
func requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !requestIDPattern.MatchString(id) {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

// accessLog writes one structured line per request.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(c.Request.Context(), level, "request",
			slog.String("request_id", c.GetString(ctxRequestID)),
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.String("route", c.FullPath()),
			slog.Int("status", status),
			slog.Int("bytes", c.Writer.Size()),
			slog.Duration("duration", time.Since(start)),
			slog.String("client_ip", c.ClientIP()),
		)
	}
}

type metrics struct {
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	depErrors *prometheus.CounterVec
	depUp     *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "culturecloud_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "culturecloud_http_request_duration_seconds", Help: "HTTP request latency by route, method and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "status"}),
		depErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "culturecloud_dependency_errors_total", Help: "Failures to reach a dependency, by dependency.",
		}, []string{"dependency"}),
		depUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "culturecloud_dependency_up", Help: "1 when the dependency answered the last readiness check.",
		}, []string{"dependency"}),
	}
	reg.MustRegister(m.requests, m.latency, m.depErrors, m.depUp)
	return m
}

func (m *metrics) middleware(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched" // never the raw path: it would let clients grow the label set
	}
	status := strconv.Itoa(c.Writer.Status())
	m.requests.WithLabelValues(route, c.Request.Method, status).Inc()
	m.latency.WithLabelValues(route, c.Request.Method, status).Observe(time.Since(start).Seconds())
}

// securityHeaders sets the headers every answer carries, and a per-request CSP nonce.
// uploadOrigin is where browsers send upload parts (MinIO), the one other origin they reach.
func (s *Server) securityHeaders(uploadOrigin string) gin.HandlerFunc {
	hsts := ""
	if age := s.Config.HTTP.HSTSMaxAge; age > 0 {
		hsts = fmt.Sprintf("max-age=%d", int64(age/time.Second))
	}
	return func(c *gin.Context) {
		if hsts != "" && s.overHTTPS(c) {
			c.Header("Strict-Transport-Security", hsts)
		}
		setSecurityHeaders(c, uploadOrigin)
	}
}

func setSecurityHeaders(c *gin.Context, uploadOrigin string) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	nonce := base64.RawStdEncoding.EncodeToString(b)
	c.Set(ctxNonce, nonce)
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "SAMEORIGIN") // PDFs are shown in a frame of our own pages
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(self), microphone=(self), geolocation=()")
	h.Set("Content-Security-Policy", contentSecurityPolicy(nonce, uploadOrigin, "'self'"))
	c.Next()
}

// contentSecurityPolicy is every page's policy; frameAncestors says who may frame it.
func contentSecurityPolicy(nonce, uploadOrigin, frameAncestors string) string {
	return fmt.Sprintf("default-src 'self'; script-src 'self' 'nonce-%s'; style-src 'self'; "+
		"img-src 'self' data: blob: %[2]s; media-src 'self' blob: %[2]s; connect-src 'self' %[2]s; object-src 'self'; frame-src 'self'; worker-src 'self' blob:; "+
		"base-uri 'self'; frame-ancestors %[3]s; form-action 'self'", nonce, uploadOrigin, frameAncestors)
}

// limitBody caps every request body; decodeJSON reports the overflow as 413.
func limitBody(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > limit {
			c.Set(ctxLang, i18n.Negotiate(c.GetHeader("Accept-Language")))
			d := problem.New(lang(c), problem.BodyTooLarge, limit)
			d.RequestID = c.GetString(ctxRequestID)
			problem.Write(c.Writer, d)
			c.Abort()
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		c.Next()
	}
}

// recovery turns a panic into a logged 500 problem, never a dropped connection.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(r)
			}
			s.log.ErrorContext(c.Request.Context(), "panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()),
				"request_id", c.GetString(ctxRequestID))
			if !c.Writer.Written() {
				s.abort(c, problem.Internal, c.GetString(ctxRequestID))
			}
		}
	}()
	c.Next()
}

func isAPI(path string) bool {
	return strings.HasPrefix(path, "/api/") || path == "/readyz" || path == "/healthz"
}
