package sfu

import "strings"

// codecKind is the codec of a forwarded track, as far as the forwarder cares.
type codecKind uint8

const (
	codecOther codecKind = iota
	codecH264
	codecVP8
	codecOpus
)

func codecKindOf(mimeType string) codecKind {
	switch {
	case strings.EqualFold(mimeType, "video/H264"):
		return codecH264
	case strings.EqualFold(mimeType, "video/VP8"):
		return codecVP8
	case strings.EqualFold(mimeType, "audio/opus"):
		return codecOpus
	}
	return codecOther
}

// isKeyframeStart reports whether an RTP payload of the given codec begins a keyframe, so
// that a decoder can start (or switch layers) at this packet.
func isKeyframeStart(kind codecKind, payload []byte) bool {
	switch kind {
	case codecH264:
		return isH264KeyframeStart(payload)
	case codecVP8:
		return isVP8KeyframeStart(payload)
	}
	return false
}

// H.264 NAL unit types (RFC 6184).
const (
	nalIDR  = 5
	nalSPS  = 7
	nalSTAP = 24 // STAP-A
	nalFUA  = 28 // FU-A
)

// isH264KeyframeStart reports whether an H.264 RTP payload (RFC 6184, packetization mode
// 0 or 1) starts an IDR access unit: a single NAL unit that is an SPS or an IDR slice, a
// STAP-A aggregating one of those, or the first fragment of an FU-A carrying one. Encoders
// send SPS (and PPS) in front of every IDR picture, so the SPS packet is the natural place
// to start; an IDR without a preceding SPS still counts, as decoders that saw an SPS
// before (on another layer switch, say) can use it.
func isH264KeyframeStart(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	switch typ := p[0] & 0x1f; typ {
	case nalIDR, nalSPS:
		return true
	case nalSTAP:
		for i := 1; i+2 < len(p); {
			size := int(p[i])<<8 | int(p[i+1])
			i += 2
			if size == 0 || i+size > len(p) {
				return false
			}
			if t := p[i] & 0x1f; t == nalIDR || t == nalSPS {
				return true
			}
			i += size
		}
		return false
	case nalFUA:
		if len(p) < 2 {
			return false
		}
		start := p[1]&0x80 != 0
		t := p[1] & 0x1f
		return start && (t == nalIDR || t == nalSPS)
	}
	return false
}

// isVP8KeyframeStart reports whether a VP8 RTP payload (RFC 7741) is the first packet of a
// key frame: the payload descriptor has S=1 and PID=0, and the VP8 frame header that
// follows has the inverse key frame flag P=0 and the key frame start code 9d 01 2a.
func isVP8KeyframeStart(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	desc := p[0]
	if desc&0x10 == 0 || desc&0x07 != 0 { // S bit, partition index
		return false
	}
	i := 1
	if desc&0x80 != 0 { // X: extension byte follows
		if len(p) < 2 {
			return false
		}
		ext := p[1]
		i = 2
		if ext&0x80 != 0 { // I: picture ID, 7 or 15 bits
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 {
				i += 2
			} else {
				i++
			}
		}
		if ext&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if ext&0x30 != 0 { // T or K: TID/Y/KEYIDX byte
			i++
		}
	}
	if len(p) < i+6 {
		return false
	}
	return p[i]&0x01 == 0 && p[i+3] == 0x9d && p[i+4] == 0x01 && p[i+5] == 0x2a
}
