package derive

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ToolError is a failed run of ffmpeg, ffprobe or pdftoppm. Its message carries the last lines
// the tool wrote to stderr, which usually say what is wrong with the file.
type ToolError struct {
	Tool   string
	Stderr string // the last few lines, with the input's temporary path replaced by "input"
	Err    error  // the exit status, or the context's error when the run was cut short
}

func (e *ToolError) Error() string {
	if e.Stderr == "" {
		return fmt.Sprintf("%s: %v", e.Tool, e.Err)
	}
	return fmt.Sprintf("%s: %v: %s", e.Tool, e.Err, e.Stderr)
}

func (e *ToolError) Unwrap() error { return e.Err }

const (
	stderrKeep  = 16 << 10 // bytes of stderr kept from a run
	stderrLines = 5        // lines of it shown in errors
	// waitDelay bounds the wait for the pipes after a tool is killed.
	waitDelay = 5 * time.Second
)

// ffmpegArgs start every ffmpeg run: no prompts, errors only, overwrite.
var ffmpegArgs = []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y"}

// run runs a tool until it ends or ctx does; src is the input path, hidden from messages.
func run(ctx context.Context, src, tool string, args ...string) error {
	cmd := exec.CommandContext(ctx, tool, args...)
	var stderr tail
	cmd.Stderr = &stderr
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		err = ctx.Err() // "signal: killed" says less than "context deadline exceeded"
	}
	return &ToolError{Tool: tool, Err: err, Stderr: cleanStderr(stderr.String(), src)}
}

// addrRe matches the "@ 0x55d1c2a3b4c0" that ffmpeg puts in its log prefixes.
var addrRe = regexp.MustCompile(` @ 0x[0-9a-f]+\]`)

func cleanStderr(s, src string) string {
	if src != "" {
		s = strings.ReplaceAll(s, fileURL(src), "input")
		s = strings.ReplaceAll(s, src, "input")
	}
	s = addrRe.ReplaceAllString(s, "]")
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines[max(0, len(lines)-stderrLines):], "; ")
}

// tail keeps the last stderrKeep bytes written to it, so a chatty tool cannot fill memory.
type tail struct{ buf []byte }

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - stderrKeep; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string { return string(t.buf) }

// fileURL names a local file for ffmpeg so that no part of the name is read as a protocol.
func fileURL(path string) string { return "file:" + path }

// inputArgs open src with a forced demuxer (so that a file cannot pass itself off as a
// playlist that makes ffmpeg read other files) and only the file protocol.
func inputArgs(demuxer, src string) []string {
	return []string{"-f", demuxer, "-protocol_whitelist", "file", "-i", fileURL(src)}
}

// probe is what ffprobe says of an input.
type probe struct {
	Duration time.Duration // 0 when unknown
	Video    bool          // a real video stream, not cover art
	Audio    bool
}

func probeFile(ctx context.Context, demuxer, src string) (probe, error) {
	args := []string{"-v", "error", "-of", "json",
		"-show_entries", "format=duration:stream=codec_type:stream_disposition=attached_pic",
		"-f", demuxer, "-protocol_whitelist", "file", fileURL(src)}
	cmd := exec.CommandContext(ctx, "ffprobe", args...)
	var stderr tail
	cmd.Stderr = &stderr
	cmd.WaitDelay = waitDelay
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return probe{}, &ToolError{Tool: "ffprobe", Err: err, Stderr: cleanStderr(stderr.String(), src)}
	}
	var r struct {
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
		Streams []struct {
			CodecType   string `json:"codec_type"`
			Disposition struct {
				AttachedPic int `json:"attached_pic"`
			} `json:"disposition"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return probe{}, fmt.Errorf("ffprobe: unreadable answer: %w", err)
	}
	var p probe
	if secs, err := strconv.ParseFloat(r.Format.Duration, 64); err == nil && secs > 0 {
		p.Duration = time.Duration(secs * float64(time.Second))
	}
	for _, s := range r.Streams {
		switch {
		case s.CodecType == "video" && s.Disposition.AttachedPic == 0:
			p.Video = true
		case s.CodecType == "audio":
			p.Audio = true
		}
	}
	return p, nil
}
