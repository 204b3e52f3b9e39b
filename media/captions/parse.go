package captions

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	arrow   = "-->"
	example = `"00:01.000 --> 00:04.000" or "00:00:01.000 --> 00:00:04.000"`
)

// Parse reads a WebVTT file of at most maxBytes bytes. A file that breaks the rules gives a
// *ParseError; a failing reader gives its own error, wrapped.
func Parse(r io.Reader, maxBytes int64) (*File, error) {
	maxBytes = max(maxBytes, 0)
	data, err := io.ReadAll(io.LimitReader(r, min(maxBytes, math.MaxInt64-1)+1))
	if err != nil {
		return nil, fmt.Errorf("captions: read: %w", err)
	}
	if int64(len(data)) > maxBytes {
		return nil, &ParseError{Reason: fmt.Sprintf("the file is larger than %d bytes", maxBytes), err: ErrTooLarge}
	}
	lines := splitLines(bytes.TrimPrefix(data, []byte("\uFEFF")))
	if err := checkChars(lines); err != nil {
		return nil, err
	}
	return parseLines(lines)
}

// splitLines splits at CRLF, LF and CR, as WebVTT does.
func splitLines(data []byte) []string {
	var lines []string
	for len(data) > 0 {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			lines = append(lines, string(data))
			break
		}
		lines = append(lines, string(data[:i]))
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return lines
}

// checkChars refuses text that is not UTF-8 or holds control characters other than tab.
func checkChars(lines []string) error {
	for i, line := range lines {
		if !utf8.ValidString(line) {
			return errorf(i+1, "the text is not valid UTF-8; save the file as UTF-8")
		}
		for _, r := range line {
			if isControl(r) {
				return errorf(i+1, "control character U+%04X is not allowed", r)
			}
		}
	}
	return nil
}

func isControl(r rune) bool {
	return r < 0x20 && r != '\t' || r >= 0x7f && r <= 0x9f
}

// parseLines reads the header and the blocks after it.
func parseLines(lines []string) (*File, error) {
	if len(lines) == 0 || !isSignature(lines[0]) {
		return nil, errorf(1, `the file must start with the line "WEBVTT"`)
	}
	i := 1
	for ; i < len(lines) && lines[i] != ""; i++ {
		if strings.Contains(lines[i], arrow) {
			return nil, errorf(i+1, "a blank line must separate the WEBVTT header from the first cue")
		}
	}
	f := &File{}
	for {
		for i < len(lines) && lines[i] == "" {
			i++
		}
		if i >= len(lines) {
			return f, nil
		}
		start := i
		for i < len(lines) && lines[i] != "" {
			i++
		}
		if err := f.block(lines[start:i], start+1); err != nil {
			return nil, err
		}
	}
}

// isSignature reports whether line is "WEBVTT", optionally followed by a space or tab and
// header text without "-->".
func isSignature(line string) bool {
	rest, ok := strings.CutPrefix(line, "WEBVTT")
	if !ok {
		return false
	}
	return rest == "" || (rest[0] == ' ' || rest[0] == '\t') && !strings.Contains(rest, arrow)
}

// block reads one block: a cue, or a comment, style or region block, which are dropped.
// first is the line number of block[0].
func (f *File) block(block []string, first int) error {
	switch {
	case strings.Contains(block[0], arrow):
		return f.cue("", block, first)
	case len(block) > 1 && strings.Contains(block[1], arrow):
		return f.cue(block[0], block[1:], first+1)
	case block[0] == "NOTE" || strings.HasPrefix(block[0], "NOTE ") || strings.HasPrefix(block[0], "NOTE\t"):
		return noArrow(block, first, "a NOTE comment")
	case isKeyword(block[0], "STYLE") || isKeyword(block[0], "REGION"):
		if len(f.Cues) > 0 {
			return errorf(first, "%s blocks must come before the first cue", strings.TrimSpace(block[0]))
		}
		return noArrow(block, first, "a "+strings.TrimSpace(block[0])+" block")
	case len(block) == 1:
		return errorf(first, "expected a cue timing line such as %s", example)
	}
	return errorf(first+1, "expected a cue timing line such as %s after the cue identifier %q", example, block[0])
}

func isKeyword(line, word string) bool { return strings.TrimRight(line, " \t") == word }

func noArrow(block []string, first int, what string) error {
	for i, line := range block {
		if strings.Contains(line, arrow) {
			return errorf(first+i, `%s may not contain "-->"; is a blank line missing before a cue?`, what)
		}
	}
	return nil
}

