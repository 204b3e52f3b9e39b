package sfu

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/shizuishan/culturecloud/internal/testwait"
)

// TestBroadcast is the main scenario: one H.264 + Opus publisher, twenty viewers (two of
// them over ICE-TCP, one that never reads), a late viewer, a storm of keyframe requests,
// and the publisher ending the room.
func TestBroadcast(t *testing.T) {
	hooks := newHookLog()
	s := newTestSFU(t, Config{Hooks: hooks.hooks(), Writers: 4})
	const room = "lecture-1"
	pub := startPublisher(t, s, room)
	testwait.Until(t, "publisher start hook", func() bool { return hooks.count(hooks.starts, room) == 1 })
	const n = 20
	viewers := joinBroadcast(t, s, room, n)
	readers := viewers[:n-1]

	t.Run("stalled viewer does not slow the others", func(t *testing.T) {
		checkStalledViewer(t, s, readers, viewers)
	})
	t.Run("keyframe requests are throttled", func(t *testing.T) {
		checkKeyframeThrottle(t, pub, readers)
	})
	parent := t
	t.Run("late viewer gets a keyframe within 2 s", func(t *testing.T) {
		viewers = append(viewers, checkLateViewer(t, parent, s, room))
	})
	t.Run("publisher ends the room", func(t *testing.T) {
		checkRoomEnd(t, s, hooks, pub, room, viewers, n)
	})
}

// joinBroadcast subscribes n viewers at once (the first two over ICE-TCP, the last one
// never reads) and waits until the reading ones have audio, video and an IDR.
func joinBroadcast(t *testing.T, s *SFU, room string, n int) []*testViewer {
	t.Helper()
	viewers := make([]*testViewer, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var subscribeErr error
	joinStart := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := tryViewer(t, s, room, viewerOptions{tcp: i < 2, stall: i == n-1})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				subscribeErr = err
				return
			}
			viewers[i] = v
		}()
	}
	wg.Wait()
	if subscribeErr != nil {
		t.Fatal(subscribeErr)
	}
	stalled := viewers[n-1]
	readers := viewers[:n-1]
	lateStarts := 0

	testwait.Until(t, "all viewers joined", func() bool { return s.Viewers(room) == n })
	t.Logf("%d viewers connected in %s", n, time.Since(joinStart).Round(time.Millisecond))
	// All media goes through the one UDP port, or the one ICE-TCP port.
	udpPort := s.UDPAddr().(*net.UDPAddr).Port
	tcpPort := s.TCPAddr().(*net.TCPAddr).Port
	for i, v := range viewers {
		pair, err := v.PC.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
		if err != nil || pair == nil {
			t.Fatalf("viewer %d: no selected candidate pair: %v", i, err)
		}
		wantProto, wantPort := webrtc.ICEProtocolUDP, udpPort
		if i < 2 {
			wantProto, wantPort = webrtc.ICEProtocolTCP, tcpPort
		}
		if pair.Remote.Protocol != wantProto || int(pair.Remote.Port) != wantPort {
			t.Errorf("viewer %d: connected to %s %s:%d, want %s port %d", i, pair.Remote.Protocol, pair.Remote.Address, pair.Remote.Port, wantProto, wantPort)
		}
	}
	for _, v := range readers {
		testwait.Until(t, "viewer receives audio, video and an IDR", func() bool {
			return v.AudioTrack.Load() && v.VideoTrack.Load() && v.AudioPkts.Load() > 0 && v.firstIDR.Load() != 0
		})
		if v.firstVideo.Load() != 1 {
			lateStarts++
		}
	}
	// The SFU starts every viewer at a keyframe (TestRewrite checks that exactly). A pion
	// viewer under load may still lose the first packets while it sets up its receivers;
	// it then asks for a keyframe, as a browser would.
	t.Logf("%d of %d viewers lost the start of their first keyframe and sent a PLI", lateStarts, len(readers))
	testwait.Until(t, "the stalled viewer got its tracks", func() bool { return stalled.VideoTrack.Load() && stalled.AudioTrack.Load() })
	t.Logf("all %d reading viewers had audio, video and an IDR %s after the first Subscribe", len(readers), time.Since(joinStart).Round(time.Millisecond))
	return viewers
}

