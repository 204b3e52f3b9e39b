package review_test

import (
	"errors"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/review"
)

// TestDecide: nobody reviews her own work, two levels need two different reviewers, and a
// rejection needs a reason and forgets the approvals given.
func TestDecide(t *testing.T) {
	now := time.Unix(1_800_000_000, 0).UTC()
	approve := review.Decision{Approve: true}
	type step struct {
		reviewer string
		d        review.Decision
		publish  bool
		err      error
		invalid  bool
	}
	tests := []struct {
		name   string
		policy review.Policy
		steps  []step
	}{
		{"the submitter approves", review.One, []step{{reviewer: "amy", d: approve, err: review.ErrOwnWork}}},
		{"the creator approves", review.One, []step{{reviewer: "cat", d: approve, err: review.ErrOwnWork}}},
		{"one level", review.One, []step{{reviewer: "bob", d: approve, publish: true}}},
		{"policy none still needs someone else", review.None, []step{{reviewer: "amy", d: approve, err: review.ErrOwnWork},
			{reviewer: "bob", d: approve, publish: true}}},
		{"two levels", review.Two, []step{{reviewer: "bob", d: approve}, {reviewer: "bob", d: approve, err: review.ErrAlreadyApproved},
			{reviewer: "dan", d: approve, publish: true}}},
		{"a rejection without a reason", review.One, []step{{reviewer: "bob", d: review.Decision{Reason: " \n"}, invalid: true}}},
		{"a rejection after a first approval", review.Two, []step{{reviewer: "bob", d: approve},
			{reviewer: "dan", d: review.Decision{Reason: "年代有误"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s review.State
			s.Submit("amy", now)
			for i, st := range tt.steps {
				publish, err := s.Decide(st.reviewer, "cat", tt.policy, st.d, now)
				switch {
				case st.invalid:
					if err == nil || errors.Is(err, review.ErrOwnWork) {
						t.Fatalf("step %d: err %v, want a validation error", i, err)
					}
				case !errors.Is(err, st.err) || (st.err == nil && err != nil):
					t.Fatalf("step %d: err %v, want %v", i, err, st.err)
				case publish != st.publish:
					t.Fatalf("step %d: publish %v, want %v", i, publish, st.publish)
				}
			}
			if last := tt.steps[len(tt.steps)-1]; !last.d.Approve && !last.invalid &&
				(s.Rejected == nil || s.Rejected.Reason != last.d.Reason || len(s.Approvals) != 0) {
				t.Fatalf("after the rejection %+v", s)
			}
		})
	}
}

func TestSubmitForgetsTheLastRound(t *testing.T) {
	now := time.Unix(1_800_000_000, 0).UTC()
	var s review.State
	s.Submit("amy", now)
	if _, err := s.Decide("bob", "amy", review.One, review.Decision{Reason: "补充说明"}, now); err != nil {
		t.Fatal(err)
	}
	s.Submit("amy", now.Add(time.Hour))
	if s.Rejected != nil || len(s.Approvals) != 0 || s.SubmittedBy() != "amy" || s.Pending(review.Two) != 2 {
		t.Fatalf("after a new submission %+v", s)
	}
}
