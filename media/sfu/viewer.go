package sfu

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/shizuishan/culturecloud/media/sfu/internal/packetcache"
	"github.com/shizuishan/culturecloud/media/sfu/internal/sendqueue"
)

// SubscribeOptions are a viewer's choices.
type SubscribeOptions struct {
	// Layer pins a simulcast layer by quality: "h" (best), "m" or "l" (lowest); "" lets
	// the SFU choose by the viewer's bandwidth estimate. A pinned layer that is not being
	// received falls back to the nearest lower one (else higher). Ignored when the
	// publisher sends one layer.
	Layer string
}

// viewer is one WHEP session.
type viewer struct {
	s     *SFU
	r     *room
	id    string
	pc    *webrtc.PeerConnection
	audio *downTrack
	video *downTrack
	bwe   cc.BandwidthEstimator // nil without simulcast

	queue      *sendqueue.Queue[qitem] // the publisher's readers push packets, the viewer's RTCP readers resends
	gone       atomic.Bool             // ended: no more fanout registrations
	dropStreak atomic.Int64            // monotonic ns of the first drop since the queue last drained, 0 = none

	forwarded, bytesOut, dropped atomic.Uint64
	writeErrors, layerSwitches   atomic.Uint64
	resent                       atomic.Uint64 // packets sent again on a NACK

	remb   atomic.Int64 // last REMB from the viewer, bit/s
	rembAt atomic.Int64 // monotonic ns

	// under r.mu
	joined bool
	ended  bool
	timer  *time.Timer
}

// Subscribe accepts a WHEP offer for a room that has a publisher (ErrNoPublisher
// otherwise) and returns the answer and the session ID. The viewer receives the tracks
// its offer can receive; ErrNoCodec if none.
func (s *SFU) Subscribe(ctx context.Context, roomName, offerSDP string, opts SubscribeOptions) (answerSDP, sessionID string, err error) {
	pin, err := layerIndex(opts.Layer)
	if err != nil {
		return "", "", err
	}
	s.mu.Lock()
	r := s.rooms[roomName]
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return "", "", ErrClosed
	}
	if r == nil || !r.ready.Load() {
		return "", "", ErrNoPublisher
	}
	media, err := parseOffer(offerSDP)
	if err != nil {
		return "", "", err
	}
	if offerSDP, err = receiveOnly(offerSDP); err != nil {
		return "", "", err
	}
	// Which of the publisher's tracks can this viewer receive?
	var wantAudio, wantVideo bool
	for i := range media {
		m := &media[i]
		if !m.receives() {
			continue
		}
		f := r.video
		if m.kind == webrtc.RTPCodecTypeAudio {
			f = r.audio
		}
		if f == nil || (m.kind == webrtc.RTPCodecTypeAudio && wantAudio) || (m.kind == webrtc.RTPCodecTypeVideo && wantVideo) {
			continue
		}
		if !offersCodec(m, f.codec) {
			return "", "", fmt.Errorf("%w: the %s section cannot receive %s", ErrNoCodec, m.kind, f.codec.MimeType)
		}
		if m.kind == webrtc.RTPCodecTypeAudio {
			wantAudio = true
		} else {
			wantVideo = true
		}
	}
	if !wantAudio && !wantVideo {
		return "", "", fmt.Errorf("%w: the offer receives none of the room's tracks", ErrNoCodec)
	}

	v := &viewer{s: s, r: r, id: newSessionID(), queue: sendqueue.New[qitem](s.cfg.QueueSize, holdPackets)}
	if err := v.negotiate(ctx, offerSDP, wantAudio, wantVideo, pin); err != nil {
		v.end("subscribe failed", false)
		return "", "", err
	}
	answerSDP = v.pc.LocalDescription().SDP

	// Register; the room (or the viewer's connection) may have ended meanwhile.
	r.mu.Lock()
	if r.ended || v.ended {
		r.mu.Unlock()
		v.end("room ended", false)
		return "", "", ErrNoPublisher
	}
	r.viewers[v.id] = v
	s.mu.Lock() // nested in r.mu: nothing takes r.mu while holding s.mu
	s.sessions[v.id] = v
	s.mu.Unlock()
	r.mu.Unlock()
	s.log.Debug("viewer offered", "room", roomName, "session", v.id)
	return answerSDP, v.id, nil
}

