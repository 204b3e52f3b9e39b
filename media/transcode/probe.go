package transcode

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/shizuishan/culturecloud/media/ffmpeg"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Probe is what ffprobe says of a source. Width and Height are as displayed: square pixels,
// and swapped for a phone video stored sideways with a rotation.
type Probe struct {
	Duration      time.Duration // the container's, or the longest stream's when it has none
	HasVideo      bool          // a real picture stream, not cover art
	HasAudio      bool
	Width, Height int
	FrameRate     float64 // 0 when unknown
	VideoCodec    string  // "h264"
	AudioCodec    string  // "aac"
	VideoDuration time.Duration
	AudioDuration time.Duration

	format      string // ffprobe's format_name, "mov,mp4,m4a,3gp,3g2,mj2"
	videoStream string // the chosen streams as ffmpeg -map specifiers, "0:1"
	audioStream string
	video       ffStream // the chosen video stream's header (coded size, aspect, rotation)
}

// ProbeFile runs ffprobe on the file at path. An unreadable file gives an *InputError.
func ProbeFile(ctx context.Context, path string) (Probe, error) {
	args := []string{"-v", "error", "-show_streams", "-show_format", "-of", "json",
		"-format_whitelist", formats, "-protocol_whitelist", "file", ffmpeg.FileURL(path)}
	out, err := ffmpeg.Output(ctx, path, "ffprobe", args)
	if te := (*ToolError)(nil); errors.As(err, &te) && ctx.Err() == nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) { // ffprobe ran and could not read the file
			return Probe{}, &InputError{Reason: "this is not a video or audio file that can be read", FFmpeg: te.Stderr}
		}
	}
	if err != nil {
		return Probe{}, err
	}
	p, err := parseProbe(out)
	if err != nil {
		return Probe{}, fmt.Errorf("transcode: ffprobe: %w", err)
	}
	if p.HasVideo {
		if err := largestPicture(ctx, path, &p); err != nil {
			return Probe{}, err
		}
	}
	return p, nil
}

// largestPicture raises Width and Height to the largest keyframe of the video stream. A
// stream's header gives the size of its first parameter set only, and a recorded WebRTC
// stream starts small: the browser's encoder sends 320×180 until it has learned the
// bandwidth, then 1280×720 from a new keyframe on. Sized from the header, the ladder of
// such a lecture was one 320-pixel rung. A picture changes size only at a keyframe, so
// decoding keyframes alone finds the largest one, at a small part of the cost of the
// transcode that follows. The sizes are read line by line, so that a source of keyframes
// only costs no memory either.
func largestPicture(ctx context.Context, path string, p *Probe) error {
	args := []string{"-v", "error", "-select_streams", strings.TrimPrefix(p.videoStream, "0:"), "-skip_frame", "nokey",
		"-show_entries", "frame=width,height", "-of", "csv=p=0",
		"-format_whitelist", formats, "-protocol_whitelist", "file", ffmpeg.FileURL(path)}
	s := p.video
	if _, err := ffmpeg.Run(ctx, path, "ffprobe", args, func(line string) {
		w, h, ok := strings.Cut(line, ",")
		h, _, _ = strings.Cut(h, ",") // side data may follow
		fw, err1 := strconv.Atoi(w)
		fh, err2 := strconv.Atoi(h)
		if ok && err1 == nil && err2 == nil && fw > 0 && fh > 0 && fw*fh > s.Width*s.Height {
			s.Width, s.Height = fw, fh
		}
	}); err != nil {
		var te *ToolError
		if ctx.Err() != nil || !errors.As(err, &te) {
			return fmt.Errorf("transcode: picture sizes: %w", err)
		}
		// ffprobe read the header but not the pictures: the header's size stays, as the
		// full decode that follows judges whether the file is readable.
		return nil
	}
	p.Width, p.Height = displaySize(s)
	return nil
}

type ffStream struct {
	Index        int     `json:"index"`
	CodecType    string  `json:"codec_type"`
	CodecName    string  `json:"codec_name"`
	Width        int     `json:"width"`
	Height       int     `json:"height"`
	SAR          string  `json:"sample_aspect_ratio"`
	AvgFrameRate string  `json:"avg_frame_rate"`
	RFrameRate   string  `json:"r_frame_rate"`
	StartTime    string  `json:"start_time"`
	Duration     string  `json:"duration"`
	Disposition  ffDispo `json:"disposition"`
	Tags         struct {
		Duration string `json:"DURATION"` // Matroska
		Rotate   string `json:"rotate"`
	} `json:"tags"`
	SideData []struct {
		Rotation float64 `json:"rotation"`
	} `json:"side_data_list"`
}

type ffDispo struct {
	AttachedPic int `json:"attached_pic"`
}

