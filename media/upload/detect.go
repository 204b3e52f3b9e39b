package upload

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// fileType is one entry of a signature table.
type fileType struct {
	mediaType, ext string
	match          func(head []byte) bool
}

const textType = "text/plain"

// allowed is the allowlist, by content: nothing else is accepted (plain text is checked last,
// in Detect, only when no signature matched).
var allowed = []fileType{
	{"image/jpeg", ".jpg", prefix("\xFF\xD8\xFF")},
	{"image/png", ".png", prefix("\x89PNG\r\n\x1A\n")},
	{"image/tiff", ".tif", anyPrefix("II*\x00", "MM\x00*")},
	{"image/webp", ".webp", riff("WEBP")},
	{"application/pdf", ".pdf", prefix("%PDF-")},
	{"audio/mpeg", ".mp3", anyPrefix("ID3", "\xFF\xFB", "\xFF\xF3", "\xFF\xF2", "\xFF\xFA")},
	{"audio/wav", ".wav", riff("WAVE")},
	{"audio/flac", ".flac", prefix("fLaC")},
	{"audio/mp4", ".m4a", ftyp("M4A ", "M4B ")},
	{"video/quicktime", ".mov", ftyp("qt  ")},
	{"video/mp4", ".mp4", ftyp("isom", "iso2", "iso3", "iso4", "iso5", "iso6", "mp41", "mp42",
		"avc1", "dash", "M4V ", "M4VH", "M4VP", "mmp4", "MSNV", "XAVC", "f4v ")},
	{"video/webm", ".webm", ebml("webm")},
	{"video/x-matroska", ".mkv", ebml("matroska")},
}

// refused names what some common refused contents are, for the TypeError message. Anything
// not allowed is refused whether or not it is listed here.
var refused = []fileType{
	{"application/zip", ".zip", anyPrefix("PK\x03\x04", "PK\x05\x06", "PK\x07\x08")},
	{"application/x-elf", "", prefix("\x7FELF")},
	{"application/x-msdownload", ".exe", prefix("MZ")},
	{"application/x-mach-binary", "", anyPrefix("\xFE\xED\xFA\xCE", "\xFE\xED\xFA\xCF", "\xCE\xFA\xED\xFE", "\xCF\xFA\xED\xFE")},
	{"application/java-vm", ".class", prefix("\xCA\xFE\xBA\xBE")},
	{"application/wasm", ".wasm", prefix("\x00asm")},
	{"application/gzip", ".gz", prefix("\x1F\x8B")},
	{"application/x-7z-compressed", ".7z", prefix("7z\xBC\xAF\x27\x1C")},
	{"application/vnd.rar", ".rar", prefix("Rar!\x1A\x07")},
	{"image/gif", ".gif", anyPrefix("GIF87a", "GIF89a")},
}

// Detect sniffs the first bytes of a file (512 or more give the best answer) against the
// allowlist. ok is false for anything not allowed; mediaType then names what was found as
// well as it can ("application/octet-stream" when unknown).
func Detect(head []byte) (mediaType, ext string, ok bool) {
	for _, t := range allowed {
		if t.match(head) {
			return t.mediaType, t.ext, true
		}
	}
	if markup := markupType(head); markup != "" {
		return markup, "", false
	}
	if isText(head) {
		return textType, ".txt", true
	}
	for _, t := range refused {
		if t.match(head) {
			return t.mediaType, t.ext, false
		}
	}
	switch {
	case bytes.HasPrefix(head, []byte("RIFF")):
		return "application/x-riff", "", false
	case len(head) >= 8 && string(head[4:8]) == "ftyp":
		return "application/x-iso-bmff; brand=" + printable(head[8:min(12, len(head))]), "", false
	case bytes.HasPrefix(head, []byte("\x1A\x45\xDF\xA3")):
		return "application/x-ebml", "", false
	}
	return "application/octet-stream", "", false
}

func prefix(sig string) func([]byte) bool {
	return func(h []byte) bool { return bytes.HasPrefix(h, []byte(sig)) }
}

func anyPrefix(sigs ...string) func([]byte) bool {
	return func(h []byte) bool {
		for _, s := range sigs {
			if bytes.HasPrefix(h, []byte(s)) {
				return true
			}
		}
		return false
	}
}

// riff matches "RIFF" <size> <form>.
func riff(form string) func([]byte) bool {
	return func(h []byte) bool {
		return len(h) >= 12 && string(h[:4]) == "RIFF" && string(h[8:12]) == form
	}
}

