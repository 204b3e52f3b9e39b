// Package ffmpeg runs ffmpeg and ffprobe on files that users uploaded: bounded memory for
// what the tools say, their words (not our temporary paths) in errors, and runs cut short
// with their context.
package ffmpeg

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"
)

// ToolError is a failed run of ffmpeg, ffprobe or another media tool. Its message carries
// the last lines the tool wrote to stderr, which usually say what is wrong with the file.
type ToolError struct {
	Tool   string
	Stderr string // the last few lines, with the input's path replaced by "input"
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
	// WaitDelay bounds the wait for a tool's pipes after it is killed.
	WaitDelay = 5 * time.Second
)

// Args start every ffmpeg run: no prompts, errors only, overwrite.
func Args() []string { return []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y"} }

// FileURL names a local file for ffmpeg so that no part of the name is read as a protocol.
func FileURL(path string) string { return "file:" + path }

// Run runs tool until it ends or ctx does; src is the input's path, hidden from messages.
// Lines the tool writes to stdout (ffmpeg's -progress report) go to onLine, if not nil,
// from one goroutine and never after Run returns. Run returns the cleaned last lines of
// stderr also on success, since ffmpeg reports a cut-off input there without failing.
func Run(ctx context.Context, src, tool string, args []string, onLine func(string)) (string, error) {
	cmd := command(ctx, tool, args)
	var stderr Tail
	cmd.Stderr = &stderr
	var out io.ReadCloser
	if onLine != nil {
		var err error
		if out, err = cmd.StdoutPipe(); err != nil {
			return "", err
		}
	}
	err := onLockedThread(func() error {
		if err := cmd.Start(); err != nil {
			return &ToolError{Tool: tool, Err: err}
		}
		if out != nil {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				onLine(sc.Text())
			}
			_, _ = io.Copy(io.Discard, out) // an over-long line: keep the tool from blocking
		}
		// The pipe closes when the tool exits (or WaitDelay after it is killed).
		return cmd.Wait()
	})
	var te *ToolError
	if errors.As(err, &te) {
		return "", err
	}
	return Finish(ctx, tool, src, &stderr, err)
}

// command prepares a run of tool that ends with ctx and with this process.
func command(ctx context.Context, tool string, args []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.WaitDelay = WaitDelay
	dieWithParent(cmd)
	return cmd
}

// onLockedThread runs f, which starts a tool and waits for it, on one OS thread that stays
// alive until f returns: Linux sends the parent-death signal when the thread that started
// the child ends, not only the process, and the Go runtime may end threads.
func onLockedThread(f func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		done <- f()
	}()
	return <-done
}

// Output runs tool and returns its stdout (ffprobe's answer).
func Output(ctx context.Context, src, tool string, args []string) ([]byte, error) {
	cmd := command(ctx, tool, args)
	var stderr Tail
	cmd.Stderr = &stderr
	var out []byte
	err := onLockedThread(func() error {
		var err error
		out, err = cmd.Output()
		return err
	})
	if _, err := Finish(ctx, tool, src, &stderr, err); err != nil {
		return nil, err
	}
	return out, nil
}

// Finish turns the end of a run into the cleaned stderr and, if it failed, a *ToolError.
func Finish(ctx context.Context, tool, src string, stderr *Tail, err error) (string, error) {
	msg := CleanStderr(stderr.String(), src)
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

// CleanStderr is the last lines of a tool's stderr, joined with "; ", with src shown as
// "input" and ffmpeg's memory addresses removed.
func CleanStderr(s, src string) string {
	if src != "" {
		s = strings.ReplaceAll(s, FileURL(src), "input")
		s = strings.ReplaceAll(s, src, "input")
	}
	s = addrRe.ReplaceAllString(s, "]")
	var lines []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines[max(0, len(lines)-stderrLines):], "; ")
}

// Tail keeps the last 16 KiB written to it, so that a chatty tool cannot fill memory. It
// is safe for concurrent use (a long-running ffmpeg writes while its supervisor reads).
type Tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - stderrKeep; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String is what is kept.
func (t *Tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
