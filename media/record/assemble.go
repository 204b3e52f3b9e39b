package record

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/shizuishan/culturecloud/media/ffmpeg"
	"github.com/shizuishan/culturecloud/storage"

	"github.com/shizuishan/culturecloud/media/transcode"
)

// SessionInfo describes the stored objects of one recording session.
type SessionInfo struct {
	Session      string
	Segments     int
	Bytes        int64     // of the segments
	LastModified time.Time // of the newest segment
	Finished     bool      // the joined recording exists
}

// Sessions lists the recording sessions of a lecture in MinIO. A session with segments
// and no joined recording, whose newest segment is older than a few segment lengths, is
// one whose server died: Recover it.
func Sessions(ctx context.Context, st Storage, lecture string) ([]SessionInfo, error) {
	if !nameRe.MatchString(lecture) {
		return nil, ErrBadName
	}
	base := "live/" + lecture + "/rec/"
	by := map[string]*SessionInfo{}
	for o, err := range st.Objects.List(ctx, base, storage.ListOptions{Recursive: true}) {
		if err != nil {
			return nil, fmt.Errorf("record: list: %w", err)
		}
		session, name, ok := strings.Cut(strings.TrimPrefix(o.Key, base), "/")
		if !ok || strings.Contains(name, "/") {
			continue
		}
		s := by[session]
		if s == nil {
			s = &SessionInfo{Session: session}
			by[session] = s
		}
		switch {
		case segRe.MatchString(name):
			s.Segments++
			s.Bytes += o.Size
			if o.Modified.After(s.LastModified) {
				s.LastModified = o.Modified
			}
		case name == "recording.mp4" || name == "recording.webm":
			s.Finished = true
		}
	}
	out := make([]SessionInfo, 0, len(by))
	for _, s := range by {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b SessionInfo) int { return strings.Compare(a.Session, b.Session) })
	return out, nil
}

// Recover joins the segments stored for a session (one whose server died before Finish)
// into its recording, as Finish would have. Only the segments that were never uploaded are
// missing. Calling it again makes the recording again.
func Recover(ctx context.Context, st Storage, lecture, session string) (Result, error) {
	if err := checkNames(lecture, session); err != nil {
		return Result{}, err
	}
	prefix := Prefix(lecture, session)
	var keys []string
	for o, err := range st.Objects.List(ctx, prefix, storage.ListOptions{Recursive: true}) {
		if err != nil {
			return Result{}, fmt.Errorf("record: list: %w", err)
		}
		if rest := strings.TrimPrefix(o.Key, prefix); segRe.MatchString(rest) && o.Size > 0 {
			keys = append(keys, o.Key)
		}
	}
	if len(keys) == 0 {
		return Result{}, ErrNothingRecorded
	}
	slices.Sort(keys) // numbered seg-000001 …: name order is time order
	return assemble(ctx, st, prefix, keys)
}

// RemoveSegments deletes segment objects (Result.Segments), once the recording is safe.
// Keys that are not segments are refused.
func RemoveSegments(ctx context.Context, st Storage, keys []string) error {
	for _, k := range keys {
		if !strings.HasPrefix(k, "live/") || !segRe.MatchString(path.Base(k)) {
			return fmt.Errorf("record: %q is not a segment", k)
		}
	}
	objects := make([]storage.Info, len(keys))
	for i, k := range keys {
		objects[i] = storage.Info{Key: k}
	}
	if err := st.Objects.RemoveMany(ctx, objects); err != nil {
		return fmt.Errorf("record: remove segments: %w", err)
	}
	return ctx.Err()
}

const (
	finalPartSize = 16 << 20
	presignFor    = 12 * time.Hour
)

