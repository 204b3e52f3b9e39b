package server

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/exhibitions"
	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/validate"
	"github.com/shizuishan/culturecloud/internal/views"
)

// Counts of the cloud exhibitions: visits, and per exhibit views and dwell time, so that
// curators see which exhibits hold attention. All of it goes through the view counter and its
// views.* limits, like the items' views.

// publishedExhibition reads exhibition :id, answering 404 unless it is published.
func (s *Server) publishedExhibition(c *gin.Context) (exhibitions.Exhibition, bool) {
	e, err := s.Exhibitions.Get(c.Request.Context(), c.Param("id"))
	if err == nil && e.Status != library.Published {
		err = exhibitions.ErrNotFound
	}
	if err != nil {
		s.fail(c, err)
		return exhibitions.Exhibition{}, false
	}
	return e, true
}

// countExhibitionVisit is POST /api/v1/exhibitions/{id}/views: a visit by a client that does
// not open the exhibition's page (which counts its own), e.g. an app or another site's page.
func (s *Server) countExhibitionVisit(c *gin.Context) {
	e, ok := s.publishedExhibition(c)
	if !ok {
		return
	}
	counted, ok := s.countViewOrRefuse(c, exhibitions.VisitTarget(e.ID))
	if !ok {
		return
	}
	c.JSON(http.StatusOK, gin.H{"counted": counted})
}

// notInExhibition refuses an exhibit key that names no exhibit of the exhibition.
var notInExhibition = validate.Errors{{Field: "exhibit", Code: "not_in_exhibition"}}

// exhibitOf is the counter target of exhibit :key of a published exhibition :id.
func (s *Server) exhibitOf(c *gin.Context) (string, bool) {
	e, ok := s.publishedExhibition(c)
	if !ok {
		return "", false
	}
	key := c.Param("key")
	if _, _, _, found := e.FindExhibit(key); !found {
		s.fail(c, notInExhibition)
		return "", false
	}
	return exhibitions.ExhibitTarget(e.ID, key), true
}

// countExhibitView is POST /api/v1/exhibitions/{id}/exhibits/{key}/views: the walkthrough
// showed the exhibit.
func (s *Server) countExhibitView(c *gin.Context) {
	target, ok := s.exhibitOf(c)
	if !ok {
		return
	}
	counted, ok := s.countViewOrRefuse(c, target)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, gin.H{"counted": counted})
}

// dwellReport is how long an exhibit was on screen, sent when the visitor moves on or leaves.
type dwellReport struct {
	Seconds *float64 `json:"seconds"`
}

// countExhibitDwell is POST /api/v1/exhibitions/{id}/exhibits/{key}/dwell: the exhibit was on
// screen (the page visible) for body.seconds; it is counted in its bucket (views.DwellBuckets).
func (s *Server) countExhibitDwell(c *gin.Context) {
	var r dwellReport
	if !s.decode(c, &r) {
		return
	}
	maxSeconds := views.MaxDwell.Seconds()
	switch {
	case r.Seconds == nil:
		s.fail(c, validate.Errors{{Field: "seconds", Code: "required"}})
		return
	case *r.Seconds < 0 || *r.Seconds > maxSeconds:
		s.fail(c, validate.Errors{{Field: "seconds", Code: "range", Args: []any{0, int(maxSeconds)}}})
		return
	}
	target, ok := s.exhibitOf(c)
	if !ok {
		return
	}
	_, wait, err := s.takeView(c, "dwell")
	if err != nil || wait > 0 {
		if err != nil {
			s.fail(c, err)
		} else {
			s.tooMany(c, wait)
		}
		return
	}
	bucket, err := s.Views.AddDwell(c.Request.Context(), target, time.Duration(*r.Seconds*float64(time.Second)), time.Now())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"bucket": bucket})
}

// ExhibitionStats are the counts of an exhibition: its visits, and per exhibit (in the order
// of the rooms) views, unique visitors and the dwell histogram.
type ExhibitionStats struct {
	Visits   views.Stats    `json:"visits"`
	Exhibits []ExhibitStats `json:"exhibits"`
	// Days are the last views.HistoryDays days, oldest first: visits and exhibit views.
	Days []DayVisits `json:"days"`
	// DwellBuckets are the ids of the dwell histograms' buckets, shortest first.
	DwellBuckets []string `json:"dwell_buckets"`
	// Tours are the guided tours of the exhibition, newest first, with their audiences.
	Tours []TourStats `json:"tours"`
}

