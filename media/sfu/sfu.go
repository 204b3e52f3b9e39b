package sfu

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/shizuishan/culturecloud/media/sfu/internal/gso"
	"github.com/shizuishan/culturecloud/media/sfu/internal/packetcache"
)

// Errors returned by the SFU. The HTTP layer maps them to answers: ErrBadOffer and
// ErrNoCodec and ErrBadLayer to 400 (ErrNoCodec may also be 415/422), ErrPublisherExists
// to 409, ErrNoPublisher and ErrNoSession to 404, ErrNotSupported to 405 or 501, ErrClosed
// to 503.
var (
	// ErrBadOffer: the SDP offer (or trickle fragment) does not parse or pion rejects it;
	// the wrapped message says why.
	ErrBadOffer = errors.New("sfu: bad SDP offer")
	// ErrNoCodec: the offer lacks H.264/VP8 video and Opus audio (publisher), or cannot
	// receive the publisher's codecs (viewer).
	ErrNoCodec = errors.New("sfu: no supported codec (H.264 or VP8 video, Opus audio)")
	// ErrPublisherExists: the room already has a publisher.
	ErrPublisherExists = errors.New("sfu: room already has a publisher")
	// ErrNoPublisher: the room has no publisher to watch or tap.
	ErrNoPublisher = errors.New("sfu: room has no publisher")
	// ErrNoSession: no live session with this ID.
	ErrNoSession = errors.New("sfu: no such session")
	// ErrEnded: the session has ended (lately: see Config.EndedMemory). It wraps
	// ErrNoSession, for the callers to whom an ended session is no session.
	ErrEnded = fmt.Errorf("%w: it has ended", ErrNoSession)
	// ErrNotSupported: the request is valid but the SFU does not do it (ICE restart).
	ErrNotSupported = errors.New("sfu: not supported")
	// ErrBadLayer: a simulcast layer other than "h", "m", "l" or "" (automatic).
	ErrBadLayer = errors.New("sfu: unknown simulcast layer")
	// ErrClosed: the SFU has been closed.
	ErrClosed = errors.New("sfu: closed")
)

// SFU forwards each room's publisher to its viewers. Its methods are safe for concurrent use.
type SFU struct {
	cfg Config
	log *slog.Logger

	udpConn *gso.Conn
	udpMux  ice.UDPMux
	tcpLn   net.Listener
	tcpMux  ice.TCPMux

	pubAPI  *webrtc.API // publishers: NACK generator, receiver reports, TWCC feedback
	viewAPI *webrtc.API // viewers of single-layer rooms: sender reports
	simAPI  *webrtc.API // viewers of simulcast rooms: as viewAPI plus TWCC + GCC estimator

	bweMu      sync.Mutex // serialises simAPI.NewPeerConnection so newBWE belongs to it
	newBWE     cc.BandwidthEstimator
	pool       *writerPool
	packetPool packetcache.Pool

	mu       sync.Mutex
	closed   bool
	rooms    map[string]*room
	sessions map[string]any // *room (publisher session) or *viewer
	ended    *endedSessions

	statsMu sync.RWMutex // Stats reads under R; moving a session's counters to retired under W
	retired counters     // counters of ended viewers and rooms
	wg      sync.WaitGroup
	done    chan struct{}
}

const (
	// maxPacketSize is the largest RTP or RTCP packet read.
	maxPacketSize = packetcache.MaxSize
	// streamID is the media stream of every viewer track.
	streamID = "culturecloud"
)

// New starts an SFU: it opens the UDP (and TCP) port and the writer pool.
func New(cfg Config) (*SFU, error) {
	cfg = cfg.withDefaults()
	listenIP := net.ParseIP(cfg.ListenIP)
	if listenIP == nil {
		return nil, fmt.Errorf("sfu: ListenIP %q is not an IP address", cfg.ListenIP)
	}
	for _, ip := range cfg.PublicIPs {
		if net.ParseIP(ip) == nil {
			return nil, fmt.Errorf("sfu: PublicIPs: %q is not an IP address", ip)
		}
	}

	s := &SFU{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "sfu"),
		rooms:    map[string]*room{},
		sessions: map[string]any{},
		ended:    newEndedSessions(cfg.EndedMemory, cfg.EndedMax),
		done:     make(chan struct{}),
	}
	if err := s.listen(listenIP); err != nil {
		s.closeListeners()
		return nil, err
	}
	if err := s.buildAPIs(listenIP); err != nil {
		s.closeListeners()
		return nil, err
	}
	s.pool = newWriterPool(cfg.Writers, s.udpConn)
	s.wg.Add(1)
	go s.housekeeping()
	s.log.Info("sfu listening", "udp", s.UDPAddr(), "tcp", s.TCPAddr(), "writers", cfg.Writers)
	return s, nil
}

