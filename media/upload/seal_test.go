package upload_test

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/testwait"
	"github.com/shizuishan/culturecloud/media/upload"
)

// sealedUpload uploads data as name in 5 MiB parts and seals it, with seals concurrent
// Seals at once (a repeated request): all must give the same answer.
func (e *env) sealedUpload(t *testing.T, name string, data []byte, seals int) (*upload.Session, *upload.Sealed) {
	t.Helper()
	ctx := context.Background()
	s, err := e.m.Create(ctx, "alice", name, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range split(data, 5*mib) {
		e.uploadPart(t, s.ID, i+1, p)
	}
	got := make([]*upload.Sealed, seals)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			var err error
			if got[i], err = e.m.Seal(ctx, s.ID, "alice"); err != nil {
				t.Errorf("seal %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, g := range got[1:] {
		if *g != *got[0] {
			t.Fatalf("concurrent seals disagree: %+v and %+v", *g, *got[0])
		}
	}
	return s, got[0]
}

// TestSealThenHash: Seal completes and type-checks without reading the whole file and keeps
// the session; sealing again gives the same answer; Hash reads the digests with progress;
// Remove leaves nothing.
func TestSealThenHash(t *testing.T) {
	e := newEnv(t, upload.Options{PartSize: 5 * mib})
	ctx := context.Background()
	data := pngFile(t, fileSize)
	s, sealed := e.sealedUpload(t, "黄河 渡口.png", data, 4)
	want := upload.Sealed{ID: s.ID, Key: s.Key, Size: fileSize, MediaType: "image/png", Ext: ".png",
		DisplayName: "黄河 渡口.png", SafeName: s.SafeName}
	if *sealed != want {
		t.Fatalf("sealed = %+v, want %+v", *sealed, want)
	}
	if _, err := e.m.Get(ctx, s.ID, "alice"); err != nil {
		t.Fatalf("the session must stay until Remove: %v", err)
	}
	again, err := e.m.Seal(ctx, s.ID, "alice")
	if err != nil || *again != want {
		t.Fatalf("seal again = %+v, %v", again, err)
	}

	sum256, sum512 := sha256.Sum256(data), sha512.Sum512(data)
	hex256, hex512 := hex.EncodeToString(sum256[:]), hex.EncodeToString(sum512[:])
	// Only the digests asked are computed: a file for a sha256 OCFL object is read at
	// SHA-256's pace, without SHA-512.
	for _, tc := range []struct {
		name             string
		digests          []upload.Digest
		want256, want512 string
	}{
		{"sha256 only", []upload.Digest{upload.SHA256}, hex256, ""},
		{"sha512 only", []upload.Digest{upload.SHA512}, "", hex512},
		{"both", upload.BothDigests(), hex256, hex512},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reads []int64
			f, err := e.m.Hash(ctx, sealed, tc.digests, func(n int64) { reads = append(reads, n) })
			if err != nil {
				t.Fatal(err)
			}
			if f.SHA256 != tc.want256 || f.SHA512 != tc.want512 {
				t.Errorf("digests %q / %q, want %q / %q", f.SHA256, f.SHA512, tc.want256, tc.want512)
			}
			if f.Key != s.Key || f.Size != fileSize || f.MediaType != "image/png" || f.DisplayName != want.DisplayName {
				t.Errorf("file = %+v", f)
			}
			if len(reads) == 0 || !slices.IsSorted(reads) || reads[len(reads)-1] > fileSize {
				t.Errorf("progress reports %v", reads)
			}
		})
	}
	for _, bad := range [][]upload.Digest{nil, {"md5"}} {
		if _, err := e.m.Hash(ctx, sealed, bad, nil); err == nil {
			t.Errorf("Hash asked for %v: no error", bad)
		}
	}
	if err := e.m.Remove(ctx, sealed.Key); err != nil {
		t.Fatal(err)
	}
	// The session stays (a repeated attach request finds its job in it) until the janitor,
	// and, never claimed here, it still counts as open for the owner's quota.
	if got := slices.Compact(e.leftovers(t)); !slices.Equal(got, []string{
		"object uploads/open/alice/" + s.ID + "." + strconv.FormatInt(fileSize, 10), "object uploads/sessions/" + s.ID + ".json"}) {
		t.Errorf("after Remove: %v", got)
	}
	if _, err := e.m.Hash(ctx, sealed, upload.BothDigests(), nil); !errors.Is(err, upload.ErrNotFound) {
		t.Errorf("hash after Remove: %v, want ErrNotFound", err)
	}
	if _, err := e.m.Seal(ctx, s.ID, "alice"); !errors.Is(err, upload.ErrNotFound) {
		t.Errorf("seal after Remove: %v, want ErrNotFound", err)
	}
	if n, err := e.m.Janitor(ctx, 0); err != nil || n != 1 {
		t.Errorf("janitor = %d, %v; want the finished session removed", n, err)
	}
	if got := e.leftovers(t); len(got) != 0 {
		t.Errorf("after the janitor: %v", got)
	}
}

