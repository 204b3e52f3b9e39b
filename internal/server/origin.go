package server

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/problem"
)

// overHTTPS says whether the browser reached us over HTTPS: TLS ended here, or a proxy of
// http.trusted_proxies says so. A Forwarded-Proto header from anyone else is ignored, since
// any client can send it.
func (s *Server) overHTTPS(c *gin.Context) bool {
	if c.Request.TLS != nil {
		return true
	}
	return s.fromTrustedProxy(c) && strings.EqualFold(c.GetHeader("X-Forwarded-Proto"), "https")
}

// fromTrustedProxy says whether the connection's peer is one of http.trusted_proxies.
func (s *Server) fromTrustedProxy(c *gin.Context) bool {
	peer, err := netip.ParseAddr(c.RemoteIP())
	if err != nil {
		return false
	}
	peer = peer.Unmap()
	for _, p := range s.trustedProxies {
		if p.Contains(peer) {
			return true
		}
	}
	return false
}

func parsePrefixes(cidrs []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(cidrs))
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// publicBase is the site's address for links that leave the page (feeds, calendars, the
// OBS address): the configured http.public_url, or else the address this connection arrived
// at. Never the Host header: the client chooses it, and a feed or calendar cached somewhere
// would carry an attacker's links.
func (s *Server) publicBase(c *gin.Context) string {
	if u := strings.TrimRight(s.Config.HTTP.PublicURL, "/"); u != "" {
		return u
	}
	scheme := "http"
	if s.overHTTPS(c) {
		scheme = "https"
	}
	host := s.Config.HTTP.Addr
	if local, ok := c.Request.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		host = local.String()
	}
	return scheme + "://" + host
}

// metricsAllowed guards /metrics: with http.metrics_token, the bearer token; without it,
// only a request straight from loopback, not one a local reverse proxy forwarded.
func (s *Server) metricsAllowed(c *gin.Context) {
	if token := s.Config.HTTP.MetricsToken.Reveal(); token != "" {
		got, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			c.Header("WWW-Authenticate", `Bearer realm="metrics"`)
			s.abort(c, problem.MetricsToken)
			return
		}
		c.Next()
		return
	}
	peer, err := netip.ParseAddr(c.RemoteIP())
	forwarded := c.GetHeader("X-Forwarded-For") != "" || c.GetHeader("Forwarded") != "" || c.GetHeader("X-Real-IP") != ""
	if err != nil || !peer.IsLoopback() || forwarded {
		s.abort(c, problem.MetricsLoopback)
		return
	}
	c.Next()
}
