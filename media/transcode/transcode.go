// Package transcode turns an uploaded video or audio file into adaptive streaming for phones
// on mobile networks: HLS with fMP4 (CMAF) segments in a ladder of H.264 renditions chosen
// from the source (1080p, 720p, 480p, 360p, never upscaled) sharing one AAC audio rendition,
// with keyframes every 2 s in every rung so that segments line up across rungs. Alongside it
// writes a poster, a sprite of seek previews with its WebVTT map, and a progressive MP4 for
// download; a sound-only source gets an audio rendition, an M4A download and a waveform.
//
// One ffmpeg command decodes the source once and writes the ladder and the pictures; a second
// only copies the middle rung and the sound into the download file. Storing the results is the
// caller's business: ContentType gives the media type of each file.
//
// Sources are read with a fixed list of demuxers and the file protocol only, so that an upload
// cannot make ffmpeg read other files; still, decoding a hostile file may take long, so bound
// Run with a context deadline and run it with the privileges of a worker, not of the server.
package transcode

import (
	"bytes"
	"context"
	"fmt"
	"github.com/shizuishan/culturecloud/media/ffmpeg"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Progress is how far a run is. Percent reaches 100 only when every file is written.
type Progress struct {
	Percent float64
	ETA     time.Duration // 0 when unknown
	Speed   float64       // media seconds per second of work, as ffmpeg counts ("2.5x")
}

// Result names what Run wrote; every name is relative to outDir.
type Result struct {
	Master    string // "master.m3u8"
	Rungs     []Rung
	Poster    string // "" for sound
	Sprite    string // "" for sound
	SpriteVTT string // "" for sound
	Download  string // "download.mp4", or "download.m4a" for sound
	Waveform  string // "" for video
	Files     []string
	Probe     Probe
}

// Run transcodes src into outDir, which must exist and be empty. It probes and validates
// the source first: a file that is empty, not a media file, without picture and sound, cut
// off, or whose container claims far more time than its streams hold (more than 10 minutes
// and 10× longer) gives an *InputError. progress, if not nil, is called from one goroutine
// at a time, never after Run returns, and last with Percent 100. The file names depend only
// on the source's shape, so a second run into a fresh folder writes the same names. On an
// error outDir may hold partial output; the caller discards it.
func Run(ctx context.Context, src, outDir string, o Options, progress func(Progress)) (Result, error) {
	o = o.withDefaults()
	if err := o.check(); err != nil {
		return Result{}, err
	}
	var err error
	if src, err = filepath.Abs(src); err != nil {
		return Result{}, err
	}
	if outDir, err = filepath.Abs(outDir); err != nil {
		return Result{}, err
	}
	if err := emptyDir(outDir); err != nil {
		return Result{}, err
	}
	p, err := source(ctx, src)
	if err != nil {
		return Result{}, err
	}

	pp := &progressParser{total: p.Duration, emit: progress, cap: 99}
	stderr, err := ffmpeg.Run(ctx, src, "ffmpeg", Command(src, outDir, p, o), pp.line)
	if err != nil {
		return Result{}, fmt.Errorf("transcode: ladder: %w", err)
	}
	if strings.Contains(stderr, "partial file") {
		return Result{}, &InputError{Reason: "the file is cut off before its end; upload it again", FFmpeg: stderr}
	}

	res := Result{Master: MasterName, Rungs: Ladder(p), Probe: p}
	if err := fixMaster(filepath.Join(outDir, MasterName), p.HasVideo); err != nil {
		return Result{}, err
	}
	if p.HasVideo {
		if err := ensurePoster(ctx, src, outDir, p); err != nil {
			return Result{}, err
		}
		res.Poster, res.Sprite, res.SpriteVTT = PosterName, SpriteName, SpriteVTT
		if err := writeVTT(filepath.Join(outDir, SpriteVTT), p, o.SpriteEvery); err != nil {
			return Result{}, err
		}
		res.Download = DownloadName
		mid := res.Rungs[(len(res.Rungs)-1)/2].Name
		if err := remux(ctx, outDir, mid, p.HasAudio, DownloadName); err != nil {
			return Result{}, err
		}
	} else {
		res.Waveform, res.Download = WaveformName, AudioName
		if err := remux(ctx, outDir, "", true, AudioName); err != nil {
			return Result{}, err
		}
	}
	if res.Files, err = listFiles(outDir); err != nil {
		return Result{}, err
	}
	if progress != nil {
		progress(Progress{Percent: 100, Speed: pp.speed})
	}
	return res, nil
}

// source probes and validates the file at src.
func source(ctx context.Context, src string) (Probe, error) {
	fi, err := os.Stat(src)
	if err != nil {
		return Probe{}, fmt.Errorf("transcode: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Probe{}, fmt.Errorf("transcode: %s is not a regular file", src)
	}
	if fi.Size() == 0 {
		return Probe{}, &InputError{Reason: "the file is empty (0 bytes)"}
	}
	p, err := ProbeFile(ctx, src)
	if err != nil {
		return Probe{}, err
	}
	if err := validate(p); err != nil {
		return Probe{}, err
	}
	if strings.HasPrefix(p.format, "mov,") {
		if err := checkBoxes(src); err != nil {
			return Probe{}, err
		}
	}
	return p, nil
}

func emptyDir(dir string) error {
	if strings.ContainsRune(dir, '%') {
		return fmt.Errorf("transcode: output folder %q: no %% allowed (ffmpeg reads it as a pattern)", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("transcode: output folder: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("transcode: output folder %s is not empty", dir)
	}
	return nil
}

// fixMaster drops the audio-only variant that ffmpeg lists beside the video rungs when they
// share an audio group: a player on a slow network would otherwise pick sound without picture.
func fixMaster(path string, hasVideo bool) error {
	if !hasVideo {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("transcode: master playlist: %w", err)
	}
	lines := strings.Split(string(b), "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "#EXT-X-STREAM-INF:") && !strings.Contains(l, "RESOLUTION=") {
			i++ // and its URI line
			continue
		}
		out = append(out, l)
	}
	return os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644)
}

// ensurePoster makes the poster from the first frame when the one at 10% was not written
// (the picture ends before the probed length says).
func ensurePoster(ctx context.Context, src, outDir string, p Probe) error {
	path := filepath.Join(outDir, PosterName)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	l := Ladder(p)[0]
	w, h := fit(l.Width, l.Height, posterLong)
	args := ffmpeg.Args()
	args = append(args, inputArgs(src)...)
	args = append(args, "-map", or(p.videoStream, "0:v:0"), "-vf", fmt.Sprintf("scale=%d:%d,setsar=1", w, h),
		"-frames:v", "1", "-update", "1", "-q:v", jpegQuality, ffmpeg.FileURL(path))
	if _, err := ffmpeg.Run(ctx, src, "ffmpeg", args, nil); err != nil {
		return fmt.Errorf("transcode: poster: %w", err)
	}
	if _, err := os.Stat(path); err != nil {
		return &InputError{Reason: "no picture could be decoded from the file"}
	}
	return nil
}

// remux copies a rung and the sound from their playlists into one progressive file with
// the index first, so that it plays while it downloads.
func remux(ctx context.Context, outDir, rung string, withAudio bool, name string) error {
	args := ffmpeg.Args()
	var maps []string
	in := 0
	if rung != "" {
		args = append(args, "-protocol_whitelist", "file", "-i", ffmpeg.FileURL(filepath.Join(outDir, rung+".m3u8")))
		maps = append(maps, "-map", "0:v:0")
		in++
	}
	if withAudio {
		args = append(args, "-protocol_whitelist", "file", "-i", ffmpeg.FileURL(filepath.Join(outDir, audioName+".m3u8")))
		maps = append(maps, "-map", fmt.Sprintf("%d:a:0", in))
	}
	args = append(args, maps...)
	args = append(args, "-c", "copy", "-movflags", "+faststart", "-f", "mp4", ffmpeg.FileURL(filepath.Join(outDir, name)))
	if _, err := ffmpeg.Run(ctx, "", "ffmpeg", args, nil); err != nil {
		return fmt.Errorf("transcode: download file: %w", err)
	}
	return nil
}

// writeVTT maps each sprite tile to the time from its frame to the next tile's.
func writeVTT(path string, p Probe, every time.Duration) error {
	every, cols, rows := spriteGrid(p, every)
	d := or2(p.VideoDuration, p.Duration)
	var b bytes.Buffer
	b.WriteString("WEBVTT\n")
	for i := range cols * rows {
		from := time.Duration(i) * every
		if from >= d {
			break
		}
		to := min(from+every, d)
		if i == cols*rows-1 {
			to = d
		}
		fmt.Fprintf(&b, "\n%s --> %s\n%s#xywh=%d,%d,%d,%d\n", vttTime(from), vttTime(to),
			SpriteName, (i%cols)*tileW, (i/cols)*tileH, tileW, tileH)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func vttTime(d time.Duration) string {
	d = d.Round(time.Millisecond)
	return fmt.Sprintf("%02d:%02d:%02d.%03d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60,
		d.Milliseconds()%1000)
}

func listFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		out = append(out, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}
	slices.Sort(out)
	return out, nil
}

// ContentType is the media type to serve a file written by Run with, by its extension;
// "application/octet-stream" for anything else.
func ContentType(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".m3u8":
		return "application/vnd.apple.mpegurl"
	case ".m4s":
		return "video/iso.segment"
	case ".mp4":
		return "video/mp4"
	case ".m4a":
		return "audio/mp4"
	case ".vtt":
		return "text/vtt"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	}
	return "application/octet-stream"
}
