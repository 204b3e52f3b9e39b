package sfu

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
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
	// ErrNotSupported: the request is valid but the SFU does not do it (ICE restart).
	ErrNotSupported = errors.New("sfu: not supported")
	// ErrBadLayer: a simulcast layer other than "h", "m", "l" or "" (automatic).
	ErrBadLayer = errors.New("sfu: unknown simulcast layer")
	// ErrClosed: the SFU has been closed.
	ErrClosed = errors.New("sfu: closed")
)

// Config configures an SFU. The zero value listens on ephemeral ports on all interfaces.
type Config struct {
	// UDPPort is the one UDP port for all media (ICE UDP mux); 0 picks a free port.
	UDPPort int
	// TCPPort is the one port for ICE-TCP (for viewers behind UDP-blocking firewalls);
	// 0 picks a free port, -1 disables ICE-TCP.
	TCPPort int
	// ListenIP is the address to listen on and to gather candidates from: "0.0.0.0" (the
	// default) in production, "127.0.0.1" in tests (loopback candidates are then included).
	ListenIP string
	// PublicIPs are advertised in host candidates instead of the local addresses, for a
	// server behind a 1:1 NAT (a cloud VM's elastic IP).
	PublicIPs []string
	// Writers is the size of the pool of goroutines that write to viewers; default
	// 2*GOMAXPROCS.
	Writers int
	// DisableGSO sends one datagram per system call instead of a video frame's packets to
	// a viewer in one UDP GSO send. The SFU also stops using GSO by itself the first time
	// the kernel refuses a GSO send.
	DisableGSO bool
	// QueueSize is the length of each viewer's packet queue; a viewer whose queue is full
	// loses packets. Default 512 (about half a second of 720p video with audio).
	QueueSize int
	// KeyframeInterval is the least time between two keyframe requests (PLI) sent to the
	// publisher for one track; requests in between are merged into one. Default 1 s.
	KeyframeInterval time.Duration
	// PeerTimeout is how long a peer may take to connect, or stay disconnected, before its
	// session ends. It is also the ICE failed timeout. Default 15 s.
	PeerTimeout time.Duration
	// PublisherSilence ends a connected publisher that has sent no RTP for this long (a
	// crashed or frozen encoder whose connection is still up), and a publisher whose
	// connection lost ICE consent is ended at once rather than after PeerTimeout: its
	// viewers are let go within seconds, and the lecture layer's grace period starts.
	// Default 5 s; negative disables the silence check.
	PublisherSilence time.Duration
	// SlowViewerTimeout ends a viewer whose queue has been overflowing for this long (a
	// viewer that cannot keep up, or whose TCP connection blocks a writer). Default 10 s;
	// negative disables.
	SlowViewerTimeout time.Duration
	// Hooks are told about publishers and viewers coming and going.
	Hooks Hooks
	// Logger receives the SFU's log and pion's (pion's levels one step lower).
	Logger *slog.Logger
}

// Hooks tell the lecture layer about sessions. They are called from SFU goroutines (or
// from within End and Close), never with an SFU lock held, and must not block: hand off
// to a channel or goroutine. They may call the SFU's methods.
type Hooks struct {
	// OnPublisherStart: the room's publisher connected; media is flowing.
	OnPublisherStart func(room string)
	// OnPublisherEnd: the publisher left (End, DTLS close, ICE failure or disconnect
	// timeout, SFU closed). Called once per room, after every viewer was ended, and only
	// if OnPublisherStart was called.
	OnPublisherEnd func(room string)
	// OnViewerJoin: a viewer connected.
	OnViewerJoin func(room, sessionID string)
	// OnViewerLeave: a joined viewer left (End, failure, timeout, or the room ended).
	OnViewerLeave func(room, sessionID string)
}

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

