// Package derive makes the pictures that stand for a media file on pages: image thumbnails,
// a video poster, an audio waveform, the first page of a PDF. It only runs local tools
// (ffmpeg, ffprobe, pdftoppm) on local files; storing the results is the caller's business.
//
// Every run is bounded by the caller's context: pass a timeout, since a hostile file may
// keep a decoder busy for a long time. Inputs are opened with the demuxer their media type
// names and with the file protocol only, so that a file cannot make ffmpeg read others.
package derive

import (
	"context"
	"errors"
	"fmt"
	"github.com/shizuishan/culturecloud/media/ffmpeg"
	"image"
	_ "image/jpeg" // DecodeConfig of the outputs
	_ "image/png"
	"io/fs"
	"mime"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Output is one file written into the output folder.
type Output struct {
	Name      string `json:"name"` // "thumb-480.jpg"
	Path      string `json:"path"` // where it is (the caller may reuse the field for a storage key)
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	MediaType string `json:"media_type"`
}

// ErrUnsupported means no derivatives are made for the media type.
var ErrUnsupported = errors.New("no derivatives for this media type")

// The names of the outputs.
const (
	Poster   = "poster.jpg"
	Waveform = "waveform.png"
)

// ThumbName names the JPEG thumbnail of the given width.
func ThumbName(width int) string { return "thumb-" + strconv.Itoa(width) + ".jpg" }

// ImageWidths are the thumbnail widths of an image (never wider than the image itself).
func ImageWidths() []int {
	return []int{160, 480, 1200}
}

const (
	thumbWidth  = 480  // the one thumbnail of video, audio and PDF
	posterWidth = 1280 // most a video poster is wide
	pageSize    = 1200 // the longer side of a rendered PDF page
	waveSize    = "1200x200"
	waveColor   = "0x2a5885"
	waveBG      = "0xf4f1ea" // behind the waveform in its JPEG thumbnail
	jpegQuality = "3"        // ffmpeg -q:v, 2 (best) to 31
)

type kind int

const (
	none kind = iota
	still
	moving
	sound
	document
)

// kinds maps each allowed media type to what is made and the demuxer that reads it.
var kinds = map[string]struct {
	kind    kind
	demuxer string
}{
	"image/jpeg":       {still, "jpeg_pipe"},
	"image/png":        {still, "png_pipe"},
	"image/tiff":       {still, "tiff_pipe"},
	"image/webp":       {still, "webp_pipe"},
	"video/mp4":        {moving, "mov"},
	"video/quicktime":  {moving, "mov"},
	"video/webm":       {moving, "matroska"},
	"video/x-matroska": {moving, "matroska"},
	"audio/mpeg":       {sound, "mp3"},
	"audio/wav":        {sound, "wav"},
	"audio/x-wav":      {sound, "wav"},
	"audio/vnd.wave":   {sound, "wav"},
	"audio/flac":       {sound, "flac"},
	"audio/x-flac":     {sound, "flac"},
	"audio/mp4":        {sound, "mov"},
	"audio/x-m4a":      {sound, "mov"},
	"application/pdf":  {document, ""},
	"text/plain":       {none, ""},
}

// Make writes the derivatives of the file at src, of mediaType, into outDir (created if
// needed) and describes them:
//
//   - images: thumb-160.jpg, thumb-480.jpg, thumb-1200.jpg (aspect kept, never upscaled)
//   - video: poster.jpg (a frame at 10% of the duration, at least 1 s in; ≤1280 wide) and
//     thumb-480.jpg; a "video" without a picture stream is treated as audio
//   - audio: waveform.png (1200×200, transparent) and thumb-480.jpg of it
//   - PDF: poster.jpg (page 1, longer side 1200) and thumb-480.jpg
//   - text/plain: nothing
//
// A tool failing on the file gives a *ToolError carrying the tool's own words.
func Make(ctx context.Context, src, mediaType, outDir string) ([]Output, error) {
	mt, _, err := mime.ParseMediaType(mediaType)
	if err != nil {
		return nil, fmt.Errorf("derive: media type %q: %w", mediaType, err)
	}
	k, ok := kinds[mt]
	if !ok {
		return nil, fmt.Errorf("derive: %s: %w", mt, ErrUnsupported)
	}
	if k.kind == none {
		return []Output{}, nil
	}
	if src, err = filepath.Abs(src); err != nil {
		return nil, err
	}
	if outDir, err = filepath.Abs(outDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o750); err != nil {
		return nil, fmt.Errorf("derive: %w", err)
	}
	var names []string
	switch k.kind {
	case still:
		names, err = images(ctx, src, k.demuxer, outDir)
	case moving, sound:
		names, err = media(ctx, src, k.demuxer, k.kind, outDir)
	case document:
		names, err = pdf(ctx, src, outDir)
	}
	if err != nil {
		return nil, fmt.Errorf("derive %s: %w", mt, err)
	}
	return describe(outDir, names)
}

// images makes the thumbnails in one decode of the picture.
func images(ctx context.Context, src, demuxer, outDir string) ([]string, error) {
	var graph strings.Builder
	// Transparent parts show white (JPEG has no alpha; otherwise their hidden colour shows).
	fmt.Fprintf(&graph, "color=white[bg];[bg][0:v:0]scale2ref[bg][img];"+
		"[bg][img]overlay=shortest=1:format=auto,split=%d", len(ImageWidths()))
	for i := range ImageWidths() {
		fmt.Fprintf(&graph, "[s%d]", i)
	}
	args := ffmpeg.Args()
	args = append(args, inputArgs(demuxer, src)...)
	var names, outs []string
	for i, w := range ImageWidths() {
		fmt.Fprintf(&graph, ";[s%d]%s[o%d]", i, fitWidth(w), i)
		names = append(names, ThumbName(w))
		outs = append(outs, jpegOut(fmt.Sprintf("[o%d]", i), filepath.Join(outDir, ThumbName(w)))...)
	}
	args = append(args, "-filter_complex", graph.String())
	args = append(args, outs...)
	return names, run(ctx, src, "ffmpeg", args...)
}

// media makes a video's poster or, when there is no picture, an audio waveform.
func media(ctx context.Context, src, demuxer string, k kind, outDir string) ([]string, error) {
	p, err := probeFile(ctx, demuxer, src)
	if err != nil {
		return nil, err
	}
	switch {
	case k == moving && p.Video:
		return poster(ctx, src, demuxer, posterTime(p.Duration), outDir)
	case p.Audio:
		return waveform(ctx, src, demuxer, outDir)
	case k == moving:
		return nil, errors.New("the file has neither a video nor an audio stream")
	default:
		return nil, errors.New("the file has no audio stream")
	}
}

// posterTime is 10% into the video, but at least 1 s in (or halfway through a shorter clip).
func posterTime(d time.Duration) time.Duration {
	t := d / 10
	if t < time.Second {
		t = min(time.Second, d/2)
	}
	return t
}

func poster(ctx context.Context, src, demuxer string, at time.Duration, outDir string) ([]string, error) {
	// Square pixels first (anamorphic video), then the poster and its thumbnail.
	graph := "[0:v:0]scale=w='trunc(iw*sar)':h=ih,setsar=1," + fitWidth(posterWidth) +
		",split=2[p][t0];[t0]" + fitWidth(thumbWidth) + "[t]"
	posterPath := filepath.Join(outDir, Poster)
	for _, seek := range []time.Duration{at, 0} {
		if err := os.Remove(posterPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		args := ffmpeg.Args()
		args = append(args, "-ss", strconv.FormatFloat(seek.Seconds(), 'f', 3, 64))
		args = append(args, inputArgs(demuxer, src)...)
		args = append(args, "-filter_complex", graph)
		args = append(args, jpegOut("[p]", posterPath)...)
		args = append(args, jpegOut("[t]", filepath.Join(outDir, ThumbName(thumbWidth)))...)
		if err := run(ctx, src, "ffmpeg", args...); err != nil {
			return nil, err
		}
		if _, err := os.Stat(posterPath); err == nil {
			return []string{Poster, ThumbName(thumbWidth)}, nil
		}
		// Seeking past the last frame (a wrong duration) encodes nothing: try the start.
	}
	return nil, errors.New("ffmpeg: no video frame could be decoded")
}

func waveform(ctx context.Context, src, demuxer, outDir string) ([]string, error) {
	// Mono 16-bit at 8 kHz keeps the picture's shape while bounding the memory that
	// showwavespic holds for a long recording.
	graph := "[0:a:0]aresample=8000,aformat=sample_fmts=s16:channel_layouts=mono," +
		"showwavespic=s=" + waveSize + ":colors=" + waveColor + ",split=2[w][t0];" +
		"color=c=" + waveBG + ":s=" + waveSize + "[bg];[bg][t0]overlay=shortest=1:format=auto," +
		fitWidth(thumbWidth) + "[t]"
	args := ffmpeg.Args()
	args = append(args, inputArgs(demuxer, src)...)
	args = append(args, "-filter_complex", graph,
		"-map", "[w]", "-frames:v", "1", "-update", "1", ffmpeg.FileURL(filepath.Join(outDir, Waveform)))
	args = append(args, jpegOut("[t]", filepath.Join(outDir, ThumbName(thumbWidth)))...)
	if err := run(ctx, src, "ffmpeg", args...); err != nil {
		return nil, err
	}
	return []string{Waveform, ThumbName(thumbWidth)}, nil
}

// pdf renders page 1 with pdftoppm, then makes its thumbnail.
func pdf(ctx context.Context, src, outDir string) ([]string, error) {
	prefix := filepath.Join(outDir, strings.TrimSuffix(Poster, ".jpg")) // -singlefile adds ".jpg"
	if err := run(ctx, src, "pdftoppm", "-f", "1", "-l", "1", "-singlefile", "-jpeg", "-jpegopt", "quality=85",
		"-scale-to", strconv.Itoa(pageSize), src, prefix); err != nil {
		return nil, err
	}
	posterPath := filepath.Join(outDir, Poster)
	args := ffmpeg.Args()
	args = append(args, inputArgs("jpeg_pipe", posterPath)...)
	args = append(args, "-filter_complex", "[0:v:0]"+fitWidth(thumbWidth)+"[t]")
	args = append(args, jpegOut("[t]", filepath.Join(outDir, ThumbName(thumbWidth)))...)
	if err := run(ctx, posterPath, "ffmpeg", args...); err != nil {
		return nil, err
	}
	return []string{Poster, ThumbName(thumbWidth)}, nil
}

// fitWidth scales to w wide, or leaves narrower pictures alone, keeping the aspect.
func fitWidth(w int) string {
	return fmt.Sprintf("scale=w='min(%d,iw)':h=-1:flags=lanczos", w)
}

// jpegOut writes the filter output label as one JPEG file.
func jpegOut(label, path string) []string {
	return []string{"-map", label, "-frames:v", "1", "-update", "1", "-q:v", jpegQuality, ffmpeg.FileURL(path)}
}

// describe reads the size of each output back from the file.
func describe(outDir string, names []string) ([]Output, error) {
	out := make([]Output, 0, len(names))
	for _, name := range names {
		path := filepath.Join(outDir, name)
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("derive: output missing: %w", err)
		}
		cfg, format, err := image.DecodeConfig(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("derive: output %s unreadable: %w", name, err)
		}
		out = append(out, Output{Name: name, Path: path, Width: cfg.Width, Height: cfg.Height, MediaType: "image/" + format})
	}
	return out, nil
}
