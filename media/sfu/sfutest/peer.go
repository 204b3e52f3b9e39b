// Package sfutest is the pion client side of the live tests: the media, publisher and
// viewer that both the SFU's own tests and the server's WHIP/WHEP tests drive, so that the
// two suites test the SFU with the same peers. Besides tests, only cmd/benchlive imports
// it, for its media and its peers' setup. It does not import the SFU: its peers check what
// arrives independently of the SFU's own parsers.
package sfutest

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// NewAPI is a pion API with default codecs and interceptors, like a browser's. It gathers
// loopback candidates only and no mDNS, so that tests neither use nor depend on the
// machine's network. tweak, if not nil, changes the settings last.
func NewAPI(logs logging.LoggerFactory, network webrtc.NetworkType, tweak func(*webrtc.SettingEngine)) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, reg); err != nil {
		return nil, err
	}
	se := Settings(logs, network, true)
	if tweak != nil {
		tweak(se)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(*se)), nil
}

// Settings are NewAPI's settings, for an API with other codecs or interceptors: one
// network type and no mDNS, and if loopback, loopback candidates only; otherwise the
// candidates of every interface, for a server on another machine.
func Settings(logs logging.LoggerFactory, network webrtc.NetworkType, loopback bool) *webrtc.SettingEngine {
	se := &webrtc.SettingEngine{LoggerFactory: logs}
	if loopback {
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{network})
	return se
}

// Offer creates and sets a local offer and waits for all its candidates: WHIP and WHEP
// take one offer, with no trickle.
func Offer(pc *webrtc.PeerConnection, timeout time.Duration) (string, error) {
	return OfferContext(context.Background(), pc, timeout)
}

// OfferContext is Offer that also gives up when ctx ends.
func OfferContext(ctx context.Context, pc *webrtc.PeerConnection, timeout time.Duration) (string, error) {
	o, err := pc.CreateOffer(nil)
	if err != nil {
		return "", err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		return "", err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", ctx.Err()
	case <-time.After(timeout):
		return "", fmt.Errorf("ICE gathering did not complete within %s", timeout)
	}
	return pc.LocalDescription().SDP, nil
}

// PreferH264 puts H.264 (packetization mode 1, constrained baseline) first in the offer,
// as the lecture and studio pages do: pion would offer VP8 first.
func PreferH264(tc *webrtc.RTPTransceiver) error {
	return tc.SetCodecPreferences([]webrtc.RTPCodecParameters{{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
		},
		PayloadType: 125,
	}})
}