// SFU forwards each room's publisher to its viewers. Its methods are safe for concurrent use.
type SFU struct {
	cfg Config
	log *slog.Logger

	udpConn *batchConn
	udpMux  ice.UDPMux
	tcpLn   net.Listener
	tcpMux  ice.TCPMux

	pubAPI  *webrtc.API // publishers: NACK generator, receiver reports, TWCC feedback
	viewAPI *webrtc.API // viewers of single-layer rooms: sender reports
	simAPI  *webrtc.API // viewers of simulcast rooms: as viewAPI plus TWCC + GCC estimator

	bweMu      sync.Mutex // serialises simAPI.NewPeerConnection so newBWE belongs to it
	newBWE     cc.BandwidthEstimator
	pool       *writerPool
	packetPool sync.Pool

	mu       sync.Mutex
	closed   bool
	rooms    map[string]*room
	sessions map[string]any // *room (publisher session) or *viewer

	statsMu sync.RWMutex // Stats reads under R; moving a session's counters to retired under W
	retired counters     // counters of ended viewers and rooms
	wg      sync.WaitGroup
	done    chan struct{}
}

// counters are atomically updated totals.
type counters struct {
	packetsIn, bytesIn             atomic.Uint64
	forwarded, bytesOut, dropped   atomic.Uint64
	writeErrors, keyframeRequests  atomic.Uint64
	layerSwitches, slowViewerEnded atomic.Uint64
	resent                         atomic.Uint64
}

const (
	defaultQueueSize        = 512
	defaultKeyframeInterval = time.Second
	defaultPeerTimeout      = 15 * time.Second
	defaultPublisherSilence = 5 * time.Second
	defaultSlowViewer       = 10 * time.Second
	maxPacketSize           = 1500
	streamID                = "culturecloud"
)

