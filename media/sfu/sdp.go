package sfu

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// offerCodec is one a=rtpmap (with its a=fmtp) of a media section.
type offerCodec struct {
	pt       uint8
	name     string
	clock    uint32
	channels uint16
	fmtp     string
}

// offerMedia is what the SFU needs to know about one m= section of an offer.
type offerMedia struct {
	kind      webrtc.RTPCodecType
	direction string // sendrecv, sendonly, recvonly, inactive
	rejected  bool
	codecs    []offerCodec
	rids      []string // simulcast send layers, in offered order
}

func (m *offerMedia) sends() bool {
	return !m.rejected && (m.direction == "sendrecv" || m.direction == "sendonly")
}

func (m *offerMedia) receives() bool {
	return !m.rejected && (m.direction == "sendrecv" || m.direction == "recvonly")
}

// parseOffer parses an SDP offer. Syntax errors come back wrapped in ErrBadOffer.
func parseOffer(offer string) ([]offerMedia, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	if len(sd.MediaDescriptions) == 0 {
		return nil, fmt.Errorf("%w: no media sections", ErrBadOffer)
	}
	var out []offerMedia
	for _, md := range sd.MediaDescriptions {
		var kind webrtc.RTPCodecType
		switch md.MediaName.Media {
		case "audio":
			kind = webrtc.RTPCodecTypeAudio
		case "video":
			kind = webrtc.RTPCodecTypeVideo
		default:
			continue // data channels and the like: pion answers them, we ignore them
		}
		m := offerMedia{kind: kind, direction: "sendrecv"}
		_, bundleOnly := md.Attribute("bundle-only")
		m.rejected = md.MediaName.Port.Value == 0 && !bundleOnly
		fmtps := map[uint8]string{}
		var simulcast string
		var ridLines []string
		for _, a := range md.Attributes {
			switch a.Key {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				m.direction = a.Key
			case "rtpmap":
				c, ok := parseRtpmap(a.Value)
				if !ok {
					return nil, fmt.Errorf("%w: bad a=rtpmap:%s", ErrBadOffer, a.Value)
				}
				m.codecs = append(m.codecs, c)
			case "fmtp":
				pt, rest, ok := strings.Cut(a.Value, " ")
				if n, err := strconv.ParseUint(pt, 10, 7); ok && err == nil {
					fmtps[uint8(n)] = strings.TrimSpace(rest)
				}
			case "simulcast":
				simulcast = a.Value
			case "rid":
				ridLines = append(ridLines, a.Value)
			}
		}
		for i := range m.codecs {
			m.codecs[i].fmtp = fmtps[m.codecs[i].pt]
		}
		m.rids = sendRIDs(simulcast, ridLines)
		out = append(out, m)
	}
	return out, nil
}

// parseRtpmap parses "96 VP8/90000" or "111 opus/48000/2".
func parseRtpmap(v string) (offerCodec, bool) {
	pt, enc, ok := strings.Cut(v, " ")
	if !ok {
		return offerCodec{}, false
	}
	n, err := strconv.ParseUint(pt, 10, 7)
	if err != nil {
		return offerCodec{}, false
	}
	parts := strings.Split(strings.TrimSpace(enc), "/")
	if len(parts) < 2 {
		return offerCodec{}, false
	}
	clock, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil {
		return offerCodec{}, false
	}
	c := offerCodec{pt: uint8(n), name: parts[0], clock: uint32(clock)}
	if len(parts) > 2 {
		ch, err := strconv.ParseUint(parts[2], 10, 16)
		if err != nil {
			return offerCodec{}, false
		}
		c.channels = uint16(ch)
	}
	return c, true
}

// sendRIDs returns the RIDs the offerer will send, from a=simulcast:send (first alternative
// of each layer, paused "~" markers dropped) or, without it, the a=rid:<id> send lines.
func sendRIDs(simulcast string, ridLines []string) []string {
	var rids []string
	if simulcast != "" {
		fields := strings.Fields(simulcast)
		for i := 0; i+1 < len(fields); i += 2 {
			if fields[i] != "send" {
				continue
			}
			for _, layer := range strings.Split(fields[i+1], ";") {
				alt, _, _ := strings.Cut(layer, ",")
				if alt = strings.TrimPrefix(alt, "~"); alt != "" {
					rids = append(rids, alt)
				}
			}
		}
		return rids
	}
	for _, l := range ridLines {
		f := strings.Fields(l)
		if len(f) >= 2 && f[1] == "send" {
			rids = append(rids, f[0])
		}
	}
	return rids
}

