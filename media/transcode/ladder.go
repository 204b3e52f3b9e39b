package transcode

import (
	"fmt"
	"github.com/shizuishan/culturecloud/media/ffmpeg"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Rung is one rendition of the ladder. Name is the size class by the picture's shorter side
// ("720p"); an audio-only source has the one rung "audio" with no picture.
type Rung struct {
	Name      string
	Width     int
	Height    int
	VideoKbps int
	AudioKbps int
}

// rungs are the standard sizes, shorter side and video bitrate, largest first.
var rungs = []struct{ short, kbps int }{
	{1080, 4500},
	{720, 2500},
	{480, 1200},
	{360, 700},
}

const (
	audioKbps   = 128
	audioRate   = "48000"
	maxrateX    = 1.07 // -maxrate over -b:v
	bufsizeX    = 1.5  // -bufsize over -b:v
	keyInterval = 2    // seconds between keyframes in every rung
	minKbps     = 150  // the least a tiny source's one rung gets
	audioName   = "audio"
	audioGroup  = "aud"
)

// Ladder chooses the renditions for a source: every standard size whose shorter side the
// source reaches (never upscaled), keeping the source's shape; a source smaller than 360p gets
// one rung of its own size (rounded down to even), a source without picture one audio rung.
func Ladder(p Probe) []Rung {
	ak := 0
	if p.HasAudio {
		ak = audioKbps
	}
	if !p.HasVideo || p.Width <= 0 || p.Height <= 0 {
		return []Rung{{Name: audioName, AudioKbps: audioKbps}}
	}
	short, long := p.Height, p.Width
	portrait := p.Height > p.Width
	if portrait {
		short, long = long, short
	}
	var out []Rung
	for _, r := range rungs {
		if short < r.short {
			continue
		}
		l := min(even(float64(r.short)*float64(long)/float64(short)), long&^1)
		out = append(out, rung(r.short, l, portrait, r.kbps, ak))
	}
	if len(out) == 0 {
		s, l := max(2, short&^1), max(2, long&^1)
		px := float64(s * l)
		kbps := max(minKbps, int(math.Round(float64(rungs[len(rungs)-1].kbps)*px/(640*360)/10)*10))
		out = append(out, rung(s, l, portrait, kbps, ak))
	}
	return out
}

func rung(short, long int, portrait bool, kbps, ak int) Rung {
	r := Rung{Name: strconv.Itoa(short) + "p", Width: long, Height: short, VideoKbps: kbps, AudioKbps: ak}
	if portrait {
		r.Width, r.Height = short, long
	}
	return r
}

// even rounds to the nearest even number, as H.264 in 4:2:0 wants.
func even(f float64) int { return int(math.Round(f/2)) * 2 }

// Options tune a run; the zero value is the default.
type Options struct {
	SegmentSeconds int           // HLS segment length, a multiple of 2 (keyframes come every 2 s); default 2
	Preset         string        // libx264 preset; default "veryfast"
	SpriteEvery    time.Duration // time between seek-preview tiles; default 10 s
	Threads        int           // encoder and filter threads; 0 lets ffmpeg choose
}

func (o Options) withDefaults() Options {
	if o.SegmentSeconds == 0 {
		o.SegmentSeconds = 2
	}
	if o.Preset == "" {
		o.Preset = "veryfast"
	}
	if o.SpriteEvery <= 0 {
		o.SpriteEvery = 10 * time.Second
	}
	return o
}

func (o Options) check() error {
	if o.SegmentSeconds <= 0 || o.SegmentSeconds%keyInterval != 0 || o.SegmentSeconds > 10 {
		return fmt.Errorf("transcode: segment length %d s: want 2, 4, 6, 8 or 10", o.SegmentSeconds)
	}
	for _, c := range o.Preset {
		if c < 'a' || c > 'z' {
			return fmt.Errorf("transcode: preset %q is not an x264 preset name", o.Preset)
		}
	}
	if o.Threads < 0 {
		return fmt.Errorf("transcode: %d threads", o.Threads)
	}
	return nil
}

// The names of the outputs; a rung's files are "<rung>.m3u8", "<rung>_init.mp4" and
// "<rung>_00000.m4s" onwards, the audio rendition's "audio.m3u8" and so on.
const (
	MasterName   = "master.m3u8"
	PosterName   = "poster.jpg"
	SpriteName   = "sprite.jpg"
	SpriteVTT    = "sprite.vtt"
	DownloadName = "download.mp4" // the middle rung with the sound, moov first
	AudioName    = "download.m4a" // an audio source's download
	WaveformName = "waveform.png"
)

// Sizes of the pictures.
const (
	posterLong  = 1280 // most a poster's longer side is
	tileW       = 160
	tileH       = 90
	tileCols    = 10
	maxTiles    = 1000 // a longer source gets tiles further apart
	waveSize    = "1200x200"
	waveColor   = "0x2a5885"
	jpegQuality = "3" // ffmpeg -q:v, 2 (best) to 31
)

// Command returns the ffmpeg arguments (without the program name) of the one command that
// Run uses for the work: it decodes the source once and writes the whole HLS ladder, the
// poster and the sprite (or, for sound, the audio rendition and the waveform) into outDir,
// reporting progress on stdout. Run then only remuxes the download file from the ladder.
func Command(src, outDir string, p Probe, o Options) []string {
	o = o.withDefaults()
	ladder := Ladder(p)
	args := ffmpeg.Args()
	if o.Threads > 0 {
		args = append(args, "-filter_complex_threads", strconv.Itoa(o.Threads))
	}
	args = append(args, inputArgs(src)...)
	vin, ain := or(p.videoStream, "0:v:0"), or(p.audioStream, "0:a:0")

	var graph []string
	var maps, vsm []string
	if p.HasVideo {
		n := len(ladder) + 2 // the rungs, the poster and the sprite
		var split strings.Builder
		fmt.Fprintf(&split, "[%s]split=%d", vin, n)
		for i := range ladder {
			fmt.Fprintf(&split, "[s%d]", i)
		}
		split.WriteString("[sp][ss]")
		graph = append(graph, split.String())
		for i, r := range ladder {
			graph = append(graph, fmt.Sprintf("[s%d]scale=%d:%d,setsar=1,format=yuv420p[v%d]", i, r.Width, r.Height, i))
			maps = append(maps, "-map", fmt.Sprintf("[v%d]", i))
		}
		pw, ph := fit(ladder[0].Width, ladder[0].Height, posterLong)
		graph = append(graph, fmt.Sprintf("[sp]trim=start=%s,scale=%d:%d,setsar=1[poster]",
			secs(posterTime(p)), pw, ph))
		every, cols, rows := spriteGrid(p, o.SpriteEvery)
		graph = append(graph, fmt.Sprintf("[ss]select='gte(t,selected_n*%s)',"+
			"scale=%d:%d:force_original_aspect_ratio=decrease,pad=%d:%d:(ow-iw)/2:(oh-ih)/2,setsar=1,tile=%dx%d[sprite]",
			secs(every), tileW, tileH, tileW, tileH, cols, rows))
	}
	if p.HasAudio {
		maps = append(maps, "-map", ain)
		if !p.HasVideo {
			graph = append(graph, fmt.Sprintf("[%s]aresample=8000,aformat=sample_fmts=s16:channel_layouts=mono,"+
				"showwavespic=s=%s:colors=%s[wave]", ain, waveSize, waveColor))
		}
		vsm = append(vsm, fmt.Sprintf("a:0,agroup:%s,name:%s", audioGroup, audioName))
	}
	if len(graph) > 0 {
		args = append(args, "-filter_complex", strings.Join(graph, ";"))
	}
	args = append(args, maps...)
	if o.Threads > 0 {
		args = append(args, "-threads", strconv.Itoa(o.Threads))
	}
	if p.HasVideo {
		args = append(args, "-c:v", "libx264", "-preset", o.Preset,
			"-force_key_frames:v", fmt.Sprintf("expr:gte(t,n_forced*%d)", keyInterval), "-sc_threshold", "0")
		if g := int(math.Round(p.FrameRate * keyInterval)); g > 0 && p.FrameRate <= 240 {
			args = append(args, "-g", strconv.Itoa(g), "-keyint_min", strconv.Itoa(g))
		}
		for i, r := range ladder {
			profile := "high"
			if min(r.Width, r.Height) < 720 {
				profile = "main"
			}
			v := ":v:" + strconv.Itoa(i)
			args = append(args, "-profile"+v, profile,
				"-b"+v, kbps(r.VideoKbps), "-maxrate"+v, kbps(int(math.Round(float64(r.VideoKbps)*maxrateX))),
				"-bufsize"+v, kbps(int(math.Round(float64(r.VideoKbps)*bufsizeX))))
			s := fmt.Sprintf("v:%d,name:%s", i, r.Name)
			if p.HasAudio {
				s = fmt.Sprintf("v:%d,agroup:%s,name:%s", i, audioGroup, r.Name)
			}
			vsm = append(vsm, s)
		}
	}
	if p.HasAudio {
		args = append(args, "-c:a", "aac", "-b:a", kbps(audioKbps), "-ar", audioRate, "-ac", "2")
	}
	args = append(args, "-f", "hls", "-hls_time", strconv.Itoa(o.SegmentSeconds),
		"-hls_playlist_type", "vod", "-hls_segment_type", "fmp4", "-hls_flags", "independent_segments",
		"-hls_fmp4_init_filename", "%v_init.mp4",
		"-hls_segment_filename", ffmpeg.FileURL(filepath.Join(outDir, "%v_%05d.m4s")),
		"-master_pl_name", MasterName, "-var_stream_map", strings.Join(vsm, " "),
		ffmpeg.FileURL(filepath.Join(outDir, "%v.m3u8")))
	if p.HasVideo {
		args = append(args, "-map", "[poster]", "-frames:v", "1", "-update", "1", "-q:v", jpegQuality,
			ffmpeg.FileURL(filepath.Join(outDir, PosterName)))
		args = append(args, "-map", "[sprite]", "-frames:v", "1", "-update", "1", "-q:v", "5",
			ffmpeg.FileURL(filepath.Join(outDir, SpriteName)))
	} else {
		args = append(args, "-map", "[wave]", "-frames:v", "1", "-update", "1",
			ffmpeg.FileURL(filepath.Join(outDir, WaveformName)))
	}
	return append(args, "-progress", "pipe:1", "-nostats")
}

func or(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

func kbps(k int) string { return strconv.Itoa(k) + "k" }

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// fit scales w×h down so that its longer side is at most long.
func fit(w, h, long int) (int, int) {
	if w <= long && h <= long {
		return w, h
	}
	if w >= h {
		return long, even(float64(h) * float64(long) / float64(w))
	}
	return even(float64(w) * float64(long) / float64(h)), long
}

// posterTime is 10% into the picture.
func posterTime(p Probe) time.Duration {
	return or2(p.VideoDuration, p.Duration) / 10
}

func or2(d, dflt time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return dflt
}

// spriteGrid says how far apart the tiles are and how they are laid out: one tile at the
// start of each interval the picture reaches, up to maxTiles.
func spriteGrid(p Probe, every time.Duration) (time.Duration, int, int) {
	d := or2(p.VideoDuration, p.Duration)
	// The least interval, in whole seconds, that keeps to maxTiles.
	if limit := (d + maxTiles*time.Second - 1) / (maxTiles * time.Second) * time.Second; every < limit {
		every = limit
	}
	last := d // the time of the last frame
	if p.FrameRate > 0 {
		last -= time.Duration(float64(time.Second) / p.FrameRate)
	}
	n := max(1, int(last/every)+1)
	cols := min(tileCols, n)
	return every, cols, (n + cols - 1) / cols
}