// assemble joins the segments into one file with ffmpeg (-c copy) in a temporary folder,
// probes it, and uploads it beside them. MPEG-TS segments are streamed from MinIO into
// ffmpeg's input one after the other, as one transport stream; WebM segments are read by
// ffmpeg's concat demuxer from presigned URLs.
func assemble(ctx context.Context, st Storage, prefix string, keys []string) (Result, error) {
	ext := path.Ext(keys[0])
	for _, k := range keys {
		if path.Ext(k) != ext {
			return Result{}, fmt.Errorf("record: segments of two formats under %s", prefix)
		}
	}
	tempDir := st.TempDir
	if tempDir == "" {
		tempDir = os.TempDir()
	}
	tmp, err := os.MkdirTemp(tempDir, "rec-join-")
	if err != nil {
		return Result{}, fmt.Errorf("record: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()

	outExt := ".mp4"
	if ext == ".webm" {
		outExt = ".webm"
	}
	out := filepath.Join(tmp, "recording"+outExt)
	switch ext {
	case ".ts":
		err = joinTS(ctx, st, keys, out)
	case ".webm":
		err = joinWebM(ctx, st, keys, tmp, out)
	default:
		err = fmt.Errorf("record: unknown segment format %q", ext)
	}
	if err != nil {
		return Result{}, err
	}
	p, err := transcode.ProbeFile(ctx, out)
	if err != nil {
		return Result{}, fmt.Errorf("record: joined file: %w", err)
	}
	sum, size, err := hashFile(out)
	if err != nil {
		return Result{}, err
	}
	res := Result{
		Key: prefix + "recording" + outExt, ContentType: contentType(outExt), Size: size, SHA256: sum,
		Duration: p.Duration, HasVideo: p.HasVideo, HasAudio: p.HasAudio, Segments: keys,
	}
	if _, err := st.Objects.PutFile(ctx, res.Key, out, storage.PutOptions{
		ContentType: res.ContentType, PartSize: finalPartSize, Threads: 2,
	}); err != nil {
		return Result{}, fmt.Errorf("record: upload %s: %w", res.Key, err)
	}
	return res, nil
}

var joinArgs = []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y"}

// joinTS pipes the transport-stream segments, in order, into ffmpeg, which copies them
// into an MP4 with its index first.
func joinTS(ctx context.Context, st Storage, keys []string, out string) error {
	args := append(slices.Clone(joinArgs), "-f", "mpegts", "-protocol_whitelist", "pipe", "-i", "pipe:0",
		"-map", "0:v?", "-map", "0:a?", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", "file:"+out)
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	var stderr ffmpeg.Tail
	cmd.Stderr = &stderr
	cmd.WaitDelay = waitDelay
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("record: ffmpeg: %w", err)
	}
	fed := make(chan error, 1)
	go func() {
		err := feedTS(ctx, st, keys, stdin)
		stdin.Close()
		fed <- err
	}()
	werr := cmd.Wait()
	// A segment that could not be read must fail the join, even though ffmpeg, seeing its
	// input end early, made a shorter file without complaint.
	if err := <-fed; err != nil && werr == nil {
		return err
	}
	if werr != nil {
		return fmt.Errorf("record: joining segments: %w: %s", werr, ffmpeg.CleanStderr(stderr.String(), ""))
	}
	return nil
}

// feedTS writes the segments as one transport stream, with continuity counters that run
// on across the joins (each segment's own start at 0, which demuxers report as loss).
func feedTS(ctx context.Context, st Storage, keys []string, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	cc := newCCFixer()
	for _, k := range keys {
		obj, _, err := st.Objects.Get(ctx, k, storage.GetOptions{})
		if err != nil {
			return fmt.Errorf("record: read %s: %w", k, err)
		}
		err = cc.copy(bw, obj)
		obj.Close()
		if err != nil {
			return fmt.Errorf("record: read %s: %w", k, err)
		}
	}
	return bw.Flush()
}

// joinWebM has ffmpeg's concat demuxer read the WebM segments from presigned URLs.
func joinWebM(ctx context.Context, st Storage, keys []string, tmp, out string) error {
	var b strings.Builder
	b.WriteString("ffconcat version 1.0\n")
	for _, k := range keys {
		u, err := st.Objects.PresignGet(ctx, k, presignFor, nil)
		if err != nil {
			return fmt.Errorf("record: presign %s: %w", k, err)
		}
		b.WriteString("file '" + strings.ReplaceAll(u.String(), "'", `'\''`) + "'\n")
	}
	list := filepath.Join(tmp, "segments.ffconcat")
	if err := os.WriteFile(list, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	args := append(slices.Clone(joinArgs), "-protocol_whitelist", "file,http,https,tcp,tls",
		"-f", "concat", "-safe", "0", "-i", "file:"+list,
		"-map", "0:v?", "-map", "0:a?", "-c", "copy", "-f", "webm", "file:"+out)
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	var stderr ffmpeg.Tail
	cmd.Stderr = &stderr
	cmd.WaitDelay = waitDelay
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("record: joining segments: %w: %s", err, ffmpeg.CleanStderr(stderr.String(), ""))
	}
	return nil
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// MPEG-TS packets.
const (
	tsSize = 188
	tsSync = 0x47
	tsNull = 0x1FFF
)

// ccFixer rewrites the 4-bit continuity counter of each PID so that it runs on from one
// segment into the next, as if the segments had been written as one stream.
type ccFixer struct {
	seen [8192]bool
	last [8192]byte
}

func newCCFixer() *ccFixer { return &ccFixer{} }

// copy copies one segment, packet by packet. A trailing partial packet is dropped, and a
// packet that is out of sync is passed on untouched.
func (f *ccFixer) copy(w io.Writer, r io.Reader) error {
	br := bufio.NewReaderSize(r, 256<<10)
	var p [tsSize]byte
	for {
		if _, err := io.ReadFull(br, p[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			return err
		}
		f.fix(p[:])
		if _, err := w.Write(p[:]); err != nil {
			return err
		}
	}
}

func (f *ccFixer) fix(p []byte) {
	if p[0] != tsSync {
		return
	}
	pid := int(p[1]&0x1F)<<8 | int(p[2])
	if pid == tsNull {
		return
	}
	cc := p[3] & 0x0F
	if !f.seen[pid] {
		f.seen[pid], f.last[pid] = true, cc
		return
	}
	if p[3]&0x10 != 0 { // has a payload: the counter moves on
		cc = (f.last[pid] + 1) & 0x0F
	} else {
		cc = f.last[pid]
	}
	p[3] = p[3]&0xF0 | cc
	f.last[pid] = cc
}
