package library

import (
	"fmt"
	"time"

	"github.com/shizuishan/culturecloud/internal/review"
	"github.com/shizuishan/culturecloud/internal/validate"
)

// Flow is the workflow part of a record (an item or a course): the steps of both follow
// the same rules, so both hand their fields to these methods.
type Flow struct {
	Status      *Status
	PublishedAt **time.Time
	Review      *review.State
}

// Move takes the record to another status by hand. Under a policy other than none, nothing
// is published this way: submission (→ in_review) is recorded and a reviewer's decision
// publishes (Decide). Going back to draft recalls the approvals given so far.
func (f Flow) Move(actor string, to Status, p review.Policy, now time.Time) (string, error) {
	from := *f.Status
	if !CanMove(from, to) {
		return "", validate.Errors{{Field: "status", Code: "transition"}}
	}
	switch to {
	case InReview:
		f.Review.Submit(actor, now)
	case Published:
		if p != review.None {
			return "", fmt.Errorf("%w (%s)", review.ErrRequired, p)
		}
		f.publish(now)
	case Draft:
		f.Review.Recall()
	}
	*f.Status = to
	return fmt.Sprintf("status: %s → %s", from, to), nil
}

// Decide applies a reviewer's decision to a record in review: an approval that completes
// the policy publishes it, a rejection sends it back to draft with the reason.
func (f Flow) Decide(reviewer, creator string, p review.Policy, d review.Decision, now time.Time) (string, error) {
	if *f.Status != InReview {
		return "", validate.Errors{{Field: "status", Code: "not_in_review"}}
	}
	publish, err := f.Review.Decide(reviewer, creator, p, d, now)
	if err != nil {
		return "", err
	}
	switch {
	case !d.Approve:
		*f.Status = Draft
		return "review: rejected (" + f.Review.Rejected.Reason + ")", nil
	case publish:
		*f.Status = Published
		f.publish(now)
		return fmt.Sprintf("review: approved %d/%d, status: in_review → published", len(f.Review.Approvals), max(p.Approvals(), 1)), nil
	}
	return fmt.Sprintf("review: approved %d/%d", len(f.Review.Approvals), p.Approvals()), nil
}

func (f Flow) publish(now time.Time) {
	if *f.PublishedAt == nil {
		t := now
		*f.PublishedAt = &t
	}
}
