package library_test

import (
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/library"
)

// TestPublishedCache: an item is remembered with its files' digests for the lifetime only,
// forgotten at once on Forget, and the cache never holds more than its bound.
func TestPublishedCache(t *testing.T) {
	now := time.Now()
	c := library.NewPublishedCache(10*time.Second, 3, func() time.Time { return now })
	item := library.Item{ID: "szm-a", Files: []library.File{{SHA256: "aa"}, {SHA256: "bb"}}}
	c.Add(item)
	checks := []struct {
		name      string
		after     time.Duration
		id, sha   string
		has, file bool
	}{
		{"just read", 0, "szm-a", "aa", true, true},
		{"a file it does not have", 0, "szm-a", "cc", true, false},
		{"another item", 0, "szm-b", "aa", false, false},
		{"within the lifetime", 9 * time.Second, "szm-a", "bb", true, true},
		{"past the lifetime", 10 * time.Second, "szm-a", "aa", false, false},
	}
	start := now
	for _, tc := range checks {
		now = start.Add(tc.after)
		if got := c.Has(tc.id); got != tc.has {
			t.Errorf("%s: Has = %v, want %v", tc.name, got, tc.has)
		}
		if got := c.HasFile(tc.id, tc.sha); got != tc.file {
			t.Errorf("%s: HasFile = %v, want %v", tc.name, got, tc.file)
		}
	}
	now = start
	c.Add(item)
	c.Forget("szm-a")
	if c.Has("szm-a") {
		t.Error("a forgotten item is still remembered")
	}
	for _, id := range []string{"szm-1", "szm-2", "szm-3", "szm-4"} {
		c.Add(library.Item{ID: id})
	}
	remembered := 0
	for _, id := range []string{"szm-1", "szm-2", "szm-3", "szm-4"} {
		if c.Has(id) {
			remembered++
		}
	}
	if remembered > 3 || !c.Has("szm-4") {
		t.Errorf("%d of 4 remembered (bound 3), the newest remembered: %v", remembered, c.Has("szm-4"))
	}
}
