package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

func TestTailKeepsTheEnd(t *testing.T) {
	var tl Tail
	for i := range 10000 {
		fmt.Fprintf(&tl, "line %d\n", i)
	}
	if len(tl.buf) > stderrKeep {
		t.Fatalf("kept %d bytes, want at most %d", len(tl.buf), stderrKeep)
	}
	got := CleanStderr(tl.String(), "")
	if !strings.HasSuffix(got, "line 9999") || strings.Count(got, "; ") != stderrLines-1 {
		t.Errorf("CleanStderr = %q", got)
	}
}

func TestCleanStderrHidesTheInput(t *testing.T) {
	s := "[mov,mp4 @ 0x55d1c2a3b4c0] moov atom not found\nfile:/tmp/upload-123/a.mp4: Invalid data found\n/tmp/upload-123/a.mp4: again\n"
	want := "[mov,mp4] moov atom not found; input: Invalid data found; input: again"
	if got := CleanStderr(s, "/tmp/upload-123/a.mp4"); got != want {
		t.Errorf("CleanStderr = %q, want %q", got, want)
	}
}

// TestRun: a real ffmpeg run that fails gives a *ToolError with ffmpeg's words and the
// exit status; progress lines reach onLine; a cancelled context is the error's cause.
func TestRun(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("no ffmpeg here")
	}
	ctx := context.Background()
	_, err := Run(ctx, "/nowhere/x.mp4", "ffmpeg", append(Args(), "-i", FileURL("/nowhere/x.mp4"), "-f", "null", "-"), nil)
	var te *ToolError
	var ee *exec.ExitError
	if !errors.As(err, &te) || !errors.As(err, &ee) || !strings.Contains(te.Stderr, "input") || strings.Contains(te.Stderr, "/nowhere") {
		t.Fatalf("err = %v", err)
	}
	var lines []string
	args := append(Args(), "-f", "lavfi", "-i", "sine=duration=0.2", "-progress", "pipe:1", "-f", "null", "-")
	if _, err := Run(ctx, "", "ffmpeg", args, func(l string) { lines = append(lines, l) }); err != nil {
		t.Fatal(err)
	}
	if len(lines) == 0 || lines[len(lines)-1] != "progress=end" {
		t.Errorf("progress lines %q", lines)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Run(cancelled, "", "ffmpeg", args, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
}