// checkStalledViewer: a viewer that never reads does not slow the others.
func checkStalledViewer(t *testing.T, s *SFU, readers, viewers []*testViewer) {
	// Over a three second window, every reading viewer must receive about as many
	// packets as the publisher sent. The stalled viewer's pion never reads its tracks.
	before := s.Stats().PacketsIn
	got := make([]int64, len(readers))
	for i, v := range readers {
		got[i] = v.AudioPkts.Load() + v.VideoPkts.Load()
	}
	// The publisher paces its packets by the wall clock, and the test compares what the
	// readers got with what it sent meanwhile.
	time.Sleep(3 * time.Second) // real time on purpose: a three second window of paced media
	in := s.Stats().PacketsIn - before
	if in < 100 {
		t.Fatalf("publisher sent only %d packets in 3 s", in)
	}
	worst := 1.0
	for i, v := range readers {
		ratio := float64(v.AudioPkts.Load()+v.VideoPkts.Load()-got[i]) / float64(in)
		worst = min(worst, ratio)
		// 0.9: packets in flight at the window edges, on a loaded machine.
		if ratio < 0.9 {
			t.Errorf("viewer %d received %.2f of the publisher's packets", i, ratio)
		}
	}
	st := s.Stats()
	t.Logf("window: publisher %d packets; worst reading viewer %.3f of them; totals: in %d, forwarded %d, dropped %d, GSO sends %d",
		in, worst, st.PacketsIn, st.PacketsForwarded, st.PacketsDropped, st.GSOSends)
	// The frames' packets went out in batches: with GSO, a keyframe's equal fragments
	// to one viewer leave in one send (decision 16).
	if st.GSOSends == 0 {
		t.Error("no UDP send carried more than one packet")
	}
	for i, v := range viewers {
		vs, err := s.ViewerStats(v.session)
		if err != nil {
			t.Fatal(err)
		}
		if vs.PacketsDropped != 0 {
			t.Logf("viewer %d: %d packets dropped at the SFU", i, vs.PacketsDropped)
		}
	}
}

// checkKeyframeThrottle: a storm of viewers' PLIs reaches the publisher at most once per
// KeyframeInterval.
func checkKeyframeThrottle(t *testing.T, pub *testPublisher, readers []*testViewer) {
	// Every reading viewer sends 5 PLIs 50 ms apart: 95 requests in a quarter second.
	before := len(pub.PLIs())
	start := time.Now()
	var wg sync.WaitGroup
	for _, v := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ssrc uint32
			for _, r := range v.PC.GetReceivers() {
				if tr := r.Track(); tr != nil && tr.Kind() == webrtc.RTPCodecTypeVideo {
					ssrc = uint32(tr.SSRC())
				}
			}
			for range 5 {
				_ = v.PC.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
				time.Sleep(50 * time.Millisecond) // real time on purpose: PLIs spread as viewers send them
			}
		}()
	}
	wg.Wait()
	testwait.Until(t, "a merged PLI reached the publisher", func() bool { return len(pub.PLIs()) > before })
	plis := pub.PLIs()[before:]
	elapsed := time.Since(start)
	// At most one per second, plus the one that may be pending from before the window.
	if limit := int(elapsed/time.Second) + 2; len(plis) > limit {
		t.Errorf("publisher got %d PLIs in %s, want at most %d", len(plis), elapsed.Round(time.Millisecond), limit)
	}
	all := pub.PLIs()
	for i := 1; i < len(all); i++ {
		// The SFU spaces them by at least 1 s when it sends them; they are timed here on
		// arrival, so allow 0.5 s of delivery jitter (2 shared cores, -race). Without
		// the throttle the gaps would be milliseconds.
		if gap := all[i].Sub(all[i-1]); gap < 500*time.Millisecond {
			t.Errorf("PLIs %d and %d only %s apart", i-1, i, gap)
		}
	}
	t.Logf("95 viewer PLIs became %d PLIs at the publisher (%d in total so far)", len(plis), len(all))
}

