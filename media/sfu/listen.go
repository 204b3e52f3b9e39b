package sfu

import (
	"fmt"
	"net"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/shizuishan/culturecloud/media/sfu/internal/gso"
)

// listen opens the ports every peer shares: one UDP socket (ICE UDP mux, GSO sends) and,
// unless disabled, one ICE-TCP listener.
func (s *SFU) listen(ip net.IP) error {
	loggers := pionLoggers{s.cfg.Logger}
	udp, err := net.ListenUDP(udpNetwork(ip), &net.UDPAddr{IP: ip, Port: s.cfg.UDPPort})
	if err != nil {
		return fmt.Errorf("sfu: listen UDP: %w", err)
	}
	// Many viewers share this socket: give it room for bursts (keyframes).
	_ = udp.SetReadBuffer(4 << 20)
	_ = udp.SetWriteBuffer(4 << 20)
	if s.udpConn, err = gso.New(udp, !s.cfg.DisableGSO, s.log); err != nil {
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
