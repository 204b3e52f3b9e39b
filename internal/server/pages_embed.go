package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/web"
)

// Embeddable players: pages that other sites (the provincial culture cloud, a district
// library, a WeChat article) show in a frame. Every other page refuses to be framed by
// another site (X-Frame-Options and frame-ancestors 'self', see setSecurityHeaders); these
// allow the sites of live.embed_origins. The page is one template (embed.html) keyed by
// what plays: a lecture, or a guided tour with the walkthrough that follows its guide.

// frameAncestors is the CSP frame-ancestors source list of the embeddable pages.
func frameAncestors(embedOrigins string) string {
	if strings.TrimSpace(embedOrigins) == "*" {
		return "*"
	}
	return strings.Join(append([]string{"'self'"}, config.List(embedOrigins)...), " ")
}

// embeddable lets the sites of live.embed_origins frame the page. X-Frame-Options cannot
// name several sites, so it goes; browsers obey frame-ancestors instead.
func (s *Server) embeddable(c *gin.Context) {
	h := c.Writer.Header()
	h.Del("X-Frame-Options")
	h.Set("Content-Security-Policy", contentSecurityPolicy(c.GetString(ctxNonce), s.uploadOrigin(), s.embedAncestors))
	c.Next()
}

// lectureEmbedPage is /embed/lectures/{id}: the lecture's live player, its replay once
// ready, or when it starts.
func (s *Server) lectureEmbedPage(c *gin.Context) { s.embedPage(c, "lecture") }

// tourEmbedPage is /embed/tours/{id}: a guided tour's player with the exhibition's
// walkthrough following the guide, live or by the replay's kept track; not found for a
// lecture that is no tour.
func (s *Server) tourEmbedPage(c *gin.Context) { s.embedPage(c, "tour") }

func (s *Server) embedPage(c *gin.Context, kind string) {
	p := s.pagePrincipal(c)
	lec, tree, _, ok := s.pageLecture(c, p)
	if !ok {
		return
	}
	if kind == "tour" && lec.Exhibition == "" {
		s.render(c, http.StatusNotFound, "notfound", p)
		return
	}
	ctx := c.Request.Context()
	d := &web.EmbedData{Kind: kind, LectureData: lectureData(lang(c), tree, lec, p, false), PageURL: "/lectures/" + lec.ID}
	if lec.State == lectures.ReplayReady && lec.ReplayItem != "" && d.MayWatch {
		d.Replay = s.replayVideo(ctx, lang(c), lec.ReplayItem)
	}
	if kind == "tour" && d.MayWatch {
		d.Tour = s.tourWalk(ctx, lec.Exhibition)
		if d.Replay != nil {
			d.Track = s.replayTrack(ctx, lec.ReplayItem)
		}
	}
	s.renderData(c, http.StatusOK, "embed", p, d)
}

// replayVideo is the first video of a published replay item as its page plays it (the HLS
// stream, the original only where the licence allows); nil when there is none to play.
func (s *Server) replayVideo(ctx context.Context, l i18n.Lang, item string) *web.FileView {
	it, err := s.Library.Get(ctx, item)
	if err != nil || it.Status != library.Published {
		if err != nil {
			s.log.WarnContext(ctx, "embed: replay item", "item", item, "err", err)
		}
		return nil
	}
	tree, _, err := s.Units.LoadUnits(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "embed: units", "err", err)
	}
	d := s.itemData(l, it, &tree)
	s.addStreams(ctx, it, d)
	if !d.CanDownload {
		s.withoutOriginals(ctx, it, d)
	}
	for i := range d.Files {
		if f := d.Files[i]; f.Kind == "video" && (f.Stream != "" || f.URL != "") {
			return &f
		}
	}
	return nil
}
