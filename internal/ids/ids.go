// Package ids makes the public identifiers of records: a short prefix naming the kind, then
// ten characters from an alphabet without look-alikes (no 0/o, 1/l), readable over the phone.
package ids

import (
	"crypto/rand"
	"strings"
)

const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"

// New returns prefix + "-" + ten random characters, e.g. "szm-k3x9qv2hpa".
func New(prefix string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b) // crypto/rand does not fail on Linux
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + "-" + string(b)
}

// Valid reports whether id was made by New with this prefix.
func Valid(id, prefix string) bool {
	rest, ok := strings.CutPrefix(id, prefix+"-")
	return ok && len(rest) == 10 && strings.Trim(rest, alphabet) == ""
}