// TourStats are a guided tour's audience as the view counter keeps it: viewers who joined,
// distinct viewers, the most at once, and (while live) how many watch now.
type TourStats struct {
	ID      string    `json:"id"`
	Title   string    `json:"title"`
	Start   time.Time `json:"start"`
	State   string    `json:"state"`
	Views   int64     `json:"views"`
	Unique  int64     `json:"unique"`
	Peak    int64     `json:"peak"`
	Current int64     `json:"current"`
}

// DayVisits are one day's visits of an exhibition and views of its exhibits.
type DayVisits struct {
	Day          string `json:"day"`
	Visits       int64  `json:"visits"`
	ExhibitViews int64  `json:"exhibit_views"`
}

// ExhibitStats are the counts of one exhibit.
type ExhibitStats struct {
	Section int         `json:"section"`
	Index   int         `json:"index"`
	Key     string      `json:"key"`
	Label   string      `json:"label"`
	Views   int64       `json:"views"`
	Unique  int64       `json:"unique"`
	Dwell   views.Dwell `json:"dwell"`
}

// exhibitionStats reads the counts of e's visits and of each of its exhibits in two round trips.
func (s *Server) exhibitionStats(c *gin.Context, e exhibitions.Exhibition) (ExhibitionStats, error) {
	ctx := c.Request.Context()
	out := ExhibitionStats{Exhibits: []ExhibitStats{}}
	for _, b := range views.DwellBuckets() {
		out.DwellBuckets = append(out.DwellBuckets, b.ID)
	}
	targets := []string{exhibitions.VisitTarget(e.ID)}
	for i, sec := range e.Sections {
		for j, ex := range sec.Exhibits {
			key := exhibitions.ExhibitKey(ex)
			out.Exhibits = append(out.Exhibits, ExhibitStats{Section: i, Index: j, Key: key, Label: ex.Label})
			targets = append(targets, exhibitions.ExhibitTarget(e.ID, key))
		}
	}
	st, err := s.Views.StatsOf(ctx, targets, time.Now())
	if err != nil {
		return out, err
	}
	dwell, err := s.Views.DwellOf(ctx, targets[1:])
	if err != nil {
		return out, err
	}
	if out.Tours, err = s.tourStats(c, e.ID); err != nil {
		return out, err
	}
	out.Visits = st[0]
	for _, d := range st[0].Days {
		out.Days = append(out.Days, DayVisits{Day: d.Day, Visits: d.Views})
	}
	counted := map[string]bool{} // two exhibits showing the same thing share one counter
	for i := range out.Exhibits {
		out.Exhibits[i].Views, out.Exhibits[i].Unique, out.Exhibits[i].Dwell = st[i+1].Total, st[i+1].Unique, dwell[i]
		if counted[out.Exhibits[i].Key] {
			continue
		}
		counted[out.Exhibits[i].Key] = true
		for k, d := range st[i+1].Days {
			out.Days[k].ExhibitViews += d.Views
		}
	}
	return out, nil
}

// tourStats reads the audiences of the guided tours of exhibition id.
func (s *Server) tourStats(c *gin.Context, id string) ([]TourStats, error) {
	ctx := c.Request.Context()
	tours, err := s.Lectures.Tours(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]TourStats, len(tours))
	targets := make([]string, len(tours))
	for i, l := range tours {
		out[i] = TourStats{ID: l.ID, Title: l.Title, Start: l.Start, State: string(l.State)}
		targets[i] = "live:" + l.ID
	}
	st, err := s.Views.StatsOf(ctx, targets, time.Now())
	if err != nil {
		return nil, err
	}
	peaks, err := s.Views.PeaksOf(ctx, targets)
	if err != nil {
		return nil, err
	}
	for i, l := range tours {
		out[i].Views, out[i].Unique, out[i].Peak = st[i].Total, st[i].Unique, max(peaks[targets[i]], l.Peak)
		if l.State == lectures.Live {
			if now, err := s.Room.Stats(ctx, l.ID); err == nil {
				out[i].Current = now.Current
			}
		}
	}
	return out, nil
}

// exhibitionStatsAPI is GET /api/v1/exhibitions/{id}/stats: the counts of an exhibition, for
// its curators (anyone else: 404). Reading them costs a round trip over every exhibit's
// counters and every lecture, so they are not for anonymous callers.
func (s *Server) exhibitionStatsAPI(c *gin.Context) {
	acc := caller(c).account
	v, err := s.Exhibitions.View(c.Request.Context(), &acc, c.Param("id"))
	if err == nil && !v.Staff {
		err = exhibitions.ErrNotFound
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	st, err := s.exhibitionStats(c, v.Exhibition)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, st)
}
