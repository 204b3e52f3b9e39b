package record

import (
	"encoding/base64"
	"encoding/binary"
	"strings"
)

// H.264 NAL unit types the recorder looks at (RFC 6184).
const (
	nalIDR   = 5
	nalSPS   = 7
	nalPPS   = 8
	nalSTAPA = 24
	nalFUA   = 28
)

// h264Scan is what one H.264 RTP payload holds that matters to the start of a recording.
type h264Scan struct {
	sps, pps []byte // a complete parameter set carried whole in the packet (copied)
	hasSPS   bool   // the packet starts or carries a sequence parameter set
	idrStart bool   // the packet starts an IDR slice
}

// scanH264 looks into a single-NAL, STAP-A or FU-A payload.
func scanH264(p []byte) h264Scan {
	var s h264Scan
	if len(p) < 1 {
		return s
	}
	unit := func(u []byte) {
		if len(u) == 0 {
			return
		}
		switch u[0] & 0x1F {
		case nalSPS:
			s.hasSPS = true
			s.sps = append([]byte(nil), u...)
		case nalPPS:
			s.pps = append([]byte(nil), u...)
		case nalIDR:
			s.idrStart = true
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
				s.idrStart = true
			case nalSPS:
				s.hasSPS = true
			}
		}
	}
	return s
}

// hasSprop says whether an H.264 fmtp line already carries the parameter sets.
func hasSprop(fmtp string) bool {
	return strings.Contains(strings.ToLower(fmtp), "sprop-parameter-sets=")
}

// withSprop adds sprop-parameter-sets made of sps and pps to an fmtp line that lacks them.
func withSprop(fmtp string, sps, pps []byte) string {
	if hasSprop(fmtp) || len(sps) == 0 || len(pps) == 0 {
		return fmtp
	}
	sp := "sprop-parameter-sets=" + base64.StdEncoding.EncodeToString(sps) + "," +
		base64.StdEncoding.EncodeToString(pps)
	if strings.TrimSpace(fmtp) == "" {
		return sp
	}
	return strings.TrimRight(fmtp, "; ") + ";" + sp
}

// vp8Keyframe says whether a VP8 RTP payload (RFC 7741) starts a keyframe.
func vp8Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	x, start, pid := p[0]&0x80 != 0, p[0]&0x10 != 0, p[0]&0x07
	i := 1
	if x {
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
		if ext&0x30 != 0 { // T or K: TID/Y/KEYIDX
			i++
		}
	}
	if !start || pid != 0 || len(p) <= i {
		return false
	}
	return p[i]&0x01 == 0 // P bit of the VP8 payload header: 0 is a keyframe
}
