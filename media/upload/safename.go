package upload

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

const (
	maxDisplayRunes = 200
	maxSafeBytes    = 100
	maxExtBytes     = 10 // including the dot
	fallbackName    = "file"
)

// SafeName cleans a file name given by a client.
//
// display is for people: NFC-normalised, without control and invisible formatting characters
// (bidi overrides such as U+202E, zero-width characters, NUL), path separators (/ and \)
// replaced by "_", trimmed, at most 200 characters. It may be empty.
//
// safe is for storage keys: only [A-Za-z0-9._-], starting with a letter or digit (so never
// "." or ".."), at most 100 bytes, never empty ("file" when nothing is left). A safe
// extension is kept, lowercased. Non-ASCII letters become a short hash of the display name,
// so that different Chinese names give different storage names.
func SafeName(name string) (safe, display string) {
	display = cleanDisplay(name)
	return safeFrom(display), display
}

func cleanDisplay(name string) string {
	name = strings.ToValidUTF8(name, "")
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == '/' || r == '\\':
			b.WriteByte('_')
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Co, r),
			r == utf8.RuneError, r == '\u2028', r == '\u2029':
			// dropped: controls, bidi overrides, zero-width and other invisible characters
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	// Normalise after filtering: a dropped character between combining marks changes the result.
	display := strings.Join(strings.Fields(norm.NFC.String(b.String())), " ")
	if utf8.RuneCountInString(display) > maxDisplayRunes {
		// Cut the stem, keep a short extension.
		stem, ext := display, ""
		if i := strings.LastIndexByte(display, '.'); i > 0 && utf8.RuneCountInString(display[i:]) <= maxExtBytes {
			stem, ext = display[:i], display[i:]
		}
		keep := maxDisplayRunes - utf8.RuneCountInString(ext)
		display = strings.TrimSpace(string([]rune(stem)[:keep])) + ext
	}
	return display
}

func safeFrom(display string) string {
	stem, ext := splitExt(display)
	var b strings.Builder
	nonASCII := false
	for _, r := range stem {
		switch {
		case r < utf8.RuneSelf && (isAlnum(byte(r)) || r == '-' || r == '.' || r == '_'):
			b.WriteRune(r)
		case r >= utf8.RuneSelf:
			nonASCII = true
			b.WriteByte('_')
		default:
			b.WriteByte('_')
		}
	}
	s := collapse(b.String())
	if nonASCII {
		sum := sha256.Sum256([]byte(display))
		h := hex.EncodeToString(sum[:5])
		if s == "" {
			s = "u" + h
		} else {
			s += "-" + h
		}
	}
	if s == "" {
		s = fallbackName
	}
	if room := maxSafeBytes - len(ext); len(s) > room {
		s = strings.TrimRight(s[:room], "._-")
	}
	if s == "" {
		s = fallbackName
	}
	return s + ext
}

// splitExt splits off an extension of ASCII letters and digits (lowercased), if the stem
// before it is not empty.
func splitExt(name string) (stem, ext string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || len(name)-i > maxExtBytes || i == len(name)-1 {
		return name, ""
	}
	for j := i + 1; j < len(name); j++ {
		if !isAlnum(name[j]) {
			return name, ""
		}
	}
	if strings.Trim(name[:i], ". _-") == "" {
		return name, ""
	}
	return name[:i], strings.ToLower(name[i:])
}

// collapse squeezes runs of separators to their first character and trims them from both ends.
func collapse(s string) string {
	var b strings.Builder
	var prev byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		sep := c == '.' || c == '_' || c == '-'
		if sep && (prev == '.' || prev == '_' || prev == '-') {
			continue
		}
		b.WriteByte(c)
		prev = c
	}
	return strings.Trim(b.String(), "._-")
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
