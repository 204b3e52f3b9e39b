package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"

	"github.com/shizuishan/culturecloud/media/sfu/sfutest"
)

const (
	rtpMTU     = 1200 // whole RTP packet, as browsers send
	videoPT    = 102
	audioPT    = 111
	videoClock = 90000
	frameTicks = videoClock / 30
	opusTicks  = 48000 / 50
)

var (
	videoFeedback = []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
	opusCodec     = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}
)

func h264Codec(profile string) webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: videoClock, RTCPFeedback: videoFeedback,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + profile}
}

// newAPI is a pion API for the harness's peers. Publisher: H.264 constrained baseline and
// Opus, with a NACK responder so that the server's retransmission requests are answered.
// Viewers: every H.264 profile a server may forward, and Opus, with no interceptors at all:
// they neither send NACKs nor reports, so a viewer's cost is ICE, SRTP decryption and our
// read loop. Both use UDP on the interfaces that reach the server (loopback for a local one),
// and AES-GCM first, as browsers do.
func newAPI(publisher, loopback bool) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	video := []webrtc.RTPCodecCapability{h264Codec("42e01f")}
	if !publisher {
		video = append(video, h264Codec("42001f"), h264Codec("4d001f"), h264Codec("640c1f"), h264Codec("64001f"))
	}
	for i, c := range video {
		if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: c, PayloadType: webrtc.PayloadType(videoPT + i)}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, err
		}
	}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCodec, PayloadType: audioPT}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if publisher {
		resp, err := nack.NewResponderInterceptor()
		if err != nil {
			return nil, err
		}
		reg.Add(resp)
	}
	n, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	se := sfutest.Settings(nil, webrtc.NetworkTypeUDP4, loopback)
	se.SetNet(bigBufferNet{n})
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AEAD_AES_256_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	// Every packet is counted anyway; the replay window is work a load generator can skip.
	se.DisableSRTPReplayProtection(true)
	se.DisableSRTCPReplayProtection(true)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(*se)), nil
}

// peerReadBuffer is the receive buffer of each peer's UDP socket. The default (208 KiB,
// less than 60 loopback datagrams of 1200 bytes at their kernel size) overflows when a
// keyframe arrives while the load generator's core is busy with other viewers, and the
// server would be charged with the generator's loss. Capped by net.core.rmem_max.
const peerReadBuffer = 2 << 20

// bigBufferNet is the standard network with bigger socket receive buffers.
type bigBufferNet struct{ *stdnet.Net }

func (n bigBufferNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err == nil {
		_ = c.SetReadBuffer(peerReadBuffer)
	}
	return c, err
}

// ---- WHIP/WHEP over HTTP ------------------------------------------------------------------

// httpClient serves the signalling; a WHEP setup can wait behind the server's CPU.
var httpClient = &http.Client{Timeout: 30 * time.Second}

// exchange POSTs an SDP offer (WHIP or WHEP) and returns the answer and the session's
// absolute location.
func exchange(ctx context.Context, endpoint, bearer, offer string) (answer, location string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(offer))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/sdp")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", "", err
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("POST %s: %s: %s", endpoint, resp.Status, strings.TrimSpace(string(body)))
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		base, err := url.Parse(endpoint)
		if err != nil {
			return "", "", err
		}
		ref, err := url.Parse(loc)
		if err != nil {
			return "", "", fmt.Errorf("bad Location %q: %w", loc, err)
		}
		location = base.ResolveReference(ref).String()
	}
	return string(body), location, nil
}

// endSession DELETEs a WHIP/WHEP session's location.
func endSession(ctx context.Context, location, bearer string) error {
	if location == "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, location, nil)
	if err != nil {
		return err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("DELETE %s: %s", location, resp.Status)
	}
	return nil
}

