package sfu

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// Generous bound for "eventually" waits: the machine is shared and tests run with -race.
const eventuallyTimeout = 10 * time.Second

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(eventuallyTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", eventuallyTimeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testLogger() *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("SFU_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// hookLog counts hook calls.
type hookLog struct {
	mu                       sync.Mutex
	starts, ends             map[string]int
	joins, leaves            map[string]int
	publisherEnded           chan string
	viewerJoined, viewerLeft atomic.Int64
}

func newHookLog() *hookLog {
	return &hookLog{
		starts: map[string]int{}, ends: map[string]int{}, joins: map[string]int{}, leaves: map[string]int{},
		publisherEnded: make(chan string, 16),
	}
}

func (h *hookLog) hooks() Hooks {
	return Hooks{
		OnPublisherStart: func(room string) { h.mu.Lock(); h.starts[room]++; h.mu.Unlock() },
		OnPublisherEnd: func(room string) {
			h.mu.Lock()
			h.ends[room]++
			h.mu.Unlock()
			h.publisherEnded <- room
		},
		OnViewerJoin: func(_, id string) {
			h.mu.Lock()
			h.joins[id]++
			h.mu.Unlock()
			h.viewerJoined.Add(1)
		},
		OnViewerLeave: func(_, id string) {
			h.mu.Lock()
			h.leaves[id]++
			h.mu.Unlock()
			h.viewerLeft.Add(1)
		},
	}
}

func (h *hookLog) count(m map[string]int, key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return m[key]
}

func newTestSFU(t testing.TB, cfg Config) *SFU {
	t.Helper()
	if cfg.ListenIP == "" {
		cfg.ListenIP = "127.0.0.1"
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// clientAPI is a pion API for test peers: default codecs and interceptors, loopback only.
func clientAPI(t testing.TB, tcp bool) *webrtc.API {
	t.Helper()
	return clientAPIWith(t, tcp, nil)
}

// clientAPIWith is clientAPI with a last change to its settings.
func clientAPIWith(t testing.TB, tcp bool, tweak func(*webrtc.SettingEngine)) *webrtc.API {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, reg); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.LoggerFactory = pionLoggers{testLogger()}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if tcp {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	} else {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	if tweak != nil {
		tweak(&se)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
}

// offer creates and sets a local offer and waits for its candidates.
func offer(t testing.TB, pc *webrtc.PeerConnection) string {
	t.Helper()
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(eventuallyTimeout):
		t.Fatal("gathering did not complete")
	}
	return pc.LocalDescription().SDP
}

// ---- test media: an H.264 file and an Opus file made by ffmpeg, loaded once ----

type accessUnit struct {
	data []byte // Annex B
	idr  bool
}

type testMedia struct {
	aus  []accessUnit
	opus [][]byte // one 20 ms packet each
}

var (
	mediaOnce sync.Once
	mediaVal  *testMedia
	mediaErr  error
)

func loadMedia(t testing.TB) *testMedia {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") != "" || os.Getenv("CC_REQUIRE_SERVICES") != "" {
			t.Fatal("ffmpeg not installed")
		}
		t.Skip("ffmpeg not installed")
	}
	mediaOnce.Do(func() { mediaVal, mediaErr = makeMedia(t.TempDir()) })
	if mediaErr != nil {
		t.Fatal(mediaErr)
	}
	return mediaVal
}

func makeMedia(dir string) (*testMedia, error) {
	h264 := filepath.Join(dir, "out.h264")
	ogg := filepath.Join(dir, "out.ogg")
	cmds := [][]string{
		{"-f", "lavfi", "-i", "testsrc=size=640x360:rate=30", "-t", "10", "-c:v", "libx264",
			"-profile:v", "baseline", "-bf", "0", "-g", "30", "-pix_fmt", "yuv420p", h264},
		// One 20 ms Opus packet per Ogg page, so that a page is an RTP packet.
		{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "10", "-c:a", "libopus",
			"-b:a", "64k", "-page_duration", "20000", ogg},
	}
	for _, args := range cmds {
		cmd := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, errors.New("ffmpeg: " + err.Error() + ": " + string(out))
		}
	}
	m := &testMedia{}
	f, err := os.Open(h264)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	hr, err := h264reader.NewReader(f)
	if err != nil {
		return nil, err
	}
	var cur []byte
	for {
		nal, err := hr.NextNAL()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		cur = append(cur, 0, 0, 0, 1)
		cur = append(cur, nal.Data...)
		if nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr || nal.UnitType == h264reader.NalUnitTypeCodedSliceNonIdr {
			m.aus = append(m.aus, accessUnit{data: cur, idr: nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr})
			cur = nil
		}
	}
	o, err := os.Open(ogg)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	or, _, err := oggreader.NewWith(o)
	if err != nil {
		return nil, err
	}
	for {
		page, _, err := or.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if bytes.HasPrefix(page, []byte("OpusTags")) {
			continue
		}
		m.opus = append(m.opus, append([]byte(nil), page...))
	}
	if len(m.aus) < 200 || !m.aus[0].idr || len(m.opus) < 400 {
		return nil, errors.New("unexpected test media")
	}
	return m, nil
}

