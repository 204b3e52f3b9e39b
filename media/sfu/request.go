package sfu

// RequestKeyframe asks a room's publisher for a keyframe on every video layer (throttled
// like viewers' requests); a room without a publisher is ignored. A recorder waiting for a
// keyframe to start from calls it.
func (s *SFU) RequestKeyframe(roomName string) {
	s.mu.Lock()
	r := s.rooms[roomName]
	s.mu.Unlock()
	if r == nil || !r.ready.Load() || r.video == nil {
		return
	}
	for _, l := range r.video.layers {
		l.requestKeyframe()
	}
}
