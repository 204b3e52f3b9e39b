package sfu

import (
	"strings"

	"github.com/shizuishan/culturecloud/media/keyframe"
)

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
		return keyframe.H264(payload)
	case codecVP8:
		return keyframe.VP8(payload)
	}
	return false
}
