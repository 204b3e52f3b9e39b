package server

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/fixity"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/manifests"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/validate"
	"github.com/shizuishan/culturecloud/search"
)

func (s *Server) vocabulary(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.JSON(http.StatusOK, s.Library.Vocabulary())
}

// searchItems is the public search over published items.
func (s *Server) searchItems(c *gin.Context) {
	q, problems := search.ParseItemQuery(c.Query)
	if len(problems) > 0 {
		var errs validate.Errors
		for field, code := range problems {
			switch code {
			case "range":
				errs.Add(field, "range_any")
			case "too_long":
				errs.Add(field, "too_long", 200)
			default:
				errs.Add(field, code)
			}
		}
		s.fail(c, errs)
		return
	}
	res, err := s.Search.SearchItems(c.Request.Context(), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

// itemForReader loads an item and checks that the caller may see it: anyone a published
// item, staff who may edit it every state. Other staff are told whose it is (403); anyone
// else gets 404, so drafts stay unguessable.
func (s *Server) itemForReader(c *gin.Context, id string) (library.Item, *principal, bool) {
	it, err := s.Library.Get(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return library.Item{}, nil, false
	}
	p, err := s.identify(c)
	if err != nil && it.Status != library.Published {
		s.fail(c, err)
		return library.Item{}, nil, false
	}
	if it.Status == library.Published {
		return it, p, true
	}
	if p != nil {
		tree, _, err := s.Units.LoadUnits(c.Request.Context())
		if err != nil {
			s.fail(c, err)
			return library.Item{}, nil, false
		}
		if library.CanEdit(p.account, it.Unit, &tree) {
			return it, p, true
		}
		s.fail(c, library.Refusal(p.account, it, &tree)) // staff learn whose it is, others nothing
		return library.Item{}, nil, false
	}
	s.abort(c, problem.NotFound)
	return library.Item{}, nil, false
}

// mayEditItem reports whether the caller may edit the item, and so may see why its
// processing failed; an unknown caller or an unreadable unit tree means no.
func (s *Server) mayEditItem(c *gin.Context, p *principal, it library.Item) bool {
	if p == nil {
		return false
	}
	tree, _, err := s.Units.LoadUnits(c.Request.Context())
	return err == nil && library.CanEdit(p.account, it.Unit, &tree)
}

func (s *Server) getItem(c *gin.Context) {
	it, _, ok := s.itemForReader(c, c.Param("id"))
	if !ok {
		return
	}
	c.Header("ETag", quoteETag(it.Version))
	c.Header("Cache-Control", "no-cache")
	c.JSON(http.StatusOK, itemView{Item: it, IIIFManifest: s.manifestOf(c, it)})
}

// itemView is an item as the API shows it: the record, and where IIIF viewers find it.
type itemView struct {
	library.Item
	IIIFManifest string `json:"iiif_manifest,omitempty"`
}

// manifestOf is the address of a published item's IIIF Manifest; "" for an item that has
// none (unpublished, or without files).
func (s *Server) manifestOf(c *gin.Context, it library.Item) string {
	if it.Status != library.Published || len(it.Files) == 0 {
		return ""
	}
	return manifests.ItemManifestURL(s.publicBase(c), it.ID)
}

// createItemRequest is a new item's fields; from_file makes it a draft for dropped files,
// named and typed after the first (see library.Service.CreateFromFile).
type createItemRequest struct {
	library.Fields
	FromFile *library.FileDraft `json:"from_file,omitempty"`
}

func (s *Server) createItem(c *gin.Context) {
	var req createItemRequest
	if !s.decode(c, &req) {
		return
	}
	var it library.Item
	var err error
	if req.FromFile != nil {
		it, err = s.Library.CreateFromFile(c.Request.Context(), caller(c).account, req.Fields, *req.FromFile)
	} else {
		it, err = s.Library.Create(c.Request.Context(), caller(c).account, req.Fields)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", quoteETag(it.Version))
	c.Header("Location", "/api/v1/items/"+it.ID)
	c.JSON(http.StatusCreated, it)
}

// ifMatch returns the If-Match header, answering 428 when a write came without one.
func (s *Server) ifMatch(c *gin.Context) (string, bool) {
	v := strings.TrimSpace(c.GetHeader("If-Match"))
	if v == "" {
		s.abort(c, problem.PreconditionRequired)
		return "", false
	}
	return strings.Trim(strings.TrimPrefix(v, "W/"), `"`), true
}

func (s *Server) respondItem(c *gin.Context, it library.Item, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	s.published.Forget(it.ID) // what it serves may have changed
	c.Header("ETag", quoteETag(it.Version))
	c.JSON(http.StatusOK, it)
}

func (s *Server) updateItem(c *gin.Context) {
	version, ok := s.ifMatch(c)
	if !ok {
		return
	}
	var f library.Fields
	if !s.decode(c, &f) {
		return
	}
	it, err := s.Library.Update(c.Request.Context(), caller(c).account, c.Param("id"), version, f)
	s.respondItem(c, it, err)
}

type statusRequest struct {
	Status library.Status `json:"status"`
}

func (s *Server) moveItem(c *gin.Context) {
	version, ok := s.ifMatch(c)
	if !ok {
		return
	}
	var req statusRequest
	if !s.decode(c, &req) {
		return
	}
	switch req.Status {
	case library.Draft, library.InReview, library.Published, library.Withdrawn:
	default:
		s.fail(c, validate.Errors{{Field: "status", Code: "transition"}})
		return
	}
	it, err := s.Library.Move(c.Request.Context(), caller(c).account, c.Param("id"), version, req.Status)
	s.respondItem(c, it, err)
}

type restoreRequest struct {
	Version string `json:"version"`
}

func (s *Server) restoreItem(c *gin.Context) {
	version, ok := s.ifMatch(c)
	if !ok {
		return
	}
	var req restoreRequest
	if !s.decode(c, &req) {
		return
	}
	it, err := s.Library.Restore(c.Request.Context(), caller(c).account, c.Param("id"), version, req.Version)
	s.respondItem(c, it, err)
}

// staffItem checks that the signed-in caller may edit the item; it answers 403 naming the
// item's unit otherwise.
func (s *Server) staffItem(c *gin.Context) (library.Item, bool) {
	it, err := s.Library.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return library.Item{}, false
	}
	tree, _, err := s.Units.LoadUnits(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return library.Item{}, false
	}
	if !library.CanEdit(caller(c).account, it.Unit, &tree) {
		s.fail(c, library.Refusal(caller(c).account, it, &tree))
		return library.Item{}, false
	}
	return it, true
}

func (s *Server) itemHistory(c *gin.Context) {
	if _, ok := s.staffItem(c); !ok {
		return
	}
	h, err := s.Library.History(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"versions": h})
}

// itemFixity answers the last recorded fixity check of an item ("checked": false before the
// first one).
func (s *Server) itemFixity(c *gin.Context) {
	if _, ok := s.staffItem(c); !ok {
		return
	}
	r, err := s.Fixity.Last(c.Request.Context(), c.Param("id"))
	if errors.Is(err, fixity.ErrNeverChecked) {
		c.JSON(http.StatusOK, gin.H{"object": c.Param("id"), "checked": false})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"object": r.Object, "checked": true, "checked_at": r.CheckedAt, "ok": r.OK,
		"bytes": r.Bytes, "damaged": r.Damaged})
}

