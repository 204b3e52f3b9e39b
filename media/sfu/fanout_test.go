package sfu

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/media/keyframe"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/shizuishan/culturecloud/media/sfu/internal/packetcache"
	"github.com/shizuishan/culturecloud/media/sfu/internal/sendqueue"

	"github.com/shizuishan/culturecloud/internal/testwait"
)

// These tests drive the fan-out (reader → viewer queues → writer pool → rewrite) with a
// writer that records or blocks, to check exact counts and sequence numbers that a real
// network cannot make deterministic. The real-peer tests are in sfu_test.go.

type written struct {
	seq, layerTag uint16
	ts, ssrc      uint32
	pt            uint8
	marker, key   bool
	frame         uint32
}

// recordingWriter is a webrtc.TrackLocalWriter that records headers, or blocks until
// released.
type recordingWriter struct {
	block   chan struct{} // nil: never blocks
	mu      sync.Mutex
	out     []written
	n       atomic.Int64
	started chan struct{} // closed at the first write
	once    sync.Once
}

func newRecordingWriter(blocking bool) *recordingWriter {
	w := &recordingWriter{started: make(chan struct{})}
	if blocking {
		w.block = make(chan struct{})
	}
	return w
}

func (w *recordingWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.once.Do(func() { close(w.started) })
	if w.block != nil {
		<-w.block
	}
	rec := written{seq: h.SequenceNumber, ts: h.Timestamp, ssrc: h.SSRC, pt: h.PayloadType, marker: h.Marker}
	if len(payload) >= 16 {
		rec.layerTag = uint16(payload[10])
		rec.frame = binary.BigEndian.Uint32(payload[11:])
		rec.key = keyframe.VP8(payload)
	}
	w.mu.Lock()
	w.out = append(w.out, rec)
	w.mu.Unlock()
	w.n.Add(1)
	return len(payload), nil
}

func (w *recordingWriter) Write(b []byte) (int, error) { return len(b), nil }

func (w *recordingWriter) records() []written {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]written(nil), w.out...)
}

// harness is an SFU without network: a room with one fanout of the given kind/layers.
func harness(t testing.TB, kind webrtc.RTPCodecType, layers, writers, queue int) (*SFU, *room, *fanout) {
	t.Helper()
	s := &SFU{
		cfg: Config{
			QueueSize: queue, Writers: writers, KeyframeInterval: time.Second,
			SlowViewerTimeout: time.Hour, PeerTimeout: time.Minute,
		},
		log:      testLogger(),
		rooms:    map[string]*room{},
		sessions: map[string]any{},
		done:     make(chan struct{}),
	}
	s.pool = newWriterPool(writers, nil)
	t.Cleanup(s.pool.close)
	r := &room{s: s, name: "r", id: "pub", viewers: map[string]*viewer{}}
	f := &fanout{r: r, kind: kind}
	if kind == webrtc.RTPCodecTypeAudio {
		f.codec, f.ck = audioCodecs[0], codecOpus
		r.audio = f
	} else {
		f.codec, f.ck = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, codecVP8
		r.video = f
		r.simulcast = layers > 1
	}
	for i := range layers {
		f.layers = append(f.layers, &layer{f: f, index: int32(i), rid: layerNames[i]})
	}
	s.rooms[r.name] = r
	return s, r, f
}

func addTestViewer(s *SFU, r *room, f *fanout, w webrtc.TrackLocalWriter, ssrc uint32) *downTrack {
	v := &viewer{s: s, r: r, id: newSessionID(), queue: sendqueue.New[qitem](s.cfg.QueueSize, holdPackets), joined: true}
	dt := newDownTrack(v, f)
	if f.kind == webrtc.RTPCodecTypeAudio {
		v.audio = dt
	} else {
		v.video = dt
	}
	dt.bound.Store(&binding{ssrc: ssrc, pt: 96, w: w})
	f.add(dt)
	r.viewers[v.id] = v
	s.sessions[v.id] = v
	return dt
}

