package sfu

import (
	"fmt"
	"testing"
	"time"
)

// TestEndedSessionsForget: an ended session is remembered for keep and no longer, and no
// more than max of them, the oldest going first; zero remembers nothing.
func TestEndedSessionsForget(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name      string
		keep      time.Duration
		max       int
		ended     int           // sessions s0, s1, ... ended one second apart
		after     time.Duration // since the last one ended
		remembers []string
		forgets   []string
	}{
		{name: "within keep", keep: time.Minute, max: 10, ended: 3, after: 30 * time.Second, remembers: []string{"s0", "s1", "s2"}},
		{name: "the oldest expire first", keep: time.Minute, max: 10, ended: 3, after: 58*time.Second + 500*time.Millisecond,
			remembers: []string{"s1", "s2"}, forgets: []string{"s0"}},
		{name: "all expire", keep: time.Minute, max: 10, ended: 3, after: 2 * time.Minute, forgets: []string{"s0", "s1", "s2"}},
		{name: "at most max", keep: time.Hour, max: 2, ended: 5, remembers: []string{"s3", "s4"}, forgets: []string{"s0", "s1", "s2"}},
		{name: "off by keep", keep: 0, max: 10, ended: 2, forgets: []string{"s0", "s1"}},
		{name: "off by max", keep: time.Hour, max: 0, ended: 2, forgets: []string{"s0", "s1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEndedSessions(tt.keep, tt.max)
			now := start
			for i := range tt.ended {
				now = start.Add(time.Duration(i) * time.Second)
				e.add(fmt.Sprintf("s%d", i), endedSession{room: "lec", publisher: i%2 == 0}, now)
			}
			now = now.Add(tt.after)
			for _, id := range tt.remembers {
				if s, ok := e.get(id, now); !ok || s.room != "lec" {
					t.Errorf("%s forgotten (%+v)", id, s)
				}
			}
			for _, id := range tt.forgets {
				if _, ok := e.get(id, now); ok {
					t.Errorf("%s still remembered", id)
				}
			}
			if len(e.byID) != len(e.order) || len(e.byID) > max(tt.max, 0) {
				t.Errorf("%d remembered, %d in order, max %d", len(e.byID), len(e.order), tt.max)
			}
		})
	}
}
