package derive

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// needTools skips when the media tools are missing, except under make test and CI.
func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe", "pdftoppm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CC_REQUIRE_SERVICES") != "" || os.Getenv("CI") != "" {
				t.Fatalf("%s is required: %v", tool, err)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

// makeInput makes a test input with ffmpeg.
func makeInput(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("ffmpeg", append([]string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// size asks ffprobe for the picture size of a file.
func size(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=width,height", "-of", "csv=p=0:s=x", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	return strings.TrimSpace(string(out))
}

// minimalPDF is a one-page PDF (200×100 pt) with a filled rectangle, offsets computed.
func minimalPDF() []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << >> >>",
	}
	content := "0.2 0.4 0.8 rg 20 20 160 60 re f"
	objs = append(objs, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

func TestMake(t *testing.T) {
	needTools(t)
	picture := func(size, name string) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			p := filepath.Join(dir, name)
			makeInput(t, "-f", "lavfi", "-i", "testsrc=size="+size+":rate=1", "-frames:v", "1", p)
			return p
		}
	}
	clip := func(name string, codecs ...string) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			p := filepath.Join(dir, name)
			args := []string{"-f", "lavfi", "-i", "testsrc=size=640x360:rate=25:duration=3",
				"-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-shortest"}
			makeInput(t, append(append(args, codecs...), p)...)
			return p
		}
	}
	tone := func(name string, codecs ...string) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			p := filepath.Join(dir, name)
			makeInput(t, append(append([]string{"-f", "lavfi", "-i", "sine=frequency=440:duration=3"}, codecs...), p)...)
			return p
		}
	}
	file := func(name string, data []byte) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	wideThumbs := map[string]string{"thumb-160.jpg": "160x90", "thumb-480.jpg": "480x270", "thumb-1200.jpg": "1200x675"}
	posterThumb := map[string]string{"poster.jpg": "640x360", "thumb-480.jpg": "480x270"}
	wave := map[string]string{"waveform.png": "1200x200", "thumb-480.jpg": "480x80"}
	tests := []struct {
		name      string
		mediaType string
		input     func(t *testing.T, dir string) string
		want      map[string]string // output name → WxH
	}{
		{"png", "image/png", picture("1600x900", "in.png"), wideThumbs},
		{"jpeg", "image/jpeg", picture("1600x900", "in.jpg"), wideThumbs},
		{"tiff", "image/tiff", picture("1600x900", "in.tif"), wideThumbs},
		{"webp", "image/webp", picture("1600x900", "in.webp"), wideThumbs},
		{"small image is not upscaled", "image/png", picture("320x200", "small.png"),
			map[string]string{"thumb-160.jpg": "160x100", "thumb-480.jpg": "320x200", "thumb-1200.jpg": "320x200"}},
		{"mp4", "video/mp4", clip("in.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"), posterThumb},
		{"webm", "video/webm", clip("in.webm", "-c:v", "libvpx", "-c:a", "libvorbis"), posterThumb},
		{"mov", "video/quicktime", clip("in.mov", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"), posterThumb},
		{"mkv", "video/x-matroska", clip("in.mkv", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "flac"), posterThumb},
		{"mp4 without picture", "video/mp4", tone("sound.mp4", "-c:a", "aac"), wave},
		{"wav", "audio/wav", tone("in.wav"), wave},
		{"mp3", "audio/mpeg", tone("in.mp3", "-c:a", "libmp3lame"), wave},
		{"flac", "audio/flac", tone("in.flac"), wave},
		{"m4a", "audio/x-m4a", tone("in.m4a", "-c:a", "aac"), wave},
		{"pdf", "application/pdf", file("in.pdf", minimalPDF()), map[string]string{"poster.jpg": "1200x600", "thumb-480.jpg": "480x240"}},
		{"text", "text/plain; charset=utf-8", file("in.txt", []byte("石嘴山\n")), map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			src := tt.input(t, dir)
			outDir := filepath.Join(dir, "out")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			outs, err := Make(ctx, src, tt.mediaType, outDir)
			if err != nil {
				t.Fatalf("Make: %v", err)
			}
			if len(outs) != len(tt.want) {
				t.Fatalf("got %d outputs %+v, want %v", len(outs), outs, tt.want)
			}
			for _, o := range outs {
				want, ok := tt.want[o.Name]
				if !ok {
					t.Errorf("unexpected output %s", o.Name)
					continue
				}
				if o.Path != filepath.Join(outDir, o.Name) {
					t.Errorf("%s: path %s, want it in %s", o.Name, o.Path, outDir)
				}
				if got := size(t, o.Path); got != want {
					t.Errorf("%s: ffprobe says %s, want %s", o.Name, got, want)
				}
				if got := fmt.Sprintf("%dx%d", o.Width, o.Height); got != want {
					t.Errorf("%s: Output says %s, want %s", o.Name, got, want)
				}
				wantType := "image/jpeg"
				if strings.HasSuffix(o.Name, ".png") {
					wantType = "image/png"
				}
				if o.MediaType != wantType {
					t.Errorf("%s: media type %s, want %s", o.Name, o.MediaType, wantType)
				}
			}
		})
	}
}