// checkLateViewer: a viewer that joins mid-GOP gets a keyframe within 2 s. It stays until
// parent ends.
func checkLateViewer(t, parent *testing.T, s *SFU, room string) *testViewer {
	time.Sleep(300 * time.Millisecond)                         // real time on purpose: join mid-GOP of the paced stream
	v := startViewer(t, s, room, viewerOptions{owner: parent}) // stays for the next step
	testwait.Until(t, "late viewer IDR", func() bool { return v.firstIDR.Load() != 0 && v.ConnectedAt.Load() != 0 })
	wait := time.Duration(v.firstIDR.Load() - v.ConnectedAt.Load())
	t.Logf("late viewer: first IDR %s after connecting", wait.Round(time.Millisecond))
	if wait > 2*time.Second {
		t.Errorf("late viewer waited %s for a keyframe, want at most 2 s", wait)
	}
	if v.firstVideo.Load() != 1 {
		t.Log("late viewer: lost the start of the first keyframe and sent a PLI")
	}
	return v
}

// checkRoomEnd: ending the publisher's session ends every viewer (n is the number of
// viewers that joined first; the first two over ICE-TCP, the last stalled) and the room.
func checkRoomEnd(t *testing.T, s *SFU, hooks *hookLog, pub *testPublisher, room string, viewers []*testViewer, n int) {
	joined := int(hooks.viewerJoined.Load())
	for i, v := range viewers {
		if vs, err := s.ViewerStats(v.session); err != nil || !vs.Joined {
			t.Errorf("viewer %d (%s) not live before End: %+v %v (state %s)", i, v.session, vs, err, v.PC.ConnectionState())
		}
	}
	st := s.Stats()
	t.Logf("before end: %+v", st)
	start := time.Now()
	if err := s.End(pub.session); err != nil {
		t.Fatal(err)
	}
	t.Logf("End returned after %s", time.Since(start).Round(time.Millisecond))
	select {
	case r := <-hooks.publisherEnded:
		if r != room {
			t.Fatalf("OnPublisherEnd(%q)", r)
		}
	case <-time.After(eventuallyTimeout):
		t.Fatal("OnPublisherEnd not called")
	}
	var slowest time.Duration
	for i, v := range viewers {
		t.Logf("waiting for viewer %d (tcp %v, stalled %v)", i, i < 2, i == n-1)
		slowest = max(slowest, v.waitEnded(t))
	}
	t.Logf("every viewer's connection closed within %s of End returning", slowest.Round(time.Millisecond))
	if got := int(hooks.viewerLeft.Load()); got != joined {
		t.Errorf("OnViewerLeave called %d times, want %d", got, joined)
	}
	if s.Viewers(room) != 0 {
		t.Error("viewers left in the room")
	}
	if _, _, err := s.Subscribe(context.Background(), room, "v=0", SubscribeOptions{}); !errors.Is(err, ErrNoPublisher) {
		t.Errorf("Subscribe after end: %v, want ErrNoPublisher", err)
	}
	if err := s.End(pub.session); !errors.Is(err, ErrNoSession) {
		t.Errorf("second End: %v, want ErrNoSession", err)
	}
	testwait.Until(t, "OnPublisherEnd called", func() bool { return hooks.count(hooks.ends, room) > 0 })
	if c := hooks.count(hooks.ends, room); c != 1 {
		t.Errorf("OnPublisherEnd called %d times", c)
	}
	st = s.Stats()
	if st.Rooms != 0 || st.Viewers != 0 {
		t.Errorf("stats after end: %+v", st)
	}
	t.Logf("after end: %+v", st)
}

// TestPublisherConnectionLoss: a publisher that vanishes without a DELETE (its sockets
// stop) ends the room after the ICE timeouts; one that closes its PeerConnection (DTLS
// close_notify) ends it at once.
func TestPublisherConnectionLoss(t *testing.T) {
	hooks := newHookLog()
	s := newTestSFU(t, Config{Hooks: hooks.hooks(), PeerTimeout: 3 * time.Second})

	t.Run("close", func(t *testing.T) {
		pub := startPublisher(t, s, "a")
		v := startViewer(t, s, "a", viewerOptions{})
		testwait.Until(t, "viewer IDR", func() bool { return v.firstIDR.Load() != 0 })
		pub.Close()
		select {
		case <-hooks.publisherEnded:
		case <-time.After(eventuallyTimeout):
			t.Fatal("OnPublisherEnd not called after the publisher closed")
		}
		v.waitEnded(t)
	})

	t.Run("vanish", func(t *testing.T) {
		pub := startPublisher(t, s, "b")
		v := startViewer(t, s, "b", viewerOptions{})
		testwait.Until(t, "viewer IDR", func() bool { return v.firstIDR.Load() != 0 })
		pub.Halt()
		start := time.Now()
		freezePeer(t, pub.PC)
		select {
		case <-hooks.publisherEnded:
			t.Logf("room ended %s after the publisher went silent (PeerTimeout 3 s)", time.Since(start).Round(time.Millisecond))
		case <-time.After(eventuallyTimeout + 3*time.Second):
			t.Fatal("OnPublisherEnd not called after the publisher vanished")
		}
		v.waitEnded(t)
	})
}