// Close ends every room and viewer (hooks fire), then closes the ports and the writers.
func (s *SFU) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()

	close(s.done)
	for _, r := range rooms {
		r.end("sfu closed")
	}
	s.pool.close()
	s.wg.Wait()
	s.closeListeners()
	return nil
}

// End ends a WHIP or WHEP session (HTTP DELETE on its location). Ending a publisher ends
// the room: every viewer's PeerConnection is closed.
func (s *SFU) End(sessionID string) error {
	s.mu.Lock()
	sess, ok := s.sessions[sessionID]
	s.mu.Unlock()
	if !ok {
		return ErrNoSession
	}
	switch sess := sess.(type) {
	case *room:
		sess.end("publisher ended session")
	case *viewer:
		sess.end("viewer ended session", false)
	}
	return nil
}

// SessionRoom tells which room a WHIP or WHEP session belongs to, and whether it is the
// room's publisher (else a viewer), so that the HTTP layer can check a session's URL. A
// session that ended lately is ErrEnded, with its room and kind.
func (s *SFU) SessionRoom(sessionID string) (roomName string, publisher bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch sess := s.sessions[sessionID].(type) {
	case *room:
		return sess.name, true, nil
	case *viewer:
		return sess.r.name, false, nil
	}
	if e, ok := s.ended.get(sessionID, s.now()); ok {
		return e.room, e.publisher, ErrEnded
	}
	return "", false, ErrNoSession
}

// forgetSession takes an ending session out of the session table and remembers that it
// ended. Called with s.mu held.
func (s *SFU) forgetSession(id, roomName string, publisher bool) {
	if _, ok := s.sessions[id]; !ok {
		return // never handed out, or already forgotten
	}
	delete(s.sessions, id)
	s.ended.add(id, endedSession{room: roomName, publisher: publisher}, s.now())
}

// now is the clock of Config.Now (the unit tests' SFUs are made without New).
func (s *SFU) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// Trickle adds remote ICE candidates to a session from an RFC 9725 PATCH body
// (application/trickle-ice-sdpfrag). An ICE restart (a new ufrag) is ErrNotSupported.
func (s *SFU) Trickle(sessionID, fragment string) error {
	s.mu.Lock()
	sess, ok := s.sessions[sessionID]
	s.mu.Unlock()
	if !ok {
		return ErrNoSession
	}
	var pc *webrtc.PeerConnection
	switch sess := sess.(type) {
	case *room:
		sess.mu.Lock()
		pc = sess.pc
		sess.mu.Unlock()
	case *viewer:
		pc = sess.pc // set before the viewer is in the session table
	}
	if pc == nil {
		return ErrNoSession // still being set up: its ID has not been handed out yet
	}
	ufrag, cands, err := parseFragment(fragment)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	if ufrag != "" {
		if rd := pc.RemoteDescription(); rd != nil && !sdpHasUfrag(rd.SDP, ufrag) {
			return fmt.Errorf("%w: ICE restart", ErrNotSupported)
		}
	}
	for _, c := range cands {
		init := webrtc.ICECandidateInit{Candidate: c.candidate}
		if c.mid != "" {
			mid := c.mid
			init.SDPMid = &mid
		} else {
			var zero uint16
			init.SDPMLineIndex = &zero
		}
		if err := pc.AddICECandidate(init); err != nil {
			return fmt.Errorf("%w: candidate %q: %w", ErrBadOffer, c.candidate, err)
		}
	}
	return nil
}

func sdpHasUfrag(sdpText, ufrag string) bool {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(sdpText); err != nil {
		return false
	}
	if v, ok := sd.Attribute("ice-ufrag"); ok && v == ufrag {
		return true
	}
	for _, md := range sd.MediaDescriptions {
		if v, ok := md.Attribute("ice-ufrag"); ok && v == ufrag {
			return true
		}
	}
	return false
}

// Viewers returns the number of connected viewers of a room (0 without a publisher).
func (s *SFU) Viewers(roomName string) int {
	s.mu.Lock()
	r := s.rooms[roomName]
	s.mu.Unlock()
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, v := range r.viewers {
		if v.joined {
			n++
		}
	}
	return n
}

// Rooms is the number of rooms with a publisher (connecting or connected).
func (s *SFU) Rooms() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rooms)
}

func (s *SFU) liveRooms() []*room {
	s.mu.Lock()
	defer s.mu.Unlock()
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	return rooms
}

// housekeeping measures layer bitrates, chooses simulcast layers and ends slow viewers.
func (s *SFU) housekeeping() {
	defer s.wg.Done()
	const tick = 500 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			for _, r := range s.liveRooms() {
				r.tick(now, tick)
			}
		}
	}
}

func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var layerNames = [...]string{"h", "m", "l"}

func layerIndex(name string) (int32, error) {
	switch name {
	case "":
		return -1, nil
	case "h":
		return 0, nil
	case "m":
		return 1, nil
	case "l":
		return 2, nil
	}
	return 0, fmt.Errorf("%w: %s", ErrBadLayer, strconv.Quote(name))
}
