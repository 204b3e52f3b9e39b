package server

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/derivatives"
	"github.com/shizuishan/culturecloud/internal/outbox"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/validate"
)

type derivativeOutput struct {
	Name   string `json:"name"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	URL    string `json:"url"`
}

type derivativeStatus struct {
	State   string             `json:"state"`
	Error   string             `json:"error,omitempty"`
	Outputs []derivativeOutput `json:"outputs"`
}

// itemDerivatives lists the thumbnails and posters of an item's files; why one failed is
// shown to staff only.
func (s *Server) itemDerivatives(c *gin.Context) {
	it, p, ok := s.itemForReader(c, c.Param("id"))
	if !ok {
		return
	}
	rec, err := s.Derivatives.Get(c.Request.Context(), it.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	staff := s.mayEditItem(c, p, it)
	files := map[string]derivativeStatus{}
	for _, f := range it.Files {
		st, ok := rec.Files[f.Path]
		if !ok || st.SHA256 != f.SHA256 {
			files[f.Path] = derivativeStatus{State: "pending", Outputs: []derivativeOutput{}}
			continue
		}
		v := derivativeStatus{State: st.State, Outputs: []derivativeOutput{}}
		if staff {
			v.Error = st.Error
		}
		for _, o := range st.Outputs {
			v.Outputs = append(v.Outputs, derivativeOutput{Name: o.Name, Width: o.Width, Height: o.Height,
				URL: "/api/v1/items/" + it.ID + "/derivatives/" + st.SHA256 + "/" + o.Name})
		}
		files[f.Path] = v
	}
	c.Header("Cache-Control", "no-cache")
	c.JSON(http.StatusOK, gin.H{"files": files})
}

// derivativeFile serves a thumbnail or poster: see fileForReader for who may have it.
func (s *Server) derivativeFile(c *gin.Context) {
	it, _, public, ok := s.fileForReader(c, c.Param("id"), c.Param("sha"))
	if !ok {
		return
	}
	obj, ctype, err := s.Derivatives.Open(c.Request.Context(), it.ID, c.Param("sha"), c.Param("name"))
	if errors.Is(err, derivatives.ErrNotFound) {
		s.abort(c, problem.NotFound)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	defer obj.Close()
	h := c.Writer.Header()
	h.Set("Content-Type", ctype)
	s.setCache(h, public, 0)
	s.serveStored(c, obj, it.UpdatedAt)
}

type retryRequest struct {
	Path string `json:"path"`
}

// retryDerivatives queues a file's derivatives again (after fixing a tool, say).
func (s *Server) retryDerivatives(c *gin.Context) {
	var req retryRequest
	if !s.decode(c, &req) {
		return
	}
	it, ok := s.staffItem(c)
	if !ok {
		return
	}
	for _, f := range it.Files {
		if f.Path == req.Path {
			if err := s.Outbox.Append(c.Request.Context(), outbox.Event{Kind: derivatives.Kind, ID: it.ID, Ref: f.Path}); err != nil {
				s.fail(c, err)
				return
			}
			c.Status(http.StatusAccepted)
			return
		}
	}
	s.fail(c, validate.Errors{{Field: "path", Code: "unknown_item"}})
}
