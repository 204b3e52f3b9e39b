package testwait

import (
	"fmt"
	"strings"
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