// waitConnected waits until pc is connected.
func waitConnected(ctx context.Context, pc *webrtc.PeerConnection, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		switch st := pc.ConnectionState(); st {
		case webrtc.PeerConnectionStateConnected:
			return nil
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			return fmt.Errorf("connection %s", st)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not connected within %s (state %s)", within, pc.ConnectionState())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ---- the publisher ----------------------------------------------------------------------

// frame is one picture or Opus packet, packetized once: the loop replays the same payloads,
// so their keys are computed once too.
type frame struct {
	payloads [][]byte
	keys     []uint64
	idr      bool
}

func packetize(m *sfutest.Media) (video, audio []frame) {
	var h264 codecs.H264Payloader
	for _, au := range m.AUs {
		f := frame{payloads: h264.Payload(rtpMTU-12, au.Data), idr: au.IDR}
		for _, p := range f.payloads {
			f.keys = append(f.keys, payloadKey(p, false))
		}
		video = append(video, f)
	}
	for _, p := range m.Opus {
		audio = append(audio, frame{payloads: [][]byte{p}, keys: []uint64{payloadKey(p, true)}})
	}
	return video, audio
}

// publisher sends the looped media over WHIP at its real rate: a picture every 1/30 s (its
// packets back to back, as an encoder hands them over) and an Opus packet every 20 ms. It
// answers a keyframe request (PLI/FIR) by jumping to the next IDR picture of the loop, as an
// encoder would make one.
type publisher struct {
	pc       *webrtc.PeerConnection
	location string
	bearer   string
	times    *sendTimes
	now      func() int64

	sentVideo, sentAudio atomic.Uint64 // packets
	sentBytes            atomic.Uint64 // payload bytes
	sentBySlot           *slotCounts   // packets with an unambiguous payload, by send time
	keyframeRequests     atomic.Uint64
	jump                 atomic.Bool
	late                 atomic.Int64 // ns the video sender was behind its schedule, at most
	started              time.Time

	stop chan struct{}
	wg   sync.WaitGroup
}

func startPublisher(ctx context.Context, api *webrtc.API, whipURL, bearer string, m *sfutest.Media, times *sendTimes, now func() int64) (*publisher, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	p := &publisher{pc: pc, bearer: bearer, times: times, now: now, stop: make(chan struct{}), sentBySlot: &slotCounts{}}
	video, err := webrtc.NewTrackLocalStaticRTP(h264Codec("42e01f"), "video", "benchlive")
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	audio, err := webrtc.NewTrackLocalStaticRTP(opusCodec, "audio", "benchlive")
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	for _, tr := range []*webrtc.TrackLocalStaticRTP{video, audio} {
		tc, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			_ = pc.Close()
			return nil, err
		}
		go p.readRTCP(tc.Sender(), tr == video)
	}
	offer, err := sfutest.OfferContext(ctx, pc, 10*time.Second)
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	answer, location, err := exchange(ctx, whipURL, bearer, offer)
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("WHIP: %w", err)
	}
	p.location = location
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		p.close(ctx)
		return nil, fmt.Errorf("WHIP answer: %w", err)
	}
	if err := waitConnected(ctx, pc, 20*time.Second); err != nil {
		p.close(ctx)
		return nil, fmt.Errorf("publisher: %w", err)
	}
	vf, af := packetize(m)
	p.started = time.Now()
	p.wg.Add(2)
	go p.send(video, vf, frameTicks, time.Second/30, true)
	go p.send(audio, af, opusTicks, 20*time.Millisecond, false)
	return p, nil
}

func (p *publisher) readRTCP(sender *webrtc.RTPSender, video bool) {
	buf := make([]byte, 1500)
	for {
		n, _, err := sender.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, pk := range pkts {
			switch pk.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				if video {
					p.keyframeRequests.Add(1)
					p.jump.Store(true)
				}
			}
		}
	}
}