// ---- a pion publisher sending H.264 and Opus ----

type testPublisher struct {
	pc      *webrtc.PeerConnection
	session string
	stop    chan struct{}
	wg      sync.WaitGroup

	pliMu    sync.Mutex
	pliTimes []time.Time
	jump     atomic.Bool // a PLI came: send the next IDR now, as an encoder would
	idrsSent atomic.Int64
}

func startPublisher(t testing.TB, s *SFU, room string) *testPublisher {
	t.Helper()
	m := loadMedia(t)
	pc, err := clientAPI(t, false).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264}, "video", "lecture")
	if err != nil {
		t.Fatal(err)
	}
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "lecture")
	if err != nil {
		t.Fatal(err)
	}
	p := &testPublisher{pc: pc, stop: make(chan struct{})}
	for _, tr := range []webrtc.TrackLocal{video, audio} {
		tc, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			t.Fatal(err)
		}
		sender := tc.Sender()
		isVideo := tr == webrtc.TrackLocal(video)
		if isVideo {
			// As the lecture page does: prefer H.264 (pion would offer VP8 first).
			preferH264(t, tc)
		}
		go func() {
			for {
				pkts, _, err := sender.ReadRTCP()
				if err != nil {
					return
				}
				for _, pk := range pkts {
					if _, ok := pk.(*rtcp.PictureLossIndication); ok && isVideo {
						p.pliMu.Lock()
						p.pliTimes = append(p.pliTimes, time.Now())
						p.pliMu.Unlock()
						p.jump.Store(true)
					}
				}
			}
		}()
	}
	answer, id, err := s.Publish(context.Background(), room, offer(t, pc))
	if err != nil {
		t.Fatal(err)
	}
	p.session = id
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	p.wg.Add(2)
	go func() { // video, 30 fps
		defer p.wg.Done()
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		for i := 0; ; i = (i + 1) % len(m.aus) {
			if p.jump.Swap(false) {
				for !m.aus[i].idr {
					i = (i + 1) % len(m.aus)
				}
			}
			if m.aus[i].idr {
				p.idrsSent.Add(1)
			}
			if err := video.WriteSample(media.Sample{Data: m.aus[i].data, Duration: time.Second / 30}); err != nil {
				return
			}
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	go func() { // audio, 20 ms packets
		defer p.wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i = (i + 1) % len(m.opus) {
			if err := audio.WriteSample(media.Sample{Data: m.opus[i], Duration: 20 * time.Millisecond}); err != nil {
				return
			}
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *testPublisher) close() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.wg.Wait()
	_ = p.pc.Close()
}

func (p *testPublisher) plis() []time.Time {
	p.pliMu.Lock()
	defer p.pliMu.Unlock()
	return append([]time.Time(nil), p.pliTimes...)
}

// preferH264 puts H.264 (packetization mode 1, constrained baseline) first in an offer.
func preferH264(t testing.TB, tc *webrtc.RTPTransceiver) {
	t.Helper()
	if err := tc.SetCodecPreferences([]webrtc.RTPCodecParameters{{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
		},
		PayloadType: 125,
	}}); err != nil {
		t.Fatal(err)
	}
}

// ---- a pion viewer ----

type testViewer struct {
	pc          *webrtc.PeerConnection
	session     string
	connectedAt atomic.Int64 // unix ns
	firstIDR    atomic.Int64 // unix ns of the first complete IDR picture (VP8: keyframe start)
	firstVideo  atomic.Int32 // 1: the first video packet started a keyframe, 2: it did not
	audioPkts   atomic.Int64
	videoPkts   atomic.Int64
	audioTrack  atomic.Bool
	videoTrack  atomic.Bool
	ended       chan struct{} // closed when the connection is closed or failed
	endOnce     sync.Once
	onVideo     func(*rtp.Packet) // optional, called from the reader
}

type viewerOptions struct {
	tcp     bool
	stall   bool // never read the tracks
	layer   string
	onVideo func(*rtp.Packet)
	owner   testing.TB // closes the viewer at its end; default the calling test
}

func startViewer(t testing.TB, s *SFU, room string, o viewerOptions) *testViewer {
	t.Helper()
	v, err := tryViewer(t, s, room, o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func tryViewer(t testing.TB, s *SFU, room string, o viewerOptions) (*testViewer, error) {
	t.Helper()
	pc, err := clientAPI(t, o.tcp).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	owner := o.owner
	if owner == nil {
		owner = t
	}
	owner.Cleanup(func() { _ = pc.Close() })
	v := &testViewer{pc: pc, ended: make(chan struct{}), onVideo: o.onVideo}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			v.connectedAt.CompareAndSwap(0, time.Now().UnixNano())
		case webrtc.PeerConnectionStateClosed, webrtc.PeerConnectionStateFailed:
			v.endOnce.Do(func() { close(v.ended) })
		}
	})
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if track.Kind() == webrtc.RTPCodecTypeAudio {
			v.audioTrack.Store(true)
		} else {
			v.videoTrack.Store(true)
		}
		if o.stall {
			return // never read: pion's buffers fill up and drop
		}
		v.read(track)
	})
	answer, id, err := s.Subscribe(context.Background(), room, offer(t, pc), SubscribeOptions{Layer: o.layer})
	if err != nil {
		return nil, err
	}
	v.session = id
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	return v, nil
}

