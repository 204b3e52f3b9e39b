// Package keyframe finds the RTP packets where a video decoder can start: H.264 (RFC 6184,
// packetization mode 0 or 1) and VP8 (RFC 7741). The SFU starts viewers and switches
// simulcast layers there; the recorder starts a recording there.
package keyframe

import "encoding/binary"

// H.264 NAL unit types (RFC 6184).
const (
	nalIDR   = 5
	nalSPS   = 7
	nalPPS   = 8
	nalSTAPA = 24
	nalFUA   = 28
)

// H264Scan is what one H.264 RTP payload holds that matters to a decoder's start.
type H264Scan struct {
	SPS, PPS []byte // a parameter set carried whole in the packet (a copy, the caller's to keep)
	HasSPS   bool   // the packet starts or carries a sequence parameter set
	IDRStart bool   // the packet starts an IDR slice
}

// ScanH264 looks into a single-NAL, STAP-A or FU-A payload. Parameter sets arrive about
// once per keyframe, so copying them costs nothing on the forwarding path.
func ScanH264(p []byte) H264Scan {
	var s H264Scan
	if len(p) < 1 {
		return s
	}
	unit := func(u []byte) {
		if len(u) == 0 {
			return
		}
		switch u[0] & 0x1F {
		case nalSPS:
			s.HasSPS = true
			s.SPS = append([]byte(nil), u...)
		case nalPPS:
			s.PPS = append([]byte(nil), u...)
		case nalIDR:
			s.IDRStart = true
		}
	}
	switch t := p[0] & 0x1F; {
	case t >= 1 && t <= 23:
		unit(p)
	case t == nalSTAPA:
		for i := 1; i+2 <= len(p); {
			n := int(binary.BigEndian.Uint16(p[i:]))
			i += 2
			if n == 0 || i+n > len(p) {
				break
			}
			unit(p[i : i+n])
			i += n
		}
	case t == nalFUA:
		if len(p) >= 2 && p[1]&0x80 != 0 { // start of a fragmented unit
			switch p[1] & 0x1F {
			case nalIDR:
				s.IDRStart = true
			case nalSPS:
				s.HasSPS = true
			}
		}
	}
	return s
}

// H264 reports whether the payload starts an IDR access unit: an SPS or an IDR slice,
// alone, in a STAP-A, or as the first fragment of an FU-A. Encoders send the SPS (and
// PPS) in front of every IDR picture, so that packet is the natural place to start; an
// IDR without one still counts, for decoders that saw an SPS before.
func H264(p []byte) bool {
	s := ScanH264(p)
	return s.HasSPS || s.IDRStart
}

// VP8 reports whether a VP8 payload is the first packet of a key frame: the payload
// descriptor has S=1 and PID=0, and the frame header that follows has the inverse key
// frame flag P=0 and the key frame start code 9d 01 2a.
func VP8(p []byte) bool {
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
