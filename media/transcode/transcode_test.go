package transcode

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fast keeps the encodes of the tests short.
var fast = Options{Preset: "ultrafast"}

// clip makes a source of the given size, rate and length, with a 440 Hz tone unless silent.
func clip(size string, secs int, silent bool, name string) func(t *testing.T, dir string) string {
	return func(t *testing.T, dir string) string {
		p := filepath.Join(dir, name)
		args := []string{"-f", "lavfi", "-i", "testsrc2=size=" + size + ":rate=30"}
		if !silent {
			args = append(args, "-f", "lavfi", "-i", "sine=frequency=440")
		}
		args = append(args, "-t", strconv.Itoa(secs), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
		if !silent {
			args = append(args, "-c:a", "aac")
		}
		makeInput(t, append(args, p)...)
		return p
	}
}

func tone(secs int, name string, codec ...string) func(t *testing.T, dir string) string {
	return func(t *testing.T, dir string) string {
		p := filepath.Join(dir, name)
		args := append([]string{"-f", "lavfi", "-i", "sine=frequency=440:duration=" + strconv.Itoa(secs)}, codec...)
		makeInput(t, append(args, p)...)
		return p
	}
}

type recorder struct {
	mu   sync.Mutex
	seen []Progress
}

func (r *recorder) add(p Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, p)
}

func TestRun(t *testing.T) {
	needTools(t)
	tests := []struct {
		name    string
		input   func(t *testing.T, dir string) string
		opts    Options
		secs    float64
		rungs   []string // name WxH
		sound   bool
		picture bool
	}{
		{"1080p with sound", clip("1920x1080", 6, false, "in.mp4"), fast, 6,
			[]string{"1080p 1920x1080", "720p 1280x720", "480p 854x480", "360p 640x360"}, true, true},
		{"360p, 4 s segments", clip("640x360", 9, false, "in.mkv"), Options{Preset: "ultrafast", SegmentSeconds: 4, SpriteEvery: 2 * time.Second}, 9,
			[]string{"360p 640x360"}, true, true},
		{"portrait phone video without sound", clip("720x1280", 5, true, "in.mov"), Options{Preset: "ultrafast", SpriteEvery: time.Second}, 5,
			[]string{"720p 720x1280", "480p 480x854", "360p 360x640"}, false, true},
		{"tiny video", clip("320x240", 3, false, "in.mp4"), fast, 3, []string{"240p 320x240"}, true, true},
		{"mp3", tone(6, "in.mp3", "-c:a", "libmp3lame"), fast, 6, nil, true, false},
		{"wav", tone(4, "in.wav"), fast, 4, nil, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			src := tt.input(t, dir)
			out := filepath.Join(dir, "out")
			if err := os.Mkdir(out, 0o755); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var rec recorder
			res, err := Run(ctx, src, out, tt.opts, rec.add)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			checkProgress(t, rec.seen)
			checkFiles(t, out, res)
			checkMaster(t, out, res, tt.picture)
			seg := or3(tt.opts.SegmentSeconds, 2)
			if tt.picture {
				var got []string
				for _, r := range res.Rungs {
					got = append(got, fmt.Sprintf("%s %dx%d", r.Name, r.Width, r.Height))
				}
				if !slices.Equal(got, tt.rungs) {
					t.Fatalf("rungs %v, want %v", got, tt.rungs)
				}
				for _, r := range res.Rungs {
					if r.Width > res.Probe.Width || r.Height > res.Probe.Height {
						t.Errorf("%s %dx%d is above the source %dx%d", r.Name, r.Width, r.Height, res.Probe.Width, res.Probe.Height)
					}
					checkRendition(t, out, r, tt.secs, seg)
				}
				checkSprite(t, out, res, tt.secs)
				checkPicture(t, filepath.Join(out, res.Poster), "jpeg")
				mid := res.Rungs[(len(res.Rungs)-1)/2]
				checkDownload(t, filepath.Join(out, res.Download), tt.secs, mid, tt.sound)
			} else {
				if res.Waveform == "" || res.Sprite != "" || res.Poster != "" {
					t.Errorf("sound: result %+v, want a waveform and no pictures", res)
				}
				checkPicture(t, filepath.Join(out, res.Waveform), "png")
				checkDownload(t, filepath.Join(out, res.Download), tt.secs, Rung{}, true)
			}
			if tt.sound {
				a := ffprobe(t, filepath.Join(out, "audio.m3u8"), "-show_streams", "-show_format")
				if len(a.Streams) != 1 || a.Streams[0].CodecName != "aac" || a.Streams[0].SampleRate != "48000" || a.Streams[0].Channels != 2 {
					t.Errorf("audio rendition %+v, want one AAC stream, 48 kHz stereo", a.Streams)
				}
				if d := a.duration(t); math.Abs(d-tt.secs) > 0.5 {
					t.Errorf("audio rendition lasts %.3f s, want %.0f", d, tt.secs)
				}
			}
		})
	}
}

