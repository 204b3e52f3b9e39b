package upload_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shizuishan/culturecloud/media/upload"
)

// TestQuotaPerOwner: an owner may hold a limited number of open sessions and declared bytes;
// aborting or claiming a session frees its share, other owners and an unlimited quota are
// not affected.
func TestQuotaPerOwner(t *testing.T) {
	e := newEnv(t, upload.Options{PartSize: 5 * mib})
	ctx := context.Background()
	q := upload.Quota{MaxOpen: 2, MaxOpenBytes: 30 * mib}
	create := func(owner string, size int64, q upload.Quota) (*upload.Session, error) {
		return e.m.CreateWithin(ctx, owner, "photo.png", size, q)
	}
	a, err := create("alice", 10*mib, q)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := create("alice", 25*mib, q); !errors.Is(err, upload.ErrQuota) {
		t.Fatalf("declared bytes over the quota: err = %v, want ErrQuota", err)
	}
	b, err := create("alice", 20*mib, q)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := create("alice", 1, q); !errors.Is(err, upload.ErrQuota) {
		t.Fatalf("a third open session: err = %v, want ErrQuota", err)
	}
	if !upload.IsRefusal(upload.ErrQuota) {
		t.Fatal("a quota refusal is not a refusal")
	}
	other, err := create("bob", 20*mib, q)
	if err != nil {
		t.Fatalf("another owner is refused: %v", err)
	}
	unlimited, err := create("alice", 40*mib, upload.Quota{})
	if err != nil {
		t.Fatalf("an unlimited quota is refused: %v", err)
	}
	if err := e.m.Abort(ctx, a.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	// The unlimited session counts too: still two open.
	if _, err := create("alice", 1, q); !errors.Is(err, upload.ErrQuota) {
		t.Fatalf("two open after the abort: err = %v, want ErrQuota", err)
	}
	if _, err := e.m.Claim(ctx, unlimited.ID, "alice", "job-1"); err != nil {
		t.Fatal(err)
	}
	c, err := create("alice", 10*mib, q)
	if err != nil {
		t.Fatalf("after an abort and a claim: %v", err)
	}
	for _, s := range []*upload.Session{b, c} {
		if err := e.m.Abort(ctx, s.ID, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.m.Abort(ctx, other.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Release(ctx, unlimited.ID, "alice", "job-1"); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Abort(ctx, unlimited.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if left := e.leftovers(t); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}
