package record

import (
	"encoding/base64"
	"strings"
)

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
