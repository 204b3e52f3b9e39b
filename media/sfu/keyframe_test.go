package sfu

import (
	"bytes"
	"slices"
	"testing"

	"github.com/pion/rtp/codecs"

	"github.com/shizuishan/culturecloud/media/sfu/sfutest"
)

// H.264 NAL unit types the fuzz test judges by (RFC 6184).
const (
	nalIDR  = 5
	nalSPS  = 7
	nalSTAP = 24
	nalFUA  = 28
)

var keyframeCases = []struct {
	name  string
	kind  codecKind
	p     []byte
	start bool
}{
	{"h264 IDR", codecH264, []byte{0x65, 0x88, 0x84}, true},
	{"h264 SPS", codecH264, []byte{0x67, 0x42, 0xe0, 0x1f}, true},
	{"h264 PPS", codecH264, []byte{0x68, 0xce, 0x3c, 0x80}, false},
	{"h264 P slice", codecH264, []byte{0x41, 0x9a, 0x00}, false},
	{"h264 STAP-A SPS PPS", codecH264, []byte{0x78, 0, 4, 0x67, 0x42, 0xe0, 0x1f, 0, 4, 0x68, 0xce, 0x3c, 0x80}, true},
	{"h264 STAP-A PPS IDR", codecH264, []byte{0x78, 0, 2, 0x68, 0xce, 0, 2, 0x65, 0x88}, true},
	{"h264 STAP-A SEI only", codecH264, []byte{0x78, 0, 2, 0x06, 0x05}, false},
	{"h264 STAP-A truncated", codecH264, []byte{0x78, 0, 9, 0x67, 0x42}, false},
	{"h264 STAP-A zero size", codecH264, []byte{0x78, 0, 0, 0x67}, false},
	{"h264 FU-A IDR start", codecH264, []byte{0x7c, 0x85, 0x88}, true},
	{"h264 FU-A IDR middle", codecH264, []byte{0x7c, 0x05, 0x88}, false},
	{"h264 FU-A IDR end", codecH264, []byte{0x7c, 0x45, 0x88}, false},
	{"h264 FU-A P start", codecH264, []byte{0x5c, 0x81, 0x9a}, false},
	{"h264 FU-A short", codecH264, []byte{0x7c}, false},
	{"h264 empty", codecH264, nil, false},
	{"vp8 key", codecVP8, []byte{0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02}, true},
	{"vp8 key, 15-bit picture id, TL0PICIDX, TID", codecVP8, []byte{0x90, 0xe0, 0x81, 0x23, 0x05, 0x40, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a}, true},
	{"vp8 key, 7-bit picture id", codecVP8, []byte{0x90, 0x80, 0x12, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a}, true},
	{"vp8 inter frame", codecVP8, []byte{0x10, 0x01, 0x00, 0x00, 0x9d, 0x01, 0x2a}, false},
	{"vp8 continuation", codecVP8, []byte{0x00, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a}, false},
	{"vp8 partition 1", codecVP8, []byte{0x11, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a}, false},
	{"vp8 key without start code", codecVP8, []byte{0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, false},
	{"vp8 truncated extension", codecVP8, []byte{0x90, 0x80}, false},
	{"vp8 empty", codecVP8, nil, false},
	{"opus", codecOpus, []byte{0x78, 0x01}, false},
}

func TestIsKeyframeStart(t *testing.T) {
	for _, c := range keyframeCases {
		if got := isKeyframeStart(c.kind, c.p); got != c.start {
			t.Errorf("%s: %v, want %v", c.name, got, c.start)
		}
	}
}

// FuzzIsKeyframe checks that the parsers never panic and agree with pion's depacketizers:
// a VP8 packet called a keyframe start parses with S=1, PID=0 and the key frame flag;
// an H.264 single NAL unit or STAP-A called one contains an SPS or IDR per pion, and the
// other way round for single NAL units.
func FuzzIsKeyframe(f *testing.F) {
	for _, c := range keyframeCases {
		f.Add(uint8(c.kind), c.p)
	}
	f.Fuzz(func(t *testing.T, kind uint8, p []byte) {
		got := isKeyframeStart(codecKind(kind%4), p)
		switch codecKind(kind % 4) {
		case codecVP8:
			if !got {
				return
			}
			var vp8 codecs.VP8Packet
			payload, err := vp8.Unmarshal(p)
			if err != nil || vp8.S != 1 || vp8.PID != 0 || len(payload) == 0 || payload[0]&1 != 0 {
				t.Fatalf("keyframe start per us, not per pion (err %v, S %d, PID %d)", err, vp8.S, vp8.PID)
			}
		case codecH264:
			if len(p) == 0 {
				return
			}
			typ := p[0] & 0x1f
			if typ == nalFUA || typ == 0 || typ > nalSTAP {
				return // pion buffers fragments; other types are not ours to judge
			}
			var d codecs.H264Packet
			out, err := d.Unmarshal(slices.Clone(p))
			if err != nil {
				return
			}
			hasKey := sfutest.HasNALType(out, nalSPS) || sfutest.HasNALType(out, nalIDR)
			if got && !hasKey {
				t.Fatalf("keyframe start per us, pion found no SPS/IDR in %x", out)
			}
			if typ != nalSTAP && !got && len(out) > 4 && bytes.HasPrefix(out, []byte{0, 0, 0, 1}) {
				if first := out[4] & 0x1f; first == nalSPS || first == nalIDR {
					t.Fatalf("pion sees NAL type %d, a keyframe start we missed", first)
				}
			}
		}
	})
}