// cue reads a timing line, block[0] at line number at, and the cue text after it.
func (f *File) cue(id string, block []string, at int) error {
	c, reason := parseTiming(block[0])
	if reason != "" {
		return errorf(at, "%s", reason)
	}
	if len(f.Cues) > 0 && c.Start < f.Cues[len(f.Cues)-1].Start {
		return errorf(at, "the cue starts at %s, before the cue above it (%s); cues must be in time order",
			formatTime(c.Start), formatTime(f.Cues[len(f.Cues)-1].Start))
	}
	text := block[1:]
	if len(text) == 0 {
		return errorf(at, "the cue has no text: put at least one line of text under the timing line")
	}
	for i, line := range text {
		if strings.Contains(line, arrow) {
			return errorf(at+1+i, `cue text may not contain "-->"; is a blank line missing between two cues?`)
		}
	}
	if strings.TrimSpace(id) != "" {
		c.ID = id
	}
	c.Text = cleanText(strings.Join(text, "\n"))
	if c.Text == "" {
		return errorf(at+1, "the cue has no text once markup other than <b>, <i>, <u>, <c> and <v> is removed")
	}
	f.Cues = append(f.Cues, c)
	return nil
}

// parseTiming reads "start --> end [settings]"; a non-empty reason says what is wrong.
func parseTiming(line string) (Cue, string) {
	start, rest, reason := parseTimestamp(strings.TrimLeft(line, " \t"))
	if reason != "" {
		return Cue{}, "the start time " + reason + "; write the timing line as " + example
	}
	rest, ok := strings.CutPrefix(strings.TrimLeft(rest, " \t"), arrow)
	if !ok {
		return Cue{}, `expected "-->" after the start time; write the timing line as ` + example
	}
	end, rest, reason := parseTimestamp(strings.TrimLeft(rest, " \t"))
	if reason != "" {
		return Cue{}, "the end time " + reason + "; write the timing line as " + example
	}
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return Cue{}, "expected a space after the end time"
	}
	settings, reason := parseSettings(rest)
	if reason != "" {
		return Cue{}, reason
	}
	switch {
	case end < start:
		return Cue{}, fmt.Sprintf("the cue ends (%s) before it starts (%s)", formatTime(end), formatTime(start))
	case end == start:
		return Cue{}, fmt.Sprintf("the cue ends when it starts (%s); it must last a while", formatTime(start))
	}
	return Cue{Start: start, End: end, Settings: settings}, ""
}

// maxHours bounds timestamps far beyond any recording, and far below time.Duration's range.
const maxHours = 99999

// parseTimestamp reads "hh:mm:ss.ttt" (one to five digits of hours) or "mm:ss.ttt" at the
// start of s and returns the rest of s.
func parseTimestamp(s string) (time.Duration, string, string) {
	const malformed = `is not a time like "00:01.000" or "00:00:01.000"`
	d1, s := digits(s)
	s, ok := strings.CutPrefix(s, ":")
	if d1 == "" || !ok {
		return 0, "", malformed
	}
	d2, s := digits(s)
	if len(d2) != 2 {
		return 0, "", malformed
	}
	h, m, sec := "0", d1, d2
	if rest, ok := strings.CutPrefix(s, ":"); ok {
		var d3 string
		d3, s = digits(rest)
		if len(d3) != 2 {
			return 0, "", malformed
		}
		h, m, sec = d1, d2, d3
	} else if len(d1) != 2 {
		return 0, "", malformed
	}
	s, ok = strings.CutPrefix(s, ".")
	ms, s := digits(s)
	if !ok || len(ms) != 3 {
		return 0, "", `needs exactly three digits of milliseconds after a "." (not a ",")`
	}
	if len(h) > 5 {
		return 0, "", fmt.Sprintf("has more than %d hours", maxHours)
	}
	hh, mm, ss, mss := atoi(h), atoi(m), atoi(sec), atoi(ms)
	if mm > 59 || ss > 59 {
		return 0, "", "has minutes or seconds above 59"
	}
	d := time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute + time.Duration(ss)*time.Second +
		time.Duration(mss)*time.Millisecond
	return d, s, ""
}

// digits splits s after its leading ASCII digits.
func digits(s string) (string, string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i], s[i:]
}

// atoi converts a short string of ASCII digits.
func atoi(s string) int {
	n := 0
	for i := range len(s) {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// formatTime writes d as hh:mm:ss.ttt.
func formatTime(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3_600_000, ms/60_000%60, ms/1000%60, ms%1000)
}
