package transcode

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestProbeTakesTheLargestPicture: the ladder is sized from the largest picture of the
// source, not from its first parameter set, which is all the container's header tells. A
// recorded WebRTC lecture starts small while the browser learns the bandwidth.
func TestProbeTakesTheLargestPicture(t *testing.T) {
	needTools(t)
	// part makes an MPEG-TS of one picture size, as the recorder's segments are.
	part := func(t *testing.T, dir, size, secs, name string) string {
		p := filepath.Join(dir, name)
		makeInput(t, "-f", "lavfi", "-i", "testsrc2=size="+size+":rate=30", "-t", secs, "-c:v", "libx264",
			"-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", "mpegts", p)
		return p
	}
	// join copies the parts into one MP4, as the recorder joins its segments.
	join := func(t *testing.T, dir string, parts ...string) string {
		list := filepath.Join(dir, "list.txt")
		var b []byte
		for _, p := range parts {
			b = append(b, "file '"+p+"'\n"...)
		}
		if err := os.WriteFile(list, b, 0o600); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "joined.mp4")
		makeInput(t, "-f", "concat", "-safe", "0", "-i", list, "-c", "copy", "-movflags", "+faststart", out)
		return out
	}
	tests := []struct {
		name  string
		sizes []string
		w, h  int
		top   string
	}{
		{"starts small, as a browser's encoder", []string{"320x180", "1280x720"}, 1280, 720, "720p"},
		{"one size", []string{"640x360"}, 640, 360, "360p"},
		{"ends small", []string{"1280x720", "320x180"}, 1280, 720, "720p"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var parts []string
			for i, size := range tt.sizes {
				parts = append(parts, part(t, dir, size, "2", "part"+string(rune('a'+i))+".ts"))
			}
			p, err := ProbeFile(context.Background(), join(t, dir, parts...))
			if err != nil {
				t.Fatal(err)
			}
			if p.Width != tt.w || p.Height != tt.h {
				t.Fatalf("probed %dx%d, want %dx%d", p.Width, p.Height, tt.w, tt.h)
			}
			if top := Ladder(p)[0]; top.Name != tt.top || top.Width != tt.w || top.Height != tt.h {
				t.Fatalf("top rung %+v", top)
			}
		})
	}
}
