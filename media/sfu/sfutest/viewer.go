package sfutest

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Viewer is a player receiving one video and one audio track. It counts what comes and
// leaves judging the video to the suite, which knows what its publisher sent.
type Viewer struct {
	PC          *webrtc.PeerConnection
	ConnectedAt atomic.Int64  // unix ns
	Ended       chan struct{} // closed when the connection ends (see ViewerOptions)
	EndedAt     atomic.Int64  // unix ns
	AudioPkts   atomic.Int64
	VideoPkts   atomic.Int64
	AudioTrack  atomic.Bool
	VideoTrack  atomic.Bool

	endOnce sync.Once
	lastPLI time.Time // of the video reader only
}

// ViewerOptions are the ways the suites' viewers differ.
type ViewerOptions struct {
	// EndOnDisconnect ends the viewer at "disconnected" too, not only at closed or failed:
	// a player gives up there, and a test need not wait for ICE's failed timeout.
	EndOnDisconnect bool
	// Stall never reads the tracks, so that pion's buffers fill up and drop.
	Stall bool
	// Video, if not nil, makes the reader of a video track; it gets each packet after it
	// is counted. Packets are read on one goroutine per track.
	Video func(track *webrtc.TrackRemote) func(*rtp.Packet)
}

// NewViewer makes a receive-only PeerConnection; the caller makes the offer.
func NewViewer(api *webrtc.API, o ViewerOptions) (*Viewer, error) {
	pc, err := NewReceiver(api)
	if err != nil {
		return nil, err
	}
	v := &Viewer{PC: pc, Ended: make(chan struct{})}
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			v.ConnectedAt.CompareAndSwap(0, time.Now().UnixNano())
		case webrtc.PeerConnectionStateClosed, webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateDisconnected:
			if st == webrtc.PeerConnectionStateDisconnected && !o.EndOnDisconnect {
				return
			}
			v.endOnce.Do(func() {
				v.EndedAt.Store(time.Now().UnixNano())
				close(v.Ended)
			})
		}
	})
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		video := track.Kind() == webrtc.RTPCodecTypeVideo
		if video {
			v.VideoTrack.Store(true)
		} else {
			v.AudioTrack.Store(true)
		}
		if o.Stall {
			return
		}
		var onPacket func(*rtp.Packet)
		if video && o.Video != nil {
			onPacket = o.Video(track)
		}
		for {
			pkt, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			if !video {
				v.AudioPkts.Add(1)
				continue
			}
			v.VideoPkts.Add(1)
			if onPacket != nil {
				onPacket(pkt)
			}
		}
	})
	return v, nil
}

// NewReceiver is a PeerConnection that receives one video and one audio track, as a WHEP
// player offers, with no handlers yet.
func NewReceiver(api *webrtc.API) (*webrtc.PeerConnection, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			_ = pc.Close()
			return nil, err
		}
	}
	return pc, nil
}

// AskKeyframe sends a PLI at most every half second, as a browser's decoder does while it
// has nothing to decode: it covers a keyframe lost while the connection was starting. Call
// it from the video reader only.
func (v *Viewer) AskKeyframe(track *webrtc.TrackRemote) {
	if time.Since(v.lastPLI) <= 500*time.Millisecond {
		return
	}
	v.lastPLI = time.Now()
	_ = v.PC.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(track.SSRC())}})
}
