package derive

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/shizuishan/culturecloud/media/ffmpeg"
	"strconv"
	"time"
)

// ToolError is a failed run of ffmpeg, ffprobe or pdftoppm, with the tool's own words.
type ToolError = ffmpeg.ToolError

// run runs a tool until it ends or ctx does; src is the input path, hidden from messages.
func run(ctx context.Context, src, tool string, args ...string) error {
	_, err := ffmpeg.Run(ctx, src, tool, args, nil)
	return err
}

// inputArgs open src with a forced demuxer (so that a file cannot pass itself off as a
// playlist that makes ffmpeg read other files) and only the file protocol.
func inputArgs(demuxer, src string) []string {
	return []string{"-f", demuxer, "-protocol_whitelist", "file", "-i", ffmpeg.FileURL(src)}
}

// probe is what ffprobe says of an input.
type probe struct {
	Duration time.Duration // 0 when unknown
	Video    bool          // a real video stream, not cover art
	Audio    bool
}

func probeFile(ctx context.Context, demuxer, src string) (probe, error) {
	args := []string{"-v", "error", "-of", "json",
		"-show_entries", "format=duration:stream=codec_type:stream_disposition=attached_pic",
		"-f", demuxer, "-protocol_whitelist", "file", ffmpeg.FileURL(src)}
	out, err := ffmpeg.Output(ctx, src, "ffprobe", args)
	if err != nil {
		return probe{}, err
	}
	var r struct {
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
		Streams []struct {
			CodecType   string `json:"codec_type"`
			Disposition struct {
				AttachedPic int `json:"attached_pic"`
			} `json:"disposition"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return probe{}, fmt.Errorf("ffprobe: unreadable answer: %w", err)
	}
	var p probe
	if secs, err := strconv.ParseFloat(r.Format.Duration, 64); err == nil && secs > 0 {
		p.Duration = time.Duration(secs * float64(time.Second))
	}
	for _, s := range r.Streams {
		switch {
		case s.CodecType == "video" && s.Disposition.AttachedPic == 0:
			p.Video = true
		case s.CodecType == "audio":
			p.Audio = true
		}
	}
	return p, nil
}