func or3(n, dflt int) int {
	if n == 0 {
		return dflt
	}
	return n
}

func checkProgress(t *testing.T, seen []Progress) {
	t.Helper()
	if len(seen) == 0 || seen[len(seen)-1].Percent != 100 {
		t.Fatalf("progress %+v, want it to end at 100", seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Percent < seen[i-1].Percent {
			t.Errorf("progress went back: %+v", seen)
		}
	}
}

func checkFiles(t *testing.T, out string, res Result) {
	t.Helper()
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, res.Files) {
		t.Errorf("Files %v, but the folder holds %v", res.Files, names)
	}
	for _, n := range []string{res.Master, res.Poster, res.Sprite, res.SpriteVTT, res.Download, res.Waveform} {
		if n != "" && !slices.Contains(res.Files, n) {
			t.Errorf("%s is named in the result but not written", n)
		}
	}
	for _, n := range res.Files {
		if ContentType(n) == "application/octet-stream" {
			t.Errorf("%s has no content type", n)
		}
	}
}

var streamInfRe = regexp.MustCompile(`#EXT-X-STREAM-INF:BANDWIDTH=(\d+)(,RESOLUTION=(\d+x\d+))?.*\n(.+)`)

func checkMaster(t *testing.T, out string, res Result, picture bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, res.Master))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{} // playlist → resolution
	for _, m := range streamInfRe.FindAllStringSubmatch(string(b), -1) {
		if bw, _ := strconv.Atoi(m[1]); bw <= 0 {
			t.Errorf("master: variant %s without bandwidth", m[4])
		}
		got[m[4]] = m[3]
	}
	want := map[string]string{}
	for _, r := range res.Rungs {
		if picture {
			want[r.Name+".m3u8"] = fmt.Sprintf("%dx%d", r.Width, r.Height)
		} else {
			want["audio.m3u8"] = ""
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("master lists %v, want %v:\n%s", got, want, b)
	}
}

// checkRendition probes one rung: codec, size, length, and keyframes that start every
// segment and fall every 2 s.
func checkRendition(t *testing.T, out string, r Rung, secs float64, seg int) {
	t.Helper()
	pl := filepath.Join(out, r.Name+".m3u8")
	p := ffprobe(t, pl, "-show_streams", "-show_format")
	if len(p.Streams) != 1 || p.Streams[0].CodecName != "h264" || p.Streams[0].Width != r.Width || p.Streams[0].Height != r.Height {
		t.Errorf("%s: streams %+v, want one H.264 %dx%d", r.Name, p.Streams, r.Width, r.Height)
	}
	if d := p.duration(t); math.Abs(d-secs) > 0.5 {
		t.Errorf("%s lasts %.3f s, want %.0f", r.Name, d, secs)
	}
	all := ffprobe(t, pl, "-select_streams", "v", "-show_entries", "frame=pts_time")
	keys := ffprobe(t, pl, "-select_streams", "v", "-skip_frame", "nokey", "-show_entries", "frame=pts_time")
	if len(all.Frames) == 0 || len(keys.Frames) == 0 {
		t.Fatalf("%s: no frames", r.Name)
	}
	start, _ := strconv.ParseFloat(all.Frames[0].PTSTime, 64)
	const frame = 1.0 / 30
	var keyTimes []float64
	for _, f := range keys.Frames {
		k, _ := strconv.ParseFloat(f.PTSTime, 64)
		k -= start
		keyTimes = append(keyTimes, k)
		if n := math.Round(k / keyInterval); math.Abs(k-n*keyInterval) > frame {
			t.Errorf("%s: keyframe at %.3f s, not on a multiple of %d s", r.Name, k, keyInterval)
		}
	}
	if want := int(math.Ceil(secs / keyInterval)); len(keyTimes) != want {
		t.Errorf("%s: %d keyframes %v, want %d", r.Name, len(keyTimes), keyTimes, want)
	}
	// Each segment begins where the last ended; each must begin on a keyframe.
	b, err := os.ReadFile(pl)
	if err != nil {
		t.Fatal(err)
	}
	at, n := 0.0, 0
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		d, ok := strings.CutPrefix(sc.Text(), "#EXTINF:")
		if !ok {
			continue
		}
		if !slices.ContainsFunc(keyTimes, func(k float64) bool { return math.Abs(k-at) <= frame }) {
			t.Errorf("%s: segment %d starts at %.3f s, where there is no keyframe (%v)", r.Name, n, at, keyTimes)
		}
		if n > 0 && math.Abs(at-float64(n*seg)) > frame {
			t.Errorf("%s: segment %d starts at %.3f s, want %d", r.Name, n, at, n*seg)
		}
		f, _ := strconv.ParseFloat(strings.TrimSuffix(d, ","), 64)
		at += f
		n++
	}
	if want := int(math.Ceil(secs / float64(seg))); n != want {
		t.Errorf("%s: %d segments, want %d", r.Name, n, want)
	}
}

