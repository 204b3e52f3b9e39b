package server

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/sessions"
)

// sessionCookie names the login cookie.
const sessionCookie = "cc_session"

// deviceCookie marks a browser that signed in to an account before; only the sign-in API
// reads it.
const deviceCookie = "cc_device"

// principal is who is calling, and how they proved it.
type principal struct {
	account  accounts.Account
	session  *sessions.Session // nil for bearer tokens
	tokenRaw string            // the session cookie value, for logout
}

// accountOrNil is the account of p, nil for an anonymous visitor.
func (p *principal) accountOrNil() *accounts.Account {
	if p == nil {
		return nil
	}
	return &p.account
}

// identify finds the caller from a bearer token or the session cookie. It returns a nil
// principal for anonymous callers, and an error when a store could not be asked.
func (s *Server) identify(c *gin.Context) (*principal, error) {
	if h := c.GetHeader("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, accounts.ErrBadCredentials
		}
		a, err := s.Accounts.ResolveToken(c.Request.Context(), strings.TrimSpace(token))
		if err != nil {
			return nil, err
		}
		return &principal{account: a}, nil
	}
	raw, _ := c.Cookie(sessionCookie) // no cookie reads as ""
	if raw == "" {
		return nil, nil
	}
	sess, err := s.Sessions.Get(c.Request.Context(), raw)
	if errors.Is(err, sessions.ErrNoSession) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	a, err := s.Accounts.Store().Get(c.Request.Context(), sess.Account)
	if errors.Is(err, accounts.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// A password change since the session began ends it (SessionEpoch).
	if a.Disabled || sess.Epoch != a.SessionEpoch {
		_ = s.Sessions.Delete(c.Request.Context(), raw)
		return nil, nil
	}
	return &principal{account: a, session: &sess, tokenRaw: raw}, nil
}

// requireAccount lets only signed-in callers through, and checks the CSRF token of every
// cookie-authenticated write.
func (s *Server) requireAccount(c *gin.Context) {
	p, err := s.identify(c)
	switch {
	case errors.Is(err, accounts.ErrBadCredentials):
		c.Header("WWW-Authenticate", `Bearer realm="culturecloud"`)
		s.abort(c, problem.Unauthorized)
		return
	case err != nil:
		s.fail(c, err)
		return
	case p == nil:
		c.Header("WWW-Authenticate", `Bearer realm="culturecloud"`)
		s.abort(c, problem.Unauthorized)
		return
	}
	if p.session != nil && !safeMethod(c.Request.Method) {
		sent := c.GetHeader("X-CSRF-Token")
		if subtle.ConstantTimeCompare([]byte(sent), []byte(p.session.CSRF)) != 1 {
			s.abort(c, problem.CSRF)
			return
		}
	}
	c.Set(ctxPrincipal, p)
	c.Next()
}

// requireRole lets only the named roles through; it runs after requireAccount.
func (s *Server) requireRole(roles ...accounts.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !slices.Contains(roles, caller(c).account.Role) {
			s.abort(c, problem.Forbidden)
			return
		}
		c.Next()
	}
}

func caller(c *gin.Context) *principal {
	p, _ := c.Get(ctxPrincipal)
	return p.(*principal)
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// crossSite reports a browser request sent by another site; such a request may not log in
// or register (login CSRF), whatever cookies it carries.
func crossSite(c *gin.Context) bool {
	return c.GetHeader("Sec-Fetch-Site") == "cross-site"
}

func (s *Server) setSessionCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookies(c),
	})
}

func (s *Server) setDeviceCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: deviceCookie, Value: value, Path: "/api/v1/auth/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookies(c),
	})
}

// knownDevice returns the id of the caller's browser if it signed in to account before.
func (s *Server) knownDevice(c *gin.Context, account string) (string, bool) {
	raw, _ := c.Cookie(deviceCookie) // no cookie reads as ""
	if raw == "" {
		return "", false
	}
	return s.Devices.Check(raw, account)
}

func (s *Server) secureCookies(c *gin.Context) bool {
	switch s.Config.HTTP.CookieSecure {
	case "true":
		return true
	case "false":
		return false
	}
	return s.overHTTPS(c)
}
