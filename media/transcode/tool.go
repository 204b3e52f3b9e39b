package transcode

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// InputError means the source cannot be transcoded as it is: it is not a media file, it is
// empty, it has no picture and no sound, it is cut off, or its container lies about its length.
// Reason is written for the person who uploaded the file; FFmpeg holds the last lines that
// ffprobe or ffmpeg wrote about it, if any.
type InputError struct {
	Reason string
	FFmpeg string
}

func (e *InputError) Error() string {
	if e.FFmpeg == "" {
		return "transcode: " + e.Reason
	}
	return "transcode: " + e.Reason + " (ffmpeg: " + e.FFmpeg + ")"
}

// ToolError is a failed run of ffmpeg or ffprobe on a source that passed validation: the
// machine's trouble (disk full, killed) as often as the file's. Stderr holds its last lines.
type ToolError struct {
	Tool   string
	Stderr string // the last few lines, with the source's path replaced by "input"
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

// formats are the demuxers a source may be read with (ffmpeg's -format_whitelist). Playlists
// (hls, concat) and image sequences are left out, so that a file cannot make ffmpeg read others.
const formats = "mov,matroska,webm,avi,flv,mpegts,mpeg,asf,mp3,wav,w64,flac,ogg,aac,aiff"

// inputArgs open src with the allowed demuxers and the file protocol only.
func inputArgs(src string) []string {
	return []string{"-format_whitelist", formats, "-protocol_whitelist", "file", "-i", fileURL(src)}
}

// fileURL names a local file for ffmpeg so that no part of the name is read as a protocol.
func fileURL(path string) string { return "file:" + path }

// ffmpegArgs start every ffmpeg run: no prompts, errors only, overwrite.
var ffmpegArgs = []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y"}

// run runs ffmpeg until it ends or ctx does. Lines it writes to stdout (the -progress
// report) go to onLine, from one goroutine at a time and never after run returns.
// It returns the cleaned tail of stderr as well, since ffmpeg reports a cut-off input
// there without failing.
func run(ctx context.Context, src string, args []string, onLine func(string)) (string, error) {
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	var stderr tail
	cmd.Stderr = &stderr
	cmd.WaitDelay = waitDelay
	var done chan struct{}
	if onLine != nil {
		out, err := cmd.StdoutPipe()
		if err != nil {
			return "", err
		}
		done = make(chan struct{})
		if err := cmd.Start(); err != nil {
			return "", &ToolError{Tool: "ffmpeg", Err: err}
		}
		go func() {
			defer close(done)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				onLine(sc.Text())
			}
			_, _ = io.Copy(io.Discard, out) // an over-long line: keep ffmpeg from blocking
		}()
		<-done // the pipe closes when ffmpeg exits (or WaitDelay after it is killed)
		err = cmd.Wait()
		return finish(ctx, "ffmpeg", src, &stderr, err)
	}
	return finish(ctx, "ffmpeg", src, &stderr, cmd.Run())
}

func finish(ctx context.Context, tool, src string, stderr *tail, err error) (string, error) {
	msg := cleanStderr(stderr.String(), src)
	if err == nil {
		return msg, nil
	}
	if ctx.Err() != nil {
		err = ctx.Err() // "signal: killed" says less than "context deadline exceeded"
	}
	return msg, &ToolError{Tool: tool, Err: err, Stderr: msg}
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

// progressParser turns ffmpeg's -progress report (key=value lines, a block ending in
// "progress=continue" or "progress=end") into Progress against the expected length.
type progressParser struct {
	total time.Duration
	out   time.Duration
	speed float64
	emit  func(Progress)
	cap   float64 // the most percent reported before the whole run is done
}

func (pp *progressParser) line(l string) {
	key, val, ok := strings.Cut(l, "=")
	if !ok {
		return
	}
	switch key {
	case "out_time_us":
		if us, err := strconv.ParseInt(val, 10, 64); err == nil && us >= 0 {
			pp.out = time.Duration(us) * time.Microsecond
		}
	case "speed":
		if s, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(val), "x"), 64); err == nil && s > 0 {
			pp.speed = s
		}
	case "progress":
		p := Progress{Speed: pp.speed, Percent: pp.cap}
		if val != "end" {
			p = pp.at()
		}
		if pp.emit != nil {
			pp.emit(p)
		}
	}
}

func (pp *progressParser) at() Progress {
	p := Progress{Speed: pp.speed}
	if pp.total <= 0 {
		return p
	}
	p.Percent = min(pp.cap, max(0, 100*pp.out.Seconds()/pp.total.Seconds()))
	if pp.speed > 0 && pp.out < pp.total {
		p.ETA = time.Duration(float64(pp.total-pp.out) / pp.speed).Round(time.Second)
	}
	return p
}
