package sfu

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// TestNACKAnsweredFromCache: a viewer that reports a lost video packet (RTCP NACK) gets it
// again from the SFU's packet cache, with the sequence number it was sent with.
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
	eventually(t, "video packets arrive", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) > 60
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
	eventually(t, "the packet is sent again", func() bool { return count(target) >= 2 })
}