func TestMakeFlattensTransparency(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "alpha.png")
	// Red, but transparent except for a band in the middle.
	makeInput(t, "-f", "lavfi", "-i", "color=c=red:s=400x300,format=rgba,geq=r=255:g=0:b=0:a='if(between(X,100,300),255,0)'",
		"-frames:v", "1", src)
	outs, err := Make(context.Background(), src, "image/png", filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(outs[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	corner, middle := color.RGBAModel.Convert(img.At(2, 2)).(color.RGBA), color.RGBAModel.Convert(img.At(80, 60)).(color.RGBA)
	if corner.R < 240 || corner.G < 240 || corner.B < 240 {
		t.Errorf("transparent corner shows %v, want white", corner)
	}
	if middle.R < 200 || middle.G > 60 {
		t.Errorf("opaque middle shows %v, want red", middle)
	}
}

func TestMakeFails(t *testing.T) {
	needTools(t)
	junk := make([]byte, 64<<10)
	_, _ = rand.Read(junk)
	tests := []struct {
		name      string
		mediaType string
		data      []byte
		timeout   time.Duration
		check     func(t *testing.T, err error)
	}{
		{"corrupt video", "video/mp4", junk, time.Minute, func(t *testing.T, err error) {
			var te *ToolError
			if !errors.As(err, &te) {
				t.Fatalf("want a *ToolError, got %T %v", err, err)
			}
			if !strings.Contains(err.Error(), "moov atom not found") && !strings.Contains(err.Error(), "Invalid data found") {
				t.Errorf("error lacks ffmpeg's message: %v", err)
			}
			if strings.Contains(err.Error(), os.TempDir()) || strings.Contains(err.Error(), " @ 0x") {
				t.Errorf("error shows noise staff cannot use: %v", err)
			}
		}},
		{"corrupt image", "image/png", junk, time.Minute, func(t *testing.T, err error) {
			var te *ToolError
			if !errors.As(err, &te) || te.Tool != "ffmpeg" || te.Stderr == "" {
				t.Errorf("want ffmpeg's complaint, got %v", err)
			}
		}},
		{"corrupt pdf", "application/pdf", append([]byte("%PDF-1.4\n"), junk...), time.Minute, func(t *testing.T, err error) {
			var te *ToolError
			if !errors.As(err, &te) || te.Tool != "pdftoppm" {
				t.Errorf("want pdftoppm's complaint, got %v", err)
			}
		}},
		{"unsupported type", "application/zip", junk, time.Minute, func(t *testing.T, err error) {
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("want ErrUnsupported, got %v", err)
			}
		}},
		{"deadline", "image/png", junk, time.Nanosecond, func(t *testing.T, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("want the deadline, got %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			src := filepath.Join(dir, "in")
			if err := os.WriteFile(src, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			outs, err := Make(ctx, src, tt.mediaType, filepath.Join(dir, "out"))
			if err == nil {
				t.Fatalf("want an error, got outputs %+v", outs)
			}
			tt.check(t, err)
		})
	}
}

func TestPosterTime(t *testing.T) {
	tests := []struct{ duration, want time.Duration }{
		{0, 0},
		{time.Second, 500 * time.Millisecond},
		{3 * time.Second, time.Second},
		{10 * time.Second, time.Second},
		{time.Hour, 6 * time.Minute},
	}
	for _, tt := range tests {
		if got := posterTime(tt.duration); got != tt.want {
			t.Errorf("posterTime(%v) = %v, want %v", tt.duration, got, tt.want)
		}
	}
}
