package sendqueue

import (
	"slices"
	"sync"
	"testing"
)

const (
	testHold  = 16
	testBatch = 32
)

// TestCloseOwnership: whoever holds the viewer last cleans up: the closer when no writer
// holds it, else the writer when it finishes its batch.
func TestCloseOwnership(t *testing.T) {
	nothing := func(int) {}
	idleQ := New[int](4, testHold)
	if !idleQ.Close(nothing) {
		t.Error("close of a queue no writer holds: want the closer to clean up")
	}
	busy := New[int](4, testHold)
	if ok, schedule := busy.Push(1, true); !ok || !schedule {
		t.Fatalf("Push = %v, %v", ok, schedule)
	}
	var batch [testBatch]int
	busy.PopBatch(batch[:])
	if busy.Close(nothing) {
		t.Error("close while a writer holds the viewer: want the writer to clean up")
	}
	if more, closed := busy.Done(); more || !closed {
		t.Errorf("Done after close = more %v, closed %v; want false, true", more, closed)
	}
	if ok, _ := busy.Push(2, true); ok {
		t.Error("push after close was queued")
	}
}

// TestCloseReleasesQueued: Close hands every queued item, ready or held back, to release
// once, in order.
func TestCloseReleasesQueued(t *testing.T) {
	q := New[int](8, testHold)
	for i := range 5 {
		q.Push(i, i == 2)
	}
	var released []int
	q.Close(func(i int) { released = append(released, i) })
	if !slices.Equal(released, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("released %v, want 0..4", released)
	}
	if n := q.Len(); n != 0 {
		t.Fatalf("Len after Close = %d", n)
	}
}

// TestFullQueueRefuses: a full queue refuses a packet (the viewer's loss) until a writer
// takes some.
func TestFullQueueRefuses(t *testing.T) {
	q := New[int](3, testHold) // rounded up to 4
	if c := q.Cap(); c != 4 {
		t.Fatalf("Cap = %d, want 4", c)
	}
	for i := range 4 {
		if ok, _ := q.Push(i, true); !ok {
			t.Fatalf("push %d refused", i)
		}
	}
	if ok, schedule := q.Push(4, true); ok || schedule {
		t.Fatalf("push into a full queue = %v, %v; want refused", ok, schedule)
	}
	var batch [2]int
	if k := q.PopBatch(batch[:]); k != 2 || batch != [2]int{0, 1} {
		t.Fatalf("PopBatch = %d %v", k, batch)
	}
	if ok, _ := q.Push(4, true); !ok {
		t.Fatal("push refused after a writer made room")
	}
}

// TestHoldsFrame: video packets wait in the queue for the end of their frame (an urgent
// packet) or for the hold limit, and a writer takes only what is ready, so that a frame
// leaves in one batch.
func TestHoldsFrame(t *testing.T) {
	q := New[int](64, testHold)
	for i := range 3 {
		if ok, schedule := q.Push(i, false); !ok || schedule {
			t.Fatalf("packet %d of a frame: Push = %v, %v; want queued, not scheduled", i, ok, schedule)
		}
	}
	if ok, schedule := q.Push(3, true); !ok || !schedule {
		t.Fatalf("end of the frame: Push = %v, %v; want queued and scheduled", ok, schedule)
	}
	// The next frame begins before the writer comes: it stays behind.
	if _, schedule := q.Push(4, false); schedule {
		t.Fatal("a packet of the next frame scheduled the viewer again")
	}
	var batch [testBatch]int
	if k := q.PopBatch(batch[:]); k != 4 || batch[3] != 3 {
		t.Fatalf("PopBatch took %d items (last %d), want the 4 of the first frame", k, batch[3])
	}
	if more, _ := q.Done(); more {
		t.Fatal("Done: more to write, but only an unfinished frame is queued")
	}
	// Without an end, testHold packets are enough.
	schedules := 0
	for i := range testHold - 1 {
		if _, schedule := q.Push(5+i, false); schedule {
			schedules++
		}
	}
	if schedules != 1 {
		t.Fatalf("%d packets without an end of frame scheduled the viewer %d times, want once", testHold, schedules)
	}
	if k := q.PopBatch(batch[:]); k != testHold {
		t.Fatalf("PopBatch took %d items, want %d", k, testHold)
	}
}

