package server

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/manifests"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/sessions"
	"github.com/shizuishan/culturecloud/search"
)

// manifestMaxAge bounds how long others cache a Manifest: it changes when an item is edited
// or its renditions are made, and a withdrawal must not linger for long.
const manifestMaxAge = 5 * time.Minute

// themeCollectionLimit is the most items a theme's Collection lists, newest first:
// Presentation 3 has no paging, and harvesters walk the curated collections too.
const themeCollectionLimit = 1000

// anyOrigin lets pages of any site read the answer (IIIF viewers embedded anywhere).
func anyOrigin(c *gin.Context) {
	c.Header("Access-Control-Allow-Origin", "*")
	c.Next()
}

// manifestLimit counts a Presentation document read by someone who is not staff against
// the iiif.max_manifests_* limits, per client IP and for the site: each reads many records.
func (s *Server) manifestLimit(c *gin.Context) {
	p, err := s.identify(c)
	if err != nil {
		p = nil // a bad or stale session reads as anonymous here
	}
	if p != nil && slices.Contains(staffRoles, p.account.Role) {
		c.Next()
		return
	}
	lim := s.Config.IIIF
	blocked, wait, err := s.ViewLimiter.Take(c.Request.Context(),
		sessions.Limit{Key: "iiif:manifests:all", Max: lim.MaxManifestsGlobal},
		sessions.Limit{Key: "iiif:manifests:ip:" + c.ClientIP(), Max: lim.MaxManifestsPerIP})
	switch {
	case err != nil:
		s.fail(c, err)
		c.Abort()
	case blocked:
		s.tooMany(c, max(wait, time.Second))
	default:
		c.Next()
	}
}

// iiifJSON answers a Presentation document that any site may read.
func (s *Server) iiifJSON(c *gin.Context, doc any) {
	s.setCache(c.Writer.Header(), true, manifestMaxAge)
	body, err := json.Marshal(doc)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, manifests.MediaType, body)
}

// itemManifest is GET /iiif/items/{id}/manifest: published items only.
func (s *Server) itemManifest(c *gin.Context) {
	it, err := s.Library.Get(c.Request.Context(), c.Param("id"))
	if err == nil && it.Status != library.Published {
		err = library.ErrNotFound
	}
	var m manifests.Manifest
	if err == nil {
		m, err = s.Manifests.Item(c.Request.Context(), s.publicBase(c), it)
	}
	if errors.Is(err, manifests.ErrNoContent) {
		s.abort(c, problem.NotFound)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.iiifJSON(c, m)
}

// collectionManifest is GET /iiif/collections/{id}: a curated collection's published items.
func (s *Server) collectionManifest(c *gin.Context) {
	ctx := c.Request.Context()
	col, err := s.Collections.Get(ctx, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	var members []manifests.Member
	for _, id := range col.Items {
		it, err := s.Library.Get(ctx, id)
		if errors.Is(err, library.ErrNotFound) {
			continue
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		if it.Status == library.Published {
			members = append(members, s.Manifests.Member(ctx, s.publicBase(c), it))
		}
	}
	s.iiifJSON(c, s.Manifests.Collection(s.publicBase(c), "/iiif/collections/"+col.ID,
		manifests.LanguageMap{"zh": {col.Title}}, cmp.Or(col.Description, "石嘴山记忆专辑「"+col.Title+"」中已发布的条目。"), members))
}

// themeManifest is GET /iiif/themes/{theme}: the published items of a theme, newest first.
func (s *Server) themeManifest(c *gin.Context) {
	theme, ok := library.Find(s.Library.Vocabulary().Themes, c.Param("theme"))
	if !ok {
		s.abort(c, problem.NotFound)
		return
	}
	base := s.publicBase(c)
	var members []manifests.Member
	for page := 1; len(members) < themeCollectionLimit; page++ {
		res, err := s.Search.SearchItems(c.Request.Context(), search.ItemQuery{Theme: theme.ID, Sort: "newest", Page: page, PerPage: 100})
		if err != nil {
			s.fail(c, err)
			return
		}
		for _, h := range res.Hits {
			members = append(members, manifests.HitMember(base, h.ID, h.Title, h.Thumb))
		}
		if int64(page) >= res.TotalPages {
			break
		}
	}
	s.iiifJSON(c, s.Manifests.Collection(base, "/iiif/themes/"+theme.ID,
		manifests.LanguageMap{"zh": {theme.ZH}, "en": {theme.EN}}, "石嘴山记忆 · "+theme.ZH+"专题中已发布的条目，最新的在前。", members))
}

// libraryManifest is GET /iiif/collection: the whole library, by theme and by curated
// collection; where an aggregator starts.
func (s *Server) libraryManifest(c *gin.Context) {
	base := s.publicBase(c)
	var members []manifests.Member
	for _, t := range s.Library.Vocabulary().Themes {
		members = append(members, manifests.Member{ID: base + "/iiif/themes/" + t.ID, Type: "Collection",
			Label: manifests.LanguageMap{"zh": {t.ZH}, "en": {t.EN}}})
	}
	cols, err := s.Collections.List(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	for _, col := range cols {
		members = append(members, manifests.Member{ID: base + "/iiif/collections/" + col.ID, Type: "Collection",
			Label: manifests.LanguageMap{"zh": {col.Title}}})
	}
	s.iiifJSON(c, s.Manifests.Collection(base, "/iiif/collection",
		manifests.LanguageMap{"zh": {"石嘴山记忆"}, "en": {"Shizuishan Memory"}},
		"石嘴山记忆资源库：按专题和专辑浏览。", members))
}

// exhibitionManifest is GET /iiif/exhibitions/{id}/manifest: a published exhibition as the
// public sees it, its sections as Ranges.
func (s *Server) exhibitionManifest(c *gin.Context) {
	ctx := c.Request.Context()
	v, err := s.Exhibitions.View(ctx, nil, c.Param("id"))
	var m manifests.Manifest
	if err == nil {
		m, err = s.Manifests.Exhibition(ctx, s.publicBase(c), v.Exhibition)
	}
	if errors.Is(err, manifests.ErrNoContent) {
		s.abort(c, problem.NotFound)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.iiifJSON(c, m)
}
