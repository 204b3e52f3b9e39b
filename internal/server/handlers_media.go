package server

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/transcoding"
)

type mediaView struct {
	State    string   `json:"state"`
	Percent  float64  `json:"percent"`
	ETA      string   `json:"eta,omitempty"`
	Error    string   `json:"error,omitempty"`
	Master   string   `json:"master,omitempty"`
	Poster   string   `json:"poster,omitempty"`
	Sprite   string   `json:"sprite_vtt,omitempty"`
	Download string   `json:"download,omitempty"`
	Waveform string   `json:"waveform,omitempty"`
	Duration float64  `json:"duration,omitempty"`
	Rungs    []string `json:"rungs,omitempty"`
}

// itemMedia tells the player where each video or audio file's stream is, or how far its
// transcoding is; why one failed is shown to staff only.
func (s *Server) itemMedia(c *gin.Context) {
	it, p, ok := s.itemForReader(c, c.Param("id"))
	if !ok {
		return
	}
	rec, err := s.Transcoding.Get(c.Request.Context(), it.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	staff := s.mayEditItem(c, p, it)
	download := staff || s.licenceAllowsDownload(it)
	out := map[string]mediaView{}
	for _, f := range it.Files {
		if !transcoding.IsMedia(f.MediaType) {
			continue
		}
		m, ok := rec.Files[f.Path]
		if !ok || m.SHA256 != f.SHA256 {
			out[f.Path] = mediaView{State: transcoding.Queued}
			continue
		}
		base := "/api/v1/items/" + it.ID + "/media/" + m.SHA256 + "/"
		url := func(name string) string {
			if name == "" || m.State != transcoding.Done {
				return ""
			}
			return base + name
		}
		v := mediaView{State: m.State, Percent: m.Percent, ETA: m.ETA, Master: url(m.Master), Poster: url(m.Poster),
			Sprite: url(m.SpriteVTT), Waveform: url(m.Waveform), Duration: m.Duration}
		if download {
			v.Download = url(m.Download)
		}
		for _, r := range m.Rungs {
			v.Rungs = append(v.Rungs, r.Name)
		}
		if staff {
			v.Error = m.Error
		}
		out[f.Path] = v
	}
	c.Header("Cache-Control", "no-cache")
	c.JSON(http.StatusOK, gin.H{"files": out})
}

// mediaFile serves playlists and segments: public and cacheable for the files of a
// published item's head version, private for staff (drafts, files removed since), 404 for
// anyone else. Their URLs (content digests) are no secret: whoever saw a file once knows them.
//
// A player fetches a segment every few seconds, so what the item publishes is taken from a
// short-lived cache rather than read from MinIO each time.
func (s *Server) mediaFile(c *gin.Context) {
	id, sha := c.Param("id"), c.Param("sha")
	name := strings.TrimPrefix(c.Param("name"), "/")
	download := transcoding.IsDownload(name)
	published := !download && s.published.HasFile(id, sha) // downloads are rare: checked in full
	var modified time.Time
	if !published {
		it, p, public, ok := s.fileForReader(c, id, sha)
		if !ok {
			return
		}
		if download && !s.mayDownload(c, p, it) {
			s.abortViewOnly(c, it)
			return
		}
		published, modified = public, it.UpdatedAt
	}
	if published && !strings.HasSuffix(name, ".m3u8") {
		// Segments, posters and downloads of published items come straight from MinIO by a
		// short-lived signed URL: the bytes do not pass through this process. Playlists stay
		// here, so that their relative segment names lead back through this check.
		u, err := s.Transcoding.Presign(c.Request.Context(), id, sha, name, s.publicCache(signedURLLifetime), signedURLLifetime)
		if errors.Is(err, transcoding.ErrNotFound) {
			s.abort(c, problem.NotFound)
			return
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		h := c.Writer.Header()
		s.setCache(h, true, redirectMaxAge) // well inside the URL's lifetime
		c.Redirect(http.StatusFound, u.String())
		return
	}
	obj, ctype, err := s.Transcoding.Open(c.Request.Context(), id, sha, name)
	if errors.Is(err, transcoding.ErrNotFound) {
		s.abort(c, problem.NotFound)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	defer obj.Close()
	h := c.Writer.Header()
	if c.GetHeader("Range") == "" {
		// The common case, a whole segment: one GET to MinIO, whose answer carries the size.
		buf := segmentBuffers.Get().(*[]byte)
		defer segmentBuffers.Put(buf)
		n, err := io.ReadFull(obj, *buf)
		whole := err != nil // the object ended inside the buffer
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			s.fail(c, err)
			return
		}
		info, err := obj.Stat() // known from the GET: no request
		if err != nil {
			s.fail(c, err)
			return
		}
		h.Set("Content-Type", ctype)
		if whole {
			h.Set("Content-Length", strconv.Itoa(n)) // larger ones go out chunked
		}
		h.Set("Accept-Ranges", "bytes")
		h.Set("ETag", `"`+info.ETag+`"`)
		s.setMediaCache(h, published, name)
		c.Status(http.StatusOK)
		if c.Request.Method == http.MethodHead {
			return
		}
		_, _ = c.Writer.Write((*buf)[:n])
		if !whole {
			rest := &readFailure{r: obj}
			_, _ = io.CopyBuffer(writerOnly{c.Writer}, rest, *buf)
			if rest.err != nil {
				s.abortBody(c, rest.err)
			}
		}
		return
	}
	h.Set("Content-Type", ctype)
	s.setMediaCache(h, published, name)
	s.serveStored(c, obj, modified)
}

const (
	// signedURLLifetime is how long a signed URL of a segment stays valid.
	signedURLLifetime = time.Hour
	// redirectMaxAge bounds how long a redirect to a signed URL is cached.
	redirectMaxAge = 5 * time.Minute
	// playlistMaxAge bounds how long a playlist is cached (a live replay's grows).
	playlistMaxAge = time.Minute
)

func (s *Server) setMediaCache(h http.Header, published bool, name string) {
	if strings.HasSuffix(name, ".m3u8") {
		s.setCache(h, published, playlistMaxAge)
		return
	}
	s.setCache(h, published, 0)
}

// segmentBuffers hold most segments whole (a 2 s rung at 4.5 Mbit/s is about 1.1 MB) and
// are reused, so that serving a segment costs few reads and writes and no garbage.
var segmentBuffers = sync.Pool{New: func() any {
	b := make([]byte, 1<<20)
	return &b
}}

// writerOnly hides ReadFrom, so that io.CopyBuffer uses the pooled buffer.
type writerOnly struct{ io.Writer }
