package transcode

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// needTools skips when ffmpeg is missing, except under make test and CI.
func needTools(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CC_REQUIRE_SERVICES") != "" || os.Getenv("CI") != "" {
				t.Fatalf("%s is required: %v", tool, err)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

// makeInput makes a test input with ffmpeg.
func makeInput(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.Command("ffmpeg", append([]string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// probed is the part of ffprobe's answer the tests look at.
type probed struct {
	Streams []struct {
		CodecType  string `json:"codec_type"`
		CodecName  string `json:"codec_name"`
		Width      int    `json:"width"`
		Height     int    `json:"height"`
		SampleRate string `json:"sample_rate"`
		Channels   int    `json:"channels"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
	Frames []struct {
		PTSTime string `json:"pts_time"`
	} `json:"frames"`
}

func (p probed) duration(t testing.TB) float64 {
	t.Helper()
	d, err := strconv.ParseFloat(p.Format.Duration, 64)
	if err != nil {
		t.Fatalf("duration %q: %v", p.Format.Duration, err)
	}
	return d
}

// ffprobe runs ffprobe with JSON output on a file or playlist.
func ffprobe(t testing.TB, path string, args ...string) probed {
	t.Helper()
	all := append([]string{"-v", "error", "-protocol_whitelist", "file", "-of", "json"}, args...)
	out, err := exec.Command("ffprobe", append(all, path)...).Output()
	if err != nil {
		t.Fatalf("ffprobe %s %v: %v", path, args, err)
	}
	var p probed
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	return p
}

// topBoxes lists the types of an MP4 file's top-level boxes in order.
func topBoxes(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for off := 0; off+8 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[off:]))
		if n == 1 {
			n = int(binary.BigEndian.Uint64(b[off+8:]))
		}
		out = append(out, string(b[off+4:off+8]))
		if n < 8 {
			break
		}
		off += n
	}
	return out
}