// freezePeer makes a pion peer go silent the way a crashed browser or a pulled cable
// does: it stops its ICE transport, so no DTLS close_notify and no RTCP BYE is sent and
// the SFU only notices through failing ICE consent checks.
func freezePeer(t testing.TB, pc *webrtc.PeerConnection) {
	t.Helper()
	ice := pc.SCTP().Transport().ICETransport()
	if err := ice.Stop(); err != nil {
		t.Fatal(err)
	}
}

// TestErrors: the sentinel errors the HTTP layer maps to 4xx answers.
func TestErrors(t *testing.T) {
	s := newTestSFU(t, Config{})
	ctx := context.Background()

	_, _, err := s.Publish(ctx, "r", "this is not SDP")
	if !errors.Is(err, ErrBadOffer) || !strings.Contains(err.Error(), "SDP") {
		t.Errorf("bad SDP: %v, want ErrBadOffer with pion's reason", err)
	}
	t.Logf("bad SDP: %v", err)

	if _, _, err := s.Subscribe(ctx, "nobody", "v=0", SubscribeOptions{}); !errors.Is(err, ErrNoPublisher) {
		t.Errorf("WHEP without publisher: %v, want ErrNoPublisher", err)
	}
	if err := s.End("no-such-session"); !errors.Is(err, ErrNoSession) {
		t.Errorf("End: %v, want ErrNoSession", err)
	}
	if err := s.SetLayer("no-such-session", "h"); !errors.Is(err, ErrNoSession) {
		t.Errorf("SetLayer: %v, want ErrNoSession", err)
	}
	if err := s.Trickle("no-such-session", "a=candidate:1 1 udp 1 127.0.0.1 9 typ host"); !errors.Is(err, ErrNoSession) {
		t.Errorf("Trickle: %v, want ErrNoSession", err)
	}
	if err := s.SetTap("nobody", TapFunc(nil)); !errors.Is(err, ErrNoPublisher) {
		t.Errorf("SetTap: %v, want ErrNoPublisher", err)
	}

	// A publisher offering only VP9 video.
	vp9 := vp9Offer(t)
	if _, _, err := s.Publish(ctx, "r", vp9); !errors.Is(err, ErrNoCodec) {
		t.Errorf("VP9 only: %v, want ErrNoCodec", err)
	}

	pub := startPublisher(t, s, "r")
	if _, _, err := s.Publish(ctx, "r", pubOffer(t)); !errors.Is(err, ErrPublisherExists) {
		t.Errorf("second publisher: %v, want ErrPublisherExists", err)
	}
	if _, _, err := s.Subscribe(ctx, "r", "garbage", SubscribeOptions{}); !errors.Is(err, ErrBadOffer) {
		t.Errorf("bad WHEP offer: %v, want ErrBadOffer", err)
	}
	if _, _, err := s.Subscribe(ctx, "r", vp9RecvOffer(t), SubscribeOptions{}); !errors.Is(err, ErrNoCodec) {
		t.Errorf("viewer that only takes VP9: %v, want ErrNoCodec", err)
	}
	if _, err := tryViewer(t, s, "r", viewerOptions{layer: "x"}); !errors.Is(err, ErrBadLayer) {
		t.Errorf("layer x: %v, want ErrBadLayer", err)
	}

	// Trickle: a candidate is accepted, garbage is ErrBadOffer, a new ufrag is an ICE restart.
	if err := s.Trickle(pub.session, "a=ice-ufrag:zzzz\r\na=ice-pwd:yyyyyyyyyyyyyyyyyyyyyy\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n"); !errors.Is(err, ErrNotSupported) {
		t.Errorf("trickle with new ufrag: %v, want ErrNotSupported", err)
	}
	if err := s.Trickle(pub.session, "a=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\na=end-of-candidates\r\n"); err != nil {
		t.Errorf("trickle: %v", err)
	}
	if err := s.Trickle(pub.session, "hello"); !errors.Is(err, ErrBadOffer) {
		t.Errorf("trickle garbage: %v, want ErrBadOffer", err)
	}
	if err := s.End(pub.session); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Publish(ctx, "r", pubOffer(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

// pubOffer is a WHIP offer (H.264 + Opus, send only) from a throwaway pion peer.
func pubOffer(t *testing.T) string {
	pc, err := clientAPI(t, false).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	for _, c := range []webrtc.RTPCodecCapability{{MimeType: webrtc.MimeTypeH264}, {MimeType: webrtc.MimeTypeOpus}} {
		tr, err := webrtc.NewTrackLocalStaticSample(c, "t"+c.MimeType, "s")
		if err != nil {
			t.Fatal(err)
		}
		tc, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			t.Fatal(err)
		}
		if c.MimeType == webrtc.MimeTypeH264 {
			preferH264(t, tc)
		}
	}
	return offer(t, pc)
}

func vp9API(t *testing.T) *webrtc.API {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP9, ClockRate: 90000},
		PayloadType:        98,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me))
}

