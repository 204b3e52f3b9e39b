package ids

import "testing"

func TestNewAndValid(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := New("crs")
		if !Valid(id, "crs") || Valid(id, "col") || seen[id] {
			t.Fatalf("id %q", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "crs-", "crs-short", "crs-0123456789", "crs-abcdefghij-", "CRS-abcdefghij", "crs-ABCDEFGHIJ"} {
		if Valid(bad, "crs") {
			t.Errorf("%q accepted", bad)
		}
	}
}
