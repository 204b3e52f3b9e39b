package lectures_test

import (
	"slices"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/library"
)

// TestCoverOfAnUnseenItem checks that a cover may only be a picture its editor may see: a
// draft of another unit is answered as if it did not exist, a published one or one's own
// draft is taken.
func TestCoverOfAnUnseenItem(t *testing.T) {
	e := newEnv(t)
	s := e.service(lectures.Options{})
	draft, err := e.lib.Create(t.Context(), huinong, library.Fields{Title: "惠农草稿", Type: "StillImage", Theme: "history", Unit: "hn", Licence: "cc-by-4.0"})
	if err != nil {
		t.Fatal(err)
	}
	hnPicture := e.addFile(t, draft.ID, "draft.png", "image/png", []byte("\x89PNG\r\n\x1a\n draft"))
	start := time.Now().Add(24 * time.Hour)
	tests := []struct {
		name  string
		actor accounts.Account
		cover lectures.FileRef
		codes []string
	}{
		{"another unit's draft", librarian, hnPicture, []string{"cover:unknown_item"}},
		{"one's own draft", huinong, hnPicture, nil},
		{"a published picture", librarian, e.image, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := input(start)
			in.Unit = tc.actor.Unit
			in.Cover = &tc.cover
			_, _, err := s.Create(t.Context(), tc.actor, in)
			if got := codes(err); !slices.Equal(got, tc.codes) || err != nil && tc.codes == nil {
				t.Fatalf("Create = %v, want problems %v", err, tc.codes)
			}
		})
	}
}