func (v *viewer) negotiate(ctx context.Context, offerSDP string, wantAudio, wantVideo bool, pin int32) error {
	r, s := v.r, v.s
	cfg := webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle, RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire}
	var pc *webrtc.PeerConnection
	var err error
	if r.simulcast {
		s.bweMu.Lock()
		s.newBWE = nil
		pc, err = s.simAPI.NewPeerConnection(cfg)
		v.bwe = s.newBWE
		s.bweMu.Unlock()
	} else {
		pc, err = s.viewAPI.NewPeerConnection(cfg)
	}
	if err != nil {
		return fmt.Errorf("sfu: new peer connection: %w", err)
	}
	v.pc = pc
	pc.OnConnectionStateChange(v.onState)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offerSDP}); err != nil {
		return fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	if wantAudio {
		v.audio = newDownTrack(v, r.audio)
	}
	if wantVideo {
		v.video = newDownTrack(v, r.video)
		v.video.pinned.Store(pin)
		v.video.target.Store(v.video.initialLayer())
	}
	for _, dt := range []*downTrack{v.audio, v.video} {
		if dt == nil {
			continue
		}
		sender, err := pc.AddTrack(dt)
		if err != nil {
			return fmt.Errorf("sfu: add track: %w", err)
		}
		// Offer the viewer exactly the publisher's codec.
		for _, t := range pc.GetTransceivers() {
			if t.Sender() == sender {
				_ = t.SetCodecPreferences([]webrtc.RTPCodecParameters{{RTPCodecCapability: dt.f.codec}})
			}
		}
		go v.readRTCP(sender, dt)
	}
	_, err = answer(ctx, pc, s.cfg.PeerTimeout, v.startTimer)
	return err
}

func (v *viewer) startTimer(d time.Duration) {
	v.r.mu.Lock()
	defer v.r.mu.Unlock()
	if v.ended || v.timer != nil {
		return
	}
	v.timer = time.AfterFunc(d, func() { v.end("viewer did not connect in time", false) })
}

func (v *viewer) onState(st webrtc.PeerConnectionState) {
	r := v.r
	switch st {
	case webrtc.PeerConnectionStateConnected:
		r.mu.Lock()
		if v.timer != nil {
			v.timer.Stop()
			v.timer = nil
		}
		join := !v.joined && !v.ended
		v.joined = v.joined || join
		r.mu.Unlock()
		if join {
			v.s.log.Debug("viewer connected", "room", r.name, "session", v.id)
			if h := v.s.cfg.Hooks.OnViewerJoin; h != nil {
				h(r.name, v.id)
			}
		}
	case webrtc.PeerConnectionStateDisconnected:
		r.mu.Lock()
		if v.timer == nil && !v.ended {
			v.timer = time.AfterFunc(v.s.cfg.PeerTimeout, func() { v.end("viewer disconnected", false) })
		}
		r.mu.Unlock()
	case webrtc.PeerConnectionStateFailed:
		go v.end("viewer connection failed", false)
	case webrtc.PeerConnectionStateClosed:
		go v.end("viewer connection closed", false)
	}
}

// readRTCP reads the viewer's RTCP for one sender (which also lets the estimator see it),
// forwards keyframe requests to the publisher and answers NACKs from the history.
func (v *viewer) readRTCP(sender *webrtc.RTPSender, dt *downTrack) {
	buf := make([]byte, maxPacketSize)
	for {
		n, _, err := sender.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				if dt.f.kind == webrtc.RTPCodecTypeVideo {
					dt.requestKeyframe()
				}
			case *rtcp.TransportLayerNack:
				dt.nacked(p)
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				v.remb.Store(int64(p.Bitrate))
				v.rembAt.Store(monotonic())
			}
		}
	}
}

