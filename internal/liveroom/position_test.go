package liveroom_test

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/liveroom"
	"github.com/shizuishan/culturecloud/internal/validate"
)

func deg(v float64) *float64 { return &v }

// move records a position on a room whose moves are never too close (MoveInterval 1 ns).
func move(t *testing.T, r *liveroom.Room, p liveroom.Position) liveroom.Event {
	t.Helper()
	ev, err := r.Move(t.Context(), lec, p)
	if err != nil {
		t.Fatalf("Move %+v: %v", p, err)
	}
	return ev
}

// TestGuidePositionsReachFollowersOnEveryNode: a guide's moves on one node reach a viewer
// following on another, in order, with what was shown; a follower who reconnects resumes
// after the last position it had, and the track keeps every move for the replay.
func TestGuidePositionsReachFollowersOnEveryNode(t *testing.T) {
	e := newEnv(t)
	guide := e.room(t, liveroom.Options{Node: "node-a", MoveInterval: time.Nanosecond})
	viewer := e.room(t, liveroom.Options{Node: "node-b", MoveInterval: time.Nanosecond})
	if _, ok, err := viewer.Guide(t.Context(), lec); ok || err != nil {
		t.Fatalf("before any move: ok %v, err %v", ok, err)
	}
	ch, err := viewer.FollowGuide(t.Context(), lec, "")
	if err != nil {
		t.Fatal(err)
	}
	positions := []liveroom.Position{
		{Section: 0, Exhibit: 2},
		{Section: 0, Exhibit: 2, Region: []int{1024, 512, 2048, 1536}},
		{Section: 1, Exhibit: 0, Yaw: deg(-35.5), Pitch: deg(12), Zoom: deg(40)},
	}
	var sent []liveroom.Event
	for _, p := range positions {
		sent = append(sent, move(t, guide, p))
	}
	for i, want := range positions {
		ev := receive(t, ch)
		if ev.Type != liveroom.Moved || ev.ID != sent[i].ID || ev.Position == nil || !reflect.DeepEqual(*ev.Position, want) {
			t.Fatalf("follower got %+v, want %+v as %s", ev, want, sent[i].ID)
		}
	}
	latest, ok, err := viewer.Guide(t.Context(), lec)
	if err != nil || !ok || latest.ID != sent[2].ID || !reflect.DeepEqual(*latest.Position, positions[2]) {
		t.Fatalf("Guide = %+v, %v, %v", latest, ok, err)
	}
	resumed, err := viewer.FollowGuide(t.Context(), lec, sent[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range sent[1:] {
		if ev := receive(t, resumed); ev.ID != want.ID {
			t.Fatalf("resumed after %s: got %s, want %s", sent[0].ID, ev.ID, want.ID)
		}
	}
	track, err := guide.Track(t.Context(), lec)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(track))
	for i, ev := range track {
		ids[i] = ev.ID
		if i > 0 && ev.At.Before(track[i-1].At) {
			t.Errorf("track out of order at %d", i)
		}
	}
	if !slices.Equal(ids, []string{sent[0].ID, sent[1].ID, sent[2].ID}) {
		t.Errorf("track %v", ids)
	}
	// The chat does not carry positions: its history stays for messages.
	if msgs, _, err := viewer.History(t.Context(), lec, 10); err != nil || len(msgs) != 0 {
		t.Errorf("chat history %v, %v", msgs, err)
	}
}

// TestMoveIsValidated: every field out of range is named, and nothing is recorded.
func TestMoveIsValidated(t *testing.T) {
	e := newEnv(t)
	r := e.room(t, liveroom.Options{MoveInterval: time.Nanosecond})
	for _, tc := range []struct {
		name   string
		p      liveroom.Position
		fields []string
	}{
		{"negative exhibit", liveroom.Position{Section: 0, Exhibit: -1}, []string{"exhibit"}},
		{"huge section", liveroom.Position{Section: 1 << 20}, []string{"section"}},
		{"region of three numbers", liveroom.Position{Region: []int{1, 2, 3}}, []string{"region"}},
		{"empty region", liveroom.Position{Region: []int{0, 0, 0, 10}}, []string{"region"}},
		{"region off the scale", liveroom.Position{Region: []int{math.MaxInt - 5, 0, 10, 10}}, []string{"region"}},
		{"yaw and pitch beyond a sphere", liveroom.Position{Yaw: deg(181), Pitch: deg(-91)}, []string{"yaw", "pitch"}},
		{"zoom not a number", liveroom.Position{Zoom: deg(math.NaN())}, []string{"zoom"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Move(t.Context(), lec, tc.p)
			var errs validate.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Move: %v, want validation errors", err)
			}
			var fields []string
			for _, p := range errs {
				fields = append(fields, p.Field)
			}
			if !slices.Equal(fields, tc.fields) {
				t.Errorf("fields %v, want %v", fields, tc.fields)
			}
		})
	}
	if track, err := r.Track(t.Context(), lec); err != nil || len(track) != 0 {
		t.Errorf("track after refusals: %v, %v", track, err)
	}
	if _, err := r.Move(t.Context(), "bad id!", liveroom.Position{}); !isInvalid(err) {
		t.Errorf("bad lecture id: %v", err)
	}
}

// TestMovesTooCloseAreRefused: a runaway page cannot flood the track; the refusal says
// when to send again.
func TestMovesTooCloseAreRefused(t *testing.T) {
	e := newEnv(t)
	r := e.room(t, liveroom.Options{MoveInterval: time.Hour})
	move(t, r, liveroom.Position{Exhibit: 1})
	_, err := r.Move(t.Context(), lec, liveroom.Position{Exhibit: 2})
	var retry *liveroom.RetryError
	if !errors.As(err, &retry) || !errors.Is(err, liveroom.ErrRateLimited) || retry.After <= 0 || retry.After > time.Hour {
		t.Fatalf("second move: %v", err)
	}
	if track, _ := r.Track(t.Context(), lec); len(track) != 1 {
		t.Errorf("track has %d positions, want 1", len(track))
	}
}
