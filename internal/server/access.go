package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/problem"
)

// fileForReader loads an item and checks that the caller may have what was made of its file
// with digest sha (thumbnails, posters, streams): anyone when the file belongs to the head
// version of a published item; staff who may edit the item for any file, since its history
// keeps removed ones. Others get 404, as for a file that never was. public says whether the
// answer may be kept by shared caches.
func (s *Server) fileForReader(c *gin.Context, id, sha string) (it library.Item, p *principal, public, ok bool) {
	it, p, ok = s.itemForReader(c, id)
	if !ok {
		return library.Item{}, nil, false, false
	}
	if it.Status != library.Published {
		return it, p, false, true // itemForReader let only staff through
	}
	s.published.Add(it)
	if hasFile(it, sha) {
		return it, p, true, true
	}
	if !s.mayEditItem(c, p, it) {
		s.abort(c, problem.NotFound)
		return library.Item{}, nil, false, false
	}
	return it, p, false, true
}

// mayDownload reports whether the caller may have the item's files whole (originals and
// download copies): anyone when its licence allows downloads, else only staff who may edit
// it. The public gets the streams and thumbnails of the others ("view online only").
func (s *Server) mayDownload(c *gin.Context, p *principal, it library.Item) bool {
	return s.licenceAllowsDownload(it) || s.mayEditItem(c, p, it)
}

func (s *Server) licenceAllowsDownload(it library.Item) bool {
	t, ok := library.Find(s.Library.Vocabulary().Licences, it.Licence)
	return ok && t.Download
}

// abortViewOnly refuses a whole file of an item that may be viewed online only.
func (s *Server) abortViewOnly(c *gin.Context, it library.Item) {
	l := lang(c)
	d := problem.New(l, problem.Forbidden)
	d.Detail = i18n.T(l, "problem.view_only.detail", s.licenceName(l, it.Licence))
	s.abortWith(c, d)
}

func (s *Server) licenceName(l i18n.Lang, id string) string {
	t, ok := library.Find(s.Library.Vocabulary().Licences, id)
	switch {
	case !ok:
		return id
	case l == i18n.EN:
		return t.EN
	}
	return t.ZH
}

func hasFile(it library.Item, sha string) bool {
	for _, f := range it.Files {
		if f.SHA256 == sha {
			return true
		}
	}
	return false
}

// setCache lets any cache keep a public answer for at most http.public_cache_max_age (and at
// most atMost, when shorter), and no cache keep the others: what a visitor may no longer see
// (a file removed, an item withdrawn) must not outlive that bound in a CDN.
func (s *Server) setCache(h http.Header, public bool, atMost time.Duration) {
	if !public {
		h.Set("Cache-Control", "private, no-store")
		return
	}
	h.Set("Cache-Control", s.publicCache(atMost))
}

func (s *Server) publicCache(atMost time.Duration) string {
	age := s.Config.HTTP.PublicCacheMaxAge
	if atMost > 0 && atMost < age {
		age = atMost
	}
	return "public, max-age=" + strconv.Itoa(int(age.Seconds()))
}
