package imageservice

import (
	"errors"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/testwait"
)

func TestGate(t *testing.T) {
	g := newGate(2, 1, 0)
	leaveA, err := g.enter(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	var busy *BusyError
	if _, err := g.enter(t.Context(), "a"); !errors.As(err, &busy) || busy.Global || busy.After <= 0 {
		t.Fatalf("a second cut of a: %v, want the client's bound", err)
	}
	leaveB, err := g.enter(t.Context(), "b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.enter(t.Context(), "c"); !errors.As(err, &busy) || !busy.Global {
		t.Fatalf("a third cut: %v, want the node's bound", err)
	}
	leaveB()
	leaveC, err := g.enter(t.Context(), "c")
	if err != nil {
		t.Fatalf("after one left: %v", err)
	}
	leaveC()
	leaveA()
	if g.running != 0 || len(g.byClient) != 0 {
		t.Fatalf("%d running, clients %v", g.running, g.byClient)
	}
}

// TestGateWaits: a cut that finds the node full waits for a place rather than being refused.
func TestGateWaits(t *testing.T) {
	g := newGate(1, 1, time.Hour)
	leave, err := g.enter(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan error, 1)
	go func() {
		l, err := g.enter(t.Context(), "b")
		if err == nil {
			l()
		}
		entered <- err
	}()
	// Only once the second cut is really waiting is the place freed: a gate that refused
	// instead of waiting would fail here, whatever the goroutines' order.
	testwait.Until(t, "the second cut waits for a place", func() bool { return g.waiters() == 1 })
	select {
	case err := <-entered:
		t.Fatalf("the second cut got through a full gate: %v", err)
	default:
	}
	leave()
	if err := <-entered; err != nil {
		t.Fatalf("the waiting cut: %v", err)
	}
}
