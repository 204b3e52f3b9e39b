package sfu

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/shizuishan/culturecloud/media/sfu/internal/packetcache"

	"github.com/shizuishan/culturecloud/internal/testwait"
)

// TestNACKAnsweredFromCache: a viewer that reports a lost video packet (RTCP NACK) gets it
// again from the SFU's packet history, with the sequence number it was sent with; a packet
// older than the history, or one never sent, is not sent.
func TestNACKAnsweredFromCache(t *testing.T) {
	s := newTestSFU(t, Config{})
	startPublisher(t, s, "nack")
	var (
		mu   sync.Mutex
		seen = map[uint16]int{}
		last atomic.Int32 // latest sequence number + 1; 0 before any
		ssrc atomic.Uint32
	)
	// The viewer's SRTP replay check would drop a resent packet it already has; a real
	// receiver asks only for packets it lacks, which the check lets through.
	api := clientAPIWith(t, false, func(se *webrtc.SettingEngine) { se.DisableSRTPReplayProtection(true) })
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			p, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			if track.Kind() != webrtc.RTPCodecTypeVideo {
				continue
			}
			mu.Lock()
			seen[p.SequenceNumber]++
			mu.Unlock()
			ssrc.Store(p.SSRC)
			last.Store(int32(p.SequenceNumber) + 1)
		}
	})
	answer, _, err := s.Subscribe(context.Background(), "nack", offer(t, pc), SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	count := func(seq uint16) int {
		mu.Lock()
		defer mu.Unlock()
		return seen[seq]
	}
	testwait.Until(t, "video packets arrive", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) > packetcache.HistorySize+60
	})
	// A packet some way back, still in the cache, that arrived exactly once.
	target := uint16(last.Load()-1) - 20
	if count(target) != 1 {
		t.Fatalf("packet %d arrived %d times before the NACK", target, count(target))
	}
	if err := pc.WriteRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: ssrc.Load(),
		Nacks: []rtcp.NackPair{{PacketID: target}}}}); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the packet is sent again", func() bool { return count(target) >= 2 })
	if got := s.Stats().PacketsResent; got != 1 {
		t.Errorf("PacketsResent = %d, want 1", got)
	}

	// Resends are queued in the order asked: once the last one named has arrived again,
	// the ones before it were either sent or skipped.
	newest := uint16(last.Load()-1) - 5
	tooOld := newest - packetcache.HistorySize - 10
	never := newest + 30000
	if count(tooOld) != 1 || count(newest) != 1 {
		t.Fatalf("before the second NACK: %d arrived %d times, %d arrived %d times", tooOld, count(tooOld), newest, count(newest))
	}
	if err := pc.WriteRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: ssrc.Load(),
		Nacks: []rtcp.NackPair{{PacketID: tooOld}, {PacketID: never}, {PacketID: newest}}}}); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the recent packet is sent again", func() bool { return count(newest) >= 2 })
	if count(tooOld) != 1 || count(never) != 0 {
		t.Errorf("after the NACK: %d (older than the history) arrived %d times, %d (never sent) %d times; want 1 and 0",
			tooOld, count(tooOld), never, count(never))
	}
	if got := s.Stats().PacketsResent; got != 2 {
		t.Errorf("PacketsResent = %d, want 2", got)
	}
}
