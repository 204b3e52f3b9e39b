package server

// Captions: WebVTT files per language for an item's video and audio files. They live in the
// transcoder's folder of the file (whose cleaning leaves "captions-" names alone). The global
// body limit (http.max_body_bytes) bounds an upload before maxCaptionBytes does.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/transcoding"
	"github.com/shizuishan/culturecloud/media/captions"
)

// captionStore keeps captions files by key; media/captions.Store is the MinIO one. Get
// answers captions.ErrNotFound when nothing is stored.
type captionStore interface {
	Put(ctx context.Context, key string, data []byte) error
	Get(ctx context.Context, key string) ([]byte, error)
}

// maxCaptionBytes bounds an uploaded captions file.
const maxCaptionBytes = 2 << 20

// captionLangs are the languages captions may be given in.
var captionLangs = []string{"zh", "en"}

// captionKey is where the captions of the item's media file named in the URL are kept; it
// answers 404 itself when the language is not one of captionLangs or the SHA-256 is not that
// of one of the item's video or audio files.
func (s *Server) captionKey(c *gin.Context, it library.Item) (string, bool) {
	code, sha := c.Param("lang"), c.Param("sha")
	if slices.Contains(captionLangs, code) {
		for _, f := range it.Files {
			if f.SHA256 == sha && transcoding.IsMedia(f.MediaType) {
				return transcoding.Folder(it.ID, sha) + "captions-" + code + ".vtt", true
			}
		}
	}
	s.abort(c, problem.NotFound)
	return "", false
}

// putCaptions checks, normalises and stores a WebVTT file; a broken one changes nothing.
func (s *Server) putCaptions(store captionStore) gin.HandlerFunc {
	return func(c *gin.Context) { s.storeCaptions(c, store) }
}

func (s *Server) storeCaptions(c *gin.Context, store captionStore) {
	it, ok := s.staffItem(c)
	if !ok {
		return
	}
	key, ok := s.captionKey(c, it)
	if !ok {
		return
	}
	l := lang(c)
	mt, params, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "text/vtt" || params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8") {
		d := problem.New(l, problem.UnsupportedMediaType)
		d.Detail = localised(l, "请以 text/vtt（UTF-8 编码的 WebVTT）发送字幕文件。", "Send the captions as text/vtt: WebVTT in UTF-8.")
		s.abortWith(c, d)
		return
	}
	f, err := captions.Parse(c.Request.Body, maxCaptionBytes)
	var tooLarge *http.MaxBytesError
	var bad *captions.ParseError
	switch {
	case errors.As(err, &tooLarge):
		s.abort(c, problem.BodyTooLarge, tooLarge.Limit)
		return
	case errors.Is(err, captions.ErrTooLarge):
		s.abort(c, problem.BodyTooLarge, maxCaptionBytes)
		return
	case errors.As(err, &bad):
		s.abortWith(c, captionsProblem(l, bad.Line, bad.Reason))
		return
	case err != nil:
		d := problem.New(l, problem.BadRequest)
		d.Detail = localised(l, "无法读取请求正文。", "The request body could not be read.")
		s.abortWith(c, d)
		return
	case len(f.Cues) == 0:
		s.abortWith(c, captionsProblem(l, 0, "the file has no cues"))
		return
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		s.fail(c, err)
		return
	}
	if err := store.Put(c.Request.Context(), key, buf.Bytes()); err != nil {
		s.fail(c, captionStoreErr(err))
		return
	}
	c.Status(http.StatusNoContent)
}

// itemCaptions serves stored captions to whoever may see the item.
func (s *Server) itemCaptions(store captionStore) gin.HandlerFunc {
	return func(c *gin.Context) { s.serveCaptions(c, store) }
}

func (s *Server) serveCaptions(c *gin.Context, store captionStore) {
	it, _, ok := s.itemForReader(c, c.Param("id"))
	if !ok {
		return
	}
	key, ok := s.captionKey(c, it)
	if !ok {
		return
	}
	data, err := store.Get(c.Request.Context(), key)
	if errors.Is(err, captions.ErrNotFound) {
		s.abort(c, problem.NotFound)
		return
	}
	if err != nil {
		s.fail(c, captionStoreErr(err))
		return
	}
	sum := sha256.Sum256(data)
	h := c.Writer.Header()
	h.Set("Content-Type", captions.ContentType)
	h.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	if it.Status == library.Published {
		h.Set("Cache-Control", "public, max-age=60") // staff may replace them under the same URL
	} else {
		h.Set("Cache-Control", "private, no-store")
	}
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(data))
}

// captionsProblem is the 422 of a broken captions file: errors[0] is the field "captions",
// code "webvtt", and its message (and the detail) name the line. The reason is the
// parser's, in English; the i18n catalogue has no captions keys yet.
func captionsProblem(l i18n.Lang, line int, reason string) problem.Details {
	msg := reason
	if line > 0 {
		msg = localised(l, fmt.Sprintf("第 %d 行：%s", line, reason), fmt.Sprintf("line %d: %s", line, reason))
	}
	d := problem.New(l, problem.Validation)
	d.Detail = localised(l, "字幕文件有误，未作任何修改：", "The captions file is broken; nothing was changed: ") + msg
	d.Errors = []problem.FieldError{{Field: "captions", Code: "webvtt", Message: msg}}
	return d
}

// captionStoreErr reports a storage failure as MinIO being unavailable (503).
func captionStoreErr(err error) error {
	if errors.Is(err, captions.ErrUnavailable) {
		return dep.Unavailable(dep.MinIO, err)
	}
	return err
}

// localised picks the text for the caller's language, for the few captions texts that have
// no key in the i18n catalogue.
func localised(l i18n.Lang, zh, en string) string {
	if l == i18n.EN {
		return en
	}
	return zh
}