func parseProbe(out []byte) (Probe, error) {
	var r struct {
		Format struct {
			Name     string `json:"format_name"`
			Duration string `json:"duration"`
		} `json:"format"`
		Streams []ffStream `json:"streams"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return Probe{}, fmt.Errorf("unreadable answer: %w", err)
	}
	p := Probe{format: r.Format.Name, Duration: seconds(r.Format.Duration)}
	for _, s := range r.Streams {
		switch {
		case s.CodecType == "video" && s.Disposition.AttachedPic == 0 && !p.HasVideo && s.Width > 0 && s.Height > 0:
			p.HasVideo = true
			p.videoStream = "0:" + strconv.Itoa(s.Index)
			p.video = s
			p.VideoCodec = s.CodecName
			p.VideoDuration = streamDuration(s)
			p.Width, p.Height = displaySize(s)
			p.FrameRate = rate(s.AvgFrameRate)
			if p.FrameRate == 0 {
				p.FrameRate = rate(s.RFrameRate)
			}
		case s.CodecType == "audio" && !p.HasAudio:
			p.HasAudio = true
			p.audioStream = "0:" + strconv.Itoa(s.Index)
			p.AudioCodec = s.CodecName
			p.AudioDuration = streamDuration(s)
		}
	}
	if p.Duration <= 0 {
		p.Duration = max(p.VideoDuration, p.AudioDuration)
	}
	return p, nil
}

// streamDuration is how long a stream's data lasts. Matroska gives only a DURATION tag, which
// is where the stream ends, so its start is taken off.
func streamDuration(s ffStream) time.Duration {
	if d := seconds(s.Duration); d > 0 {
		return d
	}
	h, rest, ok1 := strings.Cut(s.Tags.Duration, ":")
	m, sec, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return 0
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	ss, err3 := strconv.ParseFloat(sec, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0
	}
	end := time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute + time.Duration(ss*float64(time.Second))
	return max(0, end-max(0, seconds(s.StartTime)))
}

// displaySize applies the sample aspect ratio (to square pixels) and a quarter-turn rotation.
func displaySize(s ffStream) (int, int) {
	w, h := s.Width, s.Height
	if n, d, ok := strings.Cut(s.SAR, ":"); ok {
		sn, _ := strconv.Atoi(n)
		sd, _ := strconv.Atoi(d)
		if sn > 0 && sd > 0 && sn != sd {
			w = even(float64(w) * float64(sn) / float64(sd))
		}
	}
	rot, _ := strconv.ParseFloat(s.Tags.Rotate, 64)
	for _, sd := range s.SideData {
		if sd.Rotation != 0 {
			rot = sd.Rotation
		}
	}
	if r := math.Mod(math.Abs(rot), 180); r > 45 && r < 135 {
		w, h = h, w
	}
	return w, h
}

func seconds(s string) time.Duration {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) || f > 1e9 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

func rate(s string) float64 {
	n, d, ok := strings.Cut(s, "/")
	if !ok {
		return 0
	}
	fn, err1 := strconv.ParseFloat(n, 64)
	fd, err2 := strconv.ParseFloat(d, 64)
	if err1 != nil || err2 != nil || fn <= 0 || fd <= 0 || fn/fd > 1000 {
		return 0
	}
	return fn / fd
}

// Limits on how much longer a container may say it lasts than its streams.
const (
	lieSlack  = 10 * time.Minute
	lieFactor = 10
)

// validate refuses a probed source that cannot give a useful result.
func validate(p Probe) error {
	if !p.HasVideo && !p.HasAudio {
		return &InputError{Reason: "the file has neither a picture nor a sound stream"}
	}
	longest := max(p.VideoDuration, p.AudioDuration)
	if longest > 0 && p.Duration > longest+lieSlack && p.Duration > lieFactor*longest {
		return &InputError{Reason: fmt.Sprintf("the file says it lasts %s but its streams last only %s; "+
			"it is damaged or was made to mislead", p.Duration.Round(time.Second), longest.Round(time.Millisecond))}
	}
	if p.Duration <= 0 {
		return &InputError{Reason: "the length of the file cannot be read"}
	}
	return nil
}

// checkBoxes walks the top-level boxes of an MP4/MOV file and refuses one that ends before
// its last box does: an upload cut short whose index (moov) came first still probes as whole,
// and ffmpeg would quietly transcode only the part that is there.
func checkBoxes(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	var hdr [16]byte
	for off := int64(0); off < size; {
		if size-off < 8 {
			return nil // trailing padding
		}
		if _, err := f.ReadAt(hdr[:8], off); err != nil {
			return err
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		switch n {
		case 0: // to the end of the file
			return nil
		case 1:
			if _, err := f.ReadAt(hdr[8:16], off+8); err != nil {
				return nil // too short to say; ffprobe has read it
			}
			n = int64(binary.BigEndian.Uint64(hdr[8:16]))
		}
		if n < 8 {
			return nil // not a box structure ffprobe cared about
		}
		if off+n > size {
			return &InputError{Reason: fmt.Sprintf("the file is cut off: it has %d of %d bytes; upload it again",
				size, off+n)}
		}
		off += n
	}
	return nil
}
