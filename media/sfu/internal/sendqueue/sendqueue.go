// Package sendqueue is a viewer's bounded queue of packets to write. The publisher's
// reader goroutines push, never blocking: a full queue refuses the packet, which is the
// viewer's loss alone. One writer goroutine at a time takes what is ready, so that writes
// to a viewer stay in order; the queue itself tells the pusher when the viewer must be
// handed to a writer, and the writer whether to keep it.
//
// Packets that are not urgent (a video frame's before its last) wait for the rest of the
// frame, up to a hold limit, so that a writer sends the frame in one batch, and the
// socket in one GSO send.
package sendqueue

import "sync"

// Queue is a bounded FIFO of items for one viewer. Its methods are safe for concurrent
// use.
type Queue[T any] struct {
	mu        sync.Mutex
	items     []T // ring, len is a power of two
	head, n   int
	ready     int // items from head on that a writer may take: up to the last urgent one
	hold      int // the most items held back waiting for an urgent one
	scheduled bool
	closed    bool
}

// New returns a queue of at least size items (rounded up to a power of two) that holds
// back at most hold items that are not urgent.
func New[T any](size, hold int) *Queue[T] {
	n := 1
	for n < size {
		n <<= 1
	}
	return &Queue[T]{items: make([]T, n), hold: min(hold, n)}
}

// Push queues it; it reports whether it was queued, and whether the caller must now
// schedule the viewer on a writer (at most once until the writer's Done lets go of it).
func (q *Queue[T]) Push(it T, urgent bool) (queued, schedule bool) {
	q.mu.Lock()
	if q.closed || q.n == len(q.items) {
		q.mu.Unlock()
		return false, false
	}
	q.items[(q.head+q.n)&(len(q.items)-1)] = it
	q.n++
	if urgent || q.n >= q.hold {
		q.ready = q.n
	}
	schedule = !q.scheduled && q.ready > 0
	q.scheduled = q.scheduled || schedule
	q.mu.Unlock()
	return true, schedule
}

// PopBatch moves up to len(dst) ready items into dst and returns how many.
func (q *Queue[T]) PopBatch(dst []T) int {
	var zero T
	q.mu.Lock()
	k := 0
	mask := len(q.items) - 1
	for k < len(dst) && q.ready > 0 {
		dst[k] = q.items[q.head]
		q.items[q.head] = zero
		q.head = (q.head + 1) & mask
		q.n--
		q.ready--
		k++
	}
	q.mu.Unlock()
	return k
}

// Done is called by the writer after a batch: it reports whether the viewer has more
// ready to write (and stays scheduled) or clears the scheduled flag. closed says the
// queue was closed while the writer held the viewer: the writer then owns the cleanup.
func (q *Queue[T]) Done() (more, closed bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ready > 0 && !q.closed {
		return true, false
	}
	q.scheduled = false
	return false, q.closed
}

// Close refuses further pushes and hands what is queued to release, outside the lock.
// idle reports that no writer holds the viewer (and none will again): the caller owns
// the cleanup.
func (q *Queue[T]) Close(release func(T)) (idle bool) {
	var zero T
	q.mu.Lock()
	q.closed = true
	idle = !q.scheduled
	var drop []T
	mask := len(q.items) - 1
	for q.n > 0 {
		drop = append(drop, q.items[q.head])
		q.items[q.head] = zero
		q.head = (q.head + 1) & mask
		q.n--
	}
	q.ready = 0
	q.mu.Unlock()
	for _, it := range drop {
		release(it)
	}
	return idle
}

// Len is the number of items queued.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// Cap is the number of items the queue holds when full.
func (q *Queue[T]) Cap() int { return len(q.items) }

// Idle reports that the queue is empty and no writer holds the viewer.
func (q *Queue[T]) Idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n == 0 && !q.scheduled
}
