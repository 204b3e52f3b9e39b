package sfu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/shizuishan/culturecloud/media/sfu/internal/packetcache"
)

// room is one publisher and its viewers. The publisher's session ID names the room's
// WHIP session.
type room struct {
	s         *SFU
	name      string
	id        string // publisher session ID
	pc        *webrtc.PeerConnection
	audio     *fanout // nil when the publisher sends no audio
	video     *fanout // nil when the publisher sends no video
	simulcast bool
	tap       atomic.Pointer[tapHolder]
	ready     atomic.Bool // Publish returned; viewers may subscribe

	mu      sync.Mutex
	viewers map[string]*viewer
	started bool // OnPublisherStart fired
	// startedAt is when the publisher connected (monotonic ns), the silence check's
	// reference before the first packet.
	startedAt atomic.Int64
	ended     bool
	timer     *time.Timer // connect or disconnect timeout
	lastTick  time.Time
}

// fanout is one publisher track (audio or video) and the viewer tracks fed from it.
type fanout struct {
	r      *room
	kind   webrtc.RTPCodecType
	codec  webrtc.RTPCodecCapability // the publisher's codec, fmtp as offered
	ck     codecKind
	layers []*layer // one, or the simulcast layers from best to worst

	mu  sync.Mutex // serialises updates of dts (copy on write)
	dts atomic.Pointer[[]*downTrack]
}

// layer is one incoming RTP stream: the track, or one simulcast layer of it.
type layer struct {
	f     *fanout
	index int32
	rid   string
	ssrc  atomic.Uint32
	info  TrackInfo

	packets, bytes atomic.Uint64
	lastPacket     atomic.Int64 // monotonic ns of the last packet
	bitrate        atomic.Int64 // bit/s, measured by the housekeeping tick
	prevBytes      uint64       // housekeeping only

	kfMu      sync.Mutex
	lastPLI   time.Time
	kfPending bool // a PLI is scheduled for when the interval has passed
	kfWanted  bool // a PLI was asked for before the SSRC was known
}

var clockStart = time.Now()

// monotonic returns nanoseconds since the package was loaded, from the monotonic clock.
func monotonic() int64 { return int64(time.Since(clockStart)) }

// Publish accepts a WHIP offer for a room and returns the answer and the session ID.
// One publisher per room: a second one gets ErrPublisherExists until the first has ended.
// The answer contains all of the SFU's candidates (no trickle needed).
func (s *SFU) Publish(ctx context.Context, roomName, offerSDP string) (answerSDP, sessionID string, err error) {
	media, err := parseOffer(offerSDP)
	if err != nil {
		return "", "", err
	}
	r := &room{
		s:       s,
		name:    roomName,
		id:      newSessionID(),
		viewers: map[string]*viewer{},
	}
	if err := r.planTracks(media); err != nil {
		return "", "", err
	}

	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return "", "", ErrClosed
	case s.rooms[roomName] != nil:
		s.mu.Unlock()
		return "", "", ErrPublisherExists
	}
	s.rooms[roomName] = r // reserved; Subscribe waits for r.ready
	s.sessions[r.id] = r
	s.mu.Unlock()

	answer, err := r.negotiate(ctx, offerSDP)
	if err != nil {
		r.end("publish failed: " + err.Error())
		return "", "", err
	}
	r.ready.Store(true)
	s.log.Info("publisher offered", "room", roomName, "session", r.id, "simulcast", r.simulcast)
	return answer, r.id, nil
}

