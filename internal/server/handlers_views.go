package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/indexer"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/sessions"
)

const viewerCookie = "cc_vid"

// visitor is the visitor's first-party cookie id, made at random on first sight (minted).
// Readers on the shared PCs of a library reading room have one IP and one browser but are
// different people; a random cookie keeps them apart, where a hash of IP and agent would not.
// The id is kept on the request, so that everything the request counts counts one visitor.
type visitor struct {
	cookie string
	minted bool
}

const visitorKey = "cc.visitor"

func (s *Server) visitorOf(c *gin.Context) visitor {
	if v, ok := c.Get(visitorKey); ok {
		return v.(visitor)
	}
	id, err := c.Cookie(viewerCookie)
	v := visitor{cookie: id}
	if err != nil || len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		v = visitor{cookie: hex.EncodeToString(b), minted: true}
		http.SetCookie(c.Writer, &http.Cookie{Name: viewerCookie, Value: v.cookie, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookies(c)})
	}
	c.Set(visitorKey, v)
	return v
}

// viewer is the visitor's viewer id for the view counter.
func (s *Server) viewer(c *gin.Context) string {
	return s.Views.ViewerID(s.visitorOf(c).cookie, c.ClientIP(), c.Request.UserAgent())
}

// countView counts a view of target by the request's visitor within the views.* limits
// (takeView). Over a limit, nothing is counted and wait says when to try again.
func (s *Server) countView(c *gin.Context, target string) (counted bool, wait time.Duration, err error) {
	viewer, wait, err := s.takeView(c, "views")
	if err != nil || wait > 0 {
		return false, wait, err
	}
	counted, err = s.Views.Record(c.Request.Context(), target, viewer, time.Now())
	return counted, 0, err
}

// takeView takes one place in the views.* limits for the request's visitor, per visitor, per
// client IP and for the whole site, and returns the viewer id to count under. Budget names
// the limits' counters: "views", or "dwell" for the reports of time spent, which come with
// the views and would otherwise halve what a visitor walking an exhibition may count. A client that
// sends no cookie back gets a new visitor id on every request; past
// views.max_new_visitors_per_ip of those per IP, it is counted under the keyed hash of its IP
// and browser instead, so that it can neither add unique visitors nor escape the dedupe
// window. Over a limit, wait says when to try again.
func (s *Server) takeView(c *gin.Context, budget string) (viewer string, wait time.Duration, err error) {
	ctx := c.Request.Context()
	lim := s.Config.Views
	ip := c.ClientIP()
	v := s.visitorOf(c)
	viewer = s.viewer(c)
	if v.minted {
		tooMany, _, err := s.ViewLimiter.Take(ctx, sessions.Limit{Key: "views:new:" + ip, Max: lim.MaxNewVisitorsPerIP})
		if err != nil {
			return "", 0, err
		}
		if tooMany {
			viewer = s.Views.ViewerID("", ip, c.Request.UserAgent())
		}
	}
	blocked, wait, err := s.ViewLimiter.Take(ctx,
		sessions.Limit{Key: budget + ":all", Max: lim.MaxGlobal},
		sessions.Limit{Key: budget + ":ip:" + ip, Max: lim.MaxPerIP},
		sessions.Limit{Key: budget + ":v:" + viewer, Max: lim.MaxPerVisitor})
	if err != nil {
		return "", 0, err
	}
	if blocked {
		return "", max(wait, time.Second), nil
	}
	return viewer, 0, nil
}

// countViewOrRefuse counts a view for an API call, answering 429 with Retry-After over a
// limit; it reports whether the handler may go on.
func (s *Server) countViewOrRefuse(c *gin.Context, target string) (counted, ok bool) {
	counted, wait, err := s.countView(c, target)
	if err != nil {
		s.fail(c, err)
		return false, false
	}
	if wait > 0 {
		s.tooMany(c, wait)
		return false, false
	}
	return counted, true
}

// recordView counts a view of a published item (page open or media play) and answers the
// fresh counts.
func (s *Server) recordView(c *gin.Context) {
	id := c.Param("id")
	if !s.published.Has(id) {
		it, err := s.Library.Get(c.Request.Context(), id)
		if err != nil || it.Status != library.Published {
			if err == nil || errors.Is(err, library.ErrNotFound) {
				s.abort(c, problem.NotFound)
				return
			}
			s.fail(c, err)
			return
		}
		s.published.Add(it)
	}
	target := indexer.ItemTarget(id)
	counted, ok := s.countViewOrRefuse(c, target)
	if !ok {
		return
	}
	st, err := s.Views.Stats(c.Request.Context(), target, time.Now())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"counted": counted, "stats": st})
}

func (s *Server) itemStats(c *gin.Context) {
	if _, _, ok := s.itemForReader(c, c.Param("id")); !ok {
		return
	}
	st, err := s.Views.Stats(c.Request.Context(), indexer.ItemTarget(c.Param("id")), time.Now())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

type trendingItem struct {
	ID    string  `json:"id"`
	Title string  `json:"title"`
	Theme string  `json:"theme"`
	Score float64 `json:"score"`
}

// trending lists the most viewed published items of the last seven days.
func (s *Server) trending(c *gin.Context) {
	ranked, err := s.Views.Trending(c.Request.Context(), "item:", 30, time.Now())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := []trendingItem{}
	for _, r := range ranked {
		if len(out) == 10 {
			break
		}
		it, err := s.Library.Get(c.Request.Context(), strings.TrimPrefix(r.Target, "item:"))
		if err != nil || it.Status != library.Published {
			continue // withdrawn since, or unreadable now: leave it out
		}
		out = append(out, trendingItem{ID: it.ID, Title: it.Title, Theme: it.Theme, Score: r.Score})
	}
	c.Header("Cache-Control", "public, max-age=60")
	c.JSON(http.StatusOK, gin.H{"items": out})
}
