package sfutest

// SplitAnnexB returns the NAL units of an Annex B buffer (4- or 3-byte start codes), as
// pion's depacketizer hands them to a viewer.
func SplitAnnexB(b []byte) [][]byte {
	var out [][]byte
	start := -1
	for i := 0; i+2 < len(b); {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				end := i
				if end > start && b[end-1] == 0 {
					end--
				}
				if end > start {
					out = append(out, b[start:end])
				}
			}
			i += 3
			start = i
			continue
		}
		i++
	}
	if start >= 0 && start < len(b) {
		out = append(out, b[start:])
	}
	return out
}

// HasNALType reports whether Annex B data holds a NAL unit of the given type, such as 5
// (IDR slice) or 7 (SPS): what a decoder needs before it can show a picture.
func HasNALType(annexB []byte, typ byte) bool {
	for _, nal := range SplitAnnexB(annexB) {
		if nal[0]&0x1f == typ {
			return true
		}
	}
	return false
}