// send plays frames in a loop on a fixed schedule: a sender that falls behind (the load
// generator's core is busy) catches up instead of slowing the stream down.
func (p *publisher) send(track *webrtc.TrackLocalStaticRTP, frames []frame, ticks uint32, every time.Duration, video bool) {
	defer p.wg.Done()
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: audioPT, SSRC: rand.Uint32(),
		SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()}}
	if video {
		pkt.PayloadType = videoPT
	}
	sent, bytes := &p.sentAudio, &p.sentBytes
	if video {
		sent = &p.sentVideo
	}
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for n, i := 0, 0; ; n, i = n+1, (i+1)%len(frames) {
		if video && p.jump.Swap(false) {
			for !frames[i].idr {
				i = (i + 1) % len(frames)
			}
		}
		f := &frames[i]
		for j, payload := range f.payloads {
			pkt.Marker = j == len(f.payloads)-1
			pkt.Payload = payload
			at := p.now()
			keyed := p.times.put(f.keys[j], at)
			if err := track.WriteRTP(&pkt); err != nil {
				if errors.Is(err, io.ErrClosedPipe) {
					return
				}
				continue
			}
			pkt.SequenceNumber++
			if keyed {
				p.sentBySlot.add(at)
			}
			sent.Add(1)
			bytes.Add(uint64(len(payload)))
		}
		pkt.Timestamp += ticks
		next := start.Add(time.Duration(n+1) * every)
		wait := time.Until(next)
		if video && -wait > time.Duration(p.late.Load()) {
			p.late.Store(int64(-wait))
		}
		timer.Reset(max(wait, 0))
		select {
		case <-p.stop:
			return
		case <-timer.C:
		}
	}
}

// close stops sending, ends the WHIP session and closes the connection.
func (p *publisher) close(ctx context.Context) {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.wg.Wait()
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_ = endSession(dctx, p.location, p.bearer)
	cancel()
	_ = p.pc.Close()
}

// ---- viewers ----------------------------------------------------------------------------

// viewer is one WHEP session that reads both tracks. Its read loop parses the RTP header by
// hand into the payload (no rtp.Packet per packet), counts, and looks the payload's send time
// up: nothing is allocated per packet.
type viewer struct {
	pc       *webrtc.PeerConnection
	location string
	audio    atomic.Uint64 // packets received
	video    atomic.Uint64
	ready    chan struct{} // closed at the first video packet
	readyOne sync.Once
	// Video stalls: when the last video packet came, and the longest gap between two since
	// the window started (harness clock, ns).
	lastVideo atomic.Int64
	videoGap  atomic.Int64
}

// viewers are the WHEP sessions of a run and what they measure together.
type viewers struct {
	api      *webrtc.API
	whepURL  string
	bearer   string
	times    *sendTimes
	delays   *histogram
	bySlot   *slotCounts // packets received, by the slot of their send time
	now      func() int64
	mu       sync.Mutex
	list     []*viewer
	failures []error
}

func (vs *viewers) add(ctx context.Context) (*viewer, error) {
	pc, err := sfutest.NewReceiver(vs.api)
	if err != nil {
		return nil, err
	}
	v := &viewer{pc: pc, ready: make(chan struct{})}
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { vs.read(v, track) })
	offer, err := sfutest.OfferContext(ctx, pc, 10*time.Second)
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	answer, location, err := exchange(ctx, vs.whepURL, vs.bearer, offer)
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("WHEP: %w", err)
	}
	v.location = location
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		vs.end(ctx, v)
		return nil, fmt.Errorf("WHEP answer: %w", err)
	}
	vs.mu.Lock()
	vs.list = append(vs.list, v)
	vs.mu.Unlock()
	return v, nil
}

func (vs *viewers) read(v *viewer, track *webrtc.TrackRemote) {
	audio := track.Kind() == webrtc.RTPCodecTypeAudio
	count := &v.video
	if audio {
		count = &v.audio
	}
	ready := audio
	buf := make([]byte, 1500)
	for {
		n, _, err := track.Read(buf)
		if err != nil {
			return
		}
		at := vs.now()
		payload := rtpPayload(buf[:n])
		if len(payload) == 0 {
			continue // padding only (bandwidth probes): not media
		}
		count.Add(1)
		if !audio {
			if last := v.lastVideo.Load(); last != 0 && at-last > v.videoGap.Load() {
				v.videoGap.Store(at - last)
			}
			v.lastVideo.Store(at)
		}
		if !ready {
			ready = true
			v.readyOne.Do(func() { close(v.ready) })
		}
		if sent, ok := vs.times.get(payloadKey(payload, audio)); ok {
			vs.delays.record(time.Duration(at - sent))
			vs.bySlot.add(sent)
		}
	}
}

