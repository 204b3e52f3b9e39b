package server

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
	"github.com/shizuishan/culturecloud/search"
)

// searchAccounts lists accounts from the search index; staff other than admins see only
// the accounts of their own unit and the units below it.
func (s *Server) searchAccounts(c *gin.Context) {
	var errs validate.Errors
	q := c.Query("q")
	errs.Text("q", q, false, 0, 100)
	role := c.Query("role")
	if role != "" && !accounts.Role(role).Valid() {
		errs.Add("role", "role")
	}
	limit := queryInt(c, "limit", 20, 1, 100, &errs)
	offset := queryInt(c, "offset", 0, 0, 10_000, &errs)
	if err := errs.Err(); err != nil {
		s.fail(c, err)
		return
	}
	actor := caller(c).account
	var filter []string
	if role != "" {
		filter = append(filter, search.Eq("role", role))
	}
	if actor.Role != accounts.Admin {
		filter = append(filter, search.Eq("unit_path", actor.Unit))
	}
	res, err := s.Search.Search(c.Request.Context(), search.AccountsIndex, search.Query{
		Text: q, Filter: filter, Offset: int64(offset), Limit: int64(limit),
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	docs := []search.AccountDoc{}
	if err := res.Hits.DecodeInto(&docs); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"accounts": docs, "total": res.Total, "offset": offset, "limit": limit})
}

func queryInt(c *gin.Context, name string, def, lo, hi int, errs *validate.Errors) int {
	raw, ok := c.GetQuery(name)
	if !ok || raw == "" {
		return def
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		errs.Add(name, "range", lo, hi)
		return def
	}
	return n
}

func (s *Server) getAccount(c *gin.Context) {
	ctx := c.Request.Context()
	a, err := s.Accounts.Store().Get(ctx, c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	tree, _, err := s.Units.LoadUnits(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !accounts.CanSee(caller(c).account, a, &tree) {
		s.abort(c, problem.NotFound) // do not confirm that the account exists
		return
	}
	c.Header("ETag", quoteETag(a.Version))
	c.JSON(http.StatusOK, viewOf(a))
}

func (s *Server) createAccount(c *gin.Context) {
	var req accounts.NewAccount
	if !s.decode(c, &req) {
		return
	}
	c.Set(ctxConflictName, req.Name)
	a, err := s.Accounts.Create(c.Request.Context(), caller(c).account, req)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", quoteETag(a.Version))
	c.Header("Location", "/api/v1/accounts/"+a.Name)
	c.JSON(http.StatusCreated, viewOf(a))
}

func (s *Server) updateAccount(c *gin.Context) {
	var req accounts.Change
	if !s.decode(c, &req) {
		return
	}
	a, err := s.Accounts.Update(c.Request.Context(), caller(c).account, c.Param("name"), c.GetHeader("If-Match"), req)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !s.keepOwnSession(c, a) {
		return
	}
	c.Header("ETag", quoteETag(a.Version))
	c.JSON(http.StatusOK, viewOf(a))
}

func quoteETag(v string) string { return `"` + v + `"` }

func (s *Server) listUnits(c *gin.Context) {
	tree, etag, err := s.Units.LoadUnits(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	if tree.Units == nil {
		tree.Units = []units.Unit{}
	}
	c.Header("ETag", quoteETag(etag))
	c.JSON(http.StatusOK, tree)
}

func (s *Server) renameUnit(c *gin.Context) {
	var r units.Rename
	if !s.decode(c, &r) {
		return
	}
	u, err := units.Update(c.Request.Context(), s.Units, c.Param("id"), r)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

func (s *Server) createUnit(c *gin.Context) {
	var u units.Unit
	if !s.decode(c, &u) {
		return
	}
	if err := units.Add(c.Request.Context(), s.Units, u); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/units")
	c.JSON(http.StatusCreated, u)
}
