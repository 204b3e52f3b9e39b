package sfu

import "github.com/pion/rtp"

// TrackInfo describes a publisher's track to a Tap.
type TrackInfo struct {
	Kind        string // "audio" or "video"
	MimeType    string // "video/H264", "video/VP8", "audio/opus"
	ClockRate   uint32
	Channels    uint16
	PayloadType uint8  // as sent by the publisher
	SDPFmtpLine string // e.g. "packetization-mode=1;profile-level-id=42e01f"
	RID         string // simulcast layer ("h", "m", "l"), "" without simulcast
}

// A Tap receives every RTP packet the publisher sends (for recording), as received:
// original SSRC, sequence numbers and timestamps, with padding removed. With simulcast it
// receives every layer; pick one by TrackInfo.RID. WriteRTP is called from the track's
// reader goroutine: it must not block, and must copy header and payload if it keeps them.
type Tap interface {
	WriteRTP(track TrackInfo, header *rtp.Header, payload []byte)
}

// TapFunc adapts a function to a Tap.
type TapFunc func(track TrackInfo, header *rtp.Header, payload []byte)

// WriteRTP calls f.
func (f TapFunc) WriteRTP(track TrackInfo, header *rtp.Header, payload []byte) {
	f(track, header, payload)
}

type tapHolder struct{ t Tap }

// SetTap sets (or, with nil, removes) the tap of a room and asks the publisher for a
// keyframe so that a recording starts cleanly. The tap goes away with the room.
func (s *SFU) SetTap(roomName string, tap Tap) error {
	s.mu.Lock()
	r := s.rooms[roomName]
	s.mu.Unlock()
	if r == nil || !r.ready.Load() {
		return ErrNoPublisher
	}
	if tap == nil {
		r.tap.Store(nil)
		return nil
	}
	r.tap.Store(&tapHolder{tap})
	if r.video != nil {
		for _, l := range r.video.layers {
			l.requestKeyframe()
		}
	}
	return nil
}

// Tracks describes the tracks a room's publisher sends (one per simulcast layer), as
// negotiated: what a Tap will be given. ErrNoPublisher without a publisher.
func (s *SFU) Tracks(roomName string) ([]TrackInfo, error) {
	s.mu.Lock()
	r := s.rooms[roomName]
	s.mu.Unlock()
	if r == nil || !r.ready.Load() {
		return nil, ErrNoPublisher
	}
	var out []TrackInfo
	for _, f := range r.fanouts() {
		for _, l := range f.layers {
			out = append(out, l.info)
		}
	}
	return out, nil
}
