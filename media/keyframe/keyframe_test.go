package keyframe

import (
	"bytes"
	"testing"
)

func TestScanH264(t *testing.T) {
	sps := []byte{0x67, 0x42, 0xC0, 0x1F, 0xDA}
	pps := []byte{0x68, 0xCE, 0x3C, 0x80}
	stapA := []byte{0x78, 0, byte(len(sps))}
	stapA = append(stapA, sps...)
	stapA = append(stapA, 0, byte(len(pps)))
	stapA = append(stapA, pps...)

	cases := []struct {
		name              string
		payload           []byte
		hasSPS, idr, both bool
	}{
		{"single SPS", sps, true, false, false},
		{"single PPS", pps, false, false, false},
		{"single IDR", []byte{0x65, 0x88}, false, true, false},
		{"STAP-A SPS+PPS", stapA, true, false, true},
		{"FU-A IDR start", []byte{0x7C, 0x85, 0x88}, false, true, false},
		{"FU-A IDR middle", []byte{0x7C, 0x05, 0x88}, false, false, false},
		{"FU-A non-IDR start", []byte{0x7C, 0x81, 0x9A}, false, false, false},
		{"truncated STAP-A", []byte{0x78, 0, 9, 0x67}, false, false, false},
		{"empty", nil, false, false, false},
	}
	for _, c := range cases {
		s := ScanH264(c.payload)
		if s.HasSPS != c.hasSPS || s.IDRStart != c.idr || (s.SPS != nil && s.PPS != nil) != c.both {
			t.Errorf("%s: %+v", c.name, s)
		}
	}
	s := ScanH264(stapA)
	if !bytes.Equal(s.SPS, sps) || !bytes.Equal(s.PPS, pps) {
		t.Errorf("parameter sets %x %x", s.SPS, s.PPS)
	}
	stapA[3] = 0 // the copy is the caller's own
	if s.SPS[0] != 0x67 {
		t.Error("parameter set shares the packet")
	}
}

// TestVP8Keyframe: the recorder's cases, now with the frame header's start code that a
// key frame carries.
func TestVP8Keyframe(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
		key     bool
	}{
		{"key, no extension", []byte{0x10, 0x50, 0, 0, 0x9d, 0x01, 0x2a}, true},
		{"inter, no extension", []byte{0x10, 0x51, 0, 0, 0x9d, 0x01, 0x2a}, false},
		{"key, 15-bit picture ID", []byte{0x90, 0x80, 0x81, 0x23, 0x50, 0, 0, 0x9d, 0x01, 0x2a}, true},
		{"key, 7-bit picture ID, TL0, TID", []byte{0x90, 0xE0, 0x12, 0x01, 0x40, 0x50, 0, 0, 0x9d, 0x01, 0x2a}, true},
		{"not the start of a partition", []byte{0x00, 0x50, 0, 0, 0x9d, 0x01, 0x2a}, false},
		{"partition 1", []byte{0x11, 0x50, 0, 0, 0x9d, 0x01, 0x2a}, false},
		{"key without start code", []byte{0x10, 0x50, 0, 0, 0, 0, 0}, false},
		{"truncated", []byte{0x90, 0x80}, false},
	}
	for _, c := range cases {
		if got := VP8(c.payload); got != c.key {
			t.Errorf("%s: %v", c.name, got)
		}
	}
}
