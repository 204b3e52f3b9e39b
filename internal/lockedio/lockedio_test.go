package lockedio

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentWrites: lines written by many goroutines at once all arrive whole (the race
// detector checks the locking).
func TestConcurrentWrites(t *testing.T) {
	var plain bytes.Buffer
	w := NewWriter(&plain)
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_, _ = w.Write([]byte("line\n"))
				_, _ = b.Write([]byte("line\n"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	for name, s := range map[string]string{"Writer": plain.String(), "Buffer": b.String()} {
		if n := strings.Count(s, "line\n"); n != 800 || len(s) != 800*len("line\n") {
			t.Errorf("%s: %d whole lines in %d bytes, want 800", name, n, len(s))
		}
	}
}

func TestTail(t *testing.T) {
	var b Buffer
	_, _ = b.Write([]byte("one\ntwo\nthree\n"))
	for _, tc := range []struct {
		n    int
		want string
	}{{1, "three"}, {2, "two\nthree"}, {5, "one\ntwo\nthree"}} {
		if got := b.Tail(tc.n); got != tc.want {
			t.Errorf("Tail(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
