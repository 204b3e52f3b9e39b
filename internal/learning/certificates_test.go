package learning_test

import (
	"errors"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/ids"
	"github.com/shizuishan/culturecloud/internal/learning"
)

// TestCertificateIsIssuedOnceAndVerifiable: a certificate is found by its serial as people
// type it, keeps what it said when first issued, and a made-up serial finds nothing.
func TestCertificateIsIssuedOnceAndVerifiable(t *testing.T) {
	docs := newDocs(t)
	clock := time.Now().UTC()
	store := learning.New(docs, learning.Options{Now: func() time.Time { return clock }})
	learner, course := ids.New("cert"), ids.New("course")
	completed := clock.Add(-time.Hour).Truncate(time.Second)
	first, err := store.Issue(t.Context(), learning.Certificate{Learner: learner, Holder: "王秀兰", CourseID: course,
		CourseTitle: "贺兰山岩画临摹", Lecturer: "马老师", Institution: "石嘴山市文化馆", Lessons: 3, CompletedAt: completed})
	if err != nil {
		t.Fatal(err)
	}
	if first.Serial != learning.Serial(learner, course) {
		t.Fatalf("serial %q, want %q", first.Serial, learning.Serial(learner, course))
	}
	// The course is renamed later: the certificate already issued does not change.
	clock = clock.Add(24 * time.Hour)
	again, err := store.Issue(t.Context(), learning.Certificate{Learner: learner, Holder: "王秀兰", CourseID: course,
		CourseTitle: "改名后的课程", Lessons: 4, CompletedAt: completed})
	if err != nil {
		t.Fatal(err)
	}
	if again.CourseTitle != "贺兰山岩画临摹" || again.Lessons != 3 || !again.IssuedAt.Equal(first.IssuedAt) {
		t.Fatalf("second issue changed the certificate: %+v", again)
	}
	tests := []struct {
		name, serial string
		found        bool
	}{
		{"as issued", first.Serial, true},
		{"typed in lower case with spaces", "  " + toLower(first.Serial) + " ", true},
		{"one digit changed", first.Serial[:len(first.Serial)-1] + flip(first.Serial[len(first.Serial)-1]), false},
		{"not a serial", "../records/accounts/admin", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := store.Verify(t.Context(), tt.serial)
			switch {
			case tt.found && err != nil:
				t.Fatalf("Verify: %v", err)
			case tt.found && (c.Holder != "王秀兰" || c.CourseTitle != "贺兰山岩画临摹" || !c.CompletedAt.Equal(completed)):
				t.Fatalf("certificate %+v", c)
			case !tt.found && !errors.Is(err, learning.ErrNoCertificate):
				t.Fatalf("Verify(%q) = %+v, %v; want ErrNoCertificate", tt.serial, c, err)
			}
		})
	}
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func flip(c byte) string {
	if c == '0' {
		return "1"
	}
	return "0"
}

func FuzzNormalizeSerial(f *testing.F) {
	for _, s := range []string{"SZS-0123456789AB", " szs-abcdefabcdef ", "SZS-", "../x", "SZS-0123456789ABC"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := learning.NormalizeSerial(s)
		if !ok {
			return
		}
		if len(n) != 16 || n[:4] != "SZS-" {
			t.Fatalf("NormalizeSerial(%q) accepted %q", s, n)
		}
		for _, c := range n[4:] {
			if (c < '0' || c > '9') && (c < 'A' || c > 'F') {
				t.Fatalf("NormalizeSerial(%q) accepted %q", s, n)
			}
		}
	})
}
