// Package testwait is how tests wait for something that happens in the background (an index
// update, a job, a restarted service): they poll for it. The bound is generous on purpose: it
// only stops a test that would never pass, and measures nothing, so a loaded CI machine does
// not turn a test red.
package testwait

import (
	"testing"
	"time"
)

// Bound is how long Until and UntilState wait before they fail the test.
const Bound = time.Minute

// Until polls cond until it holds, and fails the test, naming what, if it does not within
// Bound. Polls start 10 ms apart and slow down to 250 ms.
func Until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Within(t, what, Bound, cond)
}

// Within is Until with its own bound, for waits that have a natural longer or shorter one.
func Within(t testing.TB, what string, bound time.Duration, cond func() bool) {
	t.Helper()
	UntilStateWithin(t, what, bound, func() (bool, string) { return cond(), "" })
}

// UntilState is Until for a condition that can say what it saw instead, for the failure.
func UntilState(t testing.TB, what string, cond func() (ok bool, state string)) {
	t.Helper()
	UntilStateWithin(t, what, Bound, cond)
}

// UntilStateWithin is UntilState with its own bound.
func UntilStateWithin(t testing.TB, what string, bound time.Duration, cond func() (ok bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(bound)
	pause := 10 * time.Millisecond
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			if state != "" {
				t.Fatalf("%s did not happen within %s; last seen: %s", what, bound, state)
			}
			t.Fatalf("%s did not happen within %s", what, bound)
		}
		time.Sleep(pause)
		pause = min(2*pause, 250*time.Millisecond)
	}
}
