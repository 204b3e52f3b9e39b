package server

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/courses"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/review"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
	"github.com/shizuishan/culturecloud/search"
)

type reviewRequest struct {
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
}

// decision decodes a reviewer's answer; it answers 422 for anything but approve or reject.
func (s *Server) decision(c *gin.Context) (review.Decision, string, bool) {
	version, ok := s.ifMatch(c)
	if !ok {
		return review.Decision{}, "", false
	}
	var req reviewRequest
	if !s.decode(c, &req) {
		return review.Decision{}, "", false
	}
	if req.Decision != "approve" && req.Decision != "reject" {
		s.fail(c, validate.Errors{{Field: "decision", Code: "decision"}})
		return review.Decision{}, "", false
	}
	return review.Decision{Approve: req.Decision == "approve", Reason: req.Reason}, version, true
}

func (s *Server) reviewItem(c *gin.Context) {
	d, version, ok := s.decision(c)
	if !ok {
		return
	}
	it, err := s.Library.Review(c.Request.Context(), caller(c).account, c.Param("id"), version, d)
	s.respondItem(c, it, err)
}

func (s *Server) reviewCourse(c *gin.Context) {
	d, version, ok := s.decision(c)
	if !ok {
		return
	}
	course, err := s.Courses.Review(c.Request.Context(), caller(c).account, c.Param("id"), version, d)
	s.respondCourse(c, course, err)
}

// queueEntry is one submission in a review list.
type queueEntry struct {
	Kind    string         `json:"kind"` // item, course or exhibition
	ID      string         `json:"id"`
	Title   string         `json:"title"`
	Unit    string         `json:"unit"`
	Status  library.Status `json:"status"`
	Version string         `json:"version"`
	Pending int            `json:"pending"` // approvals still missing
	review.State
}

// reviewQueue is what the caller may review and what she submitted herself.
type reviewQueue struct {
	// ToReview is content in review in the caller's units that she neither submitted, made
	// nor approved already.
	ToReview []queueEntry `json:"to_review"`
	// Mine is her own submissions still in review or sent back with a reason.
	Mine []queueEntry `json:"mine"`
}

// queueScan bounds how many items of each status one queue request reads: the queue is a
// working list, and a unit with more waiting than this works through it page by page.
const queueScan = 100

func (s *Server) reviewQueue(c *gin.Context) {
	ctx := c.Request.Context()
	actor := caller(c).account
	tree, _, err := s.Units.LoadUnits(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	q := reviewQueue{ToReview: []queueEntry{}, Mine: []queueEntry{}}
	add := func(e queueEntry, creator string) {
		e.Pending = e.State.Pending(tree.ReviewPolicy(e.Unit))
		mine := e.SubmittedBy() == actor.Name
		switch {
		case mine && (e.Status == library.InReview || e.Rejected != nil):
			q.Mine = append(q.Mine, e)
		case e.Status == library.InReview && e.MayReview(actor.Name, creator) &&
			!slices.ContainsFunc(e.Approvals, func(a review.Step) bool { return a.By == actor.Name }):
			q.ToReview = append(q.ToReview, e)
		}
	}
	if err := s.queueItems(ctx, actor, &tree, add); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.queueCourses(ctx, actor, &tree, add); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.queueExhibitions(ctx, actor, add); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, q)
}

// queueItems finds items in review, and drafts that were sent back, through the staff index,
// and reads each record for its review state (the index does not hold it).
func (s *Server) queueItems(ctx context.Context, actor accounts.Account, tree *units.Tree, add func(queueEntry, string)) error {
	unit := actor.Unit
	if actor.Role == accounts.Admin {
		unit = ""
	}
	for _, status := range []library.Status{library.InReview, library.Draft} {
		res, err := s.Search.SearchStaffItems(ctx, search.ItemQuery{Sort: "newest", Page: 1, PerPage: queueScan},
			search.StaffFilter{Status: string(status), Unit: unit})
		if err != nil {
			return err
		}
		for _, h := range res.Hits {
			it, err := s.Library.Get(ctx, h.ID)
			if errors.Is(err, library.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if it.Status != status || !library.CanEdit(actor, it.Unit, tree) {
				continue // changed since it was indexed; the next look shows it as it is
			}
			add(queueEntry{Kind: "item", ID: it.ID, Title: it.Title, Unit: it.Unit, Status: it.Status, Version: it.Version, State: it.Review}, it.CreatedBy)
		}
	}
	return nil
}

// queueCourses reads the courses themselves: only published courses are indexed, and a
// city has hundreds of courses, not hundreds of thousands.
func (s *Server) queueCourses(ctx context.Context, actor accounts.Account, tree *units.Tree, add func(queueEntry, string)) error {
	ids, err := s.Courses.IDs(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		course, err := s.Courses.Get(ctx, id)
		if errors.Is(err, courses.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if course.Status == library.Published || !courses.CanEdit(actor, course.Unit, tree) {
			continue
		}
		add(queueEntry{Kind: "course", ID: course.ID, Title: course.Title, Unit: course.Unit, Status: course.Status,
			Version: course.Version, State: course.Review}, course.CreatedBy)
	}
	return nil
}

// queueExhibitions finds exhibitions in review, and drafts that were sent back, among those
// the caller may edit.
func (s *Server) queueExhibitions(ctx context.Context, actor accounts.Account, add func(queueEntry, string)) error {
	list, err := s.Exhibitions.Editable(ctx, actor)
	if err != nil {
		return err
	}
	for _, e := range list {
		if e.Status != library.Published {
			add(queueEntry{Kind: "exhibition", ID: e.ID, Title: e.Title, Unit: e.Unit, Status: e.Status,
				Version: e.Version, State: e.Review}, e.CreatedBy)
		}
	}
	return nil
}
