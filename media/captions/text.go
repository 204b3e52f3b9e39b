package captions

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// allowedTags are the cue text tags that survive normalisation; v keeps its voice name, all
// keep their classes.
var allowedTags = map[string]bool{"b": true, "i": true, "u": true, "c": true, "v": true}

var classRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// entities are the named character references decoded in cue text; others stay as text.
var entities = map[string]string{
	"amp": "&", "lt": "<", "gt": ">", "quot": `"`, "apos": "'", "nbsp": "\u00a0", "lrm": "\u200e", "rlm": "\u200f",
}

// cleanText normalises cue text: allowed tags are rewritten in one canonical form and
// balanced, other tags and timestamp tags are dropped (their text stays), character
// references are decoded and "&", "<" and ">" escaped again, trailing blanks are cut and
// empty lines removed. Applying it twice gives what applying it once did.
func cleanText(src string) string {
	var b strings.Builder
	var open []string
	for i := 0; i < len(src); {
		switch src[i] {
		case '<':
			j := strings.IndexByte(src[i:], '>')
			if j < 0 {
				i = len(src) // an unterminated tag runs to the end, as in a player
				continue
			}
			open = writeTag(&b, src[i+1:i+j], open)
			i += j + 1
		case '&':
			text, n := charRef(src[i:])
			b.WriteString(escape(text))
			i += n
		default:
			r, n := utf8.DecodeRuneInString(src[i:])
			if r != utf8.RuneError || n > 1 {
				b.WriteString(escape(src[i : i+n]))
			}
			i += n
		}
	}
	for k := len(open) - 1; k >= 0; k-- {
		b.WriteString("</" + open[k] + ">")
	}
	var lines []string
	for line := range strings.SplitSeq(b.String(), "\n") {
		if line = strings.TrimRight(line, " \t"); line != "" {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}

// writeTag writes the canonical form of the tag whose inside (between < and >) is tag, if it
// is allowed, and returns the open elements after it.
func writeTag(b *strings.Builder, tag string, open []string) []string {
	if name, ok := strings.CutPrefix(tag, "/"); ok {
		name = strings.TrimSpace(name)
		if len(open) > 0 && open[len(open)-1] == name {
			b.WriteString("</" + name + ">")
			return open[:len(open)-1]
		}
		return open // an end tag that closes nothing open is dropped
	}
	head, annotation := tag, ""
	if k := strings.IndexAny(tag, " \t\n\f\r"); k >= 0 {
		head, annotation = tag[:k], tag[k+1:]
	}
	parts := strings.Split(head, ".")
	name := parts[0]
	if !allowedTags[name] {
		return open // other tags, timestamps included, are dropped
	}
	b.WriteString("<" + name)
	for _, class := range parts[1:] {
		if classRe.MatchString(class) {
			b.WriteString("." + class)
		}
	}
	if name == "v" {
		if voice := strings.Join(strings.Fields(decodeRefs(annotation)), " "); voice != "" {
			b.WriteString(" " + escape(voice))
		}
	}
	b.WriteString(">")
	return append(open, name)
}

// decodeRefs decodes the character references of s.
func decodeRefs(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '&' {
			b.WriteByte(s[i])
			i++
			continue
		}
		text, n := charRef(s[i:])
		b.WriteString(text)
		i += n
	}
	return b.String()
}

// charRef decodes the character reference at the start of s ("&amp;", "&#233;", "&#xE9;")
// and says how many bytes it took. Anything else is a literal "&". A reference to a control
// character gives nothing: it must not break the file's lines.
func charRef(s string) (string, int) {
	end := strings.IndexByte(s, ';')
	if end < 2 || end > 12 {
		return "&", 1
	}
	ref := s[1:end]
	if text, ok := entities[ref]; ok {
		return text, end + 1
	}
	num, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return "&", 1
	}
	base := 10
	if hex, ok := strings.CutPrefix(num, "x"); ok {
		num, base = hex, 16
	} else if hex, ok := strings.CutPrefix(num, "X"); ok {
		num, base = hex, 16
	}
	if num == "" || num[0] == '+' || num[0] == '-' {
		return "&", 1
	}
	v, err := strconv.ParseUint(num, base, 32)
	if err != nil {
		return "&", 1
	}
	r := rune(v)
	if !utf8.ValidRune(r) || isControl(r) || r == 0xFEFF {
		return "", end + 1
	}
	return string(r), end + 1
}

// escape escapes the characters that would otherwise start markup or a timing arrow.
func escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	for i := range len(s) {
		switch s[i] {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
