package accounts_test

import (
	"errors"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/accounts"
)

func TestGateSlots(t *testing.T) {
	tests := []struct{ budgetMiB, memoryKiB, want int }{
		{256, 64 * 1024, 4},
		{100, 64 * 1024, 1},
		{10, 64 * 1024, 1}, // never zero: one hash always fits
		{64, 8 * 1024, 8},
		{64, 0, 1},
	}
	for _, tc := range tests {
		if got := accounts.GateSlots(tc.budgetMiB, tc.memoryKiB); got != tc.want {
			t.Errorf("GateSlots(%d MiB, %d KiB) = %d, want %d", tc.budgetMiB, tc.memoryKiB, got, tc.want)
		}
	}
}

// TestHashingIsBounded holds the only hashing slot and checks that what needs a hash is
// turned away with ErrBusy, while a registration under a taken name is answered without one.
func TestHashingIsBounded(t *testing.T) {
	f := newFixture(t)
	f.register(t, "ma.lin")
	gate := accounts.NewGate(1, 20*time.Millisecond)
	hasher := fastHasher
	hasher.Gate = gate
	svc, err := accounts.NewService(f.store, f.units, hasher, []byte("token-key-0123456789abcdef012345"), f.heard)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	release, err := gate.Acquire(ctx)
	if err != nil {
		t.Fatalf("Acquire of a free gate: %v", err)
	}
	calls := []struct {
		name string
		call func() error
		want error
	}{
		{"login", func() error { _, err := svc.Authenticate(ctx, "ma.lin", goodPassword); return err }, accounts.ErrBusy},
		{"login of an unknown name", func() error { _, err := svc.Authenticate(ctx, "nobody.here", goodPassword); return err }, accounts.ErrBusy},
		{"register", func() error {
			_, err := svc.Register(ctx, accounts.NewAccount{Name: "new.name", DisplayName: "新", Password: goodPassword})
			return err
		}, accounts.ErrBusy},
		{"register a taken name", func() error {
			_, err := svc.Register(ctx, accounts.NewAccount{Name: "ma.lin", DisplayName: "重", Password: goodPassword})
			return err
		}, accounts.ErrExists},
	}
	for _, tc := range calls {
		if err := tc.call(); !errors.Is(err, tc.want) {
			t.Errorf("%s while hashing is full: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	release()
	if _, err := svc.Authenticate(ctx, "ma.lin", goodPassword); err != nil {
		t.Errorf("login after the slot is free: %v", err)
	}
	if got := gate.RetryAfter(); got != 1 {
		t.Errorf("RetryAfter = %d, want 1 s for a 20 ms wait", got)
	}
}
