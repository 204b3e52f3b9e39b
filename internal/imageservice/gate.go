package imageservice

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Cuts cost CPU and memory (a decoded tile and the answer), so they are bounded on each node:
// in all, and per client address (one abuser cannot take every place). A request waits a
// moment for a place (Options.CutWait), since a viewer asks for several images at once, then
// is refused.
const retryAfter = 2 * time.Second // hint to a refused client

// BusyError refuses a cut because a bound is reached; Global says which one (the node's rather
// than the client's). The HTTP layer answers 503 or 429 with Retry-After.
type BusyError struct {
	Global bool
	After  time.Duration
}

func (e *BusyError) Error() string {
	if e.Global {
		return fmt.Sprintf("imageservice: the node is cutting its most images at once; retry in %s", e.After)
	}
	return fmt.Sprintf("imageservice: this client is cutting its most images at once; retry in %s", e.After)
}

type gate struct {
	max, perClient int // 0: no bound
	wait           time.Duration

	mu       sync.Mutex
	running  int
	waiting  int // cuts waiting for a place now
	byClient map[string]int
	freed    chan struct{} // closed (and replaced) whenever a place frees
}

func newGate(maxCuts, perClient int, wait time.Duration) *gate {
	return &gate{max: maxCuts, perClient: perClient, wait: wait, byClient: map[string]int{}, freed: make(chan struct{})}
}

// enter takes a place for client, waiting up to g.wait; the caller calls leave when done.
func (g *gate) enter(ctx context.Context, client string) (leave func(), err error) {
	timer := time.NewTimer(g.wait)
	defer timer.Stop()
	for {
		g.mu.Lock()
		global := g.max > 0 && g.running >= g.max
		own := g.perClient > 0 && g.byClient[client] >= g.perClient
		if !global && !own {
			g.running++
			g.byClient[client]++
			g.mu.Unlock()
			return func() { g.leave(client) }, nil
		}
		freed := g.freed
		g.waiting++
		g.mu.Unlock()
		var err error
		select {
		case <-freed:
		case <-timer.C:
			err = &BusyError{Global: !own, After: retryAfter}
		case <-ctx.Done():
			err = ctx.Err()
		}
		g.mu.Lock()
		g.waiting--
		g.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
}

// waiters is how many cuts wait for a place now.
func (g *gate) waiters() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting
}

func (g *gate) leave(client string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running--
	if g.byClient[client]--; g.byClient[client] <= 0 {
		delete(g.byClient, client)
	}
	close(g.freed)
	g.freed = make(chan struct{})
}