// planTracks checks the offer's media sections and creates the fanouts.
func (r *room) planTracks(media []offerMedia) error {
	for i := range media {
		m := &media[i]
		if !m.sends() {
			continue
		}
		want, offered, ok := chooseCodec(m)
		if !ok {
			return fmt.Errorf("%w: the %s section offers none", ErrNoCodec, m.kind)
		}
		f := &fanout{r: r, kind: m.kind, ck: codecKindOf(want.MimeType)}
		f.codec = want
		f.codec.SDPFmtpLine = offered.fmtp
		if m.kind == webrtc.RTPCodecTypeAudio {
			if r.audio != nil {
				return fmt.Errorf("%w: more than one audio section", ErrBadOffer)
			}
			r.audio = f
		} else {
			if r.video != nil {
				return fmt.Errorf("%w: more than one video section", ErrBadOffer)
			}
			r.video = f
		}
		rids := []string{""}
		if m.kind == webrtc.RTPCodecTypeVideo && len(m.rids) > 1 {
			rids = orderRIDs(m.rids)
			r.simulcast = true
		}
		for i, rid := range rids {
			l := &layer{f: f, index: int32(i), rid: rid}
			l.info = TrackInfo{
				Kind:        m.kind.String(),
				MimeType:    want.MimeType,
				ClockRate:   want.ClockRate,
				Channels:    want.Channels,
				PayloadType: offered.pt,
				SDPFmtpLine: offered.fmtp,
				RID:         rid,
			}
			f.layers = append(f.layers, l)
		}
	}
	if r.audio == nil && r.video == nil {
		return fmt.Errorf("%w: the offer sends no audio or video", ErrNoCodec)
	}
	return nil
}

// orderRIDs sorts simulcast RIDs from best to worst quality: h, m, l when those are the
// names (also f, h, q for full, half, quarter); otherwise the offered order, which for
// browsers is the order of sendEncodings, by convention best first. At most three.
func orderRIDs(rids []string) []string {
	rank := func(order string) map[string]int {
		m := map[string]int{}
		for i, c := range strings.Split(order, ",") {
			m[c] = i
		}
		return m
	}
	for _, order := range []map[string]int{rank("h,m,l"), rank("f,h,q")} {
		all := true
		for _, rid := range rids {
			if _, ok := order[rid]; !ok {
				all = false
			}
		}
		if all {
			out := append([]string(nil), rids...)
			for i := 1; i < len(out); i++ { // insertion sort, three elements
				for j := i; j > 0 && order[out[j]] < order[out[j-1]]; j-- {
					out[j], out[j-1] = out[j-1], out[j]
				}
			}
			rids = out
			break
		}
	}
	if len(rids) > len(layerNames) {
		rids = rids[:len(layerNames)]
	}
	return rids
}

func (r *room) fanouts() []*fanout {
	var fs []*fanout
	if r.audio != nil {
		fs = append(fs, r.audio)
	}
	if r.video != nil {
		fs = append(fs, r.video)
	}
	return fs
}

// negotiate creates the publisher's PeerConnection and answers the offer.
func (r *room) negotiate(ctx context.Context, offerSDP string) (string, error) {
	pc, err := r.s.pubAPI.NewPeerConnection(webrtc.Configuration{
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		return "", fmt.Errorf("sfu: new peer connection: %w", err)
	}
	r.mu.Lock()
	r.pc = pc
	ended := r.ended
	r.mu.Unlock()
	if ended {
		_ = pc.Close()
		return "", ErrClosed
	}
	pc.OnTrack(r.onTrack)
	pc.OnConnectionStateChange(r.onState)

	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offerSDP}); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	// Answer with exactly the codec chosen per track, so the publisher sends that one.
	for _, t := range pc.GetTransceivers() {
		f := r.video
		if t.Kind() == webrtc.RTPCodecTypeAudio {
			f = r.audio
		}
		if f == nil {
			continue
		}
		if err := t.SetCodecPreferences([]webrtc.RTPCodecParameters{{RTPCodecCapability: f.codec}}); err != nil {
			return "", fmt.Errorf("%w: %w", ErrNoCodec, err)
		}
	}
	return answer(ctx, pc, r.s.cfg.PeerTimeout, r.startTimer)
}

// answer creates and sets the local answer and waits for candidate gathering (a few
// milliseconds with the muxes: host candidates only). startTimer runs before waiting.
func answer(ctx context.Context, pc *webrtc.PeerConnection, timeout time.Duration, startTimer func(time.Duration)) (string, error) {
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	startTimer(timeout)
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	ld := pc.LocalDescription()
	if ld == nil {
		return "", errors.New("sfu: no local description")
	}
	return ld.SDP, nil
}

// startTimer ends the room if the publisher has not connected after d.
func (r *room) startTimer(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended || r.timer != nil {
		return
	}
	r.timer = time.AfterFunc(d, func() { r.end("publisher did not connect in time") })
}

