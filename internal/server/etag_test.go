package server

import (
	"strings"
	"testing"
)

// TestIfMatchHolds: RFC 9110's If-Match with strong comparison, against a session's tag.
func TestIfMatchHolds(t *testing.T) {
	const cur = `"3f1a9c"`
	tests := []struct {
		field string
		holds bool
	}{
		{`"3f1a9c"`, true},
		{`*`, true},
		{` * `, true},
		{`"0000", "3f1a9c"`, true},
		{`"0000","3f1a9c"`, true},
		{`"3f1a9c" , "0000"`, true},
		{`"0000"`, false},
		{`W/"3f1a9c"`, false},
		{`3f1a9c`, false},
		{`"3f1a9c`, false},
		{`"0000" "3f1a9c"`, false},
		{`"0000", *`, false},
		{`, ,`, false},
		{``, false},
		{`""`, false},
	}
	for _, tt := range tests {
		if got := ifMatchHolds(tt.field, cur); got != tt.holds {
			t.Errorf("If-Match %q against %s: %v, want %v", tt.field, cur, got, tt.holds)
		}
	}
}

// FuzzIfMatchHolds: any field value is evaluated without panicking, and a field that holds
// names the current tag or is "*".
func FuzzIfMatchHolds(f *testing.F) {
	for _, seed := range []string{`"a"`, `*`, `W/"a"`, `"a", "b"`, `"`, `W/`, `,"a"`, "\"a\"\t,\t\"b\"", `"a""b"`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, field string) {
		cur := sessionETag("0123456789abcdef0123456789abcdef")
		if ifMatchHolds(field, cur) && !strings.Contains(field, cur) && strings.TrimSpace(field) != "*" {
			t.Fatalf("If-Match %q holds against %s", field, cur)
		}
	})
}