var cueRe = regexp.MustCompile(`(\d\d):(\d\d):(\d\d\.\d\d\d) --> (\d\d):(\d\d):(\d\d\.\d\d\d)\nsprite\.jpg#xywh=(\d+),(\d+),(\d+),(\d+)`)

func vttSecs(h, m, s string) float64 {
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	ss, _ := strconv.ParseFloat(s, 64)
	return float64(hh*3600+mm*60) + ss
}

func checkSprite(t *testing.T, out string, res Result, secs float64) {
	t.Helper()
	w, h := checkPicture(t, filepath.Join(out, res.Sprite), "jpeg")
	b, err := os.ReadFile(filepath.Join(out, res.SpriteVTT))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "WEBVTT\n") {
		t.Errorf("VTT does not start with WEBVTT:\n%s", b)
	}
	cues := cueRe.FindAllStringSubmatch(string(b), -1)
	if len(cues) == 0 {
		t.Fatalf("VTT without cues:\n%s", b)
	}
	at := 0.0
	for _, c := range cues {
		from, to := vttSecs(c[1], c[2], c[3]), vttSecs(c[4], c[5], c[6])
		if math.Abs(from-at) > 0.001 || to <= from {
			t.Errorf("cue %s → %s after %.3f: not contiguous", c[1:4], c[4:7], at)
		}
		x, _ := strconv.Atoi(c[7])
		y, _ := strconv.Atoi(c[8])
		if x+tileW > w || y+tileH > h || c[9] != "160" || c[10] != "90" {
			t.Errorf("cue tile %v outside the %dx%d sprite", c[7:], w, h)
		}
		at = to
	}
	if math.Abs(at-secs) > 0.5 {
		t.Errorf("cues end at %.3f s, want %.0f", at, secs)
	}
}

func checkPicture(t *testing.T, path, format string) (int, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, got, err := image.DecodeConfig(f)
	if err != nil || got != format {
		t.Fatalf("%s: %s %v, want %s", path, got, err, format)
	}
	return cfg.Width, cfg.Height
}

func checkDownload(t *testing.T, path string, secs float64, r Rung, sound bool) {
	t.Helper()
	p := ffprobe(t, path, "-show_streams", "-show_format")
	var got []string
	for _, s := range p.Streams {
		if s.CodecType == "video" {
			got = append(got, fmt.Sprintf("%s %dx%d", s.CodecName, s.Width, s.Height))
		} else {
			got = append(got, s.CodecName)
		}
	}
	var want []string
	if r.Width > 0 {
		want = append(want, fmt.Sprintf("h264 %dx%d", r.Width, r.Height))
	}
	if sound {
		want = append(want, "aac")
	}
	if !slices.Equal(got, want) {
		t.Errorf("download %s: streams %v, want %v", path, got, want)
	}
	if d := p.duration(t); math.Abs(d-secs) > 0.5 {
		t.Errorf("download lasts %.3f s, want %.0f", d, secs)
	}
	boxes := topBoxes(t, path)
	if m, d := slices.Index(boxes, "moov"), slices.Index(boxes, "mdat"); m < 0 || d < 0 || m > d {
		t.Errorf("download boxes %v: want moov before mdat", boxes)
	}
}

