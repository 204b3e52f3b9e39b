package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/imageservice"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/media/iiif"
)

// The IIIF Image API 3.0 of the library's still images (see internal/imageservice). A published
// item's images are anyone's, from any origin, and cacheable; a draft's only for those who may
// read the item, as for its other files.

const iiifContext = "http://iiif.io/api/image/3/context.json"

// iiifBase sends the bare identifier on to its info.json, as the Image API asks (303).
func (s *Server) iiifBase(c *gin.Context) {
	if _, _, _, ok := s.iiifAccess(c); !ok {
		return
	}
	c.Redirect(http.StatusSeeOther, s.iiifID(c)+"/info.json")
}

// iiifInfo answers info.json: the size, tiles, sizes and exactly the features offered.
func (s *Server) iiifInfo(c *gin.Context) {
	item, sha, public, ok := s.iiifAccess(c)
	if !ok {
		return
	}
	info, err := s.Images.Info(c.Request.Context(), item, sha, s.iiifID(c))
	if err != nil {
		s.iiifFail(c, err)
		return
	}
	h := c.Writer.Header()
	s.iiifHeaders(h, public)
	ctype := "application/json"
	if strings.Contains(c.GetHeader("Accept"), "application/ld+json") {
		ctype = `application/ld+json;profile="` + iiifContext + `"`
	}
	h.Set("Link", `<http://iiif.io/api/image/3/level2.json>;rel="profile"`)
	data, err := json.Marshal(info)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, ctype, data)
}

// iiifImage answers {region}/{size}/{rotation}/{quality}.{format}: a stored tile as it is, any
// other request cut from the pyramid. Conditional requests are answered before any cut.
func (s *Server) iiifImage(c *gin.Context) {
	item, sha, public, ok := s.iiifAccess(c)
	if !ok {
		return
	}
	params := [4]string{c.Param("region"), c.Param("size"), c.Param("rotation"), c.Param("file")}
	h := c.Writer.Header()
	etag := iiifETag(c.Param("identifier"), params)
	if match := c.GetHeader("If-None-Match"); match != "" && strings.Contains(match, etag) {
		s.iiifHeaders(h, public)
		h.Set("ETag", etag)
		c.Status(http.StatusNotModified)
		return
	}
	ans, err := s.Images.Image(c.Request.Context(), item, sha, c.ClientIP(), params)
	if err != nil {
		s.iiifFail(c, err)
		return
	}
	s.iiifHeaders(h, public)
	h.Set("ETag", etag)
	h.Set("Content-Type", ans.MediaType)
	h.Set("Link", `<http://iiif.io/api/image/3/level2.json>;rel="profile"`)
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(ans.Body))
}

// iiifAccess finds the image the identifier names and says whether the public may have it;
// it answers 404 itself for an identifier that names nothing the caller may see.
func (s *Server) iiifAccess(c *gin.Context) (item, sha string, public, ok bool) {
	item, sha, ok = imageservice.ParseIdentifier(c.Param("identifier"))
	if !ok {
		s.abort(c, problem.NotFound)
		return "", "", false, false
	}
	if s.published.HasFile(item, sha) {
		return item, sha, true, true
	}
	_, _, public, ok = s.fileForReader(c, item, sha)
	return item, sha, public, ok
}

// iiifID is the image service's URL ("id" of info.json).
func (s *Server) iiifID(c *gin.Context) string {
	return s.publicBase(c) + "/iiif/3/" + c.Param("identifier")
}

func (s *Server) iiifHeaders(h http.Header, public bool) {
	s.setCache(h, public, 0)
	if public {
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	}
	h.Set("Vary", "Accept")
}

// iiifETag names an answer: the same request of the same content is the same image.
func iiifETag(identifier string, params [4]string) string {
	sum := sha256.Sum256([]byte(identifier + "/" + strings.Join(params[:], "/")))
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// iiifFail answers the Image API's own errors as it asks (plain text with the reason: 400 for
// a request that breaks it or asks beyond the limits, 501 for a feature not offered); others
// as every API error.
func (s *Server) iiifFail(c *gin.Context, err error) {
	var busy *imageservice.BusyError
	if errors.Is(err, iiif.ErrBadRequest) || errors.Is(err, iiif.ErrNotImplemented) || errors.As(err, &busy) {
		// A viewer on another site must see why it was refused, or when to try again; these
		// answers say nothing of the image.
		c.Header("Access-Control-Allow-Origin", "*")
	}
	switch {
	case errors.Is(err, iiif.ErrBadRequest):
		iiifText(c, http.StatusBadRequest, err)
	case errors.Is(err, iiif.ErrNotImplemented):
		iiifText(c, http.StatusNotImplemented, err)
	case errors.Is(err, imageservice.ErrNotFound):
		s.abort(c, problem.NotFound)
	case errors.As(err, &busy):
		secs := max(1, int(busy.After.Round(time.Second)/time.Second))
		d := problem.New(lang(c), problem.RateLimited, secs)
		if busy.Global {
			d = problem.New(lang(c), problem.Unavailable, "iiif")
			d.Detail = i18n.T(lang(c), "iiif.busy", secs)
		}
		d.RetryAfter = secs
		s.abortWith(c, d)
	default:
		s.fail(c, err)
	}
}

func iiifText(c *gin.Context, status int, err error) {
	c.Header("Content-Type", "text/plain; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.Status(status)
	_, _ = io.WriteString(c.Writer, err.Error()+"\n")
	c.Abort()
}
