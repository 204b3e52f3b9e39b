package captions

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// WriteTo writes the file as normalised WebVTT: the header, then each cue with its
// identifier, a "hh:mm:ss.ttt --> hh:mm:ss.ttt" timing line, its settings and its text, a
// blank line between cues, "\n" line ends. Cue text goes through the same normalisation as
// in Parse, so a File built by hand cannot smuggle markup either; a cue that could not be
// written as valid WebVTT is an error, and nothing is written then.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	b.WriteString("WEBVTT\n")
	for i, c := range f.Cues {
		if err := checkCue(c); err != nil {
			return 0, fmt.Errorf("captions: cue %d: %w", i+1, err)
		}
		text := cleanText(c.Text)
		if text == "" {
			return 0, fmt.Errorf("captions: cue %d: %w", i+1, errors.New("no text"))
		}
		b.WriteString("\n")
		if c.ID != "" {
			b.WriteString(c.ID + "\n")
		}
		b.WriteString(formatTime(c.Start) + " " + arrow + " " + formatTime(c.End))
		if c.Settings != "" {
			b.WriteString(" " + c.Settings)
		}
		b.WriteString("\n" + text + "\n")
	}
	n, err := w.Write(b.Bytes())
	return int64(n), err
}

// checkCue refuses what would not read back as the same cue.
func checkCue(c Cue) error {
	switch {
	case c.Start < 0 || c.End <= c.Start || c.End.Hours() >= maxHours+1:
		return fmt.Errorf("times %v to %v out of order or range", c.Start, c.End)
	case c.Start%1e6 != 0 || c.End%1e6 != 0:
		return errors.New("times finer than a millisecond")
	case strings.Contains(c.ID, arrow) || c.ID != "" && strings.TrimSpace(c.ID) == "":
		return fmt.Errorf("identifier %q not allowed", c.ID)
	case checkChars([]string{c.ID}) != nil:
		return fmt.Errorf("identifier %q holds a control character", c.ID)
	}
	if s, reason := parseSettings(c.Settings); reason != "" || s != c.Settings {
		return fmt.Errorf("settings %q not valid", c.Settings)
	}
	return nil
}
