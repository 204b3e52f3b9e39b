// Package learning keeps what each citizen has learned: enrolments, the position reached in
// every lesson (saved every few seconds and on pause, so any device resumes there), lesson
// completion, and course completion for the certificate. Records are JSON documents in MinIO,
// one per learner and course, so they survive any restart.
//
// A lesson is completed when the position reaches 90 % of it AND the reports prove enough
// watching (see Rules): a certificate needs time spent in front of the lessons, not three
// requests that claim the end.
package learning

import (
	"context"
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/validate"
)

var (
	// ErrNotEnrolled means the learner has not enrolled in the course.
	ErrNotEnrolled = errors.New("not enrolled in this course")
	// ErrNotFound means no such lesson.
	ErrNotFound = errors.New("no such lesson")
)

// CompleteAt is the share of a lesson the position must reach to complete it.
const CompleteAt = 0.9

// Rules say how much watching completes a lesson. Each position report credits the wall-clock
// time since the learner's previous report of that lesson, but never more than the position
// advanced (so pausing, or rewinding, earns nothing) nor more than MaxReportGap (so two
// reports far apart, with nothing between, earn little). A lesson completes once the credit
// reaches MinWatchedShare × duration ÷ MaxRate: the wall-clock time of watching that share at
// the fastest allowed speed. With the defaults (0.8, 2, 30 s) a 10-minute lesson needs 4
// minutes of reports; the player reports every 5 s while playing.
type Rules struct {
	MinWatchedShare float64       // share of the lesson that must be watched, 0 to 1
	MaxRate         float64       // fastest playback speed allowed, at least 1
	MaxReportGap    time.Duration // longest interval between two reports that is credited
}

// DefaultRules are the rules when Options.Rules is zero.
var DefaultRules = Rules{MinWatchedShare: 0.8, MaxRate: 2, MaxReportGap: 30 * time.Second}

// NeededWatch is the credited watching, in seconds, that completes a lesson of duration seconds.
func (r Rules) NeededWatch(duration float64) float64 {
	return r.MinWatchedShare * duration / r.MaxRate
}

// credit is the watching that a report at position, at, earns after the previous report lp.
func (r Rules) credit(lp LessonProgress, position float64, at time.Time) float64 {
	if lp.ReportedAt.IsZero() {
		return 0
	}
	elapsed := min(at.Sub(lp.ReportedAt), r.MaxReportGap).Seconds()
	return max(0, min(elapsed, position-lp.Position))
}

// LessonProgress is where a learner is in one lesson.
type LessonProgress struct {
	Position    float64    `json:"position"` // seconds
	Duration    float64    `json:"duration"` // seconds
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	UpdatedAt   time.Time  `json:"updated_at"`
	// Watched is the credited watching in seconds (see Rules), ReportedAt the exact time of
	// the last report it was credited from.
	Watched    float64   `json:"watched"`
	ReportedAt time.Time `json:"reported_at"`
}

// Record is one learner's progress in one course.
type Record struct {
	Learner     string                    `json:"learner"`
	Course      string                    `json:"course"`
	EnrolledAt  time.Time                 `json:"enrolled_at"`
	Lessons     map[string]LessonProgress `json:"lessons"`
	CompletedAt *time.Time                `json:"completed_at,omitempty"`
	UpdatedAt   time.Time                 `json:"updated_at"`
	LastLesson  int                       `json:"last_lesson"`
}

// Store keeps records in the document store.
type Store struct {
	docs  *docstore.Store
	rules Rules
	now   func() time.Time
}

// Options configure New.
type Options struct {
	Rules Rules            // DefaultRules when zero
	Now   func() time.Time // time.Now when nil; tests pass their clock
}

