package live

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Viewer caps: every WHEP session costs the node a peer connection and its share of the
// forwarding, from the offer on, whether or not it ever connects. So sessions are capped
// while pending and while playing: per client address (one household or one abuser) and
// per node (what the machine can forward).

// Retry hints for refused viewers: a place frees when a viewer leaves or a pending offer
// times out (the SFU's peer timeout).
const (
	retryPerAddress = 10 * time.Second
	retryNode       = 5 * time.Second
)

// CapError refuses a viewer because a cap is reached; Node says which one (the node's
// rather than the address's). The HTTP layer answers 503 or 429 with Retry-After.
type CapError struct {
	Node  bool
	After time.Duration
}

func (e *CapError) Error() string {
	if e.Node {
		return fmt.Sprintf("live: the node has its most viewers; retry in %s", e.After)
	}
	return fmt.Sprintf("live: this address has its most viewers; retry in %s", e.After)
}

// reservationPrefix marks the place of an offer not answered yet; SFU session ids are hex.
const reservationPrefix = "reserving:"

// newReservationLocked names the place of an offer being answered; the caller holds s.mu.
func (s *Service) newReservationLocked() string {
	s.reservations++
	return reservationPrefix + strconv.FormatUint(s.reservations, 10)
}

// admitLocked takes a place for a viewer from address ip, or says which cap refuses it. The
// caller holds s.mu.
func (s *Service) admitLocked(ip string) error {
	s.forgetGoneLocked()
	if s.o.MaxViewers > 0 && len(s.places) >= s.o.MaxViewers {
		return &CapError{Node: true, After: retryNode}
	}
	if s.o.ViewersPerIP > 0 && s.perIP[ip] >= s.o.ViewersPerIP {
		return &CapError{After: retryPerAddress}
	}
	return nil
}

// takeLocked gives session its place; the caller holds s.mu.
func (s *Service) takeLocked(session, ip string) {
	s.places[session] = ip
	s.perIP[ip]++
}

// release frees the place of a session that ended.
func (s *Service) release(session string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseLocked(session)
}

func (s *Service) releaseLocked(session string) {
	ip, ok := s.places[session]
	if !ok {
		return
	}
	delete(s.places, session)
	if s.perIP[ip]--; s.perIP[ip] <= 0 {
		delete(s.perIP, ip)
	}
}

// forgetGoneLocked frees the places of sessions the SFU no longer has: offers that never
// connected (the SFU gives up on them after its peer timeout, without a hook) and viewers
// of a room that ended.
func (s *Service) forgetGoneLocked() {
	if s.sfu == nil {
		return
	}
	for session := range s.places {
		if strings.HasPrefix(session, reservationPrefix) {
			continue // an offer the SFU is still answering
		}
		if _, err := s.sfu.ViewerStats(session); err != nil {
			s.releaseLocked(session)
		}
	}
}
