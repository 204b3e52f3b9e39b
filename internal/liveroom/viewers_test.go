package liveroom_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/liveroom"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

func join(t *testing.T, r *liveroom.Room, lecture, session, viewer string) liveroom.Stats {
	t.Helper()
	s, err := r.Join(t.Context(), lecture, session, viewer)
	if err != nil {
		t.Fatalf("Join(%s, %s, %s): %v", lecture, session, viewer, err)
	}
	return s
}

func count(t *testing.T, r *liveroom.Room, lecture string) int64 {
	t.Helper()
	n, err := r.Count(t.Context(), lecture)
	if err != nil {
		t.Fatalf("Count(%s): %v", lecture, err)
	}
	return n
}

func roomStats(t *testing.T, r *liveroom.Room, lecture string) liveroom.Stats {
	t.Helper()
	s, err := r.Stats(t.Context(), lecture)
	if err != nil {
		t.Fatalf("Stats(%s): %v", lecture, err)
	}
	return s
}

func TestViewersTwoNodes(t *testing.T) {
	e := newEnv(t)
	a := e.room(t, liveroom.Options{Node: "node-a"})
	b := e.room(t, liveroom.Options{Node: "node-b"})
	const lec = "lec-abcdefghij"
	if s := join(t, a, lec, "s1", "a:zhang.san"); s != (liveroom.Stats{Current: 1, Peak: 1, Total: 1}) {
		t.Errorf("first Join = %+v, want 1/1/1", s)
	}
	join(t, a, lec, "s2", "c:cookie-0000000000000001")
	// The same session id on another node is another session; the same person counts once.
	join(t, b, lec, "s1", "a:zhang.san")
	if s := join(t, b, lec, "s3", "c:cookie-0000000000000002"); s != (liveroom.Stats{Current: 4, Peak: 4, Total: 3}) {
		t.Errorf("fourth Join = %+v, want current 4, peak 4, total 3", s)
	}
	for _, r := range []*liveroom.Room{a, b} {
		if n := count(t, r, lec); n != 4 {
			t.Errorf("Count on %s = %d, want 4", r.Node(), n)
		}
	}
	if err := a.Leave(t.Context(), lec, "s1"); err != nil {
		t.Fatal(err)
	}
	if s := roomStats(t, b, lec); s != (liveroom.Stats{Current: 3, Peak: 4, Total: 3}) {
		t.Errorf("after a Leave: %+v, want current 3, peak 4, total 3", s)
	}
	join(t, a, lec, "s4", "c:cookie-0000000000000003")
	if s := roomStats(t, a, lec); s != (liveroom.Stats{Current: 4, Peak: 4, Total: 4}) {
		t.Errorf("after a new viewer: %+v, want current 4, peak 4, total 4", s)
	}
	if n := count(t, a, "lec-other00000"); n != 0 {
		t.Errorf("another lecture counts %d, want 0", n)
	}
}

func TestViewersOfStoppedNodeExpire(t *testing.T) {
	e := newEnv(t)
	// Node a heartbeats every 200 ms with a 3 s TTL (a wide margin on a loaded machine);
	// node b registers its sessions with a 1 s TTL and then never heartbeats: it crashed.
	a := e.room(t, liveroom.Options{Node: "node-a", ViewerTTL: 3 * time.Second, Heartbeat: 200 * time.Millisecond})
	b := e.room(t, liveroom.Options{Node: "node-b", ViewerTTL: time.Second})
	const lec = "lec-crash00000"
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(ctx)
	}()
	t.Cleanup(func() {
		stop()
		<-done
	})
	for i := range 2 {
		join(t, a, lec, fmt.Sprintf("a%d", i), fmt.Sprintf("a:viewer%d", i))
	}
	joined := e.redisNow(t)
	for i := range 3 {
		join(t, b, lec, fmt.Sprintf("b%d", i), fmt.Sprintf("c:cookie-00000000000000b%d", i))
	}
	if n := count(t, a, lec); n != 5 {
		t.Fatalf("Count = %d, want 5", n)
	}
	testwait.UntilState(t, "the stopped node's sessions expire", func() (bool, string) {
		n := count(t, a, lec)
		return n == 2, fmt.Sprintf("%d viewers", n)
	})
	// The heartbeating node's sessions outlive their TTL.
	e.waitRedisPast(t, "node a's sessions outlive their first TTL", joined.Add(3*time.Second))
	if s := roomStats(t, a, lec); s != (liveroom.Stats{Current: 2, Peak: 5, Total: 5}) {
		t.Errorf("Stats = %+v, want current 2, peak 5, total 5", s)
	}
	// A node shut down cleanly removes its sessions at once.
	stop()
	<-done
	if n := count(t, b, lec); n != 0 {
		t.Errorf("after node a stopped: Count = %d, want 0", n)
	}
}

func TestViewersRejectBadIDs(t *testing.T) {
	r := newEnv(t).room(t, liveroom.Options{Node: "n"})
	for _, tc := range []struct{ lecture, session, viewer string }{
		{"", "s", "v"}, {"lec one", "s", "v"}, {"lec:1", "s", "v"}, {"lec-1", "", "v"},
		{"lec-1", "s|1", "v"}, {"lec-1", "s", ""}, {"lec-1", "s", "a b"},
	} {
		if _, err := r.Join(t.Context(), tc.lecture, tc.session, tc.viewer); !isInvalid(err) {
			t.Errorf("Join(%q, %q, %q) = %v, want ErrInvalid", tc.lecture, tc.session, tc.viewer, err)
		}
	}
}
