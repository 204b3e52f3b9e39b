// Package captions reads and writes WebVTT caption files for the player.
//
// Parse is strict: a file it accepts has a WEBVTT header, well-formed cue timings, cues that
// end after they start and appear in order, and non-empty cue text, all in UTF-8 without
// control characters. A broken file gives a *ParseError naming the line, so that whoever made
// it can fix it. Cue text is normalised while parsing: only the <b>, <i>, <u>, <c> and <v>
// tags survive, everything else (other tags, timestamps, comments, style and region blocks,
// header text) is dropped, so the file that WriteTo writes is safe to hand to any player, and
// parses back to the same cues.
package captions

import (
	"errors"
	"fmt"
	"time"
)

// Cue is one caption: its text is shown from Start until End.
type Cue struct {
	ID       string        // optional identifier, as in the file
	Start    time.Duration // from the beginning of the media
	End      time.Duration // after Start
	Settings string        // normalised cue settings, e.g. "align:start line:90%"; may be empty
	Text     string        // normalised cue text: lines joined by "\n", only b, i, u, c and v tags
}

// File is a parsed WebVTT file.
type File struct {
	Cues []Cue
}

// ErrTooLarge is wrapped by the *ParseError of a file larger than Parse allows.
var ErrTooLarge = errors.New("captions file too large")

// ParseError says what is wrong with a WebVTT file and where.
type ParseError struct {
	Line   int    // 1-based; 0 when the problem is the file as a whole
	Reason string // in English, for the person fixing the file
	err    error
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return "webvtt: " + e.Reason
	}
	return fmt.Sprintf("webvtt: line %d: %s", e.Line, e.Reason)
}

// Unwrap returns ErrTooLarge for a file over the size bound, nil otherwise.
func (e *ParseError) Unwrap() error { return e.err }

func errorf(line int, format string, args ...any) *ParseError {
	return &ParseError{Line: line, Reason: fmt.Sprintf(format, args...)}
}
