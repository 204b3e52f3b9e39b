package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/collections"
	"github.com/shizuishan/culturecloud/internal/library"
)

type collectionItem struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Theme string `json:"theme"`
	Type  string `json:"type"`
}

type collectionView struct {
	ID          string           `json:"id"`
	Title       string           `json:"title"`
	Description string           `json:"description,omitempty"`
	Featured    bool             `json:"featured"`
	Unit        string           `json:"unit"`
	ItemCount   int              `json:"item_count"`
	ItemIDs     []string         `json:"item_ids,omitempty"`
	Items       []collectionItem `json:"items,omitempty"`
}

func (s *Server) listCollections(c *gin.Context) {
	list, err := s.Collections.List(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	published := map[string]bool{}
	out := make([]collectionView, 0, len(list))
	for _, col := range list {
		ids := []string{}
		for _, id := range col.Items {
			seen, known := published[id]
			if !known {
				if seen, err = s.isPublished(c.Request.Context(), id); err != nil {
					s.fail(c, err)
					return
				}
				published[id] = seen
			}
			if seen {
				ids = append(ids, id)
			}
		}
		out = append(out, collectionView{ID: col.ID, Title: col.Title, Description: col.Description, Featured: col.Featured,
			Unit: col.Unit, ItemCount: len(ids), ItemIDs: ids})
	}
	c.JSON(http.StatusOK, gin.H{"collections": out})
}

// isPublished reports whether the item exists and is published; the public lists of
// collections name no other. Published items are remembered a few seconds (s.published), so
// that the home page's list costs few MinIO reads.
func (s *Server) isPublished(ctx context.Context, id string) (bool, error) {
	if s.published.Has(id) {
		return true, nil
	}
	it, err := s.Library.Get(ctx, id)
	if errors.Is(err, library.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if it.Status == library.Published {
		s.published.Add(it)
	}
	return it.Status == library.Published, nil
}

// getCollection shows a collection with its published items (drafts in it stay hidden).
func (s *Server) getCollection(c *gin.Context) {
	col, err := s.Collections.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	v := collectionView{ID: col.ID, Title: col.Title, Description: col.Description, Featured: col.Featured, Unit: col.Unit,
		Items: []collectionItem{}}
	for _, id := range col.Items {
		it, err := s.Library.Get(c.Request.Context(), id)
		if errors.Is(err, library.ErrNotFound) {
			continue
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		if it.Status == library.Published {
			v.Items = append(v.Items, collectionItem{ID: it.ID, Title: it.Title, Theme: it.Theme, Type: it.Type})
		}
	}
	v.ItemCount = len(v.Items)
	c.Header("ETag", quoteETag(col.Version))
	c.JSON(http.StatusOK, v)
}

func (s *Server) createCollection(c *gin.Context) {
	var in collections.Input
	if !s.decode(c, &in) {
		return
	}
	col, err := s.Collections.Create(c.Request.Context(), caller(c).account, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", quoteETag(col.Version))
	c.Header("Location", "/api/v1/collections/"+col.ID)
	c.JSON(http.StatusCreated, col)
}

func (s *Server) updateCollection(c *gin.Context) {
	version, ok := s.ifMatch(c)
	if !ok {
		return
	}
	var in collections.Input
	if !s.decode(c, &in) {
		return
	}
	col, err := s.Collections.Update(c.Request.Context(), caller(c).account, c.Param("id"), version, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", quoteETag(col.Version))
	c.JSON(http.StatusOK, col)
}