// New wraps docs.
func New(docs *docstore.Store, o Options) *Store {
	if o.Rules == (Rules{}) {
		o.Rules = DefaultRules
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Store{docs: docs, rules: o.Rules, now: o.Now}
}

// Rules are the completion rules in force.
func (s *Store) Rules() Rules { return s.rules }

const prefix = "records/learning/"

func key(learner, course string) string { return prefix + learner + "/" + course + ".json" }

// Get reads a learner's record of a course; ErrNotEnrolled when there is none.
func (s *Store) Get(ctx context.Context, learner, course string) (Record, error) {
	var r Record
	_, err := s.docs.Get(ctx, key(learner, course), &r)
	if errors.Is(err, docstore.ErrNotFound) {
		return Record{}, ErrNotEnrolled
	}
	return r, err
}

// Enrol records the enrolment (again enrolling changes nothing).
func (s *Store) Enrol(ctx context.Context, learner, course string) (Record, error) {
	now := s.now().UTC().Truncate(time.Second)
	r := Record{Learner: learner, Course: course, EnrolledAt: now, Lessons: map[string]LessonProgress{}, UpdatedAt: now}
	_, err := s.docs.Put(ctx, key(learner, course), r, docstore.Create())
	if errors.Is(err, docstore.ErrPrecondition) {
		return s.Get(ctx, learner, course)
	}
	return r, err
}

// Report is what the player sends.
type Report struct {
	Position float64 `json:"position"`
	Duration float64 `json:"duration"`
}

// Validate refuses positions a player cannot report.
func (rep Report) Validate() error {
	var errs validate.Errors
	switch {
	case math.IsNaN(rep.Duration) || rep.Duration <= 0 || rep.Duration > 24*3600:
		errs.Add("duration", "range", 0, 24*3600)
	case math.IsNaN(rep.Position) || rep.Position < 0 || rep.Position > rep.Duration+1:
		errs.Add("position", "position")
	}
	return errs.Err()
}

// Measured holds a report to the duration the transcoder measured for the lesson's file
// (measured > 0): the player's duration is only a claim, and a report must not complete a
// lesson by shrinking it. A position past the measured end (beyond 2 s of rounding) is
// refused; otherwise the report takes the measured duration.
func (rep Report) Measured(measured float64) (Report, error) {
	if measured <= 0 {
		return rep, nil
	}
	if rep.Position > measured+2 {
		return rep, validate.Errors{{Field: "position", Code: "position"}}
	}
	rep.Duration, rep.Position = measured, min(rep.Position, measured)
	return rep, nil
}

// Save records a position in lesson n of a course with lessons lessons, and reports whether
// this report completed the lesson and whether it completed the course.
func (s *Store) Save(ctx context.Context, learner, course string, n, lessons int, rep Report) (Record, bool, bool, error) {
	if n < 0 || n >= lessons {
		return Record{}, false, false, ErrNotFound
	}
	if err := rep.Validate(); err != nil {
		return Record{}, false, false, err
	}
	for attempt := 0; ; attempt++ {
		var r Record
		etag, err := s.docs.Get(ctx, key(learner, course), &r)
		if errors.Is(err, docstore.ErrNotFound) {
			return Record{}, false, false, ErrNotEnrolled
		}
		if err != nil {
			return Record{}, false, false, err
		}
		at := s.now().UTC()
		now := at.Truncate(time.Second)
		if r.Lessons == nil {
			r.Lessons = map[string]LessonProgress{}
		}
		lp := r.Lessons[strconv.Itoa(n)]
		position := min(rep.Position, rep.Duration)
		lp.Watched += s.rules.credit(lp, position, at)
		lp.Position, lp.Duration, lp.UpdatedAt, lp.ReportedAt = position, rep.Duration, now, at
		lessonDone := false
		if lp.CompletedAt == nil && lp.Position >= CompleteAt*lp.Duration && lp.Watched >= s.rules.NeededWatch(lp.Duration) {
			lp.CompletedAt, lessonDone = &now, true
		}
		r.Lessons[strconv.Itoa(n)] = lp
		r.UpdatedAt, r.LastLesson = now, n
		courseDone := false
		if r.CompletedAt == nil && completed(r, lessons) {
			r.CompletedAt, courseDone = &now, true
		}
		_, err = s.docs.Put(ctx, key(learner, course), r, docstore.Match(etag))
		if errors.Is(err, docstore.ErrPrecondition) && attempt < 3 {
			continue // another device reported at the same moment
		}
		if err != nil {
			return Record{}, false, false, err
		}
		return r, lessonDone, courseDone, nil
	}
}

func completed(r Record, lessons int) bool {
	for i := range lessons {
		if lp, ok := r.Lessons[strconv.Itoa(i)]; !ok || lp.CompletedAt == nil {
			return false
		}
	}
	return lessons > 0
}

// Courses lists a learner's records, most recently watched first (continue watching).
func (s *Store) Courses(ctx context.Context, learner string) ([]Record, error) {
	keys, err := s.docs.List(ctx, prefix+learner+"/")
	if err != nil {
		return nil, err
	}
	out := []Record{}
	for _, k := range keys {
		course := strings.TrimSuffix(strings.TrimPrefix(k, prefix+learner+"/"), ".json")
		r, err := s.Get(ctx, learner, course)
		if errors.Is(err, ErrNotEnrolled) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].UpdatedAt.After(out[j].UpdatedAt) })
	return out, nil
}