func (s *Server) itemVersion(c *gin.Context) {
	if _, ok := s.staffItem(c); !ok {
		return
	}
	it, err := s.Library.GetVersion(c.Request.Context(), c.Param("id"), c.Param("version"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, it)
}

// itemFile streams a file with range support (video seeking, resumable downloads).
// The public gets no original of an item that may be viewed online only (see mayDownload).
func (s *Server) itemFile(c *gin.Context) {
	it, p, ok := s.itemForReader(c, c.Param("id"))
	if !ok {
		return
	}
	if !s.mayDownload(c, p, it) {
		s.abortViewOnly(c, it)
		return
	}
	path := strings.TrimPrefix(c.Param("path"), "/")
	var file *library.File
	for i := range it.Files {
		if it.Files[i].Path == path {
			file = &it.Files[i]
		}
	}
	if file == nil {
		s.abort(c, problem.NotFound)
		return
	}
	obj, err := s.Library.OpenFile(c.Request.Context(), it.ID, path)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer obj.Close()
	h := c.Writer.Header()
	h.Set("Content-Type", file.MediaType)
	h.Set("ETag", `"`+file.SHA256+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	s.setCache(h, it.Status == library.Published, 0)
	disposition := "inline"
	if c.Query("download") == "1" {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", disposition+`; filename*=UTF-8''`+urlPathEscape(file.Name))
	s.serveStored(c, obj, it.UpdatedAt)
}

func (s *Server) removeItemFile(c *gin.Context) {
	version, ok := s.ifMatch(c)
	if !ok {
		return
	}
	it, err := s.Library.RemoveFile(c.Request.Context(), caller(c).account, c.Param("id"), version, strings.TrimPrefix(c.Param("path"), "/"))
	s.respondItem(c, it, err)
}

func urlPathEscape(name string) string { return url.PathEscape(name) }
