// Package packetcache holds the SFU's RTP packets. A packet a publisher sends is read
// once into a pooled, reference-counted [Packet] that every viewer it goes to shares,
// read-only; each viewer track keeps the packets it sent, by the sequence number it sent
// them with, in a [History], to answer NACKs. Nothing is copied per viewer: a history
// holds references, so it costs a viewer 4 KiB instead of a cache of its own.
package packetcache

import (
	"sync"
	"sync/atomic"
)

// MaxSize is the largest RTP packet read: an Ethernet MTU.
const MaxSize = 1500

// Packet is one RTP packet from a publisher. Its fields are set by the reader before the
// packet is shared and are read-only from then on.
type Packet struct {
	refs     atomic.Int32
	pool     *Pool
	off, end int // payload is Buf[off:end] (header and padding excluded)

	Seq       uint16
	Timestamp uint32
	Marker    bool
	Keyframe  bool  // first packet of a keyframe
	Layer     int32 // simulcast layer index (0 = best), 0 without simulcast
	Arrival   int64 // monotonic nanoseconds, the reader's clock
	Buf       [MaxSize]byte
}

// Payload is the packet's payload, as set by SetPayload.
func (p *Packet) Payload() []byte { return p.Buf[p.off:p.end] }

// SetPayload says where in Buf the payload is.
func (p *Packet) SetPayload(off, end int) { p.off, p.end = off, end }

// Retain adds a reference: one more queue or history holds the packet.
func (p *Packet) Retain() { p.refs.Add(1) }

// Release drops a reference; the last one returns the packet to its pool.
func (p *Packet) Release() {
	if p.refs.Add(-1) == 0 {
		p.pool.p.Put(p)
	}
}

// Refs is the number of references held, for checks in tests.
func (p *Packet) Refs() int32 { return p.refs.Load() }

// Pool recycles packets, so that reading a packet allocates nothing. The zero value is
// ready to use.
type Pool struct{ p sync.Pool }

// Get returns a packet with one reference, the caller's. Its fields hold whatever the
// last user left there: the reader sets them all.
func (pl *Pool) Get() *Packet {
	p, _ := pl.p.Get().(*Packet)
	if p == nil {
		p = new(Packet)
	}
	p.pool = pl
	p.refs.Store(1)
	return p
}

// HistorySize is how many sent packets a History holds: 256 is about 0.9 s of 2.5 Mbit/s
// video; a packet asked for later than that would come after the viewer's jitter buffer
// gave up on it. A power of two, so that a sequence number maps to a slot by a mask.
const HistorySize = 256

// History is the packets one viewer track sent, by the sequence number it sent them with
// (which differs from the publisher's after a layer switch). It is not safe for
// concurrent use: the writer that holds the viewer owns it.
type History struct {
	slots [HistorySize]sent
}

type sent struct {
	p   *Packet
	seq uint16
	ts  uint32
}

// Store records that p went out as seq with timestamp ts. It takes over the caller's
// reference to p and releases the packet whose slot it takes.
func (h *History) Store(p *Packet, seq uint16, ts uint32) {
	slot := &h.slots[seq&(HistorySize-1)]
	if slot.p != nil {
		slot.p.Release()
	}
	*slot = sent{p: p, seq: seq, ts: ts}
}

// Get returns the packet sent as seq and the timestamp it was sent with, if the history
// still holds it. The reference stays the history's.
func (h *History) Get(seq uint16) (p *Packet, ts uint32, ok bool) {
	slot := &h.slots[seq&(HistorySize-1)]
	if slot.p == nil || slot.seq != seq {
		return nil, 0, false
	}
	return slot.p, slot.ts, true
}

// Clear releases every packet the history holds.
func (h *History) Clear() {
	for i := range h.slots {
		if p := h.slots[i].p; p != nil {
			p.Release()
		}
		h.slots[i] = sent{}
	}
}