// rtpPayload returns the payload of an RTP packet (CSRCs, extension and padding skipped),
// nil if it is not one.
func rtpPayload(b []byte) []byte {
	if len(b) < 12 || b[0]>>6 != 2 {
		return nil
	}
	off := 12 + int(b[0]&0x0f)*4
	if b[0]&0x10 != 0 {
		if len(b) < off+4 {
			return nil
		}
		off += 4 + int(binary.BigEndian.Uint16(b[off+2:]))*4
	}
	end := len(b)
	if b[0]&0x20 != 0 {
		end -= int(b[end-1])
	}
	if off > end {
		return nil
	}
	return b[off:end]
}

// received is the number of packets all viewers received so far.
func (vs *viewers) received() uint64 {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	var n uint64
	for _, v := range vs.list {
		n += v.audio.Load() + v.video.Load()
	}
	return n
}

// perViewer is each viewer's received packets so far, in join order.
func (vs *viewers) perViewer() []uint64 {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	out := make([]uint64, len(vs.list))
	for i, v := range vs.list {
		out[i] = v.audio.Load() + v.video.Load()
	}
	return out
}

// resetStalls starts a new window of video gap tracking.
func (vs *viewers) resetStalls() {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	for _, v := range vs.list {
		v.videoGap.Store(0)
	}
}

// stalls counts the viewers whose video stopped for at least min since resetStalls (also
// counting a stop still going on at now), and gives the longest.
func (vs *viewers) stalls(now int64, least time.Duration) (n int, longest time.Duration) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	for _, v := range vs.list {
		last := v.lastVideo.Load()
		if last == 0 {
			continue // no video yet: counted as not receiving video
		}
		g := time.Duration(max(v.videoGap.Load(), now-last))
		if g >= least {
			n++
			longest = max(longest, g)
		}
	}
	return n, longest
}

// unconnected counts the viewers whose connection is not (or no longer) connected.
func (vs *viewers) unconnected() int {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	n := 0
	for _, v := range vs.list {
		if v.pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
			n++
		}
	}
	return n
}

func (vs *viewers) count() int {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	return len(vs.list)
}

// grow adds viewers until there are n (or as many as could join), conc at a time, and waits
// until each new one receives video. It returns how many joined but got no video in time;
// the ones that could not join are kept in failures.
func (vs *viewers) grow(ctx context.Context, n, conc int, videoWithin time.Duration) (silent int, err error) {
	have := vs.count()
	if n <= have {
		return 0, nil
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		added   []*viewer
		errs    []error
		pending = make(chan struct{}, conc)
	)
	for range n - have {
		select {
		case pending <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return 0, ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-pending }()
			v, err := vs.add(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			added = append(added, v)
		}()
	}
	wg.Wait()
	vs.mu.Lock()
	vs.failures = append(vs.failures, errs...)
	vs.mu.Unlock()
	if len(added) == 0 && len(errs) > 0 {
		return 0, fmt.Errorf("no viewer could join: %w", errs[0])
	}
	deadline := time.NewTimer(videoWithin)
	defer deadline.Stop()
	for _, v := range added {
		select {
		case <-v.ready:
		case <-deadline.C:
			for _, v := range added {
				select {
				case <-v.ready:
				default:
					silent++
				}
			}
			return silent, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return 0, nil
}

func (vs *viewers) end(ctx context.Context, v *viewer) {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_ = endSession(dctx, v.location, vs.bearer)
	cancel()
	_ = v.pc.Close()
}

// closeAll ends every viewer session, conc at a time.
func (vs *viewers) closeAll(ctx context.Context, conc int) {
	vs.mu.Lock()
	list := vs.list
	vs.list = nil
	vs.mu.Unlock()
	var wg sync.WaitGroup
	pending := make(chan struct{}, conc)
	for _, v := range list {
		pending <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-pending }()
			vs.end(ctx, v)
		}()
	}
	wg.Wait()
}