// estimate is the viewer's bandwidth estimate in bit/s: the GCC estimate from its TWCC
// feedback, capped by its REMB if it sent one lately; 0 when unknown.
func (v *viewer) estimate() int {
	est := 0
	if v.bwe != nil {
		est = v.bwe.GetTargetBitrate()
	}
	if at := v.rembAt.Load(); at != 0 && monotonic()-at < int64(5*time.Second) {
		if remb := int(v.remb.Load()); est == 0 || remb < est {
			est = remb
		}
	}
	return est
}

func (v *viewer) onDrop(dt *downTrack) {
	v.dropped.Add(1)
	v.dropStreak.CompareAndSwap(0, monotonic())
	if dt.f.kind == webrtc.RTPCodecTypeVideo {
		dt.resync.Store(true) // the picture is broken: restart from the next keyframe
	}
}

// end ends the viewer once. With bye it first says goodbye (see goodbye) and waits
// closeLinger before closing, so that the goodbye arrives.
func (v *viewer) end(reason string, bye bool) {
	joined, ok := v.detach(reason)
	if !ok {
		return
	}
	if bye {
		v.goodbye()
		time.Sleep(closeLinger)
	}
	v.close(joined)
}

// closeLinger is how long the PeerConnection stays open after the goodbye. Closing at
// once would close an ICE-TCP connection that still has unread input, which resets it
// and can discard the DTLS close_notify before the viewer reads it.
const closeLinger = 100 * time.Millisecond

// detach removes the viewer from the room and the session table and stops its packets.
// It reports whether the viewer had joined, and false for ok if it was ended already.
func (v *viewer) detach(reason string) (joined, ok bool) {
	r := v.r
	v.s.statsMu.Lock()
	r.mu.Lock()
	if v.ended {
		r.mu.Unlock()
		v.s.statsMu.Unlock()
		return false, false
	}
	v.ended = true
	if v.timer != nil {
		v.timer.Stop()
		v.timer = nil
	}
	joined = v.joined
	if r.viewers[v.id] == v {
		delete(r.viewers, v.id)
	}
	// Move the counters to the totals, under statsMu so that Stats sees either the viewer
	// or its totals. (Packets written from now on are not counted.)
	st := &v.s.retired
	st.forwarded.Add(v.forwarded.Load())
	st.bytesOut.Add(v.bytesOut.Load())
	st.dropped.Add(v.dropped.Load())
	st.writeErrors.Add(v.writeErrors.Load())
	st.layerSwitches.Add(v.layerSwitches.Load())
	st.resent.Add(v.resent.Load())
	r.mu.Unlock()
	v.s.statsMu.Unlock()
	v.s.mu.Lock()
	v.s.forgetSession(v.id, r.name, false)
	v.s.mu.Unlock()

	v.gone.Store(true)
	for _, dt := range []*downTrack{v.audio, v.video} {
		if dt != nil {
			dt.f.remove(dt)
		}
	}
	if v.queue.Close(releaseItem) {
		v.forgetSent()
	}
	v.s.log.Debug("viewer ended", "room", r.name, "session", v.id, "reason", reason,
		"forwarded", v.forwarded.Load(), "dropped", v.dropped.Load())
	return joined, true
}

