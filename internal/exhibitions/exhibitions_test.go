package exhibitions

import (
	"testing"
	"time"
)

// TestOpenAt: an exhibition is open from the start of its first day to the end of its last,
// in Beijing time, whatever the time zone of the clock asked; a permanent one never closes.
func TestOpenAt(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	spring := Input{Opens: "2030-03-01", Closes: "2030-05-31"}
	tests := []struct {
		name string
		in   Input
		now  string
		want bool
	}{
		{"the evening before, in Beijing", spring, "2030-02-28T23:59:59+08:00", false},
		{"the first morning, in Beijing", spring, "2030-03-01T00:00:00+08:00", true},
		{"the first morning, told in UTC", spring, "2030-02-28T16:00:00Z", true},
		{"the last evening", spring, "2030-05-31T23:59:59+08:00", true},
		{"the day after", spring, "2030-06-01T00:00:00+08:00", false},
		{"permanent, years on", Input{Opens: "2020-01-01", Permanent: true}, "2090-01-01T00:00:00Z", true},
		{"permanent, before it opens", Input{Opens: "2020-01-01", Permanent: true}, "2019-12-31T12:00:00Z", false},
		{"closing before opening never opens", Input{Opens: "2030-05-01", Closes: "2030-04-01"}, "2030-04-15T12:00:00Z", false},
		{"unreadable dates never open", Input{Opens: "soon", Permanent: true}, "2030-04-15T12:00:00Z", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.OpenAt(at(tc.now)); got != tc.want {
				t.Fatalf("OpenAt(%s) = %v, want %v", tc.now, got, tc.want)
			}
		})
	}
}
