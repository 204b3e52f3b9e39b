package server

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/web"
)

const langCookie = "cc_lang"

// pageLang picks the page language: ?lang= (remembered in a cookie), the cookie, then
// Accept-Language, then Chinese.
func (s *Server) pageLang(c *gin.Context) {
	l := i18n.Negotiate(c.GetHeader("Accept-Language"))
	if v, err := c.Cookie(langCookie); err == nil {
		if parsed, ok := i18n.Parse(v); ok {
			l = parsed
		}
	}
	if v := c.Query("lang"); v != "" {
		if parsed, ok := i18n.Parse(v); ok {
			l = parsed
			http.SetCookie(c.Writer, &http.Cookie{Name: langCookie, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600,
				SameSite: http.SameSiteLaxMode, Secure: s.secureCookies(c)})
		}
	}
	c.Set(ctxLang, l)
	c.Next()
}

// page renders a page anyone may see.
func (s *Server) page(name string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := s.identify(c)
		if err != nil {
			// Pages stay up when a store is down; the visitor just appears signed out.
			s.log.WarnContext(c.Request.Context(), "page without identity", "err", err)
			p = nil
		}
		s.render(c, http.StatusOK, name, p)
	}
}

// pageFor renders a page for signed-in callers with one of roles (any role when none given).
func (s *Server) pageFor(name string, roles ...accounts.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := s.identify(c)
		if err != nil {
			s.log.WarnContext(c.Request.Context(), "page without identity", "err", err)
			s.render(c, http.StatusServiceUnavailable, "error", nil)
			return
		}
		if p == nil {
			c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
			return
		}
		if len(roles) > 0 && !slices.Contains(roles, p.account.Role) {
			s.render(c, http.StatusForbidden, "error", p)
			return
		}
		s.render(c, http.StatusOK, name, p)
	}
}

func (s *Server) render(c *gin.Context, status int, name string, p *principal) {
	var data any
	if name == "home" {
		data = s.homeData(c, p)
	}
	s.renderData(c, status, name, p, data)
}

// renderData renders a page with its own data (web.PageData.Data).
func (s *Server) renderData(c *gin.Context, status int, name string, p *principal, data any) {
	d := web.PageData{
		Data:   data,
		Lang:   lang(c),
		Page:   name,
		Path:   c.Request.URL.Path,
		Nonce:  c.GetString(ctxNonce),
		Status: status,
		Next:   safeNext(c.Query("next")),
	}
	if p != nil {
		a := p.account
		d.Viewer = &web.Viewer{Name: a.Name, DisplayName: a.DisplayName, Role: string(a.Role), Unit: a.Unit}
		if p.session != nil {
			d.CSRF = p.session.CSRF
		}
		if a.Role == accounts.Admin && strings.HasPrefix(name, "admin_") {
			tree, _, err := s.Units.LoadUnits(c.Request.Context())
			if err != nil {
				s.log.WarnContext(c.Request.Context(), "units for page", "err", err)
				status, d.Page = http.StatusServiceUnavailable, "error"
				d.Status = status
			}
			d.Units = tree.Units
		}
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.Status(status)
	if err := s.Web.Render(c.Writer, d); err != nil {
		s.log.ErrorContext(c.Request.Context(), "render page", "page", name, "err", err)
	}
}

// safeNext keeps only a path on this site, so that the login page cannot send people
// elsewhere. Browsers drop tabs and newlines and read backslashes as slashes before they
// follow a URL, so "/\t/host" would leave the site: any control character or backslash is
// refused outright, and what remains must parse as a path with no scheme or host.
func safeNext(next string) string {
	if len(next) > maxNextLen || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < ' ' || r == 0x7f || r == '\\' }) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return next
}

// maxNextLen bounds the return path that the login page carries.
const maxNextLen = 2048

func (s *Server) notFound(c *gin.Context) {
	if isAPI(c.Request.URL.Path) || strings.Contains(c.GetHeader("Accept"), "json") {
		s.abort(c, problem.NotFound)
		return
	}
	s.render(c, http.StatusNotFound, "notfound", nil)
}