// goodbye tells the viewer the streams are over: an RTCP BYE for its SSRCs (browsers end
// the tracks) and the DTLS close_notify (the PeerConnection closes).
func (v *viewer) goodbye() {
	if v.pc == nil {
		return
	}
	var ssrcs []uint32
	for _, dt := range []*downTrack{v.audio, v.video} {
		if dt == nil {
			continue
		}
		if b := dt.bound.Load(); b != nil {
			ssrcs = append(ssrcs, b.ssrc)
		}
	}
	if len(ssrcs) > 0 {
		_ = v.pc.WriteRTCP([]rtcp.Packet{&rtcp.Goodbye{Sources: ssrcs, Reason: "end of lecture"}})
	}
	if dtls := v.pc.SCTP().Transport(); dtls != nil {
		_ = dtls.Stop()
	}
}

// close closes the PeerConnection and calls OnViewerLeave for a joined viewer.
func (v *viewer) close(joined bool) {
	if v.pc != nil {
		_ = v.pc.Close()
	}
	if joined {
		if h := v.s.cfg.Hooks.OnViewerLeave; h != nil {
			h(v.r.name, v.id)
		}
	}
}

// SetLayer pins a viewer's simulcast layer ("h", "m", "l"), or with "" returns the choice
// to the bandwidth estimate. The switch happens at the next keyframe of that layer (one
// is requested). Without simulcast it has no effect.
func (s *SFU) SetLayer(sessionID, layerName string) error {
	pin, err := layerIndex(layerName)
	if err != nil {
		return err
	}
	s.mu.Lock()
	v, ok := s.sessions[sessionID].(*viewer)
	s.mu.Unlock()
	if !ok {
		return ErrNoSession
	}
	if v.video == nil || !v.r.simulcast {
		return nil
	}
	v.video.pinned.Store(pin)
	v.video.chooseLayer()
	return nil
}

// downTrack is one track of one viewer: a webrtc.TrackLocal whose Bind gives us the
// viewer's SSRC, payload type and writer. Its write state is touched only by the writer
// goroutine that holds the viewer (one at a time), so it needs no lock.
type downTrack struct {
	v     *viewer
	f     *fanout
	bound atomic.Pointer[binding]

	// Simulcast layer choice: target is what we want, cur what is being sent. Both are
	// read by the publisher's reader goroutines to filter packets.
	cur, target, pinned atomic.Int32
	resync              atomic.Bool // restart at the next keyframe (a packet was dropped)
	chooseMu            sync.Mutex  // serialises chooseLayer (tick and SetLayer)
	upVotes             int         // under chooseMu: consecutive ticks that allowed a better layer

	notBefore atomic.Int64 // monotonic ns: video starts at a keyframe arriving after this

	// writer state
	hdr        rtp.Header
	started    bool
	curLayer   int32
	startSeq   uint16 // incoming sequence number where the current layer started
	seqOff     uint16
	tsOff      uint32
	haveOut    bool
	lastSeq    uint16
	lastTs     uint32
	lastArr    int64
	lastKFWant int64
	history    *packetcache.History // video only: what was sent, for NACKs
}

// videoWarmup is how long after Bind video waits before asking for its first keyframe.
const videoWarmup = 100 * time.Millisecond

type binding struct {
	ssrc uint32
	pt   uint8
	w    webrtc.TrackLocalWriter
}

func newDownTrack(v *viewer, f *fanout) *downTrack {
	dt := &downTrack{v: v, f: f}
	if f.kind == webrtc.RTPCodecTypeVideo {
		dt.history = new(packetcache.History)
	}
	dt.cur.Store(-1)
	dt.pinned.Store(-1)
	return dt
}

