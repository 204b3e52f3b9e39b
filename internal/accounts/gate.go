package accounts

import (
	"context"
	"errors"
	"time"
)

// ErrBusy means every password-hashing slot stayed taken for the gate's whole wait: the
// server is at its memory budget for hashing, and the caller should try again shortly.
var ErrBusy = errors.New("password hashing is at capacity")

// Gate bounds how many password hashes run at once on this server. Each argon2id hash holds
// its whole memory cost (64 MiB by default) while it runs, so without a bound anonymous
// logins and registrations could take all of the server's memory and CPU.
type Gate struct {
	slots chan struct{}
	wait  time.Duration
}

// NewGate allows n hashes at once (at least 1); a caller waits up to wait for a slot.
func NewGate(n int, wait time.Duration) *Gate {
	return &Gate{slots: make(chan struct{}, max(n, 1)), wait: wait}
}

// GateSlots is how many hashes of memoryKiB each fit into budgetMiB.
func GateSlots(budgetMiB, memoryKiB int) int {
	if memoryKiB <= 0 {
		return 1
	}
	return max(budgetMiB*1024/memoryKiB, 1)
}

// Acquire takes a slot, waiting up to the gate's wait; the caller must call the returned
// release. A nil gate does not limit.
func (g *Gate) Acquire(ctx context.Context) (release func(), err error) {
	if g == nil {
		return func() {}, nil
	}
	release = func() { <-g.slots }
	select {
	case g.slots <- struct{}{}:
		return release, nil
	default:
	}
	timer := time.NewTimer(g.wait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		return release, nil
	case <-timer.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// RetryAfter is what to tell a caller turned away: the gate's wait, in whole seconds.
func (g *Gate) RetryAfter() int {
	if g == nil {
		return 1
	}
	return max(int((g.wait+time.Second-1)/time.Second), 1)
}
