package packetcache

import (
	"strconv"
	"testing"
)

// TestReferences: a packet from the pool starts with the caller's reference, and each
// holder adds and drops its own.
func TestReferences(t *testing.T) {
	var pool Pool
	p := pool.Get()
	if got := p.Refs(); got != 1 {
		t.Fatalf("a new packet has %d references, want 1", got)
	}
	p.Retain()
	p.Retain()
	p.Release()
	if got := p.Refs(); got != 2 {
		t.Fatalf("after two retains and a release: %d references, want 2", got)
	}
	p.Release()
	p.Release()
	if got := p.Refs(); got != 0 {
		t.Fatalf("after the last release: %d references, want 0", got)
	}
	// Reused or new, a packet from the pool is the caller's alone.
	if got := pool.Get().Refs(); got != 1 {
		t.Fatalf("a recycled packet has %d references, want 1", got)
	}
}

func TestPayload(t *testing.T) {
	var pool Pool
	p := pool.Get()
	copy(p.Buf[:], "hdr.payload.pad")
	p.SetPayload(4, 11)
	if got := string(p.Payload()); got != "payload" {
		t.Fatalf("Payload = %q", got)
	}
}

// TestHistory: the history answers for the last HistorySize sequence numbers sent, across
// the 16-bit wrap, with the timestamp each was sent with; it lets go of a packet when its
// slot is taken, and of all of them when cleared.
func TestHistory(t *testing.T) {
	const first, total = 65500, HistorySize + 100 // wraps past 65535
	var pool Pool
	var h History
	packets := make([]*Packet, total)
	for i := range total {
		p := pool.Get()
		p.Retain() // the test's own reference, to watch the history's
		packets[i] = p
		h.Store(p, uint16(first+i), uint32(i*3000))
	}
	newest := uint16((first + total - 1) % 65536)
	for _, tc := range []struct {
		name string
		back int // sequence numbers before the newest
		held bool
	}{
		{"newest", 0, true},
		{"oldest held", HistorySize - 1, true},
		{"one too old", HistorySize, false},
		{"much too old", total - 1, false},
		{"never sent", -5, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seq := newest - uint16(tc.back) //nolint:gosec // tc.back is small; negative means after the newest
			p, ts, ok := h.Get(seq)
			if ok != tc.held {
				t.Fatalf("Get(%d) ok = %v, want %v", seq, ok, tc.held)
			}
			if !ok {
				return
			}
			i := total - 1 - tc.back
			if p != packets[i] || ts != uint32(i*3000) {
				t.Fatalf("Get(%d) = packet %p ts %d, want %p ts %d", seq, p, ts, packets[i], i*3000)
			}
		})
	}
	for i, p := range packets {
		want := int32(1) // the test's
		if i >= total-HistorySize {
			want = 2 // and the history's
		}
		if got := p.Refs(); got != want {
			t.Fatalf("packet %d: %d references, want %d", i, got, want)
		}
	}
	h.Clear()
	for i, p := range packets {
		if got := p.Refs(); got != 1 {
			t.Fatalf("after Clear, packet %d: %d references, want 1", i, got)
		}
	}
	if _, _, ok := h.Get(newest); ok {
		t.Fatal("Get after Clear found a packet")
	}
}

// packetBytes is a typical video packet: what one benchmark op carries.
const packetBytes = 1200

// fill stores HistorySize packets in the histories, shared as the SFU shares them, so
// that a benchmark starts in the steady state: each store displaces a packet, which goes
// back to the pool for the next Get.
func fill(pool *Pool, histories []History) {
	for seq := range uint16(HistorySize) {
		p := pool.Get()
		for i := range histories {
			p.Retain()
			histories[i].Store(p, seq, 0)
		}
		p.Release()
	}
}

// BenchmarkHistory is one video packet's life in one viewer's history: taken from the
// pool, filled, stored as sent (releasing the packet it displaces), and one NACK lookup.
func BenchmarkHistory(b *testing.B) {
	var pool Pool
	h := make([]History, 1)
	fill(&pool, h)
	payload := make([]byte, packetBytes)
	b.SetBytes(packetBytes)
	b.ReportAllocs()
	for i := HistorySize; b.Loop(); i++ {
		p := pool.Get()
		copy(p.Buf[:], payload)
		p.SetPayload(0, packetBytes)
		seq := uint16(i) //nolint:gosec // wraps as RTP does
		h[0].Store(p, seq, uint32(i))
		if _, _, ok := h[0].Get(seq - 100); !ok {
			b.Fatalf("packet %d not in the history", seq-100)
		}
	}
	h[0].Clear()
}

// BenchmarkShared is one packet shared by many viewers: each retains it and stores it in
// its history. SetBytes is the packet's size, so MB/s is the incoming media rate one core
// can hand to that many viewers.
func BenchmarkShared(b *testing.B) {
	for _, viewers := range []int{10, 100} {
		b.Run(strconv.Itoa(viewers)+" viewers", func(b *testing.B) {
			var pool Pool
			histories := make([]History, viewers)
			fill(&pool, histories)
			b.SetBytes(packetBytes)
			b.ReportAllocs()
			for i := HistorySize; b.Loop(); i++ {
				p := pool.Get()
				p.SetPayload(0, packetBytes)
				for v := range histories {
					p.Retain()
					histories[v].Store(p, uint16(i), uint32(i)) //nolint:gosec // wraps as RTP does
				}
				p.Release()
			}
			for v := range histories {
				histories[v].Clear()
			}
		})
	}
}