func (r *room) onState(st webrtc.PeerConnectionState) {
	r.s.log.Debug("publisher state", "room", r.name, "state", st.String())
	switch st {
	case webrtc.PeerConnectionStateConnected:
		r.mu.Lock()
		if r.timer != nil {
			r.timer.Stop()
			r.timer = nil
		}
		start := !r.started && !r.ended
		r.started = r.started || start
		if start {
			r.startedAt.Store(monotonic())
		}
		r.mu.Unlock()
		if start {
			r.s.log.Info("publisher connected", "room", r.name, "session", r.id)
			if h := r.s.cfg.Hooks.OnPublisherStart; h != nil {
				h(r.name)
			}
		}
	case webrtc.PeerConnectionStateDisconnected:
		r.mu.Lock()
		if r.started && r.s.cfg.PublisherSilence > 0 {
			// ICE consent has been lost for the disconnected timeout: the encoder is gone
			// (a crash, a closed laptop). Waiting PeerTimeout more would only keep its
			// viewers in front of a frozen picture; an encoder that comes back publishes
			// anew within the lecture's grace period.
			r.mu.Unlock()
			go r.end("publisher lost its connection")
			return
		}
		if r.timer == nil && !r.ended {
			r.timer = time.AfterFunc(r.s.cfg.PeerTimeout, func() { r.end("publisher disconnected") })
		}
		r.mu.Unlock()
	case webrtc.PeerConnectionStateFailed:
		go r.end("publisher connection failed")
	case webrtc.PeerConnectionStateClosed:
		go r.end("publisher connection closed")
	}
}

// onTrack starts the reader of one incoming track (or simulcast layer).
func (r *room) onTrack(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	f := r.video
	if track.Kind() == webrtc.RTPCodecTypeAudio {
		f = r.audio
	}
	if f == nil {
		return
	}
	var l *layer
	for _, cand := range f.layers {
		if cand.rid == track.RID() {
			l = cand
		}
	}
	if l == nil {
		r.s.log.Warn("publisher sent an unknown simulcast layer", "room", r.name, "rid", track.RID())
		return
	}
	if got := codecKindOf(track.Codec().MimeType); got != f.ck {
		r.s.log.Warn("publisher sent another codec than answered", "room", r.name, "codec", track.Codec().MimeType)
		return
	}
	if pt := uint8(track.PayloadType()); pt != l.info.PayloadType {
		r.s.log.Warn("publisher sends another payload type than offered", "room", r.name, "offered", l.info.PayloadType, "got", pt)
	}
	l.ssrc.Store(uint32(track.SSRC()))
	r.s.log.Debug("publisher track", "room", r.name, "kind", track.Kind().String(), "rid", track.RID(), "ssrc", uint32(track.SSRC()))
	l.onSSRC()
	l.read(track)
}

// read is the layer's reader loop: one goroutine per incoming track (pion calls OnTrack
// in its own goroutine). Each packet is read once into a pooled buffer and handed to the
// viewer queues by reference.
func (l *layer) read(track *webrtc.TrackRemote) {
	f := l.f
	s := f.r.s
	video := f.kind == webrtc.RTPCodecTypeVideo
	var hdr rtp.Header
	failures := 0
	for {
		p := s.packetPool.Get()
		n, _, err := track.Read(p.Buf[:])
		if err != nil {
			p.Release()
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) || failures > 100 {
				return
			}
			failures++
			continue
		}
		failures = 0
		hn, err := hdr.Unmarshal(p.Buf[:n])
		if err != nil {
			p.Release()
			continue
		}
		end := n
		if hdr.Padding {
			pad := int(p.Buf[n-1])
			if pad == 0 || hn+pad > n {
				p.Release()
				continue
			}
			end -= pad
		}
		l.packets.Add(1)
		l.bytes.Add(uint64(n))
		now := monotonic()
		l.lastPacket.Store(now)
		if end <= hn { // padding only (bandwidth probing): nothing to forward
			p.Release()
			continue
		}
		p.SetPayload(hn, end)
		p.Seq, p.Timestamp, p.Marker = hdr.SequenceNumber, hdr.Timestamp, hdr.Marker
		p.Layer = l.index
		p.Arrival = now
		p.Keyframe = video && isKeyframeStart(f.ck, p.Payload())
		if th := f.r.tap.Load(); th != nil {
			th.t.WriteRTP(l.info, &hdr, p.Payload())
		}
		f.dispatch(p)
	}
}