// TestClaim: of many concurrent claims one wins and all learn the winner; a claimed upload
// cannot be aborted, nor claimed by someone else's account.
func TestClaim(t *testing.T) {
	e := newEnv(t, upload.Options{PartSize: 5 * mib})
	ctx := context.Background()
	s, _ := e.sealedUpload(t, "claim.png", pngFile(t, 6*mib), 1)
	const n = 8
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = e.m.Claim(ctx, s.ID, "alice", strings.Repeat(string(rune('a'+i)), 24)) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || got[i] != got[0] {
			t.Fatalf("claims = %v, errors %v: want one winner for all", got, errs)
		}
	}
	sess, err := e.m.Get(ctx, s.ID, "alice")
	if err != nil || sess.ClaimedBy != got[0] || sess.ClaimedAt.IsZero() {
		t.Fatalf("session after claims: %+v, %v", sess, err)
	}
	if err := e.m.Abort(ctx, s.ID, "alice"); !errors.Is(err, upload.ErrClaimed) {
		t.Errorf("abort of a claimed upload: %v, want ErrClaimed", err)
	}
	if _, err := e.m.Claim(ctx, s.ID, "bob", strings.Repeat("b", 24)); !errors.Is(err, upload.ErrForbidden) {
		t.Errorf("claim by another owner: %v, want ErrForbidden", err)
	}
	if _, err := e.m.Claim(ctx, s.ID, "alice", ""); !errors.Is(err, upload.ErrInvalid) {
		t.Errorf("claim without a job: %v, want ErrInvalid", err)
	}

	// Only the holder's release counts; then another job may claim, or the owner abort.
	loser := strings.Repeat("f", 24)
	if loser == got[0] {
		loser = strings.Repeat("e", 24)
	}
	if holder, err := e.m.Release(ctx, s.ID, "alice", loser); err != nil || holder != got[0] {
		t.Errorf("release by a job that does not hold it = %q, %v; want %q kept", holder, err, got[0])
	}
	if holder, err := e.m.Release(ctx, s.ID, "alice", got[0]); err != nil || holder != "" {
		t.Fatalf("release by the holder = %q, %v", holder, err)
	}
	if holder, err := e.m.Claim(ctx, s.ID, "alice", loser); err != nil || holder != loser {
		t.Errorf("claim after release = %q, %v; want %q", holder, err, loser)
	}
	if _, err := e.m.Release(ctx, s.ID, "alice", loser); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Abort(ctx, s.ID, "alice"); err != nil {
		t.Errorf("abort after release: %v", err)
	}
	if _, err := e.m.Claim(ctx, s.ID, "alice", loser); !errors.Is(err, upload.ErrNotFound) {
		t.Errorf("claim of an aborted session: %v, want ErrNotFound", err)
	}
}

// TestJanitorSparesAFreshClaim: an upload that took longer than the janitor's age but was
// claimed just now belongs to its job (the claim rewrites the session); an old unclaimed
// sealed upload is removed.
func TestJanitorSparesAFreshClaim(t *testing.T) {
	e := newEnv(t, upload.Options{PartSize: 5 * mib})
	ctx := context.Background()
	claimed, _ := e.sealedUpload(t, "claimed.png", pngFile(t, 6*mib), 1)
	_, _ = e.sealedUpload(t, "never-attached.png", pngFile(t, 6*mib), 1)
	// The janitor has no clock to move: it compares its time.Now with the times MinIO and
	// the sessions stored, all earlier than sealed. Wait until a second has passed since.
	sealed := time.Now()
	testwait.Until(t, "the sealed uploads are older than the janitor's second", func() bool { return time.Since(sealed) > time.Second })
	if _, err := e.m.Claim(ctx, claimed.ID, "alice", strings.Repeat("c", 24)); err != nil {
		t.Fatal(err)
	}
	n, err := e.m.Janitor(ctx, time.Second)
	if err != nil || n != 1 {
		t.Fatalf("janitor = %d, %v; want the unclaimed upload only", n, err)
	}
	left := slices.Compact(e.leftovers(t)) // the claim wrote a second version of the session
	want := []string{"object uploads/sessions/" + claimed.ID + ".json", "object " + claimed.Key}
	if !slices.Equal(left, want) {
		t.Errorf("left = %v, want %v", left, want)
	}
}
