package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
	"github.com/shizuishan/culturecloud/internal/web"
	"github.com/shizuishan/culturecloud/search"
)

// staffHit is one item of the librarians' list, and whether the caller may change it (the
// list also shows other units' published items, read-only).
type staffHit struct {
	search.ItemHit
	Editable bool `json:"editable"`
}

type staffResults struct {
	*search.ItemResults
	Hits []staffHit `json:"hits"`
}

// staffItems lists items of every status for the console: the caller's units, and, when the
// unit filter names another unit, that unit's published items (anyone may see those).
func (s *Server) staffItems(c *gin.Context) {
	ctx := c.Request.Context()
	tree, _, err := s.Units.LoadUnits(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	actor := caller(c).account
	q, f, errs := parseStaffQuery(c.Query, s.Library.Vocabulary(), &tree, time.Now())
	if len(errs) > 0 {
		s.failQuery(c, errs)
		return
	}
	f.Unit, f.Published, f.PublishedUnit = staffScope(actor, f.Unit, &tree)
	res, err := s.Search.SearchStaffItems(ctx, q, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := staffResults{ItemResults: res, Hits: make([]staffHit, 0, len(res.Hits))}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, staffHit{ItemHit: h, Editable: library.CanEdit(actor, h.Unit, &tree)})
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

// staffScope turns the unit asked for into what the actor may list: admins any unit;
// others everything under their own unit, and the published items of a unit outside it.
func staffScope(actor accounts.Account, asked string, tree *units.Tree) (unit string, published bool, publishedUnit string) {
	switch {
	case actor.Role == accounts.Admin:
		return asked, false, ""
	case asked == "" || tree.Within(actor.Unit, asked):
		if asked == "" {
			asked = actor.Unit
		}
		return asked, false, ""
	case tree.Within(asked, actor.Unit): // a unit above the actor's: all of theirs, the rest published
		return actor.Unit, true, asked
	}
	return "", true, asked
}

// parseStaffQuery reads the console's filters: the public search's (q, type, theme, sort,
// page, per_page) and status, unit and the created/updated day ranges (YYYY-MM-DD, Beijing
// days, both ends included). Type, theme, status and unit must be known terms.
func parseStaffQuery(get func(string) string, vocab *library.Vocabulary, tree *units.Tree, now time.Time) (search.ItemQuery, search.StaffFilter, validate.Errors) {
	var errs validate.Errors
	q, problems := search.ParseItemQuery(get)
	for field, code := range problems {
		switch code {
		case "too_long":
			errs.Add(field, "too_long", 200)
		case "range":
			errs.Add(field, "range_any")
		default:
			errs.Add(field, code)
		}
	}
	f := search.StaffFilter{Status: get("status"), Unit: get("unit")}
	switch library.Status(f.Status) {
	case "", library.Draft, library.InReview, library.Published, library.Withdrawn:
	default:
		errs.Add("status", "status")
	}
	for _, term := range []struct {
		field, value string
		list         []library.Term
	}{{"type", q.Type, vocab.Types}, {"theme", q.Theme, vocab.Themes}} {
		if _, ok := library.Find(term.list, term.value); term.value != "" && !ok && problems[term.field] == "" {
			errs.Add(term.field, "vocabulary")
		}
	}
	if _, ok := tree.Get(f.Unit); f.Unit != "" && !ok {
		errs.Add("unit", "unit")
	}
	zone := web.Beijing(now).Location()
	day := func(field string, end bool) int64 {
		raw := get(field)
		if raw == "" {
			return 0
		}
		t, err := time.ParseInLocation("2006-01-02", raw, zone)
		if err != nil || t.Year() < 2000 {
			errs.Add(field, "day")
			return 0
		}
		if end {
			t = t.AddDate(0, 0, 1).Add(-time.Second)
		}
		return t.Unix()
	}
	f.CreatedFrom, f.CreatedTo = day("created_from", false), day("created_to", true)
	f.UpdatedFrom, f.UpdatedTo = day("updated_from", false), day("updated_to", true)
	if f.CreatedTo != 0 && f.CreatedFrom > f.CreatedTo {
		errs.Add("created_to", "day_order")
	}
	if f.UpdatedTo != 0 && f.UpdatedFrom > f.UpdatedTo {
		errs.Add("updated_to", "day_order")
	}
	return q, f, errs
}

// failQuery answers 400 for query parameters that are not valid, naming each.
func (s *Server) failQuery(c *gin.Context, errs validate.Errors) {
	d := problem.New(lang(c), problem.BadQuery)
	d.Errors = fieldErrors(lang(c), errs)
	s.abortWith(c, d)
}

type batchStatusRequest struct {
	Status library.Status `json:"status"`
	IDs    []string       `json:"ids"`
}

// batchOutcome is what became of one item of a bulk status change.
type batchOutcome struct {
	ID      string           `json:"id"`
	Outcome string           `json:"outcome"` // moved or refused
	Status  library.Status   `json:"status,omitempty"`
	Version string           `json:"version,omitempty"`
	Problem *problem.Details `json:"problem,omitempty"` // why it was refused
}

// moveItems moves each named item as moveItem would (the same domain method, rights and
// review rules, item by item) and answers what became of each: one refusal refuses that item
// alone. The head version is moved, as the console shows it; nothing else of it changes.
func (s *Server) moveItems(c *gin.Context) {
	var req batchStatusRequest
	if !s.decode(c, &req) {
		return
	}
	var errs validate.Errors
	switch req.Status {
	case library.Draft, library.InReview, library.Published, library.Withdrawn:
	default:
		errs.Add("status", "transition")
	}
	seen := map[string]bool{}
	switch limit := s.Config.Library.MaxBatch; {
	case len(req.IDs) == 0:
		errs.Add("ids", "required")
	case len(req.IDs) > limit:
		errs.Add("ids", "too_many", limit)
	}
	for i, id := range req.IDs {
		if seen[id] {
			errs.Add("ids["+strconv.Itoa(i)+"]", "duplicate")
		}
		seen[id] = true
	}
	if err := errs.Err(); err != nil {
		s.fail(c, err)
		return
	}
	actor := caller(c).account
	out := make([]batchOutcome, 0, len(req.IDs))
	moved := 0
	for _, id := range req.IDs {
		it, err := s.Library.Move(c.Request.Context(), actor, id, "", req.Status)
		if err != nil {
			d := s.problemFor(c, err)
			out = append(out, batchOutcome{ID: id, Outcome: "refused", Problem: &d})
			continue
		}
		s.published.Forget(it.ID)
		moved++
		out = append(out, batchOutcome{ID: id, Outcome: "moved", Status: it.Status, Version: it.Version})
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"results": out, "moved": moved, "refused": len(out) - moved})
}
