package testwait

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a testing.TB that notes a failure instead of ending the test.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	panic(r)
}

func run(r *recorder, f func()) {
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
	}()
	f()
}

func TestUntilReturnsOnceTheConditionHolds(t *testing.T) {
	var calls atomic.Int32
	r := &recorder{TB: t}
	run(r, func() { Until(r, "third call", func() bool { return calls.Add(1) >= 3 }) })
	if r.failed != "" || calls.Load() != 3 {
		t.Fatalf("failed %q after %d calls", r.failed, calls.Load())
	}
}

func TestWithinFailsAfterItsBound(t *testing.T) {
	r := &recorder{TB: t}
	run(r, func() { Within(r, "never", 30*time.Millisecond, func() bool { return false }) })
	if r.failed == "" {
		t.Fatal("a condition that never holds did not fail the test")
	}
	s := &recorder{TB: t}
	run(s, func() {
		UntilStateWithin(s, "never", 30*time.Millisecond, func() (bool, string) { return false, "still 3 viewers" })
	})
	if !strings.Contains(s.failed, "last seen: still 3 viewers") {
		t.Fatalf("UntilStateWithin failed with %q; want the last state in it", s.failed)
	}
}

// TestClock: the clock stands still until it is moved, and concurrent readers see each move.
func TestClock(t *testing.T) {
	start := time.Now()
	c := NewClock(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v, want %v", got, start)
	}
	c.Add(90 * time.Second)
	if got := c.Now(); !got.Equal(start.Add(90 * time.Second)) {
		t.Errorf("after Add: %v", got)
	}
	c.Set(start)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { c.Add(time.Minute); _ = c.Now() })
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(start.Add(4 * time.Minute)) {
		t.Errorf("after concurrent Add: %v", got)
	}
}
