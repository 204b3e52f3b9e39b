package sfu

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/media/keyframe"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/shizuishan/culturecloud/media/sfu/sfutest"

	"github.com/shizuishan/culturecloud/internal/testwait"
)

// eventuallyTimeout bounds waits for media events; generous, since the machine is shared and
// tests run with -race: it only stops a test that would never pass.
const eventuallyTimeout = testwait.Bound

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

// clientAPI is the pion API of test peers, over UDP or ICE-TCP, logging like the SFU.
func clientAPI(t testing.TB, tcp bool) *webrtc.API {
	t.Helper()
	return clientAPIWith(t, tcp, nil)
}

// clientAPIWith is clientAPI with a last change to its settings.
func clientAPIWith(t testing.TB, tcp bool, tweak func(*webrtc.SettingEngine)) *webrtc.API {
	t.Helper()
	network := webrtc.NetworkTypeUDP4
	if tcp {
		network = webrtc.NetworkTypeTCP4
	}
	api, err := sfutest.NewAPI(pionLoggers{testLogger()}, network, tweak)
	if err != nil {
		t.Fatal(err)
	}
	return api
}

// offer is the complete offer of pc.
func offer(t testing.TB, pc *webrtc.PeerConnection) string {
	t.Helper()
	o, err := sfutest.Offer(pc, eventuallyTimeout)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// testMedia is 640x360 with an IDR every second (GOP 30), a steady stream like a
// browser's, besides the IDRs that PLIs ask for.
var testMedia = sfutest.MediaOnce{
	Spec: sfutest.MediaSpec{Size: "640x360", X264: []string{"-g", "30"}, AudioBitrate: "64k", MinPictures: 200, MinOpus: 400},
	NoFFmpeg: func(t testing.TB, _ error) {
		if os.Getenv("CI") != "" || os.Getenv("CC_REQUIRE_SERVICES") != "" {
			t.Fatal("ffmpeg not installed")
		}
		t.Skip("ffmpeg not installed")
	},
}

// testPublisher is a publisher of the room.
type testPublisher struct {
	*sfutest.Publisher
	session string
}

func startPublisher(t testing.TB, s *SFU, room string) *testPublisher {
	t.Helper()
	m := testMedia.Load(t)
	pub, err := sfutest.NewPublisher(clientAPI(t, false))
	if err != nil {
		t.Fatal(err)
	}
	p := &testPublisher{Publisher: pub}
	answer, id, err := s.Publish(context.Background(), room, offer(t, pub.PC))
	if err != nil {
		t.Fatal(err)
	}
	p.session = id
	if err := pub.Start(answer, m); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// preferH264 is sfutest.PreferH264 for a test's own peers.
func preferH264(t testing.TB, tc *webrtc.RTPTransceiver) {
	t.Helper()
	if err := sfutest.PreferH264(tc); err != nil {
		t.Fatal(err)
	}
}

// ---- a pion viewer ----

type testViewer struct {
	*sfutest.Viewer
	session    string
	firstIDR   atomic.Int64      // unix ns of the first complete IDR picture (VP8: keyframe start)
	firstVideo atomic.Int32      // 1: the first video packet started a keyframe, 2: it did not
	onVideo    func(*rtp.Packet) // optional, called from the reader
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
	v := &testViewer{onVideo: o.onVideo}
	sv, err := sfutest.NewViewer(clientAPI(t, o.tcp), sfutest.ViewerOptions{Stall: o.stall, Video: v.videoReader})
	if err != nil {
		t.Fatal(err)
	}
	v.Viewer = sv
	owner := o.owner
	if owner == nil {
		owner = t
	}
	owner.Cleanup(func() { _ = sv.PC.Close() })
	answer, id, err := s.Subscribe(context.Background(), room, offer(t, sv.PC), SubscribeOptions{Layer: o.layer})
	if err != nil {
		return nil, err
	}
	v.session = id
	if err := sv.PC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	return v, nil
}

// videoReader notes when the first keyframe came, judged by pion and not by the SFU's
// parser.
func (v *testViewer) videoReader(track *webrtc.TrackRemote) func(*rtp.Packet) {
	ck := codecKindOf(track.Codec().MimeType)
	var depack codecs.H264Packet
	return func(pkt *rtp.Packet) {
		if v.onVideo != nil {
			v.onVideo(pkt)
		}
		start := false
		switch ck {
		case codecH264:
			start = startsIDRAccessUnit(pkt.Payload)
			annexB, err := depack.Unmarshal(pkt.Payload)
			if err == nil && v.firstIDR.Load() == 0 && sfutest.HasNALType(annexB, nalIDR) {
				v.firstIDR.Store(time.Now().UnixNano())
			}
		case codecVP8:
			start = keyframe.VP8(pkt.Payload)
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
		if v.firstIDR.Load() == 0 && v.firstVideo.Load() == 2 {
			v.AskKeyframe(track)
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
		return err == nil && (sfutest.HasNALType(out, nalSPS) || sfutest.HasNALType(out, nalIDR))
	case nalFUA:
		return payload[1]&0x80 != 0 && payload[1]&0x1f == nalIDR
	}
	return false
}

func (v *testViewer) waitEnded(t testing.TB) time.Duration {
	t.Helper()
	start := time.Now()
	select {
	case <-v.Ended:
		return time.Since(start)
	case <-time.After(eventuallyTimeout):
		t.Fatalf("viewer %s: connection did not close within %s (state %s)", v.session, eventuallyTimeout, v.PC.ConnectionState())
	}
	return 0
}