func vp9Offer(t *testing.T) string {
	pc, err := vp9API(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP9}, "v", "s")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return o.SDP
}

func vp9RecvOffer(t *testing.T) string {
	pc, err := vp9API(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return o.SDP
}

// TestPublicIPs: the answer advertises the public address on the media ports.
func TestPublicIPs(t *testing.T) {
	s := newTestSFU(t, Config{PublicIPs: []string{"203.0.113.7"}})
	ans, id, err := s.Publish(context.Background(), "r", pubOffer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.End(id) }()
	udpPort := s.UDPAddr().String()[strings.LastIndex(s.UDPAddr().String(), ":")+1:]
	tcpPort := s.TCPAddr().String()[strings.LastIndex(s.TCPAddr().String(), ":")+1:]
	var udp, tcp bool
	for _, line := range strings.Split(ans, "\n") {
		if !strings.HasPrefix(line, "a=candidate:") {
			continue
		}
		if strings.Contains(line, "127.0.0.1") {
			t.Errorf("private address advertised: %s", line)
		}
		f := strings.Fields(line)
		if len(f) > 5 && f[4] == "203.0.113.7" {
			udp = udp || (strings.EqualFold(f[2], "udp") && f[5] == udpPort)
			tcp = tcp || (strings.EqualFold(f[2], "tcp") && f[5] == tcpPort)
		}
	}
	if !udp || !tcp {
		t.Errorf("answer lacks public UDP (%v) or TCP (%v) candidates on ports %s/%s:\n%s", udp, tcp, udpPort, tcpPort, ans)
	}
	if _, err := New(Config{PublicIPs: []string{"not-an-ip"}}); err == nil {
		t.Error("New accepted a bad public IP")
	}
}

// TestTap: the tap sees the publisher's packets with codec information.
func TestTap(t *testing.T) {
	s := newTestSFU(t, Config{})
	pub := startPublisher(t, s, "r")
	var mu sync.Mutex
	seen := map[string]TrackInfo{}
	counts := map[string]int{}
	if err := s.SetTap("r", TapFunc(func(ti TrackInfo, _ *rtp.Header, payload []byte) {
		mu.Lock()
		seen[ti.Kind] = ti
		counts[ti.Kind]++
		mu.Unlock()
	})); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "tap sees audio and video", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return counts["audio"] > 10 && counts["video"] > 10
	})
	mu.Lock()
	v, a := seen["video"], seen["audio"]
	mu.Unlock()
	if v.MimeType != webrtc.MimeTypeH264 || v.ClockRate != 90000 || v.PayloadType == 0 || !strings.Contains(v.SDPFmtpLine, "packetization-mode=1") {
		t.Errorf("video track info %+v", v)
	}
	if !strings.EqualFold(a.MimeType, webrtc.MimeTypeOpus) || a.ClockRate != 48000 || a.Channels != 2 {
		t.Errorf("audio track info %+v", a)
	}
	tracks, err := s.Tracks("r")
	if err != nil || len(tracks) != 2 || tracks[0] != a || tracks[1] != v {
		t.Errorf("Tracks: %+v %v, want the tap's %+v and %+v", tracks, err, a, v)
	}
	if err := s.SetTap("r", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tracks("nobody"); !errors.Is(err, ErrNoPublisher) {
		t.Errorf("Tracks without publisher: %v", err)
	}
	_ = pub
}