// Codecs the SFU accepts. All H.264 entries use packetization mode 1. The publisher's
// order of preference decides which one a room uses (see chooseCodec).
var (
	videoFeedback = []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
	videoCodecs   = []webrtc.RTPCodecCapability{
		h264Codec("42e01f"), h264Codec("42001f"), h264Codec("4d001f"), h264Codec("64001f"), h264Codec("640c1f"),
		{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
	}
	audioCodecs = []webrtc.RTPCodecCapability{
		{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
	}
)

func h264Codec(profile string) webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{
		MimeType:    webrtc.MimeTypeH264,
		ClockRate:   90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + profile,
	}
}

// New starts an SFU: it opens the UDP (and TCP) port and the writer pool.
func New(cfg Config) (*SFU, error) {
	if cfg.ListenIP == "" {
		cfg.ListenIP = "0.0.0.0"
	}
	if cfg.Writers <= 0 {
		cfg.Writers = 2 * runtime.GOMAXPROCS(0)
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = defaultQueueSize
	}
	if cfg.KeyframeInterval <= 0 {
		cfg.KeyframeInterval = defaultKeyframeInterval
	}
	if cfg.PeerTimeout <= 0 {
		cfg.PeerTimeout = defaultPeerTimeout
	}
	if cfg.PublisherSilence == 0 {
		cfg.PublisherSilence = defaultPublisherSilence
	}
	if cfg.SlowViewerTimeout == 0 {
		cfg.SlowViewerTimeout = defaultSlowViewer
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
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
		done:     make(chan struct{}),
	}
	s.packetPool.New = func() any { return new(packet) }
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

func (s *SFU) listen(ip net.IP) error {
	loggers := pionLoggers{s.cfg.Logger}
	udp, err := net.ListenUDP(udpNetwork(ip), &net.UDPAddr{IP: ip, Port: s.cfg.UDPPort})
	if err != nil {
		return fmt.Errorf("sfu: listen UDP: %w", err)
	}
	// Many viewers share this socket: give it room for bursts (keyframes).
	_ = udp.SetReadBuffer(4 << 20)
	_ = udp.SetWriteBuffer(4 << 20)
	if s.udpConn, err = newBatchConn(udp, !s.cfg.DisableGSO, s.log); err != nil {
		_ = udp.Close()
		return fmt.Errorf("sfu: UDP socket: %w", err)
	}
	s.udpMux = webrtc.NewICEUDPMux(loggers.NewLogger("ice-udp-mux"), s.udpConn)
	if s.cfg.TCPPort >= 0 {
		ln, err := net.ListenTCP(tcpNetwork(ip), &net.TCPAddr{IP: ip, Port: s.cfg.TCPPort})
		if err != nil {
			return fmt.Errorf("sfu: listen TCP: %w", err)
		}
		s.tcpLn = ln
		s.tcpMux = webrtc.NewICETCPMux(loggers.NewLogger("ice-tcp-mux"), ln, 8)
	}
	return nil
}

func udpNetwork(ip net.IP) string {
	if ip.To4() != nil {
		return "udp4"
	}
	return "udp"
}

func tcpNetwork(ip net.IP) string {
	if ip.To4() != nil {
		return "tcp4"
	}
	return "tcp"
}

// settingEngine is shared by all three APIs: the ports, addresses and security settings.
func (s *SFU) settingEngine(listenIP net.IP) (webrtc.SettingEngine, error) {
	var se webrtc.SettingEngine
	se.LoggerFactory = pionLoggers{s.cfg.Logger}
	se.SetICEUDPMux(s.udpMux)
	v4 := listenIP.To4() != nil
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	if !v4 {
		types = []webrtc.NetworkType{webrtc.NetworkTypeUDP6}
	}
	if s.tcpMux != nil {
		se.SetICETCPMux(s.tcpMux)
		if v4 {
			types = append(types, webrtc.NetworkTypeTCP4)
		} else {
			types = append(types, webrtc.NetworkTypeTCP6)
		}
	}
	if listenIP.IsUnspecified() && !v4 {
		types = []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
		if s.tcpMux != nil {
			types = append(types, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
		}
	}
	se.SetNetworkTypes(types)
	if !listenIP.IsUnspecified() {
		// Gather only the address we listen on (the TCP mux is asked per local IP).
		se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(listenIP) })
		if listenIP.IsLoopback() {
			se.SetIncludeLoopbackCandidate(true)
		}
	}
	if len(s.cfg.PublicIPs) > 0 {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        s.cfg.PublicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			return se, fmt.Errorf("sfu: PublicIPs: %w", err)
		}
	}
	// A server has no use for mDNS; browsers' .local candidates are not resolvable for
	// us anyway, and their peer-reflexive address is learned from the connectivity checks.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	disconnected := min(5*time.Second, s.cfg.PeerTimeout/2)
	se.SetICETimeouts(disconnected, s.cfg.PeerTimeout, time.Second)
	// AES-GCM first: in pion it costs about a quarter of AES-CM + HMAC-SHA1 per packet,
	// and all current browsers offer it.
	se.SetSRTPProtectionProfiles(
		dtls.SRTP_AEAD_AES_128_GCM,
		dtls.SRTP_AEAD_AES_256_GCM,
		dtls.SRTP_AES128_CM_HMAC_SHA1_80,
	)
	// Be the DTLS client (setup:active, as RFC 8842 recommends for answerers). The client
	// then finishes the handshake, and so has its SRTP keys, before we do: packets we
	// send right after our handshake completes (a viewer's first keyframe) are not lost.
	// ICE has already opened the peer's NAT binding when our ClientHello goes out.
	if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleClient); err != nil {
		return se, err
	}
	return se, nil
}

func (s *SFU) buildAPIs(listenIP net.IP) error {
	se, err := s.settingEngine(listenIP)
	if err != nil {
		return err
	}

	// Publishers: ask for retransmissions (NACK generator), send receiver reports, and
	// send TWCC feedback so the browser's bandwidth estimate (and so its simulcast
	// layers) can grow.
	me, err := newMediaEngine(true, true)
	if err != nil {
		return err
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(me); err != nil {
		return err
	}
	reg := &interceptor.Registry{}
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return err
	}
	reg.Add(gen)
	rr, err := report.NewReceiverInterceptor()
	if err != nil {
		return err
	}
	reg.Add(rr)
	if err := webrtc.ConfigureTWCCSender(me, reg); err != nil {
		return err
	}
	s.pubAPI = webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg))

	// Viewers of single-layer rooms: send sender reports.
	// Without layers to choose there is no use for a bandwidth estimate.
	if s.viewAPI, err = s.viewerAPI(se, false); err != nil {
		return err
	}
	// Viewers of simulcast rooms: the same plus transport-wide sequence numbers and a GCC
	// estimator fed by the viewer's TWCC feedback, to choose each viewer's layer.
	s.simAPI, err = s.viewerAPI(se, true)
	return err
}