func (v *testViewer) read(track *webrtc.TrackRemote) {
	video := track.Kind() == webrtc.RTPCodecTypeVideo
	ck := codecKindOf(track.Codec().MimeType)
	var depack codecs.H264Packet
	var lastPLI time.Time
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		if !video {
			v.audioPkts.Add(1)
			continue
		}
		v.videoPkts.Add(1)
		if v.onVideo != nil {
			v.onVideo(pkt)
		}
		start := false
		switch ck {
		case codecH264:
			start = startsIDRAccessUnit(pkt.Payload)
			// Depacketize with pion (independent of the SFU's parser); look for an IDR slice.
			annexB, err := depack.Unmarshal(pkt.Payload)
			if err == nil && v.firstIDR.Load() == 0 && hasNALType(annexB, nalIDR) {
				v.firstIDR.Store(time.Now().UnixNano())
			}
		case codecVP8:
			start = isVP8KeyframeStart(pkt.Payload)
			if start {
				v.firstIDR.CompareAndSwap(0, time.Now().UnixNano())
			}
		}
		if v.firstVideo.Load() == 0 {
			if start {
				v.firstVideo.Store(1)
			} else {
				v.firstVideo.Store(2)
			}
		}
		// Like a browser's decoder: while there is nothing decodable yet, ask for a
		// keyframe (every half second). This covers packets lost while this side of the
		// connection was still starting.
		if v.firstIDR.Load() == 0 && v.firstVideo.Load() == 2 && time.Since(lastPLI) > 500*time.Millisecond {
			lastPLI = time.Now()
			_ = v.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(track.SSRC())}})
		}
	}
}

// startsIDRAccessUnit checks the first packet a viewer gets: an SPS (single, or first in a
// STAP-A, as pion's payloader sends it), or the first fragment of an IDR.
func startsIDRAccessUnit(payload []byte) bool {
	if len(payload) < 2 {
		return false
	}
	switch payload[0] & 0x1f {
	case nalSPS, nalIDR:
		return true
	case nalSTAP:
		var d codecs.H264Packet
		out, err := d.Unmarshal(payload)
		return err == nil && (hasNALType(out, nalSPS) || hasNALType(out, nalIDR))
	case nalFUA:
		return payload[1]&0x80 != 0 && payload[1]&0x1f == nalIDR
	}
	return false
}

// hasNALType scans Annex B data for a NAL unit of the given type.
func hasNALType(annexB []byte, typ byte) bool {
	for i := 0; i+3 < len(annexB); i++ {
		if annexB[i] == 0 && annexB[i+1] == 0 && annexB[i+2] == 1 && annexB[i+3]&0x1f == typ {
			return true
		}
	}
	return false
}

func (v *testViewer) waitEnded(t testing.TB) time.Duration {
	t.Helper()
	start := time.Now()
	select {
	case <-v.ended:
		return time.Since(start)
	case <-time.After(eventuallyTimeout):
		t.Fatalf("viewer %s: connection did not close within %s (state %s)", v.session, eventuallyTimeout, v.pc.ConnectionState())
	}
	return 0
}