// TestSmallQueueHoldsNoMoreThanItHas: a queue shorter than the hold limit makes its
// packets ready once it is full, instead of refusing the end of the frame forever.
func TestSmallQueueHoldsNoMoreThanItHas(t *testing.T) {
	q := New[int](4, testHold)
	for i := range 3 {
		if _, schedule := q.Push(i, false); schedule {
			t.Fatalf("packet %d scheduled the viewer", i)
		}
	}
	if ok, schedule := q.Push(3, false); !ok || !schedule {
		t.Fatalf("the packet that fills the queue: Push = %v, %v; want queued and scheduled", ok, schedule)
	}
}

// TestConcurrentOrder: with one pusher and one writer at a time, the writer gets every
// item in order and the viewer is scheduled exactly when it has something ready.
func TestConcurrentOrder(t *testing.T) {
	const total = 20000
	q := New[int](64, testHold)
	sched := make(chan struct{}, 1)
	var got []int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the writer pool, one writer
		defer wg.Done()
		var batch [testBatch]int
		for range sched {
			for {
				k := q.PopBatch(batch[:])
				got = append(got, batch[:k]...)
				if more, _ := q.Done(); !more {
					break
				}
			}
			if len(got) == total {
				return
			}
		}
	}()
	for i := 0; i < total; {
		queued, schedule := q.Push(i, i%8 == 7 || i == total-1)
		if schedule {
			sched <- struct{}{}
		}
		if queued {
			i++
		}
	}
	wg.Wait()
	for i, v := range got {
		if v != i {
			t.Fatalf("item %d is %d", i, v)
		}
	}
	if len(got) != total {
		t.Fatalf("writer got %d of %d items", len(got), total)
	}
}

// item is what the SFU queues: two references and a sequence number.
type item struct {
	p, dt  *byte
	resend uint16
}

// packetBytes is a typical video packet: what one queued item stands for. The queue moves
// references, not bytes; MB/s is the media rate one viewer's queue can carry.
const packetBytes = 1200

// BenchmarkFrames pushes frames of 8 packets (the last urgent) and a writer pops each
// frame as one batch, on one goroutine: the queue's own cost per packet.
func BenchmarkFrames(b *testing.B) {
	q := New[item](512, testHold)
	var batch [testBatch]item
	var p, dt byte
	b.SetBytes(packetBytes)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		q.Push(item{p: &p, dt: &dt, resend: uint16(i)}, i%8 == 7) //nolint:gosec // wraps as RTP does
		if i%8 == 7 {
			q.PopBatch(batch[:])
			q.Done()
		}
	}
}

// BenchmarkContended is one pusher (the reader) and one writer on another goroutine,
// handing the viewer over as the SFU's writer pool does: the cost with the lock contended.
func BenchmarkContended(b *testing.B) {
	q := New[item](512, testHold)
	sched := make(chan struct{}, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var batch [testBatch]item
		for {
			select {
			case <-stop:
				return
			case <-sched:
			}
			for {
				q.PopBatch(batch[:])
				if more, _ := q.Done(); !more {
					break
				}
			}
		}
	}()
	var p, dt byte
	b.SetBytes(packetBytes)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for {
			queued, schedule := q.Push(item{p: &p, dt: &dt, resend: uint16(i)}, i%8 == 7) //nolint:gosec // wraps as RTP does
			if schedule {
				sched <- struct{}{}
			}
			if queued {
				break
			}
		}
	}
	close(stop)
	wg.Wait()
}