func TestRunSameNames(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	src := clip("640x360", 3, false, "in.mp4")(t, dir)
	var files [2][]string
	for i := range files {
		out := filepath.Join(dir, "out"+strconv.Itoa(i))
		if err := os.Mkdir(out, 0o755); err != nil {
			t.Fatal(err)
		}
		res, err := Run(context.Background(), src, out, fast, nil)
		if err != nil {
			t.Fatal(err)
		}
		files[i] = res.Files
	}
	if !slices.Equal(files[0], files[1]) {
		t.Errorf("second run wrote %v, first %v", files[1], files[0])
	}
	// And a folder that is not empty is refused before any work.
	if _, err := Run(context.Background(), src, filepath.Join(dir, "out0"), fast, nil); err == nil {
		t.Error("Run into a used folder: no error")
	}
}

func TestRunRefusesBadInput(t *testing.T) {
	needTools(t)
	write := func(data []byte) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "in.mp4")
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	half := func(faststart bool) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			full := filepath.Join(dir, "full.mp4")
			args := []string{"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", "3", "-c:v", "libx264", "-preset", "ultrafast"}
			if faststart {
				args = append(args, "-movflags", "+faststart")
			}
			makeInput(t, append(args, full)...)
			b, err := os.ReadFile(full)
			if err != nil {
				t.Fatal(err)
			}
			return write(b[:len(b)/2])(t, dir)
		}
	}
	random := make([]byte, 256<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	tests := []struct {
		name    string
		input   func(t *testing.T, dir string) string
		reason  string // in the Reason
		ffmpeg  bool   // FFmpeg's words are given
		timeout time.Duration
	}{
		{"empty", write(nil), "empty", false, 0},
		{"random bytes", write(random), "not a video or audio file", true, 0},
		{"text", write([]byte("石嘴山数字文化云\n")), "not a video or audio file", true, 0},
		{"picture", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "in.png")
			makeInput(t, "-f", "lavfi", "-i", "testsrc2=size=320x240", "-frames:v", "1", p)
			return p
		}, "not a video or audio file", true, 0},
		{"truncated mp4", half(false), "not a video or audio file", true, 0},
		{"truncated mp4, index first", half(true), "cut off", false, 0},
		{"10-hour container, 1-second streams", func(t *testing.T, dir string) string {
			v, a, p := filepath.Join(dir, "v.mp4"), filepath.Join(dir, "a.m4a"), filepath.Join(dir, "in.mp4")
			makeInput(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", v)
			makeInput(t, "-f", "lavfi", "-i", "sine", "-t", "1", "-c:a", "aac", a)
			makeInput(t, "-i", v, "-itsoffset", "36000", "-i", a, "-map", "0:v", "-map", "1:a", "-c", "copy", p)
			if d := ffprobe(t, p, "-show_format").duration(t); d < 36000 {
				t.Fatalf("the crafted file lasts %.0f s, want about 36001", d)
			}
			return p
		}, "streams last only", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			src := tt.input(t, dir)
			out := filepath.Join(dir, "out")
			if err := os.Mkdir(out, 0o755); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			_, err := Run(ctx, src, out, fast, nil)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Run: %v (%T), want an *InputError", err, err)
			}
			if !strings.Contains(ie.Reason, tt.reason) {
				t.Errorf("Reason %q, want it to say %q", ie.Reason, tt.reason)
			}
			if tt.ffmpeg && ie.FFmpeg == "" {
				t.Errorf("no ffmpeg words in %v", ie)
			}
			if strings.Contains(err.Error(), src) {
				t.Errorf("the message %q shows the source's path", err)
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("refusing took %v", time.Since(start))
			}
			t.Logf("%v", err)
		})
	}
}