// push dispatches one packet as the reader would.
func push(s *SFU, f *fanout, layer int32, seq uint16, ts uint32, marker bool, payload []byte) {
	p := s.packetPool.Get()
	p.SetPayload(0, copy(p.Buf[:], payload))
	p.Seq, p.Timestamp, p.Marker, p.Layer = seq, ts, marker, layer
	p.Arrival = monotonic()
	p.Keyframe = f.kind == webrtc.RTPCodecTypeVideo && isKeyframeStart(f.ck, p.Payload())
	f.dispatch(p)
}

func idle(v *viewer) bool { return v.queue.Idle() }

// TestFanoutSlowViewer: a viewer whose writes block holds one writer goroutine; the reader
// never blocks, the other nine viewers get every packet through the second writer, and
// the blocked viewer's queue overflows into counted drops. After SlowViewerTimeout the
// viewer is ended.
func TestFanoutSlowViewer(t *testing.T) {
	const queue, total, batch = 64, 1000, 50
	s, r, f := harness(t, webrtc.RTPCodecTypeAudio, 1, 2, queue)
	slowW := newRecordingWriter(true)
	slow := addTestViewer(s, r, f, slowW, 1)
	var fast []*recordingWriter
	for i := range 9 {
		w := newRecordingWriter(false)
		fast = append(fast, w)
		addTestViewer(s, r, f, w, uint32(100+i))
	}
	payload := make([]byte, 160)
	start := time.Now()
	for i := 0; i < total; i += batch {
		for j := range batch {
			push(s, f, 0, uint16(i+j), uint32(960*(i+j)), false, payload)
		}
		sent := int64(i + batch)
		// The fast viewers keep up although one writer is stuck on the slow viewer.
		testwait.Until(t, "fast viewers received every packet so far", func() bool {
			for _, w := range fast {
				if w.n.Load() != sent {
					return false
				}
			}
			return true
		})
	}
	t.Logf("%d packets to 10 viewers (one blocked) in %s", total, time.Since(start).Round(time.Millisecond))
	<-slowW.started
	v := slow.v
	dropped := int(v.dropped.Load())
	// The blocked writer popped one batch (1..32 packets) before its first write blocked;
	// the queue then filled to its capacity; the rest was dropped.
	if lo, hi := total-queue-writeBatch, total-queue-1; dropped < lo || dropped > hi {
		t.Errorf("slow viewer dropped %d packets, want %d..%d", dropped, lo, hi)
	}
	for i, w := range fast {
		if w.n.Load() != total {
			t.Errorf("fast viewer %d got %d packets", i, w.n.Load())
		}
	}
	st := s.Stats()
	if st.PacketsDropped != uint64(dropped) || st.PacketsForwarded != 9*total {
		t.Errorf("stats %+v, want %d dropped and %d forwarded", st, dropped, 9*total)
	}
	t.Logf("slow viewer: %d dropped, %d queued; stats %+v", dropped, v.queue.Len(), st)

	// The overflow has lasted longer than SlowViewerTimeout (a nanosecond has surely passed
	// since it began, so no waiting): the next tick ends it.
	s.cfg.SlowViewerTimeout = time.Nanosecond
	r.tick(time.Now(), 500*time.Millisecond)
	testwait.Until(t, "slow viewer ended", func() bool { return v.gone.Load() })
	if got := s.Stats().SlowViewersEnded; got != 1 {
		t.Errorf("SlowViewersEnded = %d", got)
	}
	close(slowW.block)
	testwait.Until(t, "writer released", func() bool { return idle(v) })
	// Every packet buffer went back to the pool: nothing leaks when a viewer ends with a
	// full queue (the race detector would also flag a reuse while referenced).
}

// vp8Frame builds the packets of one synthetic VP8 frame, tagged with layer and number.
func vp8Frame(layer int, frame uint32, key bool, packets int) [][]byte {
	var out [][]byte
	for k := range packets {
		p := make([]byte, 200)
		if k == 0 {
			p[0] = 0x10
			if key {
				p[1] = 0x00
				p[4], p[5], p[6] = 0x9d, 0x01, 0x2a
			} else {
				p[1] = 0x01
			}
		}
		p[10] = byte(layer)
		binary.BigEndian.PutUint32(p[11:], frame)
		out = append(out, p)
	}
	return out
}

