package learning

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/shizuishan/culturecloud/internal/docstore"
)

// ErrNoCertificate means no certificate carries the serial asked about.
var ErrNoCertificate = errors.New("no certificate with this serial")

// Certificate is what a learner receives for completing a course. It is written once, when
// the course is first completed or the certificate first shown, and never changed: it keeps
// the course's title and teacher of that day, so that a later edit of the course does not
// alter a certificate already printed.
type Certificate struct {
	Serial      string    `json:"serial"`
	Learner     string    `json:"learner"` // account name; never shown to the public
	Holder      string    `json:"holder"`  // display name at the time of issue
	CourseID    string    `json:"course_id"`
	CourseTitle string    `json:"course_title"`
	Lecturer    string    `json:"lecturer"`
	Institution string    `json:"institution"`
	Lessons     int       `json:"lessons"`
	CompletedAt time.Time `json:"completed_at"`
	IssuedAt    time.Time `json:"issued_at"`
}

const certificatePrefix = "records/certificates/"

// Serial is the stable number of one learner's certificate of one course: the same on every
// view, and not guessable from the course and a name without the serial itself, since the
// learner's account name is not public.
func Serial(learner, course string) string {
	sum := sha256.Sum256([]byte("certificate:" + learner + ":" + course))
	return "SZS-" + strings.ToUpper(hex.EncodeToString(sum[:6]))
}

var serialPattern = regexp.MustCompile(`^SZS-[0-9A-F]{12}$`)

// NormalizeSerial accepts a serial as people type it (lower case, spaces around it) and
// reports whether it has the shape of one.
func NormalizeSerial(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	return s, serialPattern.MatchString(s)
}

// Issue stores c (its Serial is derived from the learner and course) unless a certificate
// with that serial exists, and returns the stored one.
func (s *Store) Issue(ctx context.Context, c Certificate) (Certificate, error) {
	c.Serial = Serial(c.Learner, c.CourseID)
	// Most calls come from a certificate shown again: a read answers them without a write.
	if stored, err := s.Verify(ctx, c.Serial); !errors.Is(err, ErrNoCertificate) {
		return stored, err
	}
	c.IssuedAt = s.now().UTC().Truncate(time.Second)
	_, err := s.docs.Put(ctx, certificatePrefix+c.Serial+".json", c, docstore.Create())
	if errors.Is(err, docstore.ErrPrecondition) {
		return s.Verify(ctx, c.Serial)
	}
	return c, err
}

// Verify finds the certificate with serial; ErrNoCertificate when there is none.
func (s *Store) Verify(ctx context.Context, serial string) (Certificate, error) {
	serial, ok := NormalizeSerial(serial)
	if !ok {
		return Certificate{}, ErrNoCertificate
	}
	var c Certificate
	_, err := s.docs.Get(ctx, certificatePrefix+serial+".json", &c)
	if errors.Is(err, docstore.ErrNotFound) {
		return Certificate{}, ErrNoCertificate
	}
	return c, err
}
