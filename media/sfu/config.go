package sfu

import (
	"log/slog"
	"runtime"
	"time"
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
	// EndedMemory and EndedMax: how long, and how many, ended sessions are remembered, so
	// that SessionRoom can tell a session that ended (ErrEnded) from one that never was
	// (ErrNoSession). Zero remembers none.
	EndedMemory time.Duration
	EndedMax    int
	// Now is the clock of EndedMemory; default time.Now.
	Now func() time.Time
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

const (
	defaultQueueSize        = 512
	defaultKeyframeInterval = time.Second
	defaultPeerTimeout      = 15 * time.Second
	defaultPublisherSilence = 5 * time.Second
	defaultSlowViewer       = 10 * time.Second
)

// withDefaults fills in what the zero value leaves to the SFU.
func (cfg Config) withDefaults() Config {
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
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}