// dispatch puts a packet on the queue of every viewer track that wants it, and gives up
// the caller's reference. It never blocks: a full queue drops the packet for that viewer
// only. Audio, and the last packet of a video frame, are urgent (see sendqueue).
func (f *fanout) dispatch(p *packetcache.Packet) {
	urgent := p.Marker || f.kind != webrtc.RTPCodecTypeVideo
	if dts := f.dts.Load(); dts != nil {
		for _, dt := range *dts {
			if !dt.wants(p) {
				continue
			}
			p.Retain()
			queued, schedule := dt.v.queue.Push(qitem{p: p, dt: dt}, urgent)
			if !queued {
				p.Release()
				dt.v.onDrop(dt)
				continue
			}
			if schedule {
				f.r.s.pool.schedule(dt.v)
			}
		}
	}
	p.Release()
}

func (f *fanout) add(dt *downTrack) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if dt.v.gone.Load() {
		return
	}
	var next []*downTrack
	if cur := f.dts.Load(); cur != nil {
		for _, d := range *cur {
			if d == dt {
				return
			}
		}
		next = append(next, *cur...)
	}
	next = append(next, dt)
	f.dts.Store(&next)
}

func (f *fanout) remove(dt *downTrack) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := f.dts.Load()
	if cur == nil {
		return
	}
	next := make([]*downTrack, 0, len(*cur))
	for _, d := range *cur {
		if d != dt {
			next = append(next, d)
		}
	}
	f.dts.Store(&next)
}

// requestKeyframe sends a PLI to the publisher for this layer, at most one per
// KeyframeInterval: a request within the interval is sent when the interval has passed,
// merged with any other request in between. Before the layer's SSRC is known (no packet
// yet) the request waits for it.
func (l *layer) requestKeyframe() {
	l.kfMu.Lock()
	if l.kfPending {
		l.kfMu.Unlock()
		return
	}
	if wait := time.Until(l.lastPLI.Add(l.f.r.s.cfg.KeyframeInterval)); wait > 0 {
		l.kfPending = true
		l.kfMu.Unlock()
		time.AfterFunc(wait, func() {
			l.kfMu.Lock()
			l.kfPending = false
			ssrc := l.takePLILocked()
			l.kfMu.Unlock()
			l.sendPLI(ssrc)
		})
		return
	}
	ssrc := l.takePLILocked()
	l.kfMu.Unlock()
	l.sendPLI(ssrc)
}

// takePLILocked decides to send a PLI now: it returns the SSRC to send it for and records
// the time, or, with no SSRC yet, returns 0 and leaves the request for onTrack.
func (l *layer) takePLILocked() uint32 {
	ssrc := l.ssrc.Load()
	if ssrc == 0 {
		l.kfWanted = true
		return 0
	}
	l.kfWanted = false
	l.lastPLI = time.Now()
	return ssrc
}

// onSSRC sends a request that waited for the layer's SSRC, unless the throttle has one
// scheduled anyway.
func (l *layer) onSSRC() {
	l.kfMu.Lock()
	var ssrc uint32
	if l.kfWanted && !l.kfPending {
		ssrc = l.takePLILocked()
	}
	l.kfMu.Unlock()
	l.sendPLI(ssrc)
}

func (l *layer) sendPLI(ssrc uint32) {
	if ssrc == 0 {
		return
	}
	r := l.f.r
	r.mu.Lock()
	pc, ended := r.pc, r.ended
	r.mu.Unlock()
	if pc == nil || ended {
		return
	}
	if err := pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err == nil {
		r.s.retired.keyframeRequests.Add(1)
	}
}