// ftyp matches an ISO base media file whose major brand, or failing that one of whose
// compatible brands, is one of brands. Files whose major brand belongs to another entry are
// left to that entry, so the table order decides only between compatible brands.
func ftyp(brands ...string) func([]byte) bool {
	want := func(b []byte) bool {
		for _, w := range brands {
			if string(b) == w {
				return true
			}
		}
		return false
	}
	return func(h []byte) bool {
		if len(h) < 12 || string(h[4:8]) != "ftyp" {
			return false
		}
		if want(h[8:12]) {
			return true
		}
		if knownBrand(h[8:12]) {
			return false
		}
		// Box size, bounded by what we have; compatible brands start at offset 16.
		size := int(h[0])<<24 | int(h[1])<<16 | int(h[2])<<8 | int(h[3])
		end := min(len(h), max(size, 0), 256)
		for off := 16; off+4 <= end; off += 4 {
			if want(h[off : off+4]) {
				return true
			}
		}
		return false
	}
}

var brandsKnown = []string{"M4A ", "M4B ", "qt  "}

func knownBrand(b []byte) bool {
	for _, k := range brandsKnown {
		if string(b) == k {
			return true
		}
	}
	return false
}

// ebml matches an EBML file whose DocType element (ID 0x4282) says docType.
func ebml(docType string) func([]byte) bool {
	return func(h []byte) bool {
		if !bytes.HasPrefix(h, []byte("\x1A\x45\xDF\xA3")) {
			return false
		}
		h = h[:min(len(h), 128)] // the DocType sits in the EBML header, right at the start
		i := bytes.Index(h[4:], []byte{0x42, 0x82})
		if i < 0 {
			return false
		}
		rest := h[4+i+2:]
		n, w := vint(rest)
		if w == 0 || n > 32 || w+n > len(rest) {
			return false
		}
		return string(bytes.TrimRight(rest[w:w+n], "\x00")) == docType
	}
}

// vint decodes an EBML variable-length size; w is 0 when it cannot.
func vint(b []byte) (n, w int) {
	if len(b) == 0 || b[0] == 0 {
		return 0, 0
	}
	w = 1
	for mask := byte(0x80); b[0]&mask == 0; mask >>= 1 {
		w++
	}
	if w > 8 || len(b) < w {
		return 0, 0
	}
	v := int(b[0] & (0xFF >> w))
	for _, c := range b[1:w] {
		v = v<<8 | int(c)
	}
	return v, w
}

// markupType recognises HTML, SVG and XML, which a browser may run scripts from.
func markupType(head []byte) string {
	t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF")), " \t\r\n\f")
	if len(t) == 0 || t[0] != '<' {
		return ""
	}
	lower := bytes.ToLower(t[:min(len(t), 1024)])
	switch {
	case bytes.Contains(lower, []byte("<svg")):
		return "image/svg+xml"
	case bytes.HasPrefix(lower, []byte("<?xml")):
		return "text/xml"
	default:
		return "text/html"
	}
}

// isText reports valid UTF-8 with no NUL and at most 1 % other control characters. A rune
// cut at the end of head is forgiven.
func isText(head []byte) bool {
	if len(head) == 0 {
		return false
	}
	for i := 0; i < utf8.UTFMax && len(head) > 0; i++ {
		r, _ := utf8.DecodeLastRune(head)
		if r != utf8.RuneError || utf8.Valid(head) {
			break
		}
		head = head[:len(head)-1]
	}
	if !utf8.Valid(head) {
		return false
	}
	controls := 0
	for _, c := range head {
		switch {
		case c == 0:
			return false
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f', c == 0x7F:
			controls++
		}
	}
	return controls*100 <= len(head)
}

func printable(b []byte) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c < 0x20 || c > 0x7E {
			c = '?'
		}
		out = append(out, c)
	}
	return string(out)
}

// TypeByExtension is the media type an allowed file of this extension (".JPG", ".tiff")
// has, "" for an extension of nothing allowed. It is a guess for names only (a dropped file
// the browser could not type); what a file is comes from Detect.
func TypeByExtension(ext string) string {
	ext = strings.ToLower(ext)
	switch ext {
	case ".jpeg":
		ext = ".jpg"
	case ".tiff":
		ext = ".tif"
	}
	for _, t := range allowed {
		if t.ext == ext {
			return t.mediaType
		}
	}
	if ext == ".txt" {
		return textType
	}
	return ""
}
