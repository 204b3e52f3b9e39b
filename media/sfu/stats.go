package sfu

import (
	"sync/atomic"
	"time"
)

// Stats are counters since New. The totals include ended sessions.
type Stats struct {
	Rooms   int // rooms with a publisher
	Viewers int // viewer sessions (connected or connecting)

	PacketsIn        uint64 // RTP packets received from publishers
	BytesIn          uint64 // their bytes, headers included
	PacketsForwarded uint64 // RTP packets written to viewers
	BytesForwarded   uint64 // their payload bytes
	PacketsDropped   uint64 // packets not queued because a viewer's queue was full
	PacketsResent    uint64 // packets sent again because a viewer's NACK asked for them (also in PacketsForwarded)
	GSOSends         uint64 // UDP sends that carried more than one packet
	WriteErrors      uint64 // writes to a viewer that failed (usually: it just left), and held UDP sends that failed
	KeyframeRequests uint64 // PLIs sent to publishers
	LayerSwitches    uint64 // simulcast layer changes made for viewers
	SlowViewersEnded uint64 // viewers ended by SlowViewerTimeout
}

// ViewerStats are one viewer's counters.
type ViewerStats struct {
	Room             string
	Joined           bool
	PacketsForwarded uint64
	BytesForwarded   uint64
	PacketsDropped   uint64
	Layer            string // RID of the simulcast layer being sent; "" before the first keyframe or without simulcast
	PinnedLayer      string // "h", "m" or "l" as pinned; "" when chosen by bandwidth
	EstimateBitrate  int    // bandwidth estimate in bit/s; 0 without simulcast
}

// counters are atomically updated totals.
type counters struct {
	packetsIn, bytesIn             atomic.Uint64
	forwarded, bytesOut, dropped   atomic.Uint64
	writeErrors, keyframeRequests  atomic.Uint64
	layerSwitches, slowViewerEnded atomic.Uint64
	resent                         atomic.Uint64
}

// Stats returns the SFU's counters.
func (s *SFU) Stats() Stats {
	s.statsMu.RLock()
	defer s.statsMu.RUnlock()
	st := Stats{
		PacketsIn:        s.retired.packetsIn.Load(),
		BytesIn:          s.retired.bytesIn.Load(),
		PacketsForwarded: s.retired.forwarded.Load(),
		BytesForwarded:   s.retired.bytesOut.Load(),
		PacketsDropped:   s.retired.dropped.Load(),
		PacketsResent:    s.retired.resent.Load(),
		WriteErrors:      s.retired.writeErrors.Load(),
		KeyframeRequests: s.retired.keyframeRequests.Load(),
		LayerSwitches:    s.retired.layerSwitches.Load(),
		SlowViewersEnded: s.retired.slowViewerEnded.Load(),
	}
	if s.udpConn != nil {
		st.WriteErrors += s.udpConn.Failures()
		st.GSOSends = s.udpConn.GSOSends()
	}
	for _, r := range s.liveRooms() {
		st.Rooms++
		for _, f := range r.fanouts() {
			for _, l := range f.layers {
				st.PacketsIn += l.packets.Load()
				st.BytesIn += l.bytes.Load()
			}
		}
		for _, v := range r.viewerList() {
			st.Viewers++
			st.PacketsForwarded += v.forwarded.Load()
			st.BytesForwarded += v.bytesOut.Load()
			st.PacketsDropped += v.dropped.Load()
			st.PacketsResent += v.resent.Load()
			st.WriteErrors += v.writeErrors.Load()
			st.LayerSwitches += v.layerSwitches.Load()
		}
	}
	return st
}

// ViewerStats returns one viewer's counters.
func (s *SFU) ViewerStats(sessionID string) (ViewerStats, error) {
	s.mu.Lock()
	v, ok := s.sessions[sessionID].(*viewer)
	s.mu.Unlock()
	if !ok {
		return ViewerStats{}, ErrNoSession
	}
	v.r.mu.Lock()
	joined := v.joined
	v.r.mu.Unlock()
	vs := ViewerStats{
		Room:             v.r.name,
		Joined:           joined,
		PacketsForwarded: v.forwarded.Load(),
		BytesForwarded:   v.bytesOut.Load(),
		PacketsDropped:   v.dropped.Load(),
		EstimateBitrate:  v.estimate(),
	}
	if dt := v.video; dt != nil && v.r.simulcast {
		if cur := dt.cur.Load(); cur >= 0 {
			vs.Layer = dt.f.layers[cur].rid
		}
		if p := dt.pinned.Load(); p >= 0 {
			vs.PinnedLayer = layerNames[p]
		}
	}
	return vs, nil
}

// LastPacket is when the publisher of room last sent media (or connected, if it has sent
// nothing since); false when the room has no connected publisher here.
func (s *SFU) LastPacket(roomName string) (time.Time, bool) {
	s.mu.Lock()
	r := s.rooms[roomName]
	s.mu.Unlock()
	if r == nil {
		return time.Time{}, false
	}
	last := r.lastPacket()
	if last == 0 {
		return time.Time{}, false
	}
	return time.Now().Add(-time.Duration(monotonic() - last)), true
}