// end ends the room once: every viewer is closed, then the publisher, then the hook.
func (r *room) end(reason string) {
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		return
	}
	r.ended = true
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	viewers := make([]*viewer, 0, len(r.viewers))
	for _, v := range r.viewers {
		viewers = append(viewers, v)
	}
	pc := r.pc
	started := r.started
	r.mu.Unlock()

	s := r.s
	s.statsMu.Lock()
	s.mu.Lock()
	if s.rooms[r.name] == r {
		delete(s.rooms, r.name)
	}
	s.forgetSession(r.id, r.name, true)
	// Move the counters to the totals, under statsMu so that Stats sees either the room
	// or its totals. (Packets the readers count from now on are not counted.)
	for _, f := range r.fanouts() {
		for _, l := range f.layers {
			s.retired.packetsIn.Add(l.packets.Load())
			s.retired.bytesIn.Add(l.bytes.Load())
		}
	}
	s.mu.Unlock()
	s.statsMu.Unlock()
	r.tap.Store(nil)

	// Say goodbye to every viewer, give the goodbyes a moment to arrive, then close the
	// connections; each step in parallel, a bounded number at a time.
	type leaving struct {
		v      *viewer
		joined bool
	}
	var gone []leaving
	for _, v := range viewers {
		if joined, ok := v.detach("room ended: " + reason); ok {
			gone = append(gone, leaving{v, joined})
		}
	}
	parallel(len(gone), max(4, s.cfg.Writers), func(i int) { gone[i].v.goodbye() })
	if len(gone) > 0 {
		time.Sleep(closeLinger)
	}
	parallel(len(gone), max(4, s.cfg.Writers), func(i int) { gone[i].v.close(gone[i].joined) })
	if pc != nil {
		_ = pc.Close()
	}
	s.log.Info("room ended", "room", r.name, "session", r.id, "reason", reason, "viewers", len(viewers))
	if started {
		if h := s.cfg.Hooks.OnPublisherEnd; h != nil {
			h(r.name)
		}
	}
}

func (r *room) viewerList() []*viewer {
	r.mu.Lock()
	defer r.mu.Unlock()
	vs := make([]*viewer, 0, len(r.viewers))
	for _, v := range r.viewers {
		vs = append(vs, v)
	}
	return vs
}

// tick runs every half second: layer bitrates, layer choice, slow viewers.
func (r *room) tick(now time.Time, interval time.Duration) {
	elapsed := interval
	if !r.lastTick.IsZero() {
		elapsed = now.Sub(r.lastTick)
	}
	r.lastTick = now
	if r.video != nil {
		for _, l := range r.video.layers {
			b := l.bytes.Load()
			rate := int64(float64(b-l.prevBytes) * 8 / elapsed.Seconds())
			l.prevBytes = b
			// Smooth: keyframes make single intervals jumpy.
			if old := l.bitrate.Load(); old > 0 {
				rate = (old*3 + rate) / 4
			}
			l.bitrate.Store(rate)
		}
	}
	if silence := r.s.cfg.PublisherSilence; silence > 0 {
		if last := r.lastPacket(); last != 0 && time.Duration(monotonic()-last) > silence {
			go r.end("publisher silent")
			return
		}
	}
	slow := r.s.cfg.SlowViewerTimeout
	for _, v := range r.viewerList() {
		if r.simulcast && v.video != nil {
			v.video.chooseLayer()
		}
		if since := v.dropStreak.Load(); slow > 0 && since > 0 && time.Duration(monotonic()-since) > slow {
			go func() {
				if joined, ok := v.detach("viewer too slow"); ok {
					r.s.retired.slowViewerEnded.Add(1)
					v.close(joined) // unblocks a writer stuck on this viewer's connection
				}
			}()
		}
	}
}

// lastPacket is when the publisher last sent a packet on any track (monotonic ns), or when
// it connected if it has sent nothing since; 0 before it connected.
func (r *room) lastPacket() int64 {
	last := r.startedAt.Load()
	for _, f := range r.fanouts() {
		for _, l := range f.layers {
			last = max(last, l.lastPacket.Load())
		}
	}
	return last
}

// layerActive reports whether a layer has received a packet lately (browsers stop
// sending high layers when their uplink shrinks).
func (l *layer) active(now int64) bool {
	last := l.lastPacket.Load()
	return last != 0 && now-last < int64(1500*time.Millisecond)
}

// nearestActive returns the active layer closest to want, preferring worse quality.
func (f *fanout) nearestActive(want int32) int32 {
	now := monotonic()
	n := int32(len(f.layers))
	want = min(want, n-1)
	for d := int32(0); d < n; d++ {
		if i := want + d; i < n && f.layers[i].active(now) {
			return i
		}
		if i := want - d; i >= 0 && f.layers[i].active(now) {
			return i
		}
	}
	return want
}

// parallel runs f(0..n-1) on at most limit goroutines and waits for them.
func parallel(n, limit int, f func(i int)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
}