// fmtpParam returns one parameter of an fmtp line ("a=1;b=2").
func fmtpParam(fmtp, key string) (string, bool) {
	for _, kv := range strings.Split(fmtp, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// h264Profile returns the profile_idc and constraint byte of an H.264 fmtp line, as four
// hex digits ("42e0"); RFC 6184 defaults a missing profile-level-id to Baseline "4200".
func h264Profile(fmtp string) string {
	plid, ok := fmtpParam(fmtp, "profile-level-id")
	if !ok || len(plid) < 4 {
		return "4200"
	}
	return strings.ToLower(plid[:4])
}

// h264Mode returns the packetization-mode of an H.264 fmtp line ("0" when absent).
func h264Mode(fmtp string) string {
	if v, ok := fmtpParam(fmtp, "packetization-mode"); ok {
		return v
	}
	return "0"
}

// codecMatches reports whether an offered codec is the same codec as a capability:
// same name and clock rate, and for H.264 the same packetization mode and, when strict,
// the same profile.
func codecMatches(c offerCodec, want webrtc.RTPCodecCapability, strictProfile bool) bool {
	_, name, _ := strings.Cut(want.MimeType, "/")
	if !strings.EqualFold(c.name, name) || c.clock != want.ClockRate {
		return false
	}
	if codecKindOf(want.MimeType) == codecH264 {
		if h264Mode(c.fmtp) != h264Mode(want.SDPFmtpLine) {
			return false
		}
		if strictProfile && h264Profile(c.fmtp) != h264Profile(want.SDPFmtpLine) {
			return false
		}
	}
	return true
}

// chooseCodec picks the first codec of a media section, in the offerer's order of
// preference, that the SFU supports, and returns both our capability and the offer's
// version of it. The offerer's order decides because a publisher may only be able to send
// one codec (OBS, ffmpeg, pion); a browser page that prefers H.264 says so with
// RTCRtpTransceiver.setCodecPreferences.
func chooseCodec(m *offerMedia) (webrtc.RTPCodecCapability, offerCodec, bool) {
	prefs := videoCodecs
	if m.kind == webrtc.RTPCodecTypeAudio {
		prefs = audioCodecs
	}
	for _, c := range m.codecs {
		for _, want := range prefs {
			if codecMatches(c, want, true) {
				return want, c, true
			}
		}
	}
	return webrtc.RTPCodecCapability{}, offerCodec{}, false
}

// offersCodec reports whether a viewer's media section can receive a publisher's codec.
func offersCodec(m *offerMedia, pub webrtc.RTPCodecCapability) bool {
	for _, c := range m.codecs {
		if codecMatches(c, pub, false) {
			return true
		}
	}
	return false
}

// errFragment marks a malformed trickle fragment; it is reported as ErrBadOffer.
var errFragment = errors.New("malformed SDP fragment")

// trickleCandidate is one a=candidate line of an RFC 9725 PATCH fragment.
type trickleCandidate struct {
	mid       string
	candidate string // without the "a=" prefix
}

// parseFragment reads an application/trickle-ice-sdpfrag body: a=ice-ufrag/ice-pwd,
// m= sections with a=mid, and a=candidate / a=end-of-candidates lines.
func parseFragment(frag string) (ufrag string, cands []trickleCandidate, err error) {
	mid := ""
	for _, line := range strings.Split(frag, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			ufrag = strings.TrimPrefix(line, "a=ice-ufrag:")
		case strings.HasPrefix(line, "a=mid:"):
			mid = strings.TrimPrefix(line, "a=mid:")
		case strings.HasPrefix(line, "a=candidate:"):
			cands = append(cands, trickleCandidate{mid: mid, candidate: strings.TrimPrefix(line, "a=")})
		case strings.HasPrefix(line, "m="), strings.HasPrefix(line, "a="):
			// a=ice-pwd, a=ice-options, a=end-of-candidates, m= lines: nothing to do
		default:
			return "", nil, fmt.Errorf("%w: %q", errFragment, line)
		}
	}
	return ufrag, cands, nil
}

// receiveOnly makes a viewer's sendrecv audio and video sections recvonly, so that the
// answer to them is sendonly (RFC 9725 and WHEP: the player receives, the server sends).
// Browsers offer sendrecv when a player adds its transceivers without a direction; answered
// as offered, the browser would think it may send media that nobody reads. Offers that are
// receive-only already come back unchanged.
func receiveOnly(offer string) (string, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	changed := false
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" && md.MediaName.Media != "video" {
			continue
		}
		direction := -1
		for i, a := range md.Attributes {
			switch a.Key {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				direction = i
			}
		}
		switch {
		case direction < 0 && sessionDirection(&sd) == "sendrecv":
			md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute("recvonly"))
			changed = true
		case direction >= 0 && md.Attributes[direction].Key == "sendrecv":
			md.Attributes[direction] = sdp.NewPropertyAttribute("recvonly")
			changed = true
		}
	}
	if !changed {
		return offer, nil
	}
	b, err := sd.Marshal()
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	return string(b), nil
}

// sessionDirection is the session-level direction attribute, sendrecv by default.
func sessionDirection(sd *sdp.SessionDescription) string {
	for _, a := range sd.Attributes {
		switch a.Key {
		case "sendonly", "recvonly", "inactive":
			return a.Key
		}
	}
	return "sendrecv"
}
