package transcode

import (
	"github.com/shizuishan/culturecloud/media/ffmpeg"
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
type ToolError = ffmpeg.ToolError

// formats are the demuxers a source may be read with (ffmpeg's -format_whitelist). Playlists
// (hls, concat) and image sequences are left out, so that a file cannot make ffmpeg read others.
const formats = "mov,matroska,webm,avi,flv,mpegts,mpeg,asf,mp3,wav,w64,flac,ogg,aac,aiff"

// inputArgs open src with the allowed demuxers and the file protocol only.
func inputArgs(src string) []string {
	return []string{"-format_whitelist", formats, "-protocol_whitelist", "file", "-i", ffmpeg.FileURL(src)}
}

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
