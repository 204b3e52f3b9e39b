package learning_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/learning"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/validate"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func newDocs(t *testing.T) *docstore.Store {
	t.Helper()
	return testenv.Docs(t, testenv.Config(t, testenv.Shared(t)))
}

// report is one position report, after wait of the test clock.
type report struct {
	wait     time.Duration
	position float64
}

// playing reports every step seconds of the clock, the position advancing rate × step each
// time, from from to to, as the player does.
func playing(from, to float64, step time.Duration, rate float64) []report {
	reps := []report{{0, from}}
	for pos := from; pos < to; {
		pos = min(to, pos+rate*step.Seconds())
		reps = append(reps, report{step, pos})
	}
	return reps
}

// TestCompletionNeedsWatchTime: a lesson completes only when the reports prove watching at no
// more than the allowed speed; claims of the end, however many, complete nothing.
func TestCompletionNeedsWatchTime(t *testing.T) {
	docs := newDocs(t)
	const duration = 600.0 // a ten-minute lesson: 240 s of credited watching needed
	tests := []struct {
		name    string
		reports []report
		want    bool
	}{
		{"played through at normal speed", playing(0, duration, 5*time.Second, 1), true},
		{"played through at double speed", playing(0, duration, 5*time.Second, 2), true},
		{"at 1.5× with a long pause halfway", append(playing(0, duration/2, 5*time.Second, 1.5),
			append([]report{{time.Hour, duration / 2}}, playing(duration/2, duration, 5*time.Second, 1.5)[1:]...)...), true},
		{"three claims of the end", []report{{0, duration}, {time.Second, duration}, {time.Second, duration}}, false},
		{"the end claimed after waiting, without reports between", []report{{0, 0}, {10 * time.Minute, duration}}, false},
		{"played at four times the speed", playing(0, duration, 5*time.Second, 4), false},
		{"two minutes watched, then a jump to the end", append(playing(0, 120, 5*time.Second, 1), report{time.Second, duration}), false},
		{"two minutes, the jump, back to the middle and on to the end", append(append(playing(0, 120, 5*time.Second, 1),
			report{time.Second, duration}, report{time.Second, 300}), playing(300, duration, 5*time.Second, 1)[1:]...), true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Now()
			store := learning.New(docs, learning.Options{Now: func() time.Time { return now }})
			learner, course := "learner"+strconv.Itoa(i), "crs-test"+strconv.Itoa(i)
			ctx := context.Background()
			if _, err := store.Enrol(ctx, learner, course); err != nil {
				t.Fatal(err)
			}
			done := false
			var rec learning.Record
			for _, rep := range tc.reports {
				now = now.Add(rep.wait)
				r, lessonDone, courseDone, err := store.Save(ctx, learner, course, 0, 1, learning.Report{Position: rep.position, Duration: duration})
				if err != nil {
					t.Fatalf("Save %+v: %v", rep, err)
				}
				if lessonDone != courseDone {
					t.Fatalf("one lesson of one: lesson done %v, course done %v", lessonDone, courseDone)
				}
				done = done || lessonDone
				rec = r
			}
			if done != tc.want || (rec.CompletedAt != nil) != tc.want {
				t.Fatalf("completed %v (record %+v), want %v; watched %.0fs, needed %.0fs", done, rec.Lessons["0"], tc.want,
					rec.Lessons["0"].Watched, store.Rules().NeededWatch(duration))
			}
		})
	}
}

// TestMeasuredDurationDecides: where the transcoder measured the lesson, a report cannot
// shrink it to complete it, nor claim a position past its end.
func TestMeasuredDurationDecides(t *testing.T) {
	tests := []struct {
		name           string
		rep            learning.Report
		measured       float64
		want           learning.Report
		wantValidation bool
	}{
		{"nothing measured: the player's word", learning.Report{Position: 5, Duration: 10}, 0, learning.Report{Position: 5, Duration: 10}, false},
		{"shrunk duration is replaced", learning.Report{Position: 10, Duration: 10}, 600, learning.Report{Position: 10, Duration: 600}, false},
		{"rounding past the end is clamped", learning.Report{Position: 601.5, Duration: 602}, 600, learning.Report{Position: 600, Duration: 600}, false},
		{"far past the end is refused", learning.Report{Position: 700, Duration: 700}, 600, learning.Report{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.rep.Measured(tt.measured)
			if tt.wantValidation {
				var verrs validate.Errors
				if !errors.As(err, &verrs) {
					t.Fatalf("Measured = %+v, %v; want a validation error", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Measured = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
