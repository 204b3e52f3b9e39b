package learning

import (
	"context"
	"strconv"
	"time"

	"github.com/shizuishan/culturecloud/internal/views"
)

// PlayTarget is the view counter of the plays of lesson n of a course (one per visitor per
// counting window).
func PlayTarget(course string, n int) string { return "lesson:" + course + "." + strconv.Itoa(n) }

// CompletionTarget is the view counter of the completions of lesson n (one per learner).
func CompletionTarget(course string, n int) string {
	return "completion:" + course + "." + strconv.Itoa(n)
}

// Counts reads view counters (views.Counter).
type Counts interface {
	StatsOf(ctx context.Context, targets []string, now time.Time) ([]views.Stats, error)
}

// CourseStats are a course's plays and completions, the person-times of online training:
// in total, per lesson, and per day for the last views.HistoryDays days, oldest first.
type CourseStats struct {
	Plays       int64         `json:"plays"`
	Completions int64         `json:"completions"`
	Lessons     []LessonStats `json:"lessons"`
	Days        []CourseDay   `json:"days"`
}

// LessonStats are one lesson's totals; Lesson counts from 0.
type LessonStats struct {
	Lesson      int    `json:"lesson"`
	Title       string `json:"title"`
	Plays       int64  `json:"plays"`
	Completions int64  `json:"completions"`
}

// CourseDay is one day of a course's plays and completions.
type CourseDay struct {
	Day         string `json:"day"`
	Plays       int64  `json:"plays"`
	Completions int64  `json:"completions"`
}

// ReadCourseStats adds up the play and completion counters of the course's lessons (titled
// titles, in order), read in one round trip.
func ReadCourseStats(ctx context.Context, counts Counts, course string, titles []string, now time.Time) (CourseStats, error) {
	st := CourseStats{Lessons: []LessonStats{}, Days: []CourseDay{}}
	targets := make([]string, 0, 2*len(titles))
	for n := range titles {
		targets = append(targets, PlayTarget(course, n), CompletionTarget(course, n))
	}
	got, err := counts.StatsOf(ctx, targets, now)
	if err != nil {
		return st, err
	}
	for n, title := range titles {
		plays, done := got[2*n], got[2*n+1]
		if len(st.Days) == 0 {
			for _, d := range plays.Days {
				st.Days = append(st.Days, CourseDay{Day: d.Day})
			}
		}
		for i := range st.Days {
			st.Days[i].Plays += plays.Days[i].Views
			st.Days[i].Completions += done.Days[i].Views
		}
		st.Plays += plays.Total
		st.Completions += done.Total
		st.Lessons = append(st.Lessons, LessonStats{Lesson: n, Title: title, Plays: plays.Total, Completions: done.Total})
	}
	return st, nil
}