// TestRewrite: start at a keyframe of the target layer, switch layers only at keyframes,
// restart at a keyframe after a drop, and keep one SSRC with consecutive sequence numbers
// and increasing timestamps throughout.
func TestRewrite(t *testing.T) {
	s, _, f := harness(t, webrtc.RTPCodecTypeVideo, 3, 1, 1024)
	w := newRecordingWriter(false)
	dt := addTestViewer(s, f.r, f, w, 4242)
	dt.pinned.Store(2)
	dt.target.Store(2)
	v := dt.v

	keys := map[int][]uint32{0: {10, 20}, 1: {15, 20}, 2: {3, 20}}
	isKey := func(l int, fr uint32) bool {
		for _, k := range keys[l] {
			if k == fr {
				return true
			}
		}
		return false
	}
	var seq [3]uint16
	send := func(from, to uint32) {
		for fr := from; fr < to; fr++ {
			for l := range 3 {
				pkts := vp8Frame(l, fr, isKey(l, fr), 2)
				for k, p := range pkts {
					push(s, f, int32(l), seq[l]+uint16(l)*20000, uint32(l)*1_000_000+fr*3000, k == len(pkts)-1, p)
					seq[l]++
				}
			}
		}
		testwait.Until(t, "writer idle", func() bool { return idle(v) })
	}
	setPin := func(l int32) {
		for _, l := range f.layers { // layers must look active to chooseLayer
			l.lastPacket.Store(monotonic())
		}
		dt.pinned.Store(l)
		dt.chooseLayer()
	}
	send(0, 6)  // layer 2 from its keyframe at frame 3
	setPin(0)   // layer 0 wanted: its keyframe comes at frame 10
	send(6, 13) // 6..9 still layer 2, then layer 0
	setPin(1)   // layer 1: keyframe at 15
	send(13, 17)
	v.onDrop(dt) // a dropped packet: restart at the next keyframe of layer 1 (frame 20)
	send(17, 23)

	type span struct {
		layer    uint16
		from, to uint32
	}
	// Within a frame layers arrive in the order 0, 1, 2: layer 0's frame 15 still goes
	// out before layer 1's keyframe at frame 15 takes over.
	want := []span{{2, 3, 9}, {0, 10, 15}, {1, 15, 16}, {1, 20, 22}}
	recs := w.records()
	var got []span
	for i, r := range recs {
		if i == 0 || r.layerTag != recs[i-1].layerTag || r.frame > recs[i-1].frame+1 {
			got = append(got, span{r.layerTag, r.frame, r.frame})
		}
		got[len(got)-1].to = r.frame
		if i == 0 {
			if !r.key {
				t.Error("first packet is not a keyframe")
			}
			continue
		}
		prev := recs[i-1]
		if r.seq != prev.seq+1 {
			t.Errorf("packet %d: seq %d after %d", i, r.seq, prev.seq)
		}
		if r.ts < prev.ts || (r.frame != prev.frame && r.ts == prev.ts) {
			t.Errorf("packet %d (frame %d): ts %d after %d", i, r.frame, r.ts, prev.ts)
		}
		if r.ssrc != 4242 || r.pt != 96 {
			t.Errorf("packet %d: ssrc %d pt %d", i, r.ssrc, r.pt)
		}
		if (r.layerTag != prev.layerTag || r.frame > prev.frame+1) && !r.key {
			t.Errorf("packet %d: layer %d frame %d starts without a keyframe", i, r.layerTag, r.frame)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("spans %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("span %d: %v, want %v", i, got[i], want[i])
		}
	}
	if v.layerSwitches.Load() != 2 {
		t.Errorf("layer switches %d, want 2", v.layerSwitches.Load())
	}
	// Within a layer the timestamp advances by the frame interval.
	for i := 1; i < len(recs); i++ {
		if recs[i].layerTag == recs[i-1].layerTag && recs[i].frame == recs[i-1].frame+1 && recs[i].ts-recs[i-1].ts != 3000 {
			t.Errorf("packet %d: ts step %d within a layer", i, recs[i].ts-recs[i-1].ts)
		}
	}
}

// TestChooseLayer: the bandwidth-driven choice goes down at once and up after two ticks.
func TestChooseLayer(t *testing.T) {
	s, _, f := harness(t, webrtc.RTPCodecTypeVideo, 3, 1, 64)
	dt := addTestViewer(s, f.r, f, newRecordingWriter(false), 1)
	now := monotonic()
	for i, rate := range []int64{1_500_000, 500_000, 150_000} {
		f.layers[i].bitrate.Store(rate)
		f.layers[i].lastPacket.Store(now)
	}
	dt.target.Store(1)
	step := func(bps int, want int32) {
		t.Helper()
		// Without a GCC estimator (no PeerConnection here) the estimate is the viewer's REMB.
		dt.v.remb.Store(int64(bps))
		dt.v.rembAt.Store(monotonic())
		dt.chooseLayer()
		if got := dt.target.Load(); got != want {
			t.Errorf("estimate %d: layer %d, want %d", bps, got, want)
		}
	}
	step(2_000_000, 1) // enough for h, first vote
	step(2_000_000, 0) // second vote: up
	step(1_000_000, 1) // h no longer fits: down at once
	step(100_000, 2)   // nothing fits: the lowest
	step(600_000, 2)   // m fits, first vote
	step(600_000, 1)
	f.layers[1].lastPacket.Store(monotonic() - int64(10*time.Second)) // m stopped arriving
	step(600_000, 2)
	dt.pinned.Store(0)
	step(100_000, 0) // pinned wins over the estimate
}

// TestLongStream: a viewer keeps getting every packet past the 16-bit sequence number
// range and its wrap (100,000 packets; at 2.5 Mbit/s a viewer passes 32,768 in about two
// minutes).
func TestLongStream(t *testing.T) {
	s, _, f := harness(t, webrtc.RTPCodecTypeVideo, 1, 1, 4096)
	w := newRecordingWriter(false)
	dt := addTestViewer(s, f.r, f, w, 7)
	const total = 100_000
	seq := uint16(60_000) // wraps after 5,536 packets
	for i := range total {
		frame := uint32(i / 2)
		pkts := vp8Frame(0, frame, i == 0, 2)
		push(s, f, 0, seq, frame*3000, i%2 == 1, pkts[i%2])
		seq++
		if i%2000 == 1999 {
			testwait.Until(t, "writer idle", func() bool { return idle(dt.v) })
		}
	}
	testwait.Until(t, "writer idle", func() bool { return idle(dt.v) })
	if got := len(w.records()); got != total {
		t.Fatalf("the viewer got %d of %d packets", got, total)
	}
}

// TestHistoryHoldsSharedPackets: each viewer's history refers to the packets the room
// read once (no copy per viewer), and a viewer that ends lets go of them.
func TestHistoryHoldsSharedPackets(t *testing.T) {
	s, r, f := harness(t, webrtc.RTPCodecTypeVideo, 1, 2, 1024)
	a := addTestViewer(s, r, f, newRecordingWriter(false), 1)
	b := addTestViewer(s, r, f, newRecordingWriter(false), 2)
	const historySize = packetcache.HistorySize
	const total = historySize + 44
	for i := range total {
		pkts := vp8Frame(0, uint32(i), i == 0, 1)
		push(s, f, 0, uint16(i), uint32(i*3000), true, pkts[0])
	}
	testwait.Until(t, "writers idle", func() bool { return idle(a.v) && idle(b.v) })

	if _, _, ok := a.history.Get(total - historySize - 1); ok {
		t.Fatalf("the history holds sequence number %d, older than the last %d sent", total-historySize-1, historySize)
	}
	held := make([]*packetcache.Packet, 0, historySize)
	for seq := uint16(total - historySize); seq < total; seq++ {
		pa, _, okA := a.history.Get(seq)
		pb, _, okB := b.history.Get(seq)
		if !okA || !okB || pa != pb {
			t.Fatalf("sequence number %d: %p and %p, want the same packet in both", seq, pa, pb)
		}
		held = append(held, pa)
	}
	refs := func(want int32) {
		t.Helper()
		for _, p := range held {
			if got := p.Refs(); got != want {
				t.Fatalf("packet %d has %d references, want %d", p.Seq, got, want)
			}
		}
	}
	refs(2)
	a.v.end("test", false)
	refs(1)
	b.v.end("test", false)
	refs(0)
}
