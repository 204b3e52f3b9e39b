package transcode

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLadder(t *testing.T) {
	video := func(w, h int) Probe { return Probe{HasVideo: true, HasAudio: true, Width: w, Height: h} }
	tests := []struct {
		name string
		p    Probe
		want []string // name WxH kbps
	}{
		{"1080p", video(1920, 1080), []string{"1080p 1920x1080 4500", "720p 1280x720 2500", "480p 854x480 1200", "360p 640x360 700"}},
		{"720p", video(1280, 720), []string{"720p 1280x720 2500", "480p 854x480 1200", "360p 640x360 700"}},
		{"between rungs", video(960, 540), []string{"480p 854x480 1200", "360p 640x360 700"}},
		{"360p", video(640, 360), []string{"360p 640x360 700"}},
		{"4K", video(3840, 2160), []string{"1080p 1920x1080 4500", "720p 1280x720 2500", "480p 854x480 1200", "360p 640x360 700"}},
		{"4:3", video(1440, 1080), []string{"1080p 1440x1080 4500", "720p 960x720 2500", "480p 640x480 1200", "360p 480x360 700"}},
		{"portrait", video(1080, 1920), []string{"1080p 1080x1920 4500", "720p 720x1280 2500", "480p 480x854 1200", "360p 360x640 700"}},
		{"cinema", video(1920, 800), []string{"720p 1728x720 2500", "480p 1152x480 1200", "360p 864x360 700"}},
		{"below 360p", video(320, 240), []string{"240p 320x240 230"}},
		{"odd and tiny", video(161, 91), []string{"90p 160x90 150"}},
		{"sound only", Probe{HasAudio: true}, []string{"audio 0x0 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range Ladder(tt.p) {
				got = append(got, fmt.Sprintf("%s %dx%d %d", r.Name, r.Width, r.Height, r.VideoKbps))
				if r.AudioKbps != 128 {
					t.Errorf("%s: audio %d kbit/s, want 128", r.Name, r.AudioKbps)
				}
				if r.Width > max(tt.p.Width, 0) || r.Height > tt.p.Height {
					t.Errorf("%s upscales", r.Name)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Ladder = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseProbe(t *testing.T) {
	tests := []struct {
		name string
		json string
		want string
	}{
		{"phone video turned sideways", `{"format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"5.0"},"streams":[
			{"index":0,"codec_type":"video","codec_name":"hevc","width":1920,"height":1080,"avg_frame_rate":"30000/1001","duration":"5.0",
			 "side_data_list":[{"side_data_type":"Display Matrix","rotation":-90}]},
			{"index":1,"codec_type":"audio","codec_name":"aac","duration":"4.98"}]}`,
			"1080x1920 29.970 hevc/aac 5s 5s/4.98s 0:0 0:1"},
		{"anamorphic DV", `{"format":{"format_name":"avi","duration":"2"},"streams":[
			{"index":0,"codec_type":"video","codec_name":"dvvideo","width":720,"height":576,"sample_aspect_ratio":"64:45","r_frame_rate":"25/1","avg_frame_rate":"0/0","duration":"2"}]}`,
			"1024x576 25.000 dvvideo/ 2s 2s/0s 0:0 "},
		{"cover art is not a picture", `{"format":{"format_name":"mp3","duration":"3"},"streams":[
			{"index":0,"codec_type":"audio","codec_name":"mp3","duration":"3"},
			{"index":1,"codec_type":"video","codec_name":"mjpeg","width":500,"height":500,"disposition":{"attached_pic":1}}]}`,
			"0x0 0.000 /mp3 3s 0s/3s  0:0"},
		{"matroska tags", `{"format":{"format_name":"matroska,webm","duration":"36001"},"streams":[
			{"index":0,"codec_type":"video","codec_name":"h264","width":320,"height":240,"avg_frame_rate":"25/1","start_time":"0","tags":{"DURATION":"00:00:01.000000000"}},
			{"index":1,"codec_type":"audio","codec_name":"aac","start_time":"35999.977","tags":{"DURATION":"10:00:01.000000000"}}]}`,
			"320x240 25.000 h264/aac 10h0m1s 1s/1.023s 0:0 0:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseProbe([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("%dx%d %.3f %s/%s %v %v/%v %s %s", p.Width, p.Height, p.FrameRate, p.VideoCodec, p.AudioCodec,
				p.Duration, p.VideoDuration, p.AudioDuration, p.videoStream, p.audioStream)
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Probe
		ok   bool
	}{
		{"ordinary", Probe{HasVideo: true, Duration: time.Hour, VideoDuration: time.Hour}, true},
		{"10 h container, 1 s stream", Probe{HasVideo: true, Duration: 10 * time.Hour, VideoDuration: time.Second}, false},
		{"20 s over a 1 s stream is within 10 minutes", Probe{HasVideo: true, Duration: 21 * time.Second, VideoDuration: time.Second}, true},
		{"2 h over a 1 h stream is within 10×", Probe{HasAudio: true, Duration: 3 * time.Hour, AudioDuration: time.Hour}, true},
		{"no streams", Probe{Duration: time.Minute}, false},
		{"no length at all", Probe{HasAudio: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := validate(tt.p); (err == nil) != tt.ok {
				t.Errorf("validate = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestContentType(t *testing.T) {
	for name, want := range map[string]string{
		"master.m3u8": "application/vnd.apple.mpegurl", "720p_00001.m4s": "video/iso.segment",
		"720p_init.mp4": "video/mp4", "download.mp4": "video/mp4", "download.m4a": "audio/mp4",
		"sprite.vtt": "text/vtt", "poster.jpg": "image/jpeg", "waveform.png": "image/png", "x.bin": "application/octet-stream",
	} {
		if got := ContentType(name); got != want {
			t.Errorf("ContentType(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestProgressParser(t *testing.T) {
	var got []Progress
	pp := &progressParser{total: 10 * time.Second, cap: 99, emit: func(p Progress) { got = append(got, p) }}
	for _, l := range strings.Split("frame=1\nout_time_us=N/A\nspeed=N/A\nprogress=continue\n"+
		"out_time_us=2500000\nspeed=2.5x\nprogress=continue\nout_time_us=10000000\nspeed=2x\nprogress=end", "\n") {
		pp.line(l)
	}
	want := []Progress{{}, {Percent: 25, ETA: 3 * time.Second, Speed: 2.5}, {Percent: 99, Speed: 2}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestSpriteGrid(t *testing.T) {
	tests := []struct {
		d, every   time.Duration
		fps        float64
		wantEvery  time.Duration
		cols, rows int
	}{
		{6 * time.Second, 10 * time.Second, 30, 10 * time.Second, 1, 1},
		{10 * time.Second, 10 * time.Second, 30, 10 * time.Second, 1, 1},
		{95 * time.Second, 10 * time.Second, 30, 10 * time.Second, 10, 1},
		{125 * time.Second, 10 * time.Second, 25, 10 * time.Second, 10, 2},
		{5 * time.Hour, 10 * time.Second, 25, 18 * time.Second, 10, 100},
	}
	for _, tt := range tests {
		every, cols, rows := spriteGrid(Probe{VideoDuration: tt.d, FrameRate: tt.fps}, tt.every)
		if every != tt.wantEvery || cols != tt.cols || rows != tt.rows {
			t.Errorf("spriteGrid(%v, %v) = %v %dx%d, want %v %dx%d", tt.d, tt.every, every, cols, rows, tt.wantEvery, tt.cols, tt.rows)
		}
	}
}

// BenchmarkLadderVsHandCommand compares Run with ffmpeg running Command alone (the one
// hand-written command that makes the whole ladder) on a 6 s 1080p clip with the default
// options (veryfast). The two alternate within each iteration, so that load from elsewhere
// falls on both; the target is pipeline/command ≤ 1.1.
func BenchmarkLadderVsHandCommand(b *testing.B) {
	needTools(b)
	dir := b.TempDir()
	src := filepath.Join(dir, "in.mp4")
	makeInput(b, "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-f", "lavfi", "-i", "sine=frequency=440",
		"-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", src)
	p, err := ProbeFile(b.Context(), src)
	if err != nil {
		b.Fatal(err)
	}
	fresh := func() string {
		out, err := os.MkdirTemp(dir, "out")
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	command := func() time.Duration {
		start := time.Now()
		if o, err := exec.CommandContext(b.Context(), "ffmpeg", Command(src, fresh(), p, Options{})...).CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, o)
		}
		return time.Since(start)
	}
	pipeline := func() time.Duration {
		start := time.Now()
		if _, err := Run(b.Context(), src, fresh(), Options{}, nil); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var cmd, pipe time.Duration
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			cmd += command()
			pipe += pipeline()
		} else {
			pipe += pipeline()
			cmd += command()
		}
	}
	b.ReportMetric(cmd.Seconds()/float64(b.N), "s-command/op")
	b.ReportMetric(pipe.Seconds()/float64(b.N), "s-pipeline/op")
	b.ReportMetric(pipe.Seconds()/cmd.Seconds(), "pipeline/command")
}
