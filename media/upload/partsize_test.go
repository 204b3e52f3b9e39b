package upload_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/shizuishan/culturecloud/media/upload"
)

// TestPartLongerThanDeclaredIsRefused: a presigned part URL carries the part's length, so
// storage refuses more bytes (or fewer) than the session declared for that part.
func TestPartLongerThanDeclaredIsRefused(t *testing.T) {
	e := newEnv(t, upload.Options{PartSize: 5 * mib})
	ctx := context.Background()
	s, err := e.m.Create(ctx, "alice", "photo.png", 6*mib)
	if err != nil {
		t.Fatal(err)
	}
	_, urls, err := e.m.PresignParts(ctx, s.ID, "alice", []int{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	c := s.PartChecksum()
	tests := []struct {
		name string
		part int
		size int
	}{
		{"last part far longer", 2, 50 * mib},
		{"first part one byte longer", 1, 5*mib + 1},
		{"last part shorter", 2, mib - 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := pngFile(t, tc.size)
			if code, _ := putPart(t, urls[tc.part], data, c, c.Of(data)); code/100 == 2 {
				t.Fatalf("storage took %d bytes for part %d of %d", tc.size, tc.part, s.PartLength(tc.part))
			}
		})
	}
	data := pngFile(t, int(s.PartLength(2)))
	if code, _ := putPart(t, urls[2], data, c, c.Of(data)); code != http.StatusOK {
		t.Fatalf("the declared length was refused: %d", code)
	}
	if err := e.m.Abort(ctx, s.ID, "alice"); err != nil {
		t.Fatal(err)
	}
}