// Bind is called by pion when the viewer's connection is up: from now on the track
// receives packets (from a keyframe on, for video).
func (dt *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, ok := matchCodec(dt.f.codec, ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	if dt.isVideo() {
		// Bind runs the moment our DTLS handshake completes. The viewer completes it just
		// before us but needs a few more milliseconds to open its SRTP streams; packets
		// sent in between are lost. Losing the first keyframe would cost the viewer a
		// NACK round or a whole GOP, so video starts at a keyframe asked for a little later.
		dt.notBefore.Store(monotonic() + int64(videoWarmup))
		time.AfterFunc(videoWarmup, dt.requestKeyframe)
	}
	dt.bound.Store(&binding{ssrc: uint32(ctx.SSRC()), pt: uint8(codec.PayloadType), w: ctx.WriteStream()})
	dt.f.add(dt)
	return codec, nil
}

// Unbind is called by pion when the track stops.
func (dt *downTrack) Unbind(webrtc.TrackLocalContext) error {
	dt.f.remove(dt)
	dt.bound.Store(nil)
	return nil
}

// ID, RID, StreamID and Kind complete webrtc.TrackLocal.
func (dt *downTrack) ID() string                { return dt.f.kind.String() }
func (dt *downTrack) RID() string               { return "" }
func (dt *downTrack) StreamID() string          { return streamID }
func (dt *downTrack) Kind() webrtc.RTPCodecType { return dt.f.kind }
func (dt *downTrack) clockRate() int64          { return int64(dt.f.codec.ClockRate) }
func (dt *downTrack) isVideo() bool             { return dt.f.kind == webrtc.RTPCodecTypeVideo }
func (dt *downTrack) simulcast() bool           { return len(dt.f.layers) > 1 }

// matchCodec finds the viewer's negotiated codec for the publisher's codec: the same
// profile first, then the same codec (for H.264: same packetization mode).
func matchCodec(pub webrtc.RTPCodecCapability, negotiated []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, bool) {
	for _, strict := range []bool{true, false} {
		for _, c := range negotiated {
			_, name, _ := strings.Cut(c.MimeType, "/")
			oc := offerCodec{name: name, clock: c.ClockRate, channels: c.Channels, fmtp: c.SDPFmtpLine}
			if codecMatches(oc, pub, strict) {
				return c, true
			}
		}
	}
	return webrtc.RTPCodecParameters{}, false
}

// wants reports whether the reader should queue this packet for the track: all of them
// without simulcast; with simulcast only the layer being sent and the one wanted next.
func (dt *downTrack) wants(p *packetcache.Packet) bool {
	if len(dt.f.layers) == 1 {
		return true
	}
	return p.Layer == dt.cur.Load() || p.Layer == dt.target.Load()
}

// requestKeyframe asks the publisher for a keyframe of the layer this track needs.
func (dt *downTrack) requestKeyframe() {
	i := dt.target.Load()
	if i < 0 || int(i) >= len(dt.f.layers) {
		i = 0
	}
	dt.f.layers[i].requestKeyframe()
}

// send writes one packet to the viewer and gives up the writer's hold on it, except for
// a video packet that went out: that one stays in the track's history for retransmission.
// Called only by the writer goroutine holding the viewer.
func (dt *downTrack) send(p *packetcache.Packet) {
	seq, ts, ok := dt.write(p)
	if !ok || dt.history == nil {
		p.Release()
		return
	}
	dt.history.Store(p, seq, ts)
}

// write sends one packet to the viewer, rewriting SSRC, payload type, and for video the
// sequence number and timestamp so that layer switches and restarts look like one
// continuous stream. ok reports that it was sent, as seq and ts.
func (dt *downTrack) write(p *packetcache.Packet) (seq uint16, ts uint32, ok bool) {
	seq, ts = p.Seq, p.Timestamp
	if dt.isVideo() {
		if dt.bound.Load() == nil {
			return 0, 0, false
		}
		if seq, ts, ok = dt.rewrite(p); !ok {
			return 0, 0, false
		}
	}
	return seq, ts, dt.writeAs(p, seq, ts)
}

// writeAs writes the packet's payload with the viewer's SSRC and payload type and the
// given sequence number and timestamp.
func (dt *downTrack) writeAs(p *packetcache.Packet, seq uint16, ts uint32) bool {
	b := dt.bound.Load()
	if b == nil {
		return false
	}
	h := &dt.hdr
	h.Version = 2
	h.Padding = false
	h.Extension = false
	h.Extensions = h.Extensions[:0]
	h.ExtensionProfile = 0
	h.CSRC = h.CSRC[:0]
	h.Marker = p.Marker
	h.PayloadType = b.pt
	h.SequenceNumber = seq
	h.Timestamp = ts
	h.SSRC = b.ssrc
	payload := p.Payload()
	if _, err := b.w.WriteRTP(h, payload); err != nil {
		dt.v.writeErrors.Add(1)
		return false
	}
	dt.v.forwarded.Add(1)
	dt.v.bytesOut.Add(uint64(len(payload)))
	return true
}

// resendSeq answers a NACK: it sends the packet that went out as seq again, if the
// history still holds it. Called only by the writer goroutine holding the viewer.
func (dt *downTrack) resendSeq(seq uint16) {
	if dt.history == nil {
		return
	}
	p, ts, ok := dt.history.Get(seq)
	if !ok {
		return
	}
	if dt.writeAs(p, seq, ts) {
		dt.v.resent.Add(1)
	}
}

// nacked queues the retransmissions a viewer's NACK asks for. A NACK names at most 17
// packets per pair; more than maxResendPerNACK in one report is a viewer that lost far
// more than a retransmission can repair, and it gets a keyframe soon anyway.
func (dt *downTrack) nacked(n *rtcp.TransportLayerNack) {
	b := dt.bound.Load()
	if dt.history == nil || b == nil || n.MediaSSRC != b.ssrc {
		return
	}
	queued := 0
	for _, pair := range n.Nacks {
		for _, seq := range pair.PacketList() {
			if queued == maxResendPerNACK {
				return
			}
			if ok, schedule := dt.v.queue.Push(qitem{dt: dt, resend: seq}, true); ok {
				queued++
				if schedule {
					dt.v.s.pool.schedule(dt.v)
				}
			}
		}
	}
}

const maxResendPerNACK = 64

// forgetSent lets go of every packet in the viewer's histories. Called once the queue is
// closed, by whoever holds the viewer last (see sendqueue.Queue.Close and Done).
func (v *viewer) forgetSent() {
	for _, dt := range []*downTrack{v.audio, v.video} {
		if dt != nil && dt.history != nil {
			dt.history.Clear()
		}
	}
}

// rewrite decides whether a video packet is sent and with which sequence number and
// timestamp. Sending starts (and, after a drop, restarts) at a keyframe of the target
// layer; a layer switch happens at a keyframe of the new layer. At each (re)start the
// offsets are set so that sequence numbers continue without a gap and the timestamp
// advances by the time that passed at the publisher.
func (dt *downTrack) rewrite(p *packetcache.Packet) (seq uint16, ts uint32, ok bool) {
	if dt.resync.Load() && dt.resync.CompareAndSwap(true, false) {
		dt.started = false
	}
	target := dt.target.Load()
	switch {
	case !dt.started || p.Layer != dt.curLayer:
		if notBefore := dt.notBefore.Load(); p.Layer != target || !p.Keyframe || p.Arrival < notBefore {
			if !dt.started && p.Arrival >= notBefore {
				dt.wantKeyframe(target, notBefore)
			}
			return 0, 0, false
		}
		if dt.started && p.Layer != dt.curLayer {
			dt.v.layerSwitches.Add(1)
		}
		dt.startAt(p)
	case seqBefore(p.Seq, dt.startSeq):
		return 0, 0, false // older than the point where this layer started
	}
	// Keep the start point at most a quarter of the sequence space behind the newest
	// packet: seqBefore compares across half of it, so a start point left further back
	// would, 32,768 packets after the start, make every new packet look older than it.
	if d := p.Seq - dt.startSeq; d > 0x4000 {
		dt.startSeq = p.Seq - 0x4000
	}
	seq = p.Seq + dt.seqOff
	ts = p.Timestamp + dt.tsOff
	if !dt.haveOut || seqBefore(dt.lastSeq, seq) {
		dt.lastSeq, dt.lastTs, dt.lastArr, dt.haveOut = seq, ts, p.Arrival, true
	}
	return seq, ts, true
}

func (dt *downTrack) startAt(p *packetcache.Packet) {
	if dt.haveOut {
		dt.seqOff = dt.lastSeq + 1 - p.Seq
		elapsed := min(max(p.Arrival-dt.lastArr, 0), int64(10*time.Second))
		delta := uint32(elapsed * dt.clockRate() / int64(time.Second))
		dt.tsOff = dt.lastTs + max(delta, 1) - p.Timestamp
	}
	dt.started = true
	dt.curLayer = p.Layer
	dt.cur.Store(p.Layer)
	dt.startSeq = p.Seq
}

// wantKeyframe re-asks for a keyframe while waiting for one, once per interval counted
// from the request made when the warm-up ended (the layer merges requests from all
// viewers anyway).
func (dt *downTrack) wantKeyframe(layer int32, notBefore int64) {
	now := monotonic()
	if now-max(dt.lastKFWant, notBefore) < int64(dt.v.s.cfg.KeyframeInterval) {
		return
	}
	dt.lastKFWant = now
	if layer >= 0 && int(layer) < len(dt.f.layers) {
		dt.f.layers[layer].requestKeyframe()
	}
}

// seqBefore reports whether a comes before b in RTP sequence number order.
func seqBefore(a, b uint16) bool {
	return a != b && b-a < 0x8000
}

// initialLayer is the first layer for a new viewer: the pinned one, else the best that
// fits the initial estimate, else the middle one.
func (dt *downTrack) initialLayer() int32 {
	if !dt.simulcast() {
		return 0
	}
	if p := dt.pinned.Load(); p >= 0 {
		return dt.f.nearestActive(p)
	}
	if est := dt.v.estimate(); est > 0 {
		return dt.bestFor(est)
	}
	return dt.f.nearestActive(int32(len(dt.f.layers)) / 2)
}

// bestFor is the best active layer whose bitrate fits the estimate with some headroom,
// or the worst active layer.
func (dt *downTrack) bestFor(est int) int32 {
	now := monotonic()
	n := int32(len(dt.f.layers))
	worst := int32(-1)
	for i := range n {
		l := dt.f.layers[i]
		if !l.active(now) {
			continue
		}
		worst = i
		if rate := l.bitrate.Load(); rate > 0 && float64(rate)*1.15 <= float64(est) {
			return i
		}
	}
	if worst < 0 {
		return dt.f.nearestActive(n - 1)
	}
	return worst
}

// chooseLayer updates the target layer (housekeeping tick and SetLayer): the pinned one,
// or by bandwidth: down at once when the current layer no longer fits, up after two
// ticks (one second) in a row that allow it. A new target gets a keyframe request.
func (dt *downTrack) chooseLayer() {
	if !dt.simulcast() {
		return
	}
	dt.chooseMu.Lock()
	defer dt.chooseMu.Unlock()
	old := dt.target.Load()
	next := old
	if p := dt.pinned.Load(); p >= 0 {
		next = dt.f.nearestActive(p)
		dt.upVotes = 0
	} else if est := dt.v.estimate(); est > 0 {
		best := dt.bestFor(est)
		now := monotonic()
		curFits := old >= 0 && dt.f.layers[old].active(now) && float64(dt.f.layers[old].bitrate.Load()) <= float64(est)
		switch {
		case best > old || !curFits:
			next, dt.upVotes = best, 0
		case best < old:
			if dt.upVotes++; dt.upVotes >= 2 {
				next, dt.upVotes = best, 0
			}
		default:
			dt.upVotes = 0
		}
	}
	if next != old {
		dt.target.Store(next)
		dt.f.layers[next].requestKeyframe()
	}
}

var _ webrtc.TrackLocal = (*downTrack)(nil)
