package sfu

import (
	"sync"

	"github.com/shizuishan/culturecloud/media/sfu/internal/packetcache"
)

// qitem is one queued write: a packet for one of the viewer's tracks, or (p nil) a
// retransmission of the packet the track sent as sequence number resend.
type qitem struct {
	p      *packetcache.Packet
	dt     *downTrack
	resend uint16
}

// releaseItem gives up a queued item's hold on its packet (a closed queue's leftovers).
func releaseItem(it qitem) {
	if it.p != nil {
		it.p.Release()
	}
}

// holdPackets is the most packets a viewer's queue holds back waiting for the end of a
// frame: the packets of a 2.5 Mbit/s frame, a part of a keyframe.
const holdPackets = 16

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
// (gso.Conn).
type corker interface {
	Cork()
	Uncork()
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
		k := v.queue.PopBatch(batch[:])
		if wp.conn != nil {
			wp.conn.Cork()
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
			wp.conn.Uncork()
		}
		if k > 0 && v.queue.Len() < v.queue.Cap()/2 {
			v.dropStreak.Store(0)
		}
		more, closed := v.queue.Done()
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