func (s *SFU) viewerAPI(se webrtc.SettingEngine, bwe bool) (*webrtc.API, error) {
	me, err := newMediaEngine(false, bwe)
	if err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if bwe {
		for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
			if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, kind); err != nil {
				return nil, err
			}
		}
		// Interceptors added first sit closest to the network. The estimator must see
		// the transport-wide sequence number, and retransmissions must get one too.
		est, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
			return gcc.NewSendSideBWE(
				gcc.SendSideBWEInitialBitrate(1_000_000),
				gcc.SendSideBWEMinBitrate(100_000),
				gcc.SendSideBWEMaxBitrate(20_000_000),
				gcc.SendSideBWEPacer(gcc.NewNoOpPacer()),
				gcc.WithLoggerFactory(pionLoggers{s.cfg.Logger}),
			)
		})
		if err != nil {
			return nil, err
		}
		est.OnNewPeerConnection(func(_ string, e cc.BandwidthEstimator) { s.newBWE = e })
		reg.Add(est)
		hdr, err := twcc.NewHeaderExtensionInterceptor()
		if err != nil {
			return nil, err
		}
		reg.Add(hdr)
	}
	// No NACK responder here: pion's keeps a copy of every packet per viewer (1.5 KB
	// each); the viewer's history refers to the room's packets instead (see resendSeq).
	sr, err := report.NewSenderInterceptor()
	if err != nil {
		return nil, err
	}
	reg.Add(sr)
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg)), nil
}

// newMediaEngine registers H.264, VP8 and Opus, with NACK/PLI/FIR feedback, and TWCC or
// REMB feedback when a bandwidth estimate is wanted.
func newMediaEngine(publisher, bwe bool) (*webrtc.MediaEngine, error) {
	me := &webrtc.MediaEngine{}
	fb := append([]webrtc.RTCPFeedback(nil), videoFeedback...)
	if bwe && !publisher {
		fb = append(fb, webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBGoogREMB})
	}
	pt := webrtc.PayloadType(96)
	for _, c := range videoCodecs {
		c.RTCPFeedback = fb
		if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: c, PayloadType: pt}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, err
		}
		pt++
	}
	for _, c := range audioCodecs {
		if bwe && !publisher {
			c.RTCPFeedback = []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}}
		}
		if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: c, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, err
		}
	}
	return me, nil
}

// UDPAddr is the address of the media UDP port.
func (s *SFU) UDPAddr() net.Addr {
	if s.udpConn == nil {
		return nil
	}
	return s.udpConn.LocalAddr()
}

// TCPAddr is the address of the ICE-TCP port, nil when disabled.
func (s *SFU) TCPAddr() net.Addr {
	if s.tcpLn == nil {
		return nil
	}
	return s.tcpLn.Addr()
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

func (s *SFU) closeListeners() {
	if s.udpMux != nil {
		_ = s.udpMux.Close()
	} else if s.udpConn != nil {
		_ = s.udpConn.Close()
	}
	if s.tcpMux != nil {
		_ = s.tcpMux.Close()
	} else if s.tcpLn != nil {
		_ = s.tcpLn.Close()
	}
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
// room's publisher (else a viewer), so that the HTTP layer can check a session's URL.
func (s *SFU) SessionRoom(sessionID string) (roomName string, publisher bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch sess := s.sessions[sessionID].(type) {
	case *room:
		return sess.name, true, nil
	case *viewer:
		return sess.r.name, false, nil
	}
	return "", false, ErrNoSession
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
		st.WriteErrors += s.udpConn.failures.Load()
		st.GSOSends = s.udpConn.gsoSends.Load()
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
