package sfu

import (
	"sync"
	"sync/atomic"
)

// packet is one RTP packet from a publisher, read once into a pooled buffer and shared,
// read-only, by every viewer queue it is put on. The last release returns it to the pool.
type packet struct {
	refs     atomic.Int32
	pool     *sync.Pool
	off, end int // payload is buf[off:end] (header and padding excluded)
	seq      uint16
	ts       uint32
	marker   bool
	keyframe bool  // first packet of a keyframe
	layer    int32 // simulcast layer index (0 = best), 0 without simulcast
	arrival  int64 // monotonic nanoseconds since the SFU started
	buf      [maxPacketSize]byte
}

func (p *packet) payload() []byte { return p.buf[p.off:p.end] }

func (p *packet) retain() { p.refs.Add(1) }

func (p *packet) release() {
	if p.refs.Add(-1) == 0 {
		p.pool.Put(p)
	}
}

// qitem is one queued write: a packet for one of the viewer's tracks, or (p nil) a
// retransmission of the packet the track sent as sequence number resend.
type qitem struct {
	p      *packet
	dt     *downTrack
	resend uint16
}

// sendQueue is a viewer's bounded FIFO of packets to write. The reader goroutines of
// the publisher's tracks push packets, the viewer's RTCP readers push resends; one writer
// goroutine at a time pops (scheduled says one
// holds the viewer or has it queued), so writes to a viewer stay in order.
type sendQueue struct {
	mu        sync.Mutex
	items     []qitem // ring, len is a power of two
	head, n   int
	ready     int // items from head on that a writer may take: up to the last urgent one
	scheduled bool
	closed    bool
}

func newSendQueue(size int) sendQueue {
	n := 1
	for n < size {
		n <<= 1
	}
	return sendQueue{items: make([]qitem, n)}
}

// push queues it; it reports whether it was queued, and whether the caller must now
// schedule the viewer on the writer pool. A packet that is not urgent (a video packet
// before the last of its frame) waits for the rest of the frame, up to holdPackets, so
// that a writer sends the frame to the viewer at once (see batchConn).
func (q *sendQueue) push(it qitem, urgent bool) (queued, schedule bool) {
	q.mu.Lock()
	if q.closed || q.n == len(q.items) {
		q.mu.Unlock()
		return false, false
	}
	q.items[(q.head+q.n)&(len(q.items)-1)] = it
	q.n++
	if urgent || q.n >= min(holdPackets, len(q.items)) {
		q.ready = q.n
	}
	schedule = !q.scheduled && q.ready > 0
	q.scheduled = q.scheduled || schedule
	q.mu.Unlock()
	return true, schedule
}

// holdPackets is the most packets a viewer's queue holds back waiting for the end of a
// frame: the packets of a 2.5 Mbit/s frame, a part of a keyframe.
const holdPackets = 16

// popBatch moves up to len(dst) ready items into dst.
func (q *sendQueue) popBatch(dst []qitem) int {
	q.mu.Lock()
	k := 0
	mask := len(q.items) - 1
	for k < len(dst) && q.ready > 0 {
		dst[k] = q.items[q.head]
		q.items[q.head] = qitem{}
		q.head = (q.head + 1) & mask
		q.n--
		q.ready--
		k++
	}
	q.mu.Unlock()
	return k
}

// done is called by the writer after a batch: it reports whether the viewer has more
// ready to write (and stays scheduled) or clears the scheduled flag. closed says the queue
// was closed while the writer held the viewer: the writer then owns the cleanup.
func (q *sendQueue) done() (more, closed bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ready > 0 && !q.closed {
		return true, false
	}
	q.scheduled = false
	return false, q.closed
}

// close refuses further pushes and releases what is queued. idle reports that no
// writer holds the viewer (and none will again): the caller owns the cleanup.
func (q *sendQueue) close() (idle bool) {
	q.mu.Lock()
	q.closed = true
	idle = !q.scheduled
	var drop []qitem
	mask := len(q.items) - 1
	for q.n > 0 {
		drop = append(drop, q.items[q.head])
		q.items[q.head] = qitem{}
		q.head = (q.head + 1) & mask
		q.n--
	}
	q.ready = 0
	q.mu.Unlock()
	for _, it := range drop {
		if it.p != nil {
			it.p.release()
		}
	}
	return idle
}

func (q *sendQueue) length() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// writerPool is a fixed set of goroutines that write queued packets to viewers. Viewers
// with something to write wait in a FIFO run queue; a writer takes one, writes up to a
// batch of its packets, and puts it back at the tail if it has more. A viewer whose write
// blocks (a full TCP connection) holds one writer; the others keep serving the rest.
type writerPool struct {
	conn   corker // nil: writes are not held
	mu     sync.Mutex
	cond   *sync.Cond
	ready  []*viewer // ring
	head   int
	n      int
	closed bool
	wg     sync.WaitGroup
}

const writeBatch = 32

// corker holds the socket writes of a writer's batch and sends them together
// (batchConn).
type corker interface {
	cork()
	uncork()
}

func newWriterPool(writers int, conn corker) *writerPool {
	wp := &writerPool{ready: make([]*viewer, 64), conn: conn}
	wp.cond = sync.NewCond(&wp.mu)
	wp.wg.Add(writers)
	for range writers {
		go wp.run()
	}
	return wp
}

func (wp *writerPool) schedule(v *viewer) {
	wp.mu.Lock()
	if wp.n == len(wp.ready) {
		grown := make([]*viewer, 2*len(wp.ready))
		for i := range wp.n {
			grown[i] = wp.ready[(wp.head+i)%len(wp.ready)]
		}
		wp.ready, wp.head = grown, 0
	}
	wp.ready[(wp.head+wp.n)%len(wp.ready)] = v
	wp.n++
	wp.mu.Unlock()
	wp.cond.Signal()
}

func (wp *writerPool) next() *viewer {
	wp.mu.Lock()
	defer wp.mu.Unlock()
	for wp.n == 0 && !wp.closed {
		wp.cond.Wait()
	}
	if wp.n == 0 {
		return nil
	}
	v := wp.ready[wp.head]
	wp.ready[wp.head] = nil
	wp.head = (wp.head + 1) % len(wp.ready)
	wp.n--
	return v
}

func (wp *writerPool) run() {
	defer wp.wg.Done()
	var batch [writeBatch]qitem
	for {
		v := wp.next()
		if v == nil {
			return
		}
		k := v.queue.popBatch(batch[:])
		if wp.conn != nil {
			wp.conn.cork()
		}
		for i := range k {
			if it := batch[i]; it.p != nil {
				it.dt.send(it.p)
			} else {
				it.dt.resendSeq(it.resend)
			}
			batch[i] = qitem{}
		}
		if wp.conn != nil {
			wp.conn.uncork()
		}
		if k > 0 && v.queue.length() < len(v.queue.items)/2 {
			v.dropStreak.Store(0)
		}
		more, closed := v.queue.done()
		if more {
			wp.schedule(v)
		} else if closed {
			v.forgetSent()
		}
	}
}

// close stops the writers once the run queue is empty.
func (wp *writerPool) close() {
	wp.mu.Lock()
	wp.closed = true
	wp.mu.Unlock()
	wp.cond.Broadcast()
	wp.wg.Wait()
}
