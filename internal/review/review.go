// Package review owns the rule of 先审后发: content is reviewed before the public sees it,
// by someone other than the person who submitted or made it. A unit chooses how many
// reviewers must approve (its Policy); the State kept with each item or course records who
// submitted it, who approved it and why it was sent back.
package review

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/shizuishan/culturecloud/internal/validate"
)

// Policy is how many levels of review a unit asks for before publication.
type Policy string

const (
	// None lets staff publish their own work (a unit that reviews elsewhere, or a test bed).
	None Policy = "none"
	// One asks one reviewer: the shipped default of the city (先审后发).
	One Policy = "one"
	// Two asks two different reviewers (二审).
	Two Policy = "two"
	// Default is what a tree without any policy set means: review is never off by omission.
	Default = One
)

// Policies lists every policy, for validation and forms.
func Policies() []Policy {
	return []Policy{None, One, Two}
}

// Valid reports whether p is a known policy.
func (p Policy) Valid() bool { return slices.Contains(Policies(), p) }

// Approvals is how many approvals publish under p.
func (p Policy) Approvals() int {
	switch p {
	case None:
		return 0
	case Two:
		return 2
	}
	return 1
}

var (
	// ErrRequired means the unit's policy asks for review, so staff cannot publish by a
	// status change: the item goes to review and a reviewer approves it.
	ErrRequired = errors.New("publishing needs a reviewer's approval")
	// ErrOwnWork means the reviewer submitted or made the content herself.
	ErrOwnWork = errors.New("a reviewer may not approve or reject her own work")
	// ErrAlreadyApproved means this reviewer approved already; the next level needs another.
	ErrAlreadyApproved = errors.New("already approved by this reviewer")
)

// Step is who did something, and when.
type Step struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// Rejection is a reviewer's refusal, shown to the submitter.
type Rejection struct {
	Step
	Reason string `json:"reason"`
}

// State is the review record kept with an item or a course.
type State struct {
	Submitted *Step      `json:"submitted,omitempty"`
	Approvals []Step     `json:"approvals,omitempty"`
	Rejected  *Rejection `json:"rejected,omitempty"`
}

// Decision is a reviewer's answer to a submission.
type Decision struct {
	Approve bool
	Reason  string
}

// MaxReason bounds the text of a rejection.
const MaxReason = 1000

// Submit records a new submission; an earlier rejection and approvals no longer apply.
func (s *State) Submit(by string, now time.Time) {
	*s = State{Submitted: &Step{By: by, At: now}}
}

// Recall forgets the approvals of a submission taken back or changed: what reviewers
// approved is no longer what would be published.
func (s *State) Recall() { s.Approvals = nil }

// Pending is how many approvals are still missing under p.
func (s State) Pending(p Policy) int {
	return max(max(p.Approvals(), 1)-len(s.Approvals), 0)
}

// SubmittedBy is who submitted the content now in review ("" if nobody recorded it).
func (s State) SubmittedBy() string {
	if s.Submitted == nil {
		return ""
	}
	return s.Submitted.By
}

// MayReview reports whether reviewer is neither the submitter nor the creator.
func (s State) MayReview(reviewer, creator string) bool {
	return reviewer != s.SubmittedBy() && reviewer != creator
}

// Decide applies a reviewer's decision under p; it reports whether the content is now
// approved by enough reviewers to be published. A rejection needs a reason.
func (s *State) Decide(reviewer, creator string, p Policy, d Decision, now time.Time) (publish bool, err error) {
	if !s.MayReview(reviewer, creator) {
		return false, ErrOwnWork
	}
	if !d.Approve {
		reason := strings.TrimSpace(d.Reason)
		var errs validate.Errors
		errs.Text("reason", reason, true, 1, MaxReason)
		if err := errs.Err(); err != nil {
			return false, err
		}
		s.Approvals = nil
		s.Rejected = &Rejection{Step: Step{By: reviewer, At: now}, Reason: reason}
		return false, nil
	}
	if slices.ContainsFunc(s.Approvals, func(a Step) bool { return a.By == reviewer }) {
		return false, ErrAlreadyApproved
	}
	s.Approvals = append(s.Approvals, Step{By: reviewer, At: now})
	return s.Pending(p) == 0, nil
}
